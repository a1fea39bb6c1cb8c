// SPDX-License-Identifier: MIT
// The io_uring probe: each reason why SEND_ZC cannot be used, checked in order.
#include "uringprobe_p.h"

#include <QtCore/QFile>

#ifdef BLIGHT_HAVE_LIBURING
#  include "uringkernel_p.h"

#  include <arpa/inet.h>
#  include <cerrno>
#  include <cstring>
#  include <netinet/in.h>
#  include <sys/socket.h>
#  include <unistd.h>
#endif

namespace Blight {

UringProbe::Disabled UringProbe::readDisabled(const QString &path)
{
    QFile file(path);
    if (!file.exists())
        return Disabled::Enabled; // kernels before 6.6 have no switch
    if (!file.open(QIODevice::ReadOnly))
        return Disabled::Unknown;
    bool ok = false;
    const int value = file.read(16).trimmed().toInt(&ok);
    if (!ok)
        return Disabled::Unknown;
    switch (value) {
    case 0:
        return Disabled::Enabled;
    case 1:
        return Disabled::GroupOnly;
    case 2:
        return Disabled::Off;
    default:
        return Disabled::Unknown;
    }
}

const UringSupport &UringProbe::probe()
{
    // A function-local static: initialised once, thread-safe (C++11).
    static const UringSupport cached = run(defaultDisabledPath());
    return cached;
}

#ifndef BLIGHT_HAVE_LIBURING

UringSupport UringProbe::run(const QString &disabledPath)
{
    Q_UNUSED(disabledPath);
    return {false, false, QStringLiteral("built without liburing")};
}

#else

namespace {

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

// One SEND_ZC with REPORT_USAGE on a UDP socket connected to its own port
// on 127.0.0.1: 0 if the kernel took the flag, else the negative errno of
// the send (-EINVAL: refused) or of the set-up.
int tryReportUsage(io_uring *ring, QString *failure)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *failure = QStringLiteral("socket: %1").arg(errnoText(errno));
        return -errno;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    const auto *raw = reinterpret_cast<sockaddr *>(&address);
    if (::bind(fd, raw, sizeof(address)) != 0 || ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0
        || ::connect(fd, raw, sizeof(address)) != 0) {
        const int error = errno;
        *failure = QStringLiteral("UDP socket on 127.0.0.1: %1").arg(errnoText(error));
        ::close(fd);
        return -error;
    }
    static const char byte = 0;
    io_uring_sqe *sqe = io_uring_get_sqe(ring);
    io_uring_prep_send_zc(sqe, fd, &byte, 1, 0, IORING_SEND_ZC_REPORT_USAGE);
    sqe->user_data = 1;
    int result = io_uring_submit(ring);
    if (result < 0) {
        *failure = QStringLiteral("io_uring_submit: %1").arg(errnoText(-result));
        ::close(fd);
        return result;
    }
    // The send completes inline on loopback; the timeout only bounds a
    // kernel that misbehaves. A send CQE with F_MORE is followed by its
    // notification, which must be reaped before the ring goes.
    int sendResult = 0;
    bool more = true;
    for (int cqes = 0; more && cqes < 2; ++cqes) {
        __kernel_timespec timeout{1, 0};
        io_uring_cqe *cqe = nullptr;
        result = io_uring_wait_cqe_timeout(ring, &cqe, &timeout);
        if (result < 0) {
            *failure = QStringLiteral("no completion for the REPORT_USAGE check: %1").arg(errnoText(-result));
            sendResult = result;
            break;
        }
        if (!(cqe->flags & IORING_CQE_F_NOTIF)) {
            sendResult = cqe->res < 0 ? cqe->res : 0;
            more = cqe->flags & IORING_CQE_F_MORE;
        } else {
            more = false;
        }
        io_uring_cqe_seen(ring, cqe);
    }
    if (sendResult < 0 && failure->isEmpty())
        *failure = QStringLiteral("the send: %1").arg(errnoText(-sendResult));
    ::close(fd);
    return sendResult;
}

} // namespace

UringSupport UringProbe::run(const QString &disabledPath)
{
    UringSupport support;
    const Disabled disabled = readDisabled(disabledPath);
    if (disabled == Disabled::Off) {
        support.reason = QStringLiteral("switched off (kernel.io_uring_disabled = 2)");
        return support;
    }
    io_uring ring;
    int result = io_uring_queue_init(4, &ring, 0);
    if (result < 0) {
        const int error = -result;
        if (disabled == Disabled::GroupOnly && error == EPERM)
            support.reason = QStringLiteral("not allowed for this user (kernel.io_uring_disabled = 1: "
                                            "only kernel.io_uring_group)");
        else if (error == EPERM || error == ENOSYS)
            support.reason = QStringLiteral("refused by the system (seccomp?): %1").arg(errnoText(error));
        else
            support.reason = QStringLiteral("ring setup failed: %1").arg(errnoText(error));
        return support;
    }
    io_uring_probe *opcodes = io_uring_get_probe_ring(&ring);
    const bool sendZc = opcodes && io_uring_opcode_supported(opcodes, IORING_OP_SEND_ZC);
    if (opcodes)
        io_uring_free_probe(opcodes);
    if (!sendZc) {
        support.reason = opcodes ? QStringLiteral("the kernel has no IORING_OP_SEND_ZC (Linux 6.0+)")
                                 : QStringLiteral("the kernel's opcode probe failed");
        io_uring_queue_exit(&ring);
        return support;
    }
    support.available = true;
    QString failure;
    result = tryReportUsage(&ring, &failure);
    io_uring_queue_exit(&ring);
    if (result == 0) {
        support.reportUsage = true;
        support.reason = QStringLiteral("SEND_ZC with REPORT_USAGE");
    } else if (result == -EINVAL) {
        support.reason = QStringLiteral("SEND_ZC without REPORT_USAGE (Linux 6.2+): COPIED cannot be seen");
    } else {
        support.reason = QStringLiteral("SEND_ZC; REPORT_USAGE not checked: %1").arg(failure);
    }
    return support;
}

#endif

} // namespace Blight
