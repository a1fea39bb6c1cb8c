# SPDX-License-Identifier: MIT
# Installs, exports and packages every installable target: the library, the
# transport plugin and the QML module (component Qml), with a CMake package
# config and a pkg-config file. Included from the top level after the subdirectories.
include(CMakePackageConfigHelpers)

set(BLIGHT_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/OxideBlightTransport")

# An install directory as an absolute path under the configured prefix.
function(_blight_install_abs_dir out dir)
    if(IS_ABSOLUTE "${dir}")
        set(${out} "${dir}" PARENT_SCOPE)
    else()
        set(${out} "${CMAKE_INSTALL_PREFIX}/${dir}" PARENT_SCOPE)
    endif()
endfunction()

# A plugin finds libOxideBlightTransport relative to itself, so the prefix can move.
function(_blight_rpath_to_libdir target dir)
    _blight_install_abs_dir(abs "${dir}")
    file(RELATIVE_PATH rel "${abs}" "${CMAKE_INSTALL_FULL_LIBDIR}")
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/${rel}")
endfunction()

# The library and its transport plugin.
install(TARGETS BlightTransport EXPORT OxideBlightTransportTargets
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    PUBLIC_HEADER DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/BlightTransport)

set(_blight_plugin_dest "${BLIGHT_INSTALL_PLUGINDIR}/${BLIGHT_PLUGIN_TYPE}")
_blight_rpath_to_libdir(BlightTransportPlugin "${_blight_plugin_dest}")
install(TARGETS BlightTransportPlugin EXPORT OxideBlightTransportTargets
    LIBRARY DESTINATION "${_blight_plugin_dest}")
get_target_property(_blight_plugin_name BlightTransportPlugin OUTPUT_NAME)
set(BLIGHT_PLUGIN_FILE_NAME "${CMAKE_SHARED_MODULE_PREFIX}${_blight_plugin_name}${CMAKE_SHARED_MODULE_SUFFIX}")

install(EXPORT OxideBlightTransportTargets
    NAMESPACE Oxide::
    DESTINATION "${BLIGHT_CMAKE_DIR}")

# The QML module, by hand (Qt 6.4 has no install helper): the backing library
# next to libOxideBlightTransport; plugin, qmldir, qmltypes and QML files under
# the QML import directory. Exported apart, as the package's Qml component.
if(TARGET BlightTransportQml)
    set(_blight_qml_dest "${BLIGHT_INSTALL_QMLDIR}/${BLIGHT_QML_MODULE_PATH}")
    set_target_properties(BlightTransportQml PROPERTIES INSTALL_RPATH "$ORIGIN")
    _blight_rpath_to_libdir(BlightTransportQmlPlugin "${_blight_qml_dest}")
    install(TARGETS BlightTransportQml EXPORT OxideBlightTransportQmlTargets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
    install(TARGETS BlightTransportQmlPlugin EXPORT OxideBlightTransportQmlTargets
        LIBRARY DESTINATION "${_blight_qml_dest}")
    install(FILES ${BLIGHT_QML_MODULE_FILES} DESTINATION "${_blight_qml_dest}")
    install(EXPORT OxideBlightTransportQmlTargets
        NAMESPACE Oxide::
        DESTINATION "${BLIGHT_CMAKE_DIR}")
    set(BLIGHT_PACKAGE_HAS_QML TRUE)
else()
    set(BLIGHT_PACKAGE_HAS_QML FALSE)
endif()

# The CMake package: OxideBlightTransportConfig.cmake and its version file.
# Before 1.0 a minor release may break the API, hence SameMinorVersion.
configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/OxideBlightTransportConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/OxideBlightTransportConfig.cmake"
    INSTALL_DESTINATION "${BLIGHT_CMAKE_DIR}"
    PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR BLIGHT_INSTALL_PLUGINDIR BLIGHT_INSTALL_QMLDIR)
write_basic_package_version_file("${PROJECT_BINARY_DIR}/OxideBlightTransportConfigVersion.cmake"
    COMPATIBILITY SameMinorVersion)
install(FILES
    "${PROJECT_BINARY_DIR}/OxideBlightTransportConfig.cmake"
    "${PROJECT_BINARY_DIR}/OxideBlightTransportConfigVersion.cmake"
    DESTINATION "${BLIGHT_CMAKE_DIR}")

# The pkg-config file, relocatable: every path is relative to where it lies.
set(_blight_pc_dest "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
_blight_install_abs_dir(_blight_pc_abs "${_blight_pc_dest}")
file(RELATIVE_PATH BLIGHT_PC_TO_PREFIX "${_blight_pc_abs}" "${CMAKE_INSTALL_PREFIX}")
string(REGEX REPLACE "/$" "" BLIGHT_PC_TO_PREFIX "${BLIGHT_PC_TO_PREFIX}")
foreach(_blight_dir IN ITEMS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR BLIGHT_INSTALL_PLUGINDIR BLIGHT_INSTALL_QMLDIR)
    if(IS_ABSOLUTE "${${_blight_dir}}")
        set(BLIGHT_PC_${_blight_dir} "${${_blight_dir}}")
    else()
        set(BLIGHT_PC_${_blight_dir} "\${prefix}/${${_blight_dir}}")
    endif()
endforeach()
configure_file("${CMAKE_CURRENT_LIST_DIR}/oxide-blight-transport.pc.in"
    "${PROJECT_BINARY_DIR}/oxide-blight-transport.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/oxide-blight-transport.pc" DESTINATION "${_blight_pc_dest}")
