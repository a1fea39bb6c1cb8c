# SPDX-License-Identifier: MIT
# The 'docs' target: the API reference from the public headers' comments, with
# Doxygen, where any warning fails the build.
find_package(Doxygen 1.9.1) # FAIL_ON_WARNINGS is 1.9.1's
if(NOT DOXYGEN_FOUND)
    message(STATUS "doxygen not found: no 'docs' target")
    return()
endif()

set(DOXYGEN_PROJECT_NAME "Oxide blight transport")
set(DOXYGEN_PROJECT_NUMBER "${PROJECT_VERSION}")
set(DOXYGEN_PROJECT_BRIEF "Qt 6 transport for blight's wire protocol, with MSG_ZEROCOPY")
set(DOXYGEN_OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/docs")
set(DOXYGEN_GENERATE_HTML YES)
set(DOXYGEN_GENERATE_LATEX NO)
set(DOXYGEN_QUIET YES)
set(DOXYGEN_WARN_IF_UNDOCUMENTED YES)
set(DOXYGEN_WARN_IF_DOC_ERROR YES)
set(DOXYGEN_WARN_IF_INCOMPLETE_DOC NO) # \a names a parameter in prose; not every one is named
set(DOXYGEN_WARN_NO_PARAMDOC NO)
set(DOXYGEN_WARN_AS_ERROR FAIL_ON_WARNINGS)
set(DOXYGEN_EXTRACT_ALL NO)
set(DOXYGEN_EXTRACT_PRIVATE NO)
set(DOXYGEN_HIDE_UNDOC_CLASSES NO)
set(DOXYGEN_FULL_PATH_NAMES YES)
set(DOXYGEN_STRIP_FROM_PATH "${PROJECT_SOURCE_DIR}/include" "${BLIGHT_GENERATED_INCLUDE_DIR}")
set(DOXYGEN_STRIP_FROM_INC_PATH "${PROJECT_SOURCE_DIR}/include" "${BLIGHT_GENERATED_INCLUDE_DIR}")
set(DOXYGEN_QT_AUTOBRIEF YES)
set(DOXYGEN_JAVADOC_AUTOBRIEF YES)
set(DOXYGEN_SORT_MEMBER_DOCS NO)
# Qt's macros mean nothing to Doxygen's parser; signals and slots are members like any other.
set(DOXYGEN_ENABLE_PREPROCESSING YES)
set(DOXYGEN_MACRO_EXPANSION YES)
set(DOXYGEN_EXPAND_ONLY_PREDEF YES)
set(DOXYGEN_PREDEFINED
    "BLIGHTTRANSPORT_EXPORT="
    "Q_OBJECT="
    "Q_GADGET="
    "Q_SIGNALS=public"
    "Q_SLOTS="
    "Q_INVOKABLE="
    "Q_DECL_EXPORT="
    "Q_DECL_IMPORT="
    "Q_NAMESPACE_EXPORT(x)="
    "Q_ENUM(x)="
    "Q_ENUM_NS(x)="
    "Q_FLAG(x)="
    "Q_DECLARE_FLAGS(x,y)="
    "Q_DECLARE_METATYPE(x)="
    "Q_DISABLE_COPY(x)="
    "Q_DISABLE_COPY_MOVE(x)="
    "Q_DECLARE_PRIVATE(x)="
    "Q_PROPERTY(x)="
    "Q_PLUGIN_METADATA(x)="
    "Q_INTERFACES(x)="
    "Q_DECLARE_INTERFACE(x,y)=")

# docs/api holds the front page and the out-of-line docs of blightsocket.h.
doxygen_add_docs(docs
    "${PROJECT_SOURCE_DIR}/include/BlightTransport"
    "${BLIGHT_VERSION_HEADER}"
    "${PROJECT_SOURCE_DIR}/docs/api"
    COMMENT "API reference (Doxygen, warnings are errors) into ${PROJECT_BINARY_DIR}/docs/html")
