// SPDX-License-Identifier: MIT
// The side channel that carries pool descriptors between TCP peers on one
// host (see descriptorchannel_p.h).
#include "descriptorchannel_p.h"
#include "socketutil_p.h"

#include <QtCore/QRandomGenerator>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <utility>
#include <vector>

namespace Blight {

namespace {

// The one byte of a descriptor record; the token record is the token alone.
constexpr char DescriptorMark = 'D';
// Room for this many descriptors per record: more than one is refused, and
// the ones that came are closed.
constexpr int DescriptorRoom = 4;
// Connections accepted per look at the listener, so that a local process
// that keeps connecting cannot hold the socket in a loop.
constexpr int MaxAcceptsPerLook = 16;

socklen_t fillAddress(sockaddr_un *address, const QByteArray &name)
{
    std::memset(address, 0, sizeof(*address));
    address->sun_family = AF_UNIX;
    std::memcpy(address->sun_path + 1, name.constData(), size_t(name.size())); // abstract: a NUL first
    return socklen_t(offsetof(sockaddr_un, sun_path) + 1 + size_t(name.size()));
}

OwnedFd seqPacketSocket()
{
    return OwnedFd(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
}

// One record from \a fd into \a data (at most \a size bytes), its descriptors
// into \a descriptors; the record's length, or -1 with errno.
ssize_t receiveRecord(int fd, char *data, size_t size, std::vector<int> *descriptors, int *flags)
{
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * DescriptorRoom)];
    iovec vector{data, size};
    msghdr message{};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    ssize_t got;
    do {
        got = ::recvmsg(fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        return got;
    for (cmsghdr *c = CMSG_FIRSTHDR(&message); c; c = CMSG_NXTHDR(&message, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int descriptor;
            std::memcpy(&descriptor, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            descriptors->push_back(descriptor);
        }
    }
    *flags = message.msg_flags;
    return got;
}

// Compares without stopping at the first difference: how long a refusal
// takes says nothing about the token.
bool sameBytes(const char *a, const char *b, size_t size)
{
    unsigned char difference = 0;
    for (size_t i = 0; i < size; ++i)
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    return difference == 0;
}

void closeAll(std::vector<int> *descriptors)
{
    for (int descriptor : std::exchange(*descriptors, {}))
        ::close(descriptor);
}

} // namespace

QByteArray DescriptorChannel::socketName(const char (&name)[Address::NameSize])
{
    return QByteArrayLiteral("blight-fd-") + QByteArray(name, Address::NameSize).toHex();
}

void DescriptorChannel::reset()
{
    m_listener.reset();
    m_incoming.reset();
    m_outgoing.reset();
    m_own = Address();
    m_failure.clear();
}

bool DescriptorChannel::tcpEndpoints(int tcpFd, char (&local)[Address::EndpointSize],
                                     char (&peer)[Address::EndpointSize])
{
    const auto encode = [](const sockaddr_storage &address, char(&out)[Address::EndpointSize]) {
        std::memset(out, 0, sizeof(out));
        const quint16 family = quint16(address.ss_family);
        std::memcpy(out, &family, 2);
        if (address.ss_family == AF_INET) {
            const auto &in = reinterpret_cast<const sockaddr_in &>(address);
            std::memcpy(out + 2, &in.sin_port, 2);
            std::memcpy(out + 4, &in.sin_addr, 4);
            return true;
        }
        if (address.ss_family == AF_INET6) {
            const auto &in6 = reinterpret_cast<const sockaddr_in6 &>(address);
            std::memcpy(out + 2, &in6.sin6_port, 2);
            std::memcpy(out + 4, &in6.sin6_addr, 16);
            return true;
        }
        return false;
    };
    sockaddr_storage mine{};
    sockaddr_storage theirs{};
    socklen_t mineLength = sizeof(mine);
    socklen_t theirsLength = sizeof(theirs);
    return ::getsockname(tcpFd, reinterpret_cast<sockaddr *>(&mine), &mineLength) == 0
        && ::getpeername(tcpFd, reinterpret_cast<sockaddr *>(&theirs), &theirsLength) == 0 && encode(mine, local)
        && encode(theirs, peer);
}

bool DescriptorChannel::listen(int tcpFd, Address *address, QString *why)
{
    Address own;
    if (!tcpEndpoints(tcpFd, own.local, own.peer)) {
        *why = QStringLiteral("no descriptor channel: the TCP connection has no endpoints (%1)")
                   .arg(SocketUtil::errnoText(errno));
        return false;
    }
    std::array<quint32, (Address::NameSize + Address::TokenSize) / 4> random;
    QRandomGenerator::system()->fillRange(random.data(), qsizetype(random.size()));
    std::memcpy(own.name, random.data(), Address::NameSize);
    std::memcpy(own.token, reinterpret_cast<const char *>(random.data()) + Address::NameSize, Address::TokenSize);

    OwnedFd listener = seqPacketSocket();
    sockaddr_un where;
    const socklen_t length = fillAddress(&where, socketName(own.name));
    if (listener.get() < 0 || ::bind(listener.get(), reinterpret_cast<sockaddr *>(&where), length) != 0
        || ::listen(listener.get(), 4) != 0) {
        *why = QStringLiteral("no descriptor channel (%1)").arg(SocketUtil::errnoText(errno));
        return false;
    }
    m_listener = std::move(listener);
    m_incoming.reset();
    m_own = own;
    *address = own;
    return true;
}

bool DescriptorChannel::acceptPeer(QString *why)
{
    for (int look = 0; look < MaxAcceptsPerLook; ++look) {
        const int accepted = ::accept4(m_listener.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (accepted < 0) {
            if (errno == EINTR)
                continue;
            *why = errno == EAGAIN
                ? QStringLiteral("the peer has not connected to the descriptor channel")
                : QStringLiteral("the descriptor channel failed (%1)").arg(SocketUtil::errnoText(errno));
            return false;
        }
        OwnedFd connection(accepted);
        // The token, then the connector's own endpoint (our peer) and its
        // peer (us): a channel echoed back, or passed on from another
        // connection, does not match this one.
        char proof[ProofSize + 1];
        std::vector<int> descriptors;
        int flags = 0;
        const ssize_t got = receiveRecord(connection.get(), proof, sizeof(proof), &descriptors, &flags);
        char expected[ProofSize];
        std::memcpy(expected, m_own.token, Address::TokenSize);
        std::memcpy(expected + Address::TokenSize, m_own.peer, Address::EndpointSize);
        std::memcpy(expected + Address::TokenSize + Address::EndpointSize, m_own.local, Address::EndpointSize);
        const bool proven = got == ProofSize && descriptors.empty() && !(flags & (MSG_TRUNC | MSG_CTRUNC))
            && sameBytes(proof, expected, ProofSize);
        closeAll(&descriptors);
        if (!proven)
            continue; // not the peer: whoever it was is disconnected
        m_incoming = std::move(connection);
        m_listener.reset(); // the name is free again; nobody else gets in
        return true;
    }
    *why = QStringLiteral("the descriptor channel has more connections than the peer makes");
    return false;
}

int DescriptorChannel::receive(QString *why)
{
    if (m_incoming.get() < 0) {
        if (m_listener.get() < 0) {
            *why = QStringLiteral("this side named no descriptor channel");
            return -1;
        }
        if (!acceptPeer(why))
            return -1;
    }
    char mark[2];
    std::vector<int> descriptors;
    int flags = 0;
    const ssize_t got = receiveRecord(m_incoming.get(), mark, sizeof(mark), &descriptors, &flags);
    if (got == 1 && mark[0] == DescriptorMark && descriptors.size() == 1 && !(flags & (MSG_TRUNC | MSG_CTRUNC)))
        return descriptors.front();
    closeAll(&descriptors);
    if (got < 0 && errno == EAGAIN)
        *why = QStringLiteral("its descriptor is not on the descriptor channel");
    else if (got < 0)
        *why = QStringLiteral("the descriptor channel failed (%1)").arg(SocketUtil::errnoText(errno));
    else if (got == 0)
        *why = QStringLiteral("the peer closed the descriptor channel");
    else
        *why = QStringLiteral("a descriptor channel record that is not one descriptor");
    return -1;
}

bool DescriptorChannel::connectToPeer(const Address &address, int tcpFd)
{
    m_outgoing.reset();
    m_failure.clear();
    char local[Address::EndpointSize];
    char peer[Address::EndpointSize];
    if (!tcpEndpoints(tcpFd, local, peer)) {
        m_failure = QStringLiteral("the TCP connection has no endpoints (%1)").arg(SocketUtil::errnoText(errno));
        return false;
    }
    if (std::memcmp(address.local, peer, sizeof(peer)) != 0 || std::memcmp(address.peer, local, sizeof(local)) != 0) {
        m_failure = QStringLiteral("the peer's descriptor channel names another TCP connection (a forward between "
                                   "the two sides, or a channel passed on from another socket)");
        return false;
    }
    OwnedFd connection = seqPacketSocket();
    sockaddr_un where;
    const socklen_t length = fillAddress(&where, socketName(address.name));
    int result = connection.get() < 0 ? -1 : 0;
    if (result == 0) {
        do {
            result = ::connect(connection.get(), reinterpret_cast<sockaddr *>(&where), length);
        } while (result != 0 && errno == EINTR);
    }
    if (result != 0) {
        m_failure
            = QStringLiteral("the peer's descriptor channel cannot be reached (%1)").arg(SocketUtil::errnoText(errno));
        return false;
    }
    // Connected means queued at the listener: the proof is there before
    // anything this side writes on TCP afterwards.
    char proof[ProofSize];
    std::memcpy(proof, address.token, Address::TokenSize);
    std::memcpy(proof + Address::TokenSize, local, Address::EndpointSize);
    std::memcpy(proof + Address::TokenSize + Address::EndpointSize, peer, Address::EndpointSize);
    if (::send(connection.get(), proof, sizeof(proof), MSG_DONTWAIT | MSG_NOSIGNAL) != ssize_t(sizeof(proof))) {
        m_failure
            = QStringLiteral("the peer's descriptor channel took no proof (%1)").arg(SocketUtil::errnoText(errno));
        return false;
    }
    m_outgoing = std::move(connection);
    return true;
}

bool DescriptorChannel::send(int descriptor, QString *why)
{
    if (!canSend()) {
        *why = m_failure.isEmpty() ? QStringLiteral("the peer named no descriptor channel") : m_failure;
        return false;
    }
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    char mark = DescriptorMark;
    iovec vector{&mark, 1};
    msghdr message{};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    cmsghdr *c = CMSG_FIRSTHDR(&message);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &descriptor, sizeof(int));
    ssize_t sent;
    do {
        sent = ::sendmsg(m_outgoing.get(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent == 1)
        return true;
    const int error = errno;
    *why = QStringLiteral("the pool's descriptor did not go on the descriptor channel (%1)")
               .arg(SocketUtil::errnoText(error));
    if (error != EAGAIN) // a full queue drains as the peer reads its pools
        m_failure = *why;
    return false;
}

} // namespace Blight
