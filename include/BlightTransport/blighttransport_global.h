// SPDX-License-Identifier: MIT
// Export macro and version of the Oxide blight transport library.
#pragma once

#include <QtCore/qglobal.h>

#if defined(BLIGHTTRANSPORT_LIBRARY)
#  define BLIGHTTRANSPORT_EXPORT Q_DECL_EXPORT
#else
#  define BLIGHTTRANSPORT_EXPORT Q_DECL_IMPORT
#endif
