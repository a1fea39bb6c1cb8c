// SPDX-License-Identifier: MIT
#include "zerocopybackend_p.h"

#include "socketutil_p.h"

namespace Blight {

bool ZeroCopyBackendPolicy::uringMeasuredCheaper(Kind kind)
{
    // From the full benchmark run in docs/benchmark.md: on UDP through a
    // device (tiles-udp-veth) SEND_ZC from registered pool buffers costs less
    // CPU per GB than MSG_ZEROCOPY; TCP was measured on loopback only, where
    // the kernel copies on both backends and Auto backs off anyway.
    return SocketUtil::isUdp(kind);
}

ZeroCopyBackendPolicy::Choice ZeroCopyBackendPolicy::choose(Backend requested, Kind kind, const UringSupport &support)
{
    Choice choice;
    if (!SocketUtil::isTcp(kind) && !SocketUtil::isUdp(kind))
        return choice; // no zero-copy on this socket at all
    if (requested == Backend::MsgZeroCopy) {
        choice.reason = QStringLiteral("MSG_ZEROCOPY (chosen)");
        return choice;
    }
    if (!support.available) {
        choice.reason = QStringLiteral("MSG_ZEROCOPY, io_uring unavailable: %1").arg(support.reason);
        return choice;
    }
    if (requested == Backend::Auto && !support.reportUsage) {
        choice.reason = QStringLiteral("MSG_ZEROCOPY, io_uring cannot report copies (no REPORT_USAGE)");
        return choice;
    }
    if (requested == Backend::Auto && !uringMeasuredCheaper(kind)) {
        choice.reason = QStringLiteral("MSG_ZEROCOPY, measured cheaper than io_uring on %1")
                            .arg(SocketUtil::isTcp(kind) ? QStringLiteral("TCP") : QStringLiteral("UDP"));
        return choice;
    }
    choice.backend = Backend::IoUring;
    choice.reportUsage = support.reportUsage;
    choice.reason = support.reportUsage
        ? QStringLiteral("io_uring SEND_ZC")
        : QStringLiteral("io_uring SEND_ZC (chosen; the kernel cannot report copies, so there is no COPIED back-off)");
    return choice;
}

} // namespace Blight
