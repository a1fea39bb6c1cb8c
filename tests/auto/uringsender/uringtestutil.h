// SPDX-License-Identifier: MIT
// Helpers of the io_uring sender tests: loopback socket pairs, test
// patterns, page-aligned memory, a collector of completion records, and
// what the memlock child needs (an unprivileged user, a blocking wait).
#pragma once

#include "uringsender_p.h"

#include <QtCore/QByteArray>
#include <QtCore/QList>
#include <QtCore/QObject>

#include <arpa/inet.h>
#include <climits>
#include <grp.h>
#include <poll.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <utility>

namespace UringTest {

using namespace Blight;

struct Fd
{
    int fd = -1;
    Fd() = default;
    explicit Fd(int value)
        : fd(value)
    {
    }
    Fd(Fd &&other) noexcept
        : fd(std::exchange(other.fd, -1))
    {
    }
    Fd &operator=(Fd &&other) noexcept
    {
        std::swap(fd, other.fd);
        return *this;
    }
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

inline sockaddr_in loopback()
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

inline sockaddr *raw(sockaddr_in *address)
{
    return reinterpret_cast<sockaddr *>(address);
}

// A connected TCP pair on 127.0.0.1; \a receiveBuffer > 0 shrinks the
// receiver's buffer (set before listen so the window starts small).
inline bool tcpPair(Fd *sender, Fd *receiver, int receiveBuffer = 0)
{
    Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (receiveBuffer > 0)
        ::setsockopt(listener.fd, SOL_SOCKET, SO_RCVBUF, &receiveBuffer, sizeof(receiveBuffer));
    sockaddr_in address = loopback();
    socklen_t length = sizeof(address);
    if (::bind(listener.fd, raw(&address), sizeof(address)) != 0 || ::listen(listener.fd, 1) != 0
        || ::getsockname(listener.fd, raw(&address), &length) != 0)
        return false;
    *sender = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (receiveBuffer > 0)
        ::setsockopt(sender->fd, SOL_SOCKET, SO_SNDBUF, &receiveBuffer, sizeof(receiveBuffer));
    if (::connect(sender->fd, raw(&address), sizeof(address)) != 0)
        return false;
    *receiver = Fd(::accept4(listener.fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    return receiver->fd >= 0;
}

// Two UDP sockets on 127.0.0.1 connected to each other.
inline bool udpPair(Fd *sender, Fd *receiver)
{
    *sender = Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    *receiver = Fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    sockaddr_in a = loopback();
    sockaddr_in b = loopback();
    socklen_t length = sizeof(a);
    return ::bind(sender->fd, raw(&a), sizeof(a)) == 0 && ::getsockname(sender->fd, raw(&a), &length) == 0
        && ::bind(receiver->fd, raw(&b), sizeof(b)) == 0 && ::getsockname(receiver->fd, raw(&b), &length) == 0
        && ::connect(sender->fd, raw(&b), sizeof(b)) == 0 && ::connect(receiver->fd, raw(&a), sizeof(a)) == 0;
}

// Everything readable now on a non-blocking socket.
inline QByteArray readAvailable(int fd)
{
    QByteArray all;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof(buffer), MSG_DONTWAIT);
        if (n <= 0)
            return all;
        all.append(buffer, n);
    }
}

inline QByteArray pattern(qsizetype size, int seed)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char((i * 131 + seed * 7) & 0xff);
    return bytes;
}

// Page-aligned anonymous memory, as a pool's buffers are.
struct Mapping
{
    void *data = MAP_FAILED;
    size_t size = 0;
    explicit Mapping(size_t bytes)
        : data(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        , size(bytes)
    {
    }
    ~Mapping()
    {
        if (data != MAP_FAILED)
            ::munmap(data, size);
    }
    char *bytes() const { return static_cast<char *>(data); }
};

// Collects the records a sender hands out.
struct Collector
{
    QList<UringCompletion> records;
    void attach(UringSender *sender)
    {
        QObject::connect(sender, &UringSender::completionsReady, sender,
                         [this](const QList<UringCompletion> &batch) { records.append(batch); });
    }
    QList<UringCompletion> of(quint64 userData, bool notification) const
    {
        QList<UringCompletion> found;
        for (const UringCompletion &record : records) {
            if (record.userData == userData && record.notification == notification)
                found.append(record);
        }
        return found;
    }
};

// Switches the child to \a uid, a user with no capabilities and nothing
// charged to its memlock account yet.
inline bool becomeUnprivileged(uid_t uid)
{
    return ::setgroups(0, nullptr) == 0 && ::setresgid(uid, uid, uid) == 0 && ::setresuid(uid, uid, uid) == 0
        && !MemlockBudget::current().exempt;
}

// Waits (poll, no timer) for the ring's eventfd and drains until \a userData's
// send has its last completion; returns the send completion's result.
inline int waitForSend(UringRing *ring, quint64 userData)
{
    int result = INT_MIN;
    while (ring->outstanding() > 0) {
        pollfd poll{ring->eventFd(), POLLIN, 0};
        if (::poll(&poll, 1, 5000) != 1)
            return INT_MIN;
        QList<UringCompletion> records;
        ring->drain(&records);
        for (const UringCompletion &record : records) {
            if (record.userData == userData && !record.notification)
                result = record.result;
        }
    }
    return result;
}

} // namespace UringTest
