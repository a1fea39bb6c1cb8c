// SPDX-License-Identifier: MIT
// Plain POSIX sockets for the plugin, QML and panel tests: listeners on
// loopback and a unix path, accept with a timeout, socket pairs.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QFile>
#include <QtCore/QString>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace RawSockets {

/*! Closes its descriptor unless released. */
class UniqueFd
{
public:
    UniqueFd() = default;
    explicit UniqueFd(int fd)
        : m_fd(fd)
    {
    }
    UniqueFd(UniqueFd &&other) noexcept
        : m_fd(std::exchange(other.m_fd, -1))
    {
    }
    UniqueFd &operator=(UniqueFd &&other) noexcept
    {
        reset(std::exchange(other.m_fd, -1));
        return *this;
    }
    UniqueFd(const UniqueFd &) = delete;
    UniqueFd &operator=(const UniqueFd &) = delete;
    ~UniqueFd() { reset(); }

    int get() const { return m_fd; }
    bool isValid() const { return m_fd >= 0; }
    int release() { return std::exchange(m_fd, -1); }
    void reset(int fd = -1)
    {
        if (m_fd >= 0)
            ::close(m_fd);
        m_fd = fd;
    }

private:
    int m_fd = -1;
};

inline sockaddr_in loopback(quint16 port)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return address;
}

inline quint16 localPort(int fd)
{
    sockaddr_in address{};
    socklen_t length = sizeof(address);
    if (::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return 0;
    return ntohs(address.sin_port);
}

/*! A connected AF_UNIX stream pair. */
inline bool unixPair(UniqueFd *a, UniqueFd *b)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return false;
    a->reset(fds[0]);
    b->reset(fds[1]);
    return true;
}

/*! A TCP listener on 127.0.0.1 with a free port, written to \a port. */
inline UniqueFd tcpListener(quint16 *port)
{
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in address = loopback(0);
    if (!fd.isValid() || ::bind(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0
        || ::listen(fd.get(), 4) != 0)
        return {};
    *port = localPort(fd.get());
    return fd;
}

/*! A UDP socket bound to 127.0.0.1 with a free port, written to \a port. */
inline UniqueFd udpBound(quint16 *port)
{
    UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in address = loopback(0);
    if (!fd.isValid() || ::bind(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0)
        return {};
    *port = localPort(fd.get());
    return fd;
}

inline bool connectLoopback(int fd, quint16 port)
{
    sockaddr_in address = loopback(port);
    return ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0;
}

/*! An AF_UNIX stream listener at \a path (an old file there is removed). */
inline UniqueFd unixListener(const QString &path)
{
    const QByteArray name = QFile::encodeName(path);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (name.size() >= qsizetype(sizeof(address.sun_path)))
        return {};
    std::memcpy(address.sun_path, name.constData(), size_t(name.size()));
    ::unlink(name.constData());
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd.isValid() || ::bind(fd.get(), reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0
        || ::listen(fd.get(), 4) != 0)
        return {};
    return fd;
}

/*! Accepts one connection, waiting at most \a timeoutMs (the peer connects from the event loop). */
inline UniqueFd acceptOne(int listener, int timeoutMs = 5000)
{
    pollfd entry{listener, POLLIN, 0};
    if (::poll(&entry, 1, timeoutMs) != 1)
        return {};
    return UniqueFd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

/*! A connected TCP pair over loopback (client, server side), made synchronously. */
inline bool tcpPair(UniqueFd *client, UniqueFd *server)
{
    quint16 port = 0;
    UniqueFd listener = tcpListener(&port);
    if (!listener.isValid())
        return false;
    client->reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    // A blocking connect to a listening loopback socket completes at once (backlog).
    if (!client->isValid() || !connectLoopback(client->get(), port))
        return false;
    *server = acceptOne(listener.get());
    return server->isValid();
}

} // namespace RawSockets
