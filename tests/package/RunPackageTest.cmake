# SPDX-License-Identifier: MIT
# Script behind the package_consumer test (cmake -P): install, check the tree,
# build tests/package/consumer with CMake and tests/package/pkgconfig with
# pkg-config against it, on the compiler's default standard, and run both.
cmake_minimum_required(VERSION 3.25)

function(run_step what)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT result EQUAL 0)
        list(JOIN ARGN " " command)
        message(FATAL_ERROR "${what} failed (${result}):\n${command}\n--- stdout\n${out}\n--- stderr\n${err}")
    endif()
    message(STATUS "${what}: ok")
    if(out)
        message(STATUS "${out}")
    endif()
endfunction()

# Like run_step, for a command whose output is wanted in <var>.
function(capture_step var what)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err
                    OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(NOT result EQUAL 0)
        list(JOIN ARGN " " command)
        message(FATAL_ERROR "${what} failed (${result}):\n${command}\n--- stdout\n${out}\n--- stderr\n${err}")
    endif()
    message(STATUS "${what}: ${out}")
    set(${var} "${out}" PARENT_SCOPE)
endfunction()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(install_args --install "${BUILD_DIR}" --prefix "${prefix}")
if(CONFIG)
    list(APPEND install_args --config "${CONFIG}")
endif()
run_step("cmake --install" "${CMAKE_COMMAND}" ${install_args})

# What the package promises: public headers (and no private ones), the
# library with its SONAME, the CMake config, version and target files, the
# pkg-config file, the plugin, the QML module.
string(REGEX MATCH "^[0-9]+\\.[0-9]+" soversion "${EXPECTED_VERSION}")
set(cmake_dir "${LIB_DIR}/cmake/OxideBlightTransport")
set(expected_files
    "${INCLUDE_DIR}/BlightTransport/blightsocket.h"
    "${INCLUDE_DIR}/BlightTransport/transportfactory.h"
    "${INCLUDE_DIR}/BlightTransport/version.h"
    "${INCLUDE_DIR}/BlightTransport/wirelayout.h"
    "${LIB_DIR}/libOxideBlightTransport.so.${soversion}"
    "${LIB_DIR}/pkgconfig/oxide-blight-transport.pc"
    "${cmake_dir}/OxideBlightTransportConfig.cmake"
    "${cmake_dir}/OxideBlightTransportConfigVersion.cmake"
    "${cmake_dir}/OxideBlightTransportTargets.cmake"
    "${PLUGIN_DIR}/${PLUGIN_TYPE}/${PLUGIN_FILE_NAME}")
if(WITH_QML)
    list(APPEND expected_files
        "${LIB_DIR}/libOxideBlightTransportQml.so.${soversion}"
        "${cmake_dir}/OxideBlightTransportQmlTargets.cmake"
        "${QML_DIR}/Oxide/Blight/Transport/qmldir"
        "${QML_DIR}/Oxide/Blight/Transport/BlightTransportQml.qmltypes"
        "${QML_DIR}/Oxide/Blight/Transport/libBlightTransportQmlPlugin.so"
        "${QML_DIR}/Oxide/Blight/Transport/TransportPanel.qml")
endif()
foreach(file IN LISTS expected_files)
    if(NOT EXISTS "${prefix}/${file}")
        message(FATAL_ERROR "not installed: ${prefix}/${file}")
    endif()
endforeach()
file(GLOB_RECURSE private_headers "${prefix}/${INCLUDE_DIR}/*_p.h")
if(private_headers)
    message(FATAL_ERROR "private headers installed: ${private_headers}")
endif()

# CMake consumer: only CMAKE_PREFIX_PATH (our prefix, then Qt's) tells it where things are.
set(configure_args
    -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/consumer-build" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${prefix}\\;${QT_PREFIX}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DEXPECTED_VERSION=${EXPECTED_VERSION}"
    "-DWITH_QML=${WITH_QML}")
if(CONFIG)
    list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
set(sanitize_flags "")
if(SANITIZE)
    # An instrumented library needs an instrumented executable to link.
    set(sanitize_flags "-fsanitize=${SANITIZE}")
    list(APPEND configure_args "-DCMAKE_CXX_FLAGS=${sanitize_flags}"
                               "-DCMAKE_EXE_LINKER_FLAGS=${sanitize_flags}")
endif()
run_step("configure consumer" "${CMAKE_COMMAND}" ${configure_args})
run_step("build consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer-build")
# The consumer loads the plugin and the QML module only through the package's
# variables (the test's environment empties QT_PLUGIN_PATH and QML_IMPORT_PATH).
run_step("run consumer" "${WORK_DIR}/consumer-build/blight-consumer" "${prefix}")

# pkg-config consumer: the flags pkg-config gives, and nothing else.
if(NOT PKG_CONFIG)
    message(FATAL_ERROR "pkg-config not found (tools/install-deps.sh installs it): cannot test oxide-blight-transport.pc")
endif()
set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIB_DIR}/pkgconfig")
capture_step(pc_version "pkg-config --modversion" "${PKG_CONFIG}" --modversion oxide-blight-transport)
if(NOT pc_version STREQUAL EXPECTED_VERSION)
    message(FATAL_ERROR "oxide-blight-transport.pc has version ${pc_version}, expected ${EXPECTED_VERSION}")
endif()
capture_step(pc_cflags "pkg-config --cflags" "${PKG_CONFIG}" --cflags oxide-blight-transport)
if(NOT pc_cflags MATCHES "(^| )-std=c\\+\\+20( |$)")
    message(FATAL_ERROR "oxide-blight-transport.pc's Cflags lack -std=c++20: ${pc_cflags}")
endif()
capture_step(pc_plugindir "pkg-config --variable=plugindir" "${PKG_CONFIG}" --variable=plugindir oxide-blight-transport)
if(NOT EXISTS "${pc_plugindir}/${PLUGIN_TYPE}/${PLUGIN_FILE_NAME}")
    message(FATAL_ERROR "oxide-blight-transport.pc's plugindir ${pc_plugindir} does not hold the plugin")
endif()
capture_step(pc_libdir "pkg-config --variable=libdir" "${PKG_CONFIG}" --variable=libdir oxide-blight-transport)
capture_step(pc_flags "pkg-config --cflags --libs" "${PKG_CONFIG}" --cflags --libs oxide-blight-transport)
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
set(pc_exe "${WORK_DIR}/blight-pkgconfig-consumer")
run_step("build pkg-config consumer" "${CXX_COMPILER}" ${sanitize_flags} "${PKGCONFIG_SOURCE}" -o "${pc_exe}"
    ${pc_flags} "-Wl,-rpath,${pc_libdir}")
run_step("run pkg-config consumer" "${pc_exe}" "${pc_version}")
