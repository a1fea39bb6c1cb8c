// SPDX-License-Identifier: MIT
// A hostile shared-memory peer (see hostilepeer.h).
#include "hostilepeer.h"

#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

namespace HostilePeer {

namespace {

template<typename T> QByteArray raw(T value)
{
    return QByteArray(reinterpret_cast<const char *>(&value), sizeof(T));
}

} // namespace

QByteArray header(qint32 type, quint32 ackid, quint32 size)
{
    return raw(type) + raw(ackid) + raw(size);
}

QByteArray message(quint32 kind, const QByteArray &body, quint32 version)
{
    const QByteArray payload = QByteArrayLiteral("BlightSM") + raw(kind) + raw(version) + body;
    return header(1, 0, quint32(payload.size())) + payload;
}

QByteArray offer(quint64 mapLimit)
{
    return message(1, raw(mapLimit));
}

QByteArray pool(quint32 number, quint64 size)
{
    return message(2, raw(number) + raw(quint32(0)) + raw(size));
}

QByteArray frame(quint32 pool, quint32 token, quint64 offset, quint64 length, qint32 type, quint32 ackid)
{
    return message(3, raw(pool) + raw(token) + raw(offset) + raw(length) + raw(type) + raw(ackid));
}

QByteArray release(const QList<quint32> &tokens)
{
    QByteArray body = raw(quint32(tokens.size()));
    for (quint32 token : tokens)
        body += raw(token);
    return message(4, body);
}

QByteArray channel(const QByteArray &name, const QByteArray &token, const QByteArray &local, const QByteArray &peer)
{
    return message(5,
                   name.leftJustified(16, '\0', true) + token.leftJustified(16, '\0', true)
                       + local.leftJustified(20, '\0', true) + peer.leftJustified(20, '\0', true));
}

namespace {

QByteArray endpointBytes(const sockaddr_storage &address)
{
    QByteArray bytes(20, '\0');
    const quint16 family = address.ss_family;
    std::memcpy(bytes.data(), &family, 2);
    if (address.ss_family == AF_INET) {
        const auto *in = reinterpret_cast<const sockaddr_in *>(&address);
        std::memcpy(bytes.data() + 2, &in->sin_port, 2);
        std::memcpy(bytes.data() + 4, &in->sin_addr, 4);
    } else if (address.ss_family == AF_INET6) {
        const auto *in6 = reinterpret_cast<const sockaddr_in6 *>(&address);
        std::memcpy(bytes.data() + 2, &in6->sin6_port, 2);
        std::memcpy(bytes.data() + 4, &in6->sin6_addr, 16);
    }
    return bytes;
}

} // namespace

QByteArray localEndpoint(int fd)
{
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
    return endpointBytes(address);
}

QByteArray peerEndpoint(int fd)
{
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    ::getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length);
    return endpointBytes(address);
}

bool send(int socket, const QByteArray &bytes, const QList<int> &descriptors)
{
    iovec iov{const_cast<char *>(bytes.constData()), size_t(bytes.size())};
    msghdr header{};
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    QByteArray control;
    if (!descriptors.isEmpty()) {
        control = QByteArray(int(CMSG_SPACE(sizeof(int) * size_t(descriptors.size()))), '\0');
        header.msg_control = control.data();
        header.msg_controllen = size_t(control.size());
        cmsghdr *rights = CMSG_FIRSTHDR(&header);
        if (!rights)
            return false;
        rights->cmsg_level = SOL_SOCKET;
        rights->cmsg_type = SCM_RIGHTS;
        rights->cmsg_len = CMSG_LEN(sizeof(int) * size_t(descriptors.size()));
        std::memcpy(CMSG_DATA(rights), descriptors.constData(), sizeof(int) * size_t(descriptors.size()));
    }
    return ::sendmsg(socket, &header, MSG_NOSIGNAL) == bytes.size();
}

int memfd(qint64 size, int seals)
{
    const int fd = ::memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    if (::ftruncate(fd, size) != 0 || (seals && ::fcntl(fd, F_ADD_SEALS, seals) != 0)) {
        ::close(fd);
        return -1;
    }
    return fd;
}

int requiredSeals()
{
    return F_SEAL_SHRINK | F_SEAL_GROW;
}

} // namespace HostilePeer
