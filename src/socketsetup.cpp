// SPDX-License-Identifier: MIT
// Setting up a descriptor: adoption and its checks, a clean start for every
// connection, what the socket supports, and its notifiers.
#include "blightsocket_p.h"
#include "logging_p.h"
#include "socketregistry_p.h"
#include "socketutil_p.h"
#include "syscalls_p.h"

#include <QtCore/QFile>

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>

#ifndef SO_ZEROCOPY
#  define SO_ZEROCOPY 60
#endif

namespace Blight {

using namespace SocketUtil;

namespace {

QByteArray readProcFile(const char *path)
{
    QFile file(QString::fromLatin1(path));
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

qint64 defaultPendingBytesLimit()
{
    rlimit limit{};
    const bool known = ::getrlimit(RLIMIT_MEMLOCK, &limit) == 0;
    const qint64 memlock = !known || limit.rlim_cur == RLIM_INFINITY ? -1 : qint64(limit.rlim_cur);
    return pendingBytesLimitFor(memlock, hasEffectiveCapability(readProcFile("/proc/self/status"), CapIpcLock));
}

int defaultPendingBuffersLimit()
{
    return pendingBuffersLimitFor(parseProcInteger(readProcFile("/proc/sys/net/core/optmem_max"), 20480));
}

// Whether \a peer is a loopback address (an IPv4 one also when mapped into
// IPv6): the peer then shares this host, and its abstract AF_UNIX sockets.
bool onLoopback(const sockaddr_storage &peer)
{
    if (peer.ss_family != AF_INET && peer.ss_family != AF_INET6)
        return false;
    QHostAddress host(reinterpret_cast<const sockaddr *>(&peer));
    bool mapped = false;
    const quint32 v4 = host.toIPv4Address(&mapped);
    return mapped ? QHostAddress(v4).isLoopback() : host.isLoopback();
}

} // namespace

QString BlightSocketPrivate::describePeer() const
{
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0) {
        if (address.ss_family == AF_INET || address.ss_family == AF_INET6) {
            const QHostAddress host(reinterpret_cast<sockaddr *>(&address));
            const quint16 port = address.ss_family == AF_INET
                ? ntohs(reinterpret_cast<sockaddr_in *>(&address)->sin_port)
                : ntohs(reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port);
            const Endpoint endpoint = Endpoint::parse(
                (isUdp(kind) ? QStringLiteral("udp://") : QStringLiteral("tcp://"))
                + (address.ss_family == AF_INET6 ? u'[' + host.toString() + u']' : host.toString()) + u':'
                + QString::number(port));
            if (endpoint.isValid())
                return endpoint.toString();
        }
        if (address.ss_family == AF_UNIX) {
            const auto *un = reinterpret_cast<sockaddr_un *>(&address);
            if (length > offsetof(sockaddr_un, sun_path) && un->sun_path[0] != '\0')
                return QStringLiteral("unix:") + QString::fromLocal8Bit(un->sun_path);
        }
    }
    return QStringLiteral("fd:%1").arg(fd);
}

bool BlightSocketPrivate::announceEndpoint(const QString &text)
{
    endpointText = text;
    if (q_ptr)
        Q_EMIT q_ptr->endpointChanged();
    return !gone();
}

bool BlightSocketPrivate::setState(BlightSocket::State newState)
{
    if (state == newState)
        return !gone();
    state = newState;
    if (q_ptr)
        Q_EMIT q_ptr->stateChanged(newState);
    return !gone();
}

void BlightSocketPrivate::startConnection()
{
    // A socket object can carry one connection after another: each starts
    // like a new object, except for the limits and modes the user set.
    dropQueue();
    closeUring();
    backendSettled = false;
    tracker = CompletionTracker();
    coalescing.restart();
    streamHeldSince = 0;
    zeroCopy.restart();
    stats = SocketStatistics();
    assembler = MessageAssembler(maxPayloadSize);
    heldMessages.clear();
    endSharedMemory();
    sharedMemoryFallback.clear();
    probeTimer.stop();
    noBuffersTimer.stop();
    lingerTimer.stop();
    writeBlocked = false;
    queueDrained = false;
    closing = false;
    tornDown = false;
    failed = false;
    connectOnFirstDatagram = false;
    maxRecord = 0;
    error = BlightSocket::Error::NoError;
    errorString.clear();
    lastSendError = BlightSocket::Error::NoError;
    canSend = true;
}

bool BlightSocketPrivate::refuseDescriptor(const QString &why)
{
    error = BlightSocket::Error::InvalidDescriptor;
    errorString = why;
    ++stats.errors;
    qCInfo(lcSocket, "%s", qPrintable(why));
    return false;
}

bool BlightSocketPrivate::adopt(int newFd, BlightSocket::Ownership ownership, const QString &endpointName)
{
    if (fd >= 0)
        return refuseDescriptor(QStringLiteral("the socket already has descriptor %1").arg(fd));
    struct stat info = {};
    if (newFd < 0 || ::fstat(newFd, &info) != 0)
        return refuseDescriptor(QStringLiteral("descriptor %1 is not open").arg(newFd));
    if (!S_ISSOCK(info.st_mode))
        return refuseDescriptor(QStringLiteral("descriptor %1 is not a socket").arg(newFd));
    int domain = 0;
    int type = 0;
    int listening = 0;
    socklen_t length = sizeof(int);
    ::getsockopt(newFd, SOL_SOCKET, SO_DOMAIN, &domain, &length);
    length = sizeof(int);
    ::getsockopt(newFd, SOL_SOCKET, SO_TYPE, &type, &length);
    length = sizeof(int);
    ::getsockopt(newFd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &length);
    if (listening)
        return refuseDescriptor(
            QStringLiteral("descriptor %1 is a listening socket: accept a connection first").arg(newFd));
    const BlightSocket::SocketKind newKind = kindOf(domain, type);
    if (newKind == BlightSocket::SocketKind::None) {
        return refuseDescriptor(QStringLiteral("descriptor %1 is a socket of family %2, type %3: only AF_UNIX "
                                               "stream/seqpacket and TCP or UDP over IPv4/IPv6 are supported")
                                    .arg(newFd)
                                    .arg(domain)
                                    .arg(type));
    }
    sockaddr_storage peer{};
    socklen_t peerLength = sizeof(peer);
    if (!connectOnFirstDatagram && ::getpeername(newFd, reinterpret_cast<sockaddr *>(&peer), &peerLength) != 0)
        return refuseDescriptor(QStringLiteral("descriptor %1 is not connected (%2)").arg(newFd).arg(errnoText(errno)));
    if (!SocketRegistry::claim(quint64(info.st_ino)))
        return refuseDescriptor(
            QStringLiteral("descriptor %1 is a socket already used by another BlightSocket").arg(newFd));

    claimedInode = quint64(info.st_ino);
    fd = newFd;
    ownsFd = ownership == BlightSocket::Ownership::TakeOwnership;
    kind = newKind;
    datagram = isDatagram(newKind);
    queue.setDatagram(datagram);
    peerOnLoopback = isTcp(kind) && !connectOnFirstDatagram && onLoopback(peer);
    if (isTcp(kind)) {
        // Coalescing happens in the send queue; Nagle would only add latency.
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    if (kind == BlightSocket::SocketKind::UnixStream)
        growSendBuffer();
    refreshRecordLimit();
    endpointText = !endpointName.isEmpty() ? endpointName : describePeer();
    detectZeroCopy();
    setupNotifiers();
    qCDebug(lcSocket) << "adopted" << endpointText << kind;
    if (!connectOnFirstDatagram)
        offerSharedMemory(true); // ahead of anything the application sends
    if (!setState(connectOnFirstDatagram ? BlightSocket::State::Connecting : BlightSocket::State::Connected))
        return true;
    if (applyZeroCopyChange())
        announceEndpoint(endpointText);
    return true;
}

void BlightSocketPrivate::growSendBuffer()
{
    // An AF_UNIX stream holds at most SO_SNDBUF bytes in flight, and poll()
    // reports it writable again only once three quarters have been read, so
    // a sender that outruns its reader stalls at every refill while the
    // reader empties the rest. A larger buffer (within net.core.wmem_max, an
    // unprivileged request) keeps the reader fed. Only a buffer still at the
    // system's default grows: a size the application chose is kept.
    static const qint64 systemDefault = parseProcInteger(readProcFile("/proc/sys/net/core/wmem_default"), 0);
    int current = 0;
    socklen_t length = sizeof(current);
    if (systemDefault <= 0 || systemDefault >= UnixSendBuffer
        || Sys::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &current, &length) != 0 || current != systemDefault)
        return;
    const int wanted = UnixSendBuffer / 2; // the kernel doubles what it is asked for
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &wanted, sizeof(wanted));
}

void BlightSocketPrivate::refreshRecordLimit()
{
    // The largest record follows SO_SNDBUF, which the application may change.
    if (kind != BlightSocket::SocketKind::UnixSeqPacket)
        return;
    int sndbuf = 0;
    socklen_t length = sizeof(sndbuf);
    if (Sys::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, &length) == 0)
        maxRecord = maxSeqPacketRecord(sndbuf);
}

bool BlightSocketPrivate::becomeConnected()
{
    if (gone())
        return false;
    if (q_ptr)
        Q_EMIT q_ptr->connected();
    if (gone())
        return false;
    if (state == BlightSocket::State::Connected && !queue.isEmpty())
        return flushQueue();
    return true;
}

void BlightSocketPrivate::detectZeroCopy()
{
    zeroCopy.setDefaultLimits(defaultPendingBytesLimit(), defaultPendingBuffersLimit());
    int soError = EOPNOTSUPP;
    if (isInet(kind)) {
        const int one = 1;
        soError = Sys::setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) == 0 ? 0 : errno;
    }
    zeroCopy.detect(isInet(kind), soError);
}

void BlightSocketPrivate::setupNotifiers()
{
    // The notifiers are children of the engine, so they move and live with it.
    readNotifier = new QSocketNotifier(fd, QSocketNotifier::Read, this);
    QObject::connect(readNotifier, &QSocketNotifier::activated, readNotifier, [this] {
        Busy busy(this);
        onReadable();
    });
    readNotifier->setEnabled(!readingPaused);
    writeNotifier = new QSocketNotifier(fd, QSocketNotifier::Write, this);
    writeNotifier->setEnabled(false);
    QObject::connect(writeNotifier, &QSocketNotifier::activated, writeNotifier, [this] {
        Busy busy(this);
        onWritable();
    });
    if (isInet(kind)) {
        // POLLERR (a queued completion or error) wakes an Exception notifier
        // but plain data does not, so it watches the error queue even while
        // reading is paused.
        errorNotifier = new QSocketNotifier(fd, QSocketNotifier::Exception, this);
        QObject::connect(errorNotifier, &QSocketNotifier::activated, errorNotifier, [this] {
            Busy busy(this);
            onErrorQueue();
        });
    }
}

} // namespace Blight
