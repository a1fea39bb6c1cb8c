// SPDX-License-Identifier: MIT
// Logging categories of the transport.
#include "logging_p.h"

namespace Blight {
Q_LOGGING_CATEGORY(lcSocket, "oxide.blight.socket", QtWarningMsg)
Q_LOGGING_CATEGORY(lcZeroCopy, "oxide.blight.zerocopy", QtWarningMsg)
Q_LOGGING_CATEGORY(lcServer, "oxide.blight.server", QtWarningMsg)
Q_LOGGING_CATEGORY(lcCompositor, "oxide.blight.compositor", QtWarningMsg)
Q_LOGGING_CATEGORY(lcBuffer, "oxide.blight.buffer", QtWarningMsg)
} // namespace Blight
