# SPDX-License-Identifier: MIT
# Shared build settings, applied per target (never directory-wide).

add_library(blight_build_settings INTERFACE)
target_compile_options(blight_build_settings INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align
    -Wold-style-cast -Wnull-dereference)
target_compile_definitions(blight_build_settings INTERFACE
    QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_KEYWORDS QT_NO_FOREACH
    QT_USE_QSTRINGBUILDER QT_NO_URL_CAST_FROM_STRING QT_NO_NARROWING_CONVERSIONS_IN_CONNECT)
if(BLIGHT_SANITIZE)
    list(JOIN BLIGHT_SANITIZE "," _blight_san)
    target_compile_options(blight_build_settings INTERFACE
        -fsanitize=${_blight_san} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(blight_build_settings INTERFACE -fsanitize=${_blight_san})
endif()

# blight_setup_target(<target>): warnings, strict Qt defines, sanitizers.
function(blight_setup_target target)
    target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:blight_build_settings>)
endfunction()

# blight_add_test(<name> SOURCES ... [LIBRARIES ...] [LABELS ...] [TIMEOUT s])
# One Qt Test executable per unit, registered with CTest.
function(blight_add_test name)
    cmake_parse_arguments(arg "" "TIMEOUT" "SOURCES;LIBRARIES;LABELS" ${ARGN})
    qt_add_executable(${name} ${arg_SOURCES})
    blight_setup_target(${name})
    target_link_libraries(${name} PRIVATE Qt6::Test ${arg_LIBRARIES})
    target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/src" "${PROJECT_SOURCE_DIR}/include"
        "${PROJECT_SOURCE_DIR}/tests/shared")
    add_test(NAME ${name} COMMAND ${name})
    if(NOT arg_TIMEOUT)
        set(arg_TIMEOUT 120)
    endif()
    set(_labels unit ${arg_LABELS})
    set_tests_properties(${name} PROPERTIES
        TIMEOUT ${arg_TIMEOUT}
        LABELS "${_labels}"
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen;QT_QUICK_BACKEND=software;QTEST_FUNCTION_TIMEOUT=60000;QT_PLUGIN_PATH=${BLIGHT_BUILD_PLUGIN_DIR};QML_IMPORT_PATH=${BLIGHT_BUILD_QML_DIR};ASAN_OPTIONS=detect_leaks=1:abort_on_error=1;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endfunction()
