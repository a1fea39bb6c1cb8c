// SPDX-License-Identifier: MIT
// Logging categories of the transport.
#pragma once

#include <QtCore/QLoggingCategory>

namespace Blight {
Q_DECLARE_LOGGING_CATEGORY(lcSocket)     // oxide.blight.socket
Q_DECLARE_LOGGING_CATEGORY(lcZeroCopy)   // oxide.blight.zerocopy
Q_DECLARE_LOGGING_CATEGORY(lcServer)     // oxide.blight.server
Q_DECLARE_LOGGING_CATEGORY(lcCompositor) // oxide.blight.compositor
Q_DECLARE_LOGGING_CATEGORY(lcBuffer)     // oxide.blight.buffer
} // namespace Blight
