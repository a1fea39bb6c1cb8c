# Script behind the package_consumer test (cmake -P): install, check the tree,
# build tests/package/consumer against it and run it.
cmake_minimum_required(VERSION 3.25)

function(run_step what)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "${what} failed (${result}):\n${ARGN}\n--- stdout\n${out}\n--- stderr\n${err}")
    endif()
    message(STATUS "${what}: ok")
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
# library with its CMake config and version file, the plugin, the QML module.
set(expected_files
    "${INCLUDE_DIR}/BlightTransport/blightsocket.h"
    "${INCLUDE_DIR}/BlightTransport/transportfactory.h"
    "${LIB_DIR}/cmake/OxideBlightTransport/OxideBlightTransportConfig.cmake"
    "${LIB_DIR}/cmake/OxideBlightTransport/OxideBlightTransportConfigVersion.cmake"
    "${PLUGIN_DIR}/liboxideblighttransport.so")
if(WITH_QML)
    list(APPEND expected_files
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

set(configure_args
    -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/consumer-build" -G "${GENERATOR}"
    "-DCMAKE_PREFIX_PATH=${prefix}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DEXPECTED_VERSION=${EXPECTED_VERSION}"
    "-DWITH_QML=${WITH_QML}")
if(CONFIG)
    list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
endif()
if(QT6_DIR)
    list(APPEND configure_args "-DQt6_DIR=${QT6_DIR}")
endif()
if(SANITIZE)
    # An instrumented library needs an instrumented executable to link.
    list(APPEND configure_args "-DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE}"
                               "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE}")
endif()
run_step("configure consumer" "${CMAKE_COMMAND}" ${configure_args})
run_step("build consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer-build")

# The consumer finds the plugin and the QML module only in the installed tree.
run_step("run consumer" "${CMAKE_COMMAND}" -E env
    "QT_PLUGIN_PATH=${prefix}/${PLUGIN_DIR}/.."
    "QML_IMPORT_PATH=${prefix}/${QML_DIR}"
    "${WORK_DIR}/consumer-build/blight-consumer" "${prefix}")
