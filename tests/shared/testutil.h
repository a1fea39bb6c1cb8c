// SPDX-License-Identifier: MIT
// Helpers shared by the socket-level tests: socket pairs, TCP pairs through
// a BlightServer, and raw peers.
#pragma once

#include <BlightTransport/blightserver.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <memory>
#include <sys/socket.h>
#include <unistd.h>
#include <utility>

namespace TestUtil {

/*! Asks \a socket (nothing sent yet) for \a backend. Empty when the socket
    now uses it, else why not (the probe's reason): the caller skips with it. */
inline QString useZeroCopyBackend(Blight::BlightSocket &socket, Blight::BlightSocket::ZeroCopyBackend backend)
{
    socket.setZeroCopyBackend(backend);
    // Before the first send this is the probe's verdict for this socket.
    if (socket.activeZeroCopyBackend() == backend)
        return QString();
    return QStringLiteral("backend not available here: ") + socket.zeroCopyReason();
}

/*! A connected pair of BlightSockets of the given kind ("unix", "tcp4", "tcp6", "udp4"). */
struct Pair
{
    std::unique_ptr<Blight::BlightSocket> a;
    std::unique_ptr<Blight::BlightSocket> b;
    std::unique_ptr<Blight::BlightServer> server;
    bool ok = false;
};

inline Pair makePair(const QString &kind, Blight::BlightSocket::Mode mode = Blight::BlightSocket::Mode::Messages)
{
    using namespace Blight;
    Pair pair;
    pair.a = std::make_unique<BlightSocket>(mode);
    if (kind == u"unix") {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
            return pair;
        pair.b = std::make_unique<BlightSocket>(mode);
        pair.ok = pair.a->setSocketDescriptor(fds[0]) && pair.b->setSocketDescriptor(fds[1]);
        return pair;
    }
    pair.server = std::make_unique<BlightServer>(mode);
    const QString listenOn = kind == u"tcp4" ? QStringLiteral("tcp://127.0.0.1:0")
        : kind == u"tcp6"                    ? QStringLiteral("tcp://[::1]:0")
                                             : QStringLiteral("udp://127.0.0.1:0");
    if (!pair.server->listen(listenOn)) {
        qWarning("listen failed: %s", qPrintable(pair.server->errorString()));
        return pair;
    }
    QSignalSpy connectedSpy(pair.a.get(), &BlightSocket::connected);
    QSignalSpy acceptedSpy(pair.server.get(), &BlightServer::newConnection);
    pair.a->connectToEndpoint(pair.server->endpoint());
    if (!connectedSpy.wait(5000) && connectedSpy.isEmpty())
        return pair;
    if (kind == u"udp4") {
        // The server's socket learns its peer from the first datagram.
        pair.a->sendMessage(MessageType::Focus, 0, {});
    }
    if (acceptedSpy.isEmpty() && !acceptedSpy.wait(5000))
        return pair;
    pair.b.reset(pair.server->nextPendingConnection());
    if (!pair.b)
        return pair;
    pair.b->setParent(nullptr);
    // For UDP the first datagram was delivered right after newConnection().
    pair.ok = pair.b->state() == BlightSocket::State::Connected;
    return pair;
}

/*! A socket pair with one end as a plain descriptor, for writing exact bytes. */
inline std::pair<std::unique_ptr<Blight::BlightSocket>, int>
makeRawPeer(Blight::BlightSocket::Mode mode = Blight::BlightSocket::Mode::Messages)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return {nullptr, -1};
    auto socket = std::make_unique<Blight::BlightSocket>(mode);
    if (!socket->setSocketDescriptor(fds[0]))
        return {nullptr, -1};
    return {std::move(socket), fds[1]};
}

/*! The descriptors this process has open (tests compare before and after). */
inline int openDescriptors()
{
    return int(QDir(QStringLiteral("/proc/self/fd")).entryList(QDir::NoDotAndDotDot | QDir::AllEntries).size());
}

inline QByteArray headerBytes(qint32 type, quint32 ackid, quint32 size)
{
    QByteArray bytes(Blight::HeaderSize, Qt::Uninitialized);
    Blight::writeHeader(bytes.data(), Blight::Header{type, ackid, size});
    return bytes;
}

inline QByteArray pattern(qsizetype size, int seed)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char((i * 7 + seed) % 251);
    return bytes;
}

} // namespace TestUtil
