# SPDX-License-Identifier: MIT
# Generates include/BlightTransport/version.h (in the build tree) from PROJECT_VERSION.

# BLIGHTTRANSPORT_VERSION is 0xMMNNPP, like QT_VERSION: two hex digits per part.
set(BLIGHT_VERSION_HEX "")
foreach(_blight_part IN ITEMS MAJOR MINOR PATCH)
    set(_blight_value "${PROJECT_VERSION_${_blight_part}}")
    if(_blight_value STREQUAL "")
        set(_blight_value 0)
    endif()
    if(_blight_value GREATER 255)
        message(FATAL_ERROR "version part ${_blight_part} (${_blight_value}) does not fit in two hex digits")
    endif()
    math(EXPR _blight_hex "${_blight_value}" OUTPUT_FORMAT HEXADECIMAL)
    string(REGEX REPLACE "^0x" "" _blight_hex "${_blight_hex}")
    string(LENGTH "${_blight_hex}" _blight_length)
    if(_blight_length LESS 2)
        string(PREPEND _blight_hex "0")
    endif()
    string(APPEND BLIGHT_VERSION_HEX "${_blight_hex}")
endforeach()

set(BLIGHT_GENERATED_INCLUDE_DIR "${PROJECT_BINARY_DIR}/include")
set(BLIGHT_VERSION_HEADER "${BLIGHT_GENERATED_INCLUDE_DIR}/BlightTransport/version.h")
configure_file("${CMAKE_CURRENT_LIST_DIR}/version.h.in" "${BLIGHT_VERSION_HEADER}" @ONLY)
