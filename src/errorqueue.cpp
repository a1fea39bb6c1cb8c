// SPDX-License-Identifier: MIT
// Error-queue parsing (pure) and draining (recvmsg with MSG_ERRQUEUE).
#include "errorqueue_p.h"
#include "syscalls_p.h"

#include <QtNetwork/QHostAddress>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace Blight {

QString ErrorQueueEvent::describe() const
{
    if (kind == Kind::ZeroCopyRange) {
        return QStringLiteral("zero-copy completion %1..%2%3")
            .arg(lo)
            .arg(hi)
            .arg(copied ? QStringLiteral(" (copied)") : QString());
    }
    QString text = QStringLiteral("%1 (origin %2, type %3, code %4)")
                       .arg(QString::fromLocal8Bit(std::strerror(errorNumber)))
                       .arg(origin)
                       .arg(type)
                       .arg(code);
    if (!offender.isEmpty())
        text += QStringLiteral(" from ") + offender;
    return text;
}

namespace ErrorQueue {

static QString offenderOf(const sock_extended_err *error, qsizetype available)
{
    // SO_EE_OFFENDER: the address follows the struct, when the kernel filled it.
    const auto *address = reinterpret_cast<const sockaddr *>(error + 1);
    if (available < qsizetype(sizeof(*error) + sizeof(sa_family_t)))
        return {};
    if (address->sa_family == AF_INET && available >= qsizetype(sizeof(*error) + sizeof(sockaddr_in)))
        return QHostAddress(address).toString();
    if (address->sa_family == AF_INET6 && available >= qsizetype(sizeof(*error) + sizeof(sockaddr_in6)))
        return QHostAddress(address).toString();
    return {};
}

Events parse(const msghdr &message)
{
    Events events;
    for (cmsghdr *cmsg = CMSG_FIRSTHDR(&message); cmsg; cmsg = CMSG_NXTHDR(const_cast<msghdr *>(&message), cmsg)) {
        // A length that runs past the control buffer cannot be trusted.
        // Compared as sizes: cmsg + a huge cmsg_len would overflow the pointer.
        const auto offset = size_t(reinterpret_cast<const char *>(cmsg)
                                   - static_cast<const char *>(message.msg_control));
        if (cmsg->cmsg_len > message.msg_controllen - offset)
            break;
        const bool v4 = cmsg->cmsg_level == SOL_IP && cmsg->cmsg_type == IP_RECVERR;
        const bool v6 = cmsg->cmsg_level == SOL_IPV6 && cmsg->cmsg_type == IPV6_RECVERR;
        if (!v4 && !v6)
            continue;
        const qsizetype available = qsizetype(cmsg->cmsg_len) - qsizetype(CMSG_LEN(0));
        if (available < qsizetype(sizeof(sock_extended_err)))
            continue; // truncated: nothing trustworthy in it
        sock_extended_err error;
        std::memcpy(&error, CMSG_DATA(cmsg), sizeof(error));
        ErrorQueueEvent event;
        if (error.ee_origin == SO_EE_ORIGIN_ZEROCOPY && error.ee_errno == 0) {
            event.kind = ErrorQueueEvent::Kind::ZeroCopyRange;
            event.lo = error.ee_info;
            event.hi = error.ee_data;
            event.copied = (error.ee_code & SO_EE_CODE_ZEROCOPY_COPIED) != 0;
        } else {
            event.kind = ErrorQueueEvent::Kind::SocketError;
            event.errorNumber = int(error.ee_errno);
            event.origin = error.ee_origin;
            event.type = error.ee_type;
            event.code = error.ee_code;
            event.offender = offenderOf(reinterpret_cast<const sock_extended_err *>(CMSG_DATA(cmsg)), available);
        }
        events.append(event);
    }
    return events;
}

qsizetype buildControlMessage(char *buffer, qsizetype capacity, bool ipv6, const ErrorQueueEvent &event)
{
    const qsizetype needed = qsizetype(CMSG_SPACE(sizeof(sock_extended_err)));
    if (capacity < needed)
        return 0;
    std::memset(buffer, 0, size_t(needed));
    msghdr message{};
    message.msg_control = buffer;
    message.msg_controllen = size_t(needed);
    cmsghdr *cmsg = CMSG_FIRSTHDR(&message);
    cmsg->cmsg_level = ipv6 ? SOL_IPV6 : SOL_IP;
    cmsg->cmsg_type = ipv6 ? IPV6_RECVERR : IP_RECVERR;
    cmsg->cmsg_len = CMSG_LEN(sizeof(sock_extended_err));
    sock_extended_err error{};
    if (event.kind == ErrorQueueEvent::Kind::ZeroCopyRange) {
        error.ee_origin = SO_EE_ORIGIN_ZEROCOPY;
        error.ee_info = event.lo;
        error.ee_data = event.hi;
        error.ee_code = event.copied ? SO_EE_CODE_ZEROCOPY_COPIED : 0;
    } else {
        error.ee_errno = quint32(event.errorNumber);
        error.ee_origin = event.origin;
        error.ee_type = event.type;
        error.ee_code = event.code;
    }
    std::memcpy(CMSG_DATA(cmsg), &error, sizeof(error));
    return needed;
}

DrainResult drain(int fd, const std::function<void(const ErrorQueueEvent &)> &sink)
{
    DrainResult result;
    // Room for one extended error plus an offender address, in either family.
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(sock_extended_err) + sizeof(sockaddr_in6)) * 2];
    for (;;) {
        msghdr message{};
        message.msg_control = control;
        message.msg_controllen = sizeof(control);
        ++result.calls;
        const ssize_t n = Sys::recvmsg(fd, &message, MSG_ERRQUEUE | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                result.errorNumber = errno;
            return result;
        }
        for (const ErrorQueueEvent &event : parse(message))
            sink(event);
    }
}

} // namespace ErrorQueue
} // namespace Blight
