// SPDX-License-Identifier: MIT
#include "zerocopybackend_p.h"

#include "socketutil_p.h"

namespace Blight {

bool ZeroCopyBackendPolicy::uringMeasuredCheaper(Kind kind)
{
    // From the benchmark (docs/benchmark.md): on datagrams that leave
    // through a device (tiles-udp-veth) io_uring costs less CPU per GB than
    // MSG_ZEROCOPY at every size. TCP was measured only on loopback, where
    // the kernel copies and Auto backs off anyway: no verdict for TCP.
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
        choice.reason = QStringLiteral("MSG_ZEROCOPY: Auto takes io_uring only where the benchmark measured it "
                                       "cheaper, not for %1")
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
