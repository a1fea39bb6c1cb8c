# SPDX-License-Identifier: MIT
# The fuzz harnesses and the library sources each one compiles in, shared by
# the libFuzzer executables (tests/fuzz/CMakeLists.txt) and the replay test
# (tst_fuzzreplay, tests/auto/faults). The library's internals are compiled
# into each executable, not taken from the shared library, which does not
# export them.
set(BLIGHT_FUZZ_TARGETS fuzz_assembler fuzz_datagram fuzz_errorqueue fuzz_endpoint fuzz_sharedmemory)
set(_fuzz "${PROJECT_SOURCE_DIR}/tests/fuzz")
set(_src "${PROJECT_SOURCE_DIR}/src")
# HARNESS: the harness, compiled with edge coverage only;
# TESTED: the library sources under test, which give libFuzzer its coverage;
# SUPPORT (optional): library sources they need to link, not instrumented.
set(BLIGHT_FUZZ_HARNESS_fuzz_assembler "${_fuzz}/fuzz_assembler.cpp")
set(BLIGHT_FUZZ_TESTED_fuzz_assembler "${_src}/protocol.cpp")
set(BLIGHT_FUZZ_LIBRARIES_fuzz_assembler Qt6::Core)
set(BLIGHT_FUZZ_HARNESS_fuzz_datagram "${_fuzz}/fuzz_datagram.cpp")
set(BLIGHT_FUZZ_TESTED_fuzz_datagram "${_src}/protocol.cpp")
set(BLIGHT_FUZZ_LIBRARIES_fuzz_datagram Qt6::Core)
set(BLIGHT_FUZZ_HARNESS_fuzz_errorqueue "${_fuzz}/fuzz_errorqueue.cpp")
set(BLIGHT_FUZZ_TESTED_fuzz_errorqueue "${_src}/errorqueue.cpp")
# drain() calls recvmsg through the system-call seam; parse() does not.
set(BLIGHT_FUZZ_SUPPORT_fuzz_errorqueue "${_src}/syscalls.cpp")
set(BLIGHT_FUZZ_LIBRARIES_fuzz_errorqueue Qt6::Core Qt6::Network)
set(BLIGHT_FUZZ_HARNESS_fuzz_endpoint "${_fuzz}/fuzz_endpoint.cpp")
set(BLIGHT_FUZZ_TESTED_fuzz_endpoint "${_src}/endpoint.cpp")
set(BLIGHT_FUZZ_LIBRARIES_fuzz_endpoint Qt6::Core)
set(BLIGHT_FUZZ_HARNESS_fuzz_sharedmemory "${_fuzz}/fuzz_sharedmemory.cpp")
set(BLIGHT_FUZZ_TESTED_fuzz_sharedmemory "${_src}/sharedmemorywire.cpp" "${_src}/sharedmemorysession.cpp"
    "${_src}/mappedregion.cpp")
# The session's buffer holds and the frame types' rules.
set(BLIGHT_FUZZ_SUPPORT_fuzz_sharedmemory "${_src}/socketutil.cpp" "${_src}/blightbuffer.cpp" "${_src}/protocol.cpp" "${_src}/logging.cpp")
set(BLIGHT_FUZZ_LIBRARIES_fuzz_sharedmemory Qt6::Core)

# Everything the replay test needs: every harness, each library source once.
set(BLIGHT_FUZZ_REPLAY_SOURCES "${_fuzz}/tst_fuzzreplay.cpp" "${_fuzz}/fuzztargets.h" "${_fuzz}/fuzzcheck.h")
set(BLIGHT_FUZZ_REPLAY_LIBRARIES)
foreach(_target IN LISTS BLIGHT_FUZZ_TARGETS)
    list(APPEND BLIGHT_FUZZ_REPLAY_SOURCES
        ${BLIGHT_FUZZ_HARNESS_${_target}} ${BLIGHT_FUZZ_TESTED_${_target}} ${BLIGHT_FUZZ_SUPPORT_${_target}})
    list(APPEND BLIGHT_FUZZ_REPLAY_LIBRARIES ${BLIGHT_FUZZ_LIBRARIES_${_target}})
endforeach()
list(REMOVE_DUPLICATES BLIGHT_FUZZ_REPLAY_SOURCES)
list(REMOVE_DUPLICATES BLIGHT_FUZZ_REPLAY_LIBRARIES)
unset(_fuzz)
unset(_src)
unset(_target)
