// BlightSocket: descriptor adoption and connection, the coalescing send queue
// with its copy and MSG_ZEROCOPY paths, the non-blocking receive path, the
// error-queue reader and the close/linger logic.
#include "blightsocket_p.h"
#include "logging_p.h"

#include <QtCore/QAbstractEventDispatcher>
#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QMutex>
#include <QtCore/QSet>
#include <QtCore/QThread>
#include <QtCore/QTimerEvent>
#include <QtNetwork/QHostInfo>

#include <cerrno>
#include <algorithm>
#include <vector>
#include <climits>
#include <cstring>
#include <ctime>
#include <limits>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SO_ZEROCOPY
#  define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#  define MSG_ZEROCOPY 0x4000000
#endif

namespace Blight {

namespace {

// Payloads up to this size are copied into a staging buffer shared with their
// neighbours; larger ones are queued by reference.
constexpr qsizetype StageLimit = 4096;
constexpr qsizetype StagingCapacity = 64 * 1024;
constexpr int MaxIov = IOV_MAX;
constexpr int ReadRoundsPerWake = 16;
constexpr qsizetype RawReadSize = 256 * 1024;
constexpr int MaxBackOffMs = 60000;
constexpr int MaxNoBuffersDelayMs = 64;

// Event-loop turns, per thread. The dispatcher announces the edges of each
// pass with aboutToBlock() and awake(); at every edge the turn number moves
// on and the sockets that queued messages during the pass flush them. No
// event is posted, so ending a turn costs no system call.
struct TurnClock
{
    quint64 turn = 1;
    QPointer<QAbstractEventDispatcher> dispatcher;
    std::vector<BlightSocketPrivate *> pending;
    // Batches being flushed; more than one when a handler runs a nested loop.
    std::vector<std::vector<BlightSocketPrivate *> *> flushing;
};
thread_local TurnClock turnClock;

void onTurnEdge()
{
    ++turnClock.turn;
    if (turnClock.pending.empty())
        return;
    std::vector<BlightSocketPrivate *> batch;
    batch.swap(turnClock.pending);
    turnClock.flushing.push_back(&batch);
    // A socket destroyed by a handler in the loop clears its own slot.
    for (BlightSocketPrivate *&slot : batch) {
        if (BlightSocketPrivate *d = std::exchange(slot, nullptr))
            d->endOfTurn();
    }
    turnClock.flushing.pop_back();
}

bool hookTurnClock()
{
    if (Q_LIKELY(!turnClock.dispatcher.isNull()))
        return true;
    QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance();
    if (!dispatcher)
        return false;
    {
        turnClock.dispatcher = dispatcher;
        QObject::connect(dispatcher, &QAbstractEventDispatcher::aboutToBlock, dispatcher, onTurnEdge, Qt::DirectConnection);
        QObject::connect(dispatcher, &QAbstractEventDispatcher::awake, dispatcher, onTurnEdge, Qt::DirectConnection);
    }
    return true;
}

const QEvent::Type EndOfTurnEvent = QEvent::Type(QEvent::registerEventType());
const QEvent::Type ResumeReadingEvent = QEvent::Type(QEvent::registerEventType());

qint64 nowNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// Arrays from QByteArray::fromRawData() (and literals) have no header: their
// bytes belong to someone else and may change or vanish after the call.
bool isRawData(const QByteArray &bytes)
{
    return !bytes.isEmpty() && const_cast<QByteArray &>(bytes).data_ptr().d_ptr() == nullptr;
}

QString errnoText(int errorNumber)
{
    return QString::fromLocal8Bit(std::strerror(errorNumber));
}

bool hasIpcLock()
{
    // CAP_IPC_LOCK (bit 14) exempts pinned pages from RLIMIT_MEMLOCK.
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return false;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("CapEff:")) {
            bool ok = false;
            const quint64 caps = line.mid(7).trimmed().toULongLong(&ok, 16);
            return ok && (caps & (quint64(1) << 14));
        }
    }
    return false;
}

qint64 defaultPendingBytesLimit()
{
    constexpr qint64 Privileged = 64 * 1024 * 1024;
    rlimit limit{};
    if (getrlimit(RLIMIT_MEMLOCK, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY || hasIpcLock())
        return Privileged;
    // The kernel charges each send's pages plus two; keep a quarter in reserve
    // for that overhead and for other users of locked memory.
    return qMax<qint64>(64 * 1024, qint64(limit.rlim_cur) * 3 / 4);
}

int defaultPendingBuffersLimit()
{
    // Each outstanding notification holds an skb (about 0.5-1 KiB) charged to
    // optmem until it is read.
    QFile file(QStringLiteral("/proc/sys/net/core/optmem_max"));
    qint64 optmem = 20480;
    if (file.open(QIODevice::ReadOnly)) {
        bool ok = false;
        const qint64 value = file.readAll().trimmed().toLongLong(&ok);
        if (ok && value > 0)
            optmem = value;
    }
    return int(qBound(qint64(1), optmem / 1024, qint64(4096)));
}

// Buffers the kernel never released before their socket ended: freeing them
// could let reused memory change bytes still queued in a device, so they are
// kept until the process ends.
struct Orphanage
{
    QMutex mutex;
    QList<QByteArray> buffers;
    qint64 bytes = 0;
};
Q_GLOBAL_STATIC(Orphanage, orphanage)

} // namespace

quint64 currentTurn()
{
    hookTurnClock();
    return turnClock.turn;
}

// ---------------------------------------------------------------- private

BlightSocketPrivate::BlightSocketPrivate(BlightSocket *q, BlightSocket::Mode socketMode)
    : q_ptr(q)
    , mode(socketMode)
    , zeroCopyThreshold(16 * 1024)
    , pendingBytesLimit(defaultPendingBytesLimit())
    , pendingBuffersLimit(defaultPendingBuffersLimit())
{
}

BlightSocketPrivate::~BlightSocketPrivate()
{
    forgetEndOfTurn();
    releaseSocketClaim();
}

void BlightSocketPrivate::forgetEndOfTurn()
{
    if (!endOfTurnPosted)
        return;
    endOfTurnPosted = false;
    std::erase(turnClock.pending, this);
    for (std::vector<BlightSocketPrivate *> *batch : turnClock.flushing)
        std::replace(batch->begin(), batch->end(), this, static_cast<BlightSocketPrivate *>(nullptr));
}

// Sockets adopted by live BlightSockets, by inode so that a dup() of an
// adopted descriptor is caught too: two objects must never read, write and
// close the same socket.
Q_GLOBAL_STATIC(QMutex, claimedSocketsMutex)
Q_GLOBAL_STATIC(QSet<quint64>, claimedSockets)

bool BlightSocketPrivate::claimSocket(quint64 inode)
{
    QMutexLocker locker(claimedSocketsMutex());
    if (claimedSockets()->contains(inode))
        return false;
    claimedSockets()->insert(inode);
    claimedInode = inode;
    return true;
}

void BlightSocketPrivate::releaseSocketClaim()
{
    if (claimedInode == 0)
        return;
    QMutexLocker locker(claimedSocketsMutex());
    claimedSockets()->remove(claimedInode);
    claimedInode = 0;
}

void BlightSocketPrivate::reset()
{
    queue.clear();
    queuedPieces = 0;
    stats.queuedBytes = 0;
    writeBlocked = false;
    waitingForCompletions = false;
    closing = false;
    tornDown = false;
    failed = false;
    error = BlightSocket::Error::NoError;
    errorString.clear();
    assembler = MessageAssembler(maxPayloadSize);
    heldMessages.clear();
    connectOnFirstDatagram = false;
    consecutiveCopied = 0;
    probing = false;
    currentBackOff = 0;
}

void BlightSocketPrivate::setState(BlightSocket::State newState)
{
    Q_Q(BlightSocket);
    if (state == newState)
        return;
    state = newState;
    Q_EMIT q->stateChanged(newState);
}

static QString describePeer(int fd, BlightSocket::SocketKind kind)
{
    sockaddr_storage address{};
    socklen_t length = sizeof(address);
    const bool udp = kind == BlightSocket::SocketKind::Udp4 || kind == BlightSocket::SocketKind::Udp6;
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0) {
        if (address.ss_family == AF_INET || address.ss_family == AF_INET6) {
            const QHostAddress host(reinterpret_cast<sockaddr *>(&address));
            const quint16 port = address.ss_family == AF_INET
                ? ntohs(reinterpret_cast<sockaddr_in *>(&address)->sin_port)
                : ntohs(reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port);
            Endpoint endpoint = Endpoint::parse(
                (udp ? QStringLiteral("udp://") : QStringLiteral("tcp://"))
                + (address.ss_family == AF_INET6 ? u'[' + host.toString() + u']' : host.toString())
                + u':' + QString::number(port));
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

bool BlightSocketPrivate::adopt(int newFd, BlightSocket::Ownership ownership, bool emitConnected)
{
    Q_Q(BlightSocket);
    auto refuse = [&](const QString &why) {
        error = BlightSocket::Error::InvalidDescriptor;
        errorString = why;
        ++stats.errors;
        qCWarning(lcSocket, "%s", qPrintable(why));
        return false;
    };
    if (fd >= 0)
        return refuse(QStringLiteral("the socket already has descriptor %1").arg(fd));
    struct stat info{};
    if (newFd < 0 || ::fstat(newFd, &info) != 0)
        return refuse(QStringLiteral("descriptor %1 is not open").arg(newFd));
    if (!S_ISSOCK(info.st_mode))
        return refuse(QStringLiteral("descriptor %1 is not a socket").arg(newFd));
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
        return refuse(QStringLiteral("descriptor %1 is a listening socket: accept a connection first").arg(newFd));

    BlightSocket::SocketKind newKind = BlightSocket::SocketKind::None;
    if (domain == AF_UNIX && type == SOCK_STREAM)
        newKind = BlightSocket::SocketKind::UnixStream;
    else if (domain == AF_UNIX && type == SOCK_SEQPACKET)
        newKind = BlightSocket::SocketKind::UnixSeqPacket;
    else if (domain == AF_INET && type == SOCK_STREAM)
        newKind = BlightSocket::SocketKind::Tcp4;
    else if (domain == AF_INET6 && type == SOCK_STREAM)
        newKind = BlightSocket::SocketKind::Tcp6;
    else if (domain == AF_INET && type == SOCK_DGRAM)
        newKind = BlightSocket::SocketKind::Udp4;
    else if (domain == AF_INET6 && type == SOCK_DGRAM)
        newKind = BlightSocket::SocketKind::Udp6;
    if (newKind == BlightSocket::SocketKind::None) {
        return refuse(QStringLiteral("descriptor %1 is a socket of family %2, type %3: only AF_UNIX "
                                     "stream/seqpacket and TCP or UDP over IPv4/IPv6 are supported")
                          .arg(newFd)
                          .arg(domain)
                          .arg(type));
    }
    sockaddr_storage peer{};
    socklen_t peerLength = sizeof(peer);
    if (!connectOnFirstDatagram && ::getpeername(newFd, reinterpret_cast<sockaddr *>(&peer), &peerLength) != 0)
        return refuse(QStringLiteral("descriptor %1 is not connected (%2)").arg(newFd).arg(errnoText(errno)));

    if (!claimSocket(quint64(info.st_ino)))
        return refuse(QStringLiteral("descriptor %1 is a socket already used by another BlightSocket").arg(newFd));
    fd = newFd;
    ownsFd = ownership == BlightSocket::Ownership::TakeOwnership;
    kind = newKind;
    datagram = newKind == BlightSocket::SocketKind::UnixSeqPacket || newKind == BlightSocket::SocketKind::Udp4
        || newKind == BlightSocket::SocketKind::Udp6;
    if (newKind == BlightSocket::SocketKind::Tcp4 || newKind == BlightSocket::SocketKind::Tcp6) {
        // Coalescing happens in the send queue; Nagle would only add latency.
        const int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
    endpointText = connectOnFirstDatagram ? endpointText : describePeer(fd, kind);
    detectZeroCopy();
    setupNotifiers();
    setState(connectOnFirstDatagram ? BlightSocket::State::Connecting : BlightSocket::State::Connected);
    Q_EMIT q->endpointChanged();
    qCDebug(lcSocket) << "adopted" << endpointText << kind;
    if (emitConnected && !connectOnFirstDatagram) {
        Q_EMIT q->connected();
        if (state == BlightSocket::State::Connected && !queue.empty())
            flushQueue();
    }
    return true;
}

void BlightSocketPrivate::detectZeroCopy()
{
    Q_Q(BlightSocket);
    const bool inet = kind == BlightSocket::SocketKind::Tcp4 || kind == BlightSocket::SocketKind::Tcp6
        || kind == BlightSocket::SocketKind::Udp4 || kind == BlightSocket::SocketKind::Udp6;
    pendingBuffersLimit = defaultPendingBuffersLimit();
    if (!inet) {
        zeroCopySupported = false;
        zeroCopyState = BlightSocket::ZeroCopyState::Unsupported;
        zeroCopyReason = QStringLiteral("AF_UNIX socket: the kernel has no MSG_ZEROCOPY for it, "
                                        "so every send takes the copy path");
    } else {
        const int one = 1;
        if (::setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) == 0) {
            zeroCopySupported = true;
            if (zeroCopyMode == BlightSocket::ZeroCopyMode::Off) {
                zeroCopyState = BlightSocket::ZeroCopyState::Disabled;
                zeroCopyReason = QStringLiteral("zero-copy switched off");
            } else {
                zeroCopyState = BlightSocket::ZeroCopyState::Active;
                zeroCopyReason = QStringLiteral("payloads of %1 bytes or more go with MSG_ZEROCOPY")
                                     .arg(zeroCopyThreshold);
            }
        } else {
            zeroCopySupported = false;
            zeroCopyState = BlightSocket::ZeroCopyState::Unsupported;
            zeroCopyReason = QStringLiteral("the kernel refused SO_ZEROCOPY (%1): copy path").arg(errnoText(errno));
        }
    }
    qCInfo(lcZeroCopy, "%s: %s", qPrintable(endpointText), qPrintable(zeroCopyReason));
    Q_EMIT q->zeroCopyStateChanged();
}

void BlightSocketPrivate::setupNotifiers()
{
    Q_Q(BlightSocket);
    // Each notifier is its own connection context so that the notifiers (and
    // this private object) can move to a new owner when a socket is destroyed
    // with buffers in flight.
    readNotifier = new QSocketNotifier(fd, QSocketNotifier::Read, q);
    QObject::connect(readNotifier, &QSocketNotifier::activated, readNotifier, [this] { onReadable(); });
    readNotifier->setEnabled(!readingPaused);
    writeNotifier = new QSocketNotifier(fd, QSocketNotifier::Write, q);
    writeNotifier->setEnabled(false);
    QObject::connect(writeNotifier, &QSocketNotifier::activated, writeNotifier, [this] {
        writeBlocked = false;
        writeNotifier->setEnabled(false);
        if (!tracker.isEmpty())
            drainErrorQueue();
        flushQueue();
        if (queue.empty() && queueDrained && !closing) {
            queueDrained = false;
            Q_EMIT q_ptr->sendQueueEmpty();
        }
        emitStatistics();
    });
    if (kind != BlightSocket::SocketKind::UnixStream && kind != BlightSocket::SocketKind::UnixSeqPacket) {
        // POLLERR (a queued completion or error) wakes an Exception notifier
        // but plain data does not, so it watches the error queue even while
        // reading is paused.
        errorNotifier = new QSocketNotifier(fd, QSocketNotifier::Exception, q);
        QObject::connect(errorNotifier, &QSocketNotifier::activated, errorNotifier, [this] { onErrorQueue(); });
    }
}

void BlightSocketPrivate::connectTo(const Endpoint &endpoint)
{
    Q_Q(BlightSocket);
    reset();
    pendingEndpoint = endpoint;
    endpointText = endpoint.toString();
    setState(BlightSocket::State::Connecting);
    Q_EMIT q->endpointChanged();
    switch (endpoint.scheme()) {
    case Endpoint::Scheme::Invalid:
        break;
    case Endpoint::Scheme::Fd:
        // Deferred so that connected() or errorOccurred() always arrive after
        // connectToEndpoint() returned, whatever the scheme.
        QMetaObject::invokeMethod(q, [this, fdNumber = endpoint.descriptor()] {
            if (state != BlightSocket::State::Connecting)
                return;
            if (!adopt(fdNumber, BlightSocket::Ownership::TakeOwnership, true)) {
                const QString why = errorString;
                fail(BlightSocket::Error::InvalidDescriptor, why);
            }
        }, Qt::QueuedConnection);
        return;
    case Endpoint::Scheme::Unix: {
        const QByteArray path = QFile::encodeName(endpoint.path());
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (path.size() >= qsizetype(sizeof(address.sun_path))) {
            QMetaObject::invokeMethod(q, [this] {
                fail(BlightSocket::Error::InvalidEndpoint, QStringLiteral("socket path is too long"));
            }, Qt::QueuedConnection);
            return;
        }
        std::memcpy(address.sun_path, path.constData(), size_t(path.size()));
        const int newFd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        startConnect(newFd, reinterpret_cast<sockaddr *>(&address), sizeof(address));
        return;
    }
    case Endpoint::Scheme::Tcp:
    case Endpoint::Scheme::Udp: {
        const QHostAddress literal(endpoint.host());
        if (!literal.isNull()) {
            pendingAddresses = {literal};
            QMetaObject::invokeMethod(q, [this] { connectToAddressList(); }, Qt::QueuedConnection);
            return;
        }
        QHostInfo::lookupHost(endpoint.host(), q, [this](const QHostInfo &info) {
            if (state != BlightSocket::State::Connecting)
                return;
            if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
                fail(BlightSocket::Error::HostNotFound,
                     QStringLiteral("cannot resolve %1: %2").arg(pendingEndpoint.host(), info.errorString()));
                return;
            }
            pendingAddresses = info.addresses();
            connectToAddressList();
        });
        return;
    }
    case Endpoint::Scheme::Blight:
        startCompositorHandshake(endpoint.sessionBus());
        return;
    }
}

void BlightSocketPrivate::connectToAddressList()
{
    if (state != BlightSocket::State::Connecting)
        return;
    const bool udp = pendingEndpoint.scheme() == Endpoint::Scheme::Udp;
    while (!pendingAddresses.isEmpty()) {
        const QHostAddress host = pendingAddresses.takeFirst();
        sockaddr_storage address{};
        socklen_t length = 0;
        if (host.protocol() == QAbstractSocket::IPv4Protocol) {
            auto *in = reinterpret_cast<sockaddr_in *>(&address);
            in->sin_family = AF_INET;
            in->sin_port = htons(pendingEndpoint.port());
            in->sin_addr.s_addr = htonl(host.toIPv4Address());
            length = sizeof(sockaddr_in);
        } else if (host.protocol() == QAbstractSocket::IPv6Protocol) {
            auto *in6 = reinterpret_cast<sockaddr_in6 *>(&address);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(pendingEndpoint.port());
            const Q_IPV6ADDR bytes = host.toIPv6Address();
            std::memcpy(&in6->sin6_addr, &bytes, sizeof(bytes));
            in6->sin6_scope_id = host.scopeId().toUInt();
            length = sizeof(sockaddr_in6);
        } else {
            continue;
        }
        const int newFd = ::socket(address.ss_family, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        startConnect(newFd, reinterpret_cast<sockaddr *>(&address), length);
        return;
    }
    fail(BlightSocket::Error::HostNotFound, QStringLiteral("no usable address for %1").arg(endpointText));
}

void BlightSocketPrivate::startConnect(int newFd, const sockaddr *address, socklen_t length)
{
    Q_Q(BlightSocket);
    if (newFd < 0) {
        failErrno(errno, QStringLiteral("creating a socket"));
        return;
    }
    connectingFd = newFd;
    if (::connect(newFd, address, length) == 0) {
        QMetaObject::invokeMethod(q, [this] { onConnectReady(); }, Qt::QueuedConnection);
        return;
    }
    if (errno == EINPROGRESS || errno == EAGAIN) {
        connectNotifier = new QSocketNotifier(newFd, QSocketNotifier::Write, q);
        QObject::connect(connectNotifier, &QSocketNotifier::activated, connectNotifier, [this] { onConnectReady(); });
        return;
    }
    const int errorNumber = errno;
    ::close(newFd);
    connectingFd = -1;
    if (!pendingAddresses.isEmpty()) {
        connectToAddressList();
        return;
    }
    QMetaObject::invokeMethod(q, [this, errorNumber] { failConnect(errorNumber); }, Qt::QueuedConnection);
}

void BlightSocketPrivate::failConnect(int errorNumber)
{
    fail(errorNumber == ECONNREFUSED || errorNumber == ENOENT ? BlightSocket::Error::ConnectionRefused
                                                              : BlightSocket::Error::ConnectError,
         QStringLiteral("cannot connect to %1: %2").arg(endpointText, errnoText(errorNumber)));
}

void BlightSocketPrivate::dropConnectNotifier()
{
    if (!connectNotifier)
        return;
    connectNotifier->setEnabled(false);
    connectNotifier->deleteLater();
    connectNotifier = nullptr;
}

void BlightSocketPrivate::abandonConnect()
{
    dropConnectNotifier();
    if (connectingFd >= 0)
        ::close(std::exchange(connectingFd, -1));
}

void BlightSocketPrivate::onConnectReady()
{
    dropConnectNotifier();
    const int newFd = std::exchange(connectingFd, -1);
    if (newFd < 0 || state != BlightSocket::State::Connecting)
        return;
    int soError = 0;
    socklen_t length = sizeof(soError);
    ::getsockopt(newFd, SOL_SOCKET, SO_ERROR, &soError, &length);
    if (soError != 0) {
        ::close(newFd);
        if (!pendingAddresses.isEmpty()) {
            connectToAddressList();
            return;
        }
        failConnect(soError);
        return;
    }
    if (!adopt(newFd, BlightSocket::Ownership::TakeOwnership, true)) {
        ::close(newFd);
        const QString why = errorString;
        fail(BlightSocket::Error::ConnectError, why);
    }
}

void BlightSocketPrivate::finishHandshake(int newFd)
{
    if (state != BlightSocket::State::Connecting) {
        ::close(newFd);
        return;
    }
    const QString requested = endpointText;
    if (!adopt(newFd, BlightSocket::Ownership::TakeOwnership, false)) {
        ::close(newFd);
        const QString why = errorString;
        fail(BlightSocket::Error::ConnectError, why);
        return;
    }
    endpointText = requested;
    Q_EMIT q_ptr->endpointChanged();
    Q_EMIT q_ptr->connected();
    if (state == BlightSocket::State::Connected && !queue.empty())
        flushQueue();
}

// ---------------------------------------------------------------- sending

bool BlightSocketPrivate::acceptable(qsizetype bytes)
{
    Q_Q(BlightSocket);
    if (state == BlightSocket::State::Unconnected || closing) {
        lastSendError = BlightSocket::Error::NotConnected;
        return false;
    }
    if (stats.queuedBytes > 0 && stats.queuedBytes + bytes > sendQueueLimit) {
        lastSendError = BlightSocket::Error::QueueFull;
        if (canSend) {
            canSend = false;
            Q_EMIT q->canSendChanged(false);
        }
        return false;
    }
    return true;
}

bool BlightSocketPrivate::zeroCopyNow() const
{
    if (!zeroCopySupported || zeroCopyMode == BlightSocket::ZeroCopyMode::Off)
        return false;
    if (zeroCopyMode == BlightSocket::ZeroCopyMode::On)
        return true;
    return zeroCopyState == BlightSocket::ZeroCopyState::Active
        || zeroCopyState == BlightSocket::ZeroCopyState::Budget;
}

void BlightSocketPrivate::appendPiece(QByteArray bytes, bool eligible, int messagesEnding)
{
    stats.queuedBytes += bytes.size();
    queue.push_back(Piece{std::move(bytes), 0, eligible, false, messagesEnding});
    ++queuedPieces;
}

void BlightSocketPrivate::appendDatagram(const char *header, QByteArrayView payload)
{
    // A datagram's header and payload leave together, in one piece.
    QByteArray whole;
    whole.reserve(HeaderSize + payload.size());
    whole.append(header, HeaderSize).append(payload.data(), payload.size());
    appendPiece(std::move(whole), false, 1);
}

void BlightSocketPrivate::appendStaged(const char *header, QByteArrayView payload, int messagesEnding)
{
    // Header and small payload in one go: the common case of a burst.
    const qsizetype size = HeaderSize + payload.size();
    if (datagram || queue.empty() || !queue.back().staging || queue.back().bytes.size() + size > StagingCapacity) {
        appendStaged(header, HeaderSize, 0);
        if (!payload.isEmpty())
            appendStaged(payload.data(), payload.size(), 0);
        queue.back().messagesEnding += messagesEnding;
        return;
    }
    Piece &piece = queue.back();
    const qsizetype at = piece.bytes.size();
    piece.bytes.resize(at + size);
    char *out = piece.bytes.data() + at;
    std::memcpy(out, header, HeaderSize);
    if (!payload.isEmpty())
        std::memcpy(out + HeaderSize, payload.data(), size_t(payload.size()));
    piece.messagesEnding += messagesEnding;
    stats.queuedBytes += size;
}

void BlightSocketPrivate::appendStaged(const char *data, qsizetype size, int messagesEnding)
{
    // Datagram pieces hold exactly one message, so they are never merged.
    if (datagram || queue.empty() || !queue.back().staging || queue.back().bytes.size() + size > StagingCapacity) {
        QByteArray buffer = std::move(spareStaging);
        spareStaging = QByteArray();
        if (buffer.capacity() < StagingCapacity && !datagram)
            buffer.reserve(StagingCapacity);
        queue.push_back(Piece{std::move(buffer), 0, false, true, 0});
        ++queuedPieces;
    }
    Piece &piece = queue.back();
    piece.bytes.append(data, size);
    piece.messagesEnding += messagesEnding;
    stats.queuedBytes += size;
}

bool BlightSocketPrivate::trySendImmediately(const char *header, QByteArrayView payload, const QByteArray *owner)
{
    // The common case of a lone message: one sendmsg straight from the
    // caller's bytes, no queue, no allocation.
    iovec iov[2];
    int count = 0;
    qsizetype total = 0;
    if (header) {
        iov[count++] = {const_cast<char *>(header), size_t(HeaderSize)};
        total += HeaderSize;
    }
    if (!payload.isEmpty()) {
        iov[count++] = {const_cast<char *>(payload.data()), size_t(payload.size())};
        total += payload.size();
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = size_t(count);
    ssize_t sent;
    do {
        ++stats.sendCalls;
        sent = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        if (!holdForRetry(errno)) {
            failErrno(errno, QStringLiteral("sending"));
            return false;
        }
        sent = 0;
    } else {
        ++stats.copySends;
        stats.bytesSent += quint64(sent);
    }
    if (sent == total) {
        ++stats.messagesSent;
        Q_EMIT q_ptr->statisticsChanged();
        return true;
    }
    if (datagram && sent > 0) {
        fail(BlightSocket::Error::MessageTooLarge, QStringLiteral("the kernel sent a datagram only in part"));
        return false;
    }
    // Queue what is left: the payload by reference when the caller's array
    // owns its bytes, else a copy.
    qsizetype done = sent;
    if (header && done < HeaderSize) {
        if (datagram) {
            appendDatagram(header, payload);
            stats.peakQueuedBytes = qMax(stats.peakQueuedBytes, stats.queuedBytes);
            return true;
        }
        appendStaged(header + done, HeaderSize - done, payload.isEmpty() ? 1 : 0);
        done = 0;
    } else if (header) {
        done -= HeaderSize;
    }
    if (!payload.isEmpty()) {
        const QByteArrayView rest = payload.sliced(done);
        if (owner && !isRawData(*owner)) {
            stats.queuedBytes += rest.size();
            queue.push_back(Piece{*owner, done, false, false, 1});
            ++queuedPieces;
        } else if (rest.size() <= StageLimit && !datagram) {
            appendStaged(rest.data(), rest.size(), 1);
        } else {
            appendPiece(rest.toByteArray(), false, 1);
        }
    }
    stats.peakQueuedBytes = qMax(stats.peakQueuedBytes, stats.queuedBytes);
    return true;
}

bool BlightSocketPrivate::sendsImmediately()
{
    // The first message of an event-loop turn leaves inside the call and
    // later ones in the same turn leave together at its end. A sender that
    // sent a burst in its last turn is taken to be streaming: then the first
    // message waits with the rest (see scheduleEndOfTurn()), which saves a
    // system call, and a wake-up of the peer, per burst.
    const quint64 turn = currentTurn();
    if (turn != countedTurn) {
        previousTurnMessages = turnMessages;
        turnMessages = 0;
        countedTurn = turn;
    }
    ++turnMessages;
    return state == BlightSocket::State::Connected && queue.empty() && immediateTurn != turn
        && previousTurnMessages <= 1 && !writeBlocked && !noBuffersTimer.isActive();
}

bool BlightSocketPrivate::checkDatagramSize(qsizetype total)
{
    if (!datagram || kind == BlightSocket::SocketKind::UnixSeqPacket)
        return true;
    const qsizetype maxDatagram = kind == BlightSocket::SocketKind::Udp6 ? 65527 : 65507;
    if (total <= maxDatagram)
        return true;
    lastSendError = BlightSocket::Error::MessageTooLarge;
    return false;
}

bool BlightSocketPrivate::enqueueMessageCopy(const Header &header, QByteArrayView payload)
{
    const qsizetype total = HeaderSize + payload.size();
    if (!checkDatagramSize(total) || !acceptable(total))
        return false;
    char headerBytes[HeaderSize];
    writeHeader(headerBytes, header);
    if (sendsImmediately()) {
        immediateTurn = currentTurn();
        const bool ok = trySendImmediately(headerBytes, payload, nullptr);
        if (ok && !queue.empty())
            scheduleEndOfTurn();
        return ok;
    }
    if (datagram) {
        appendDatagram(headerBytes, payload);
    } else if (payload.size() <= StageLimit) {
        appendStaged(headerBytes, payload, 1);
    } else {
        appendStaged(headerBytes, HeaderSize, 0);
        appendPiece(payload.toByteArray(), false, 1);
    }
    stats.peakQueuedBytes = qMax(stats.peakQueuedBytes, stats.queuedBytes);
    afterEnqueue(false, false);
    return true;
}

bool BlightSocketPrivate::enqueueMessage(const Header &header, const QByteArray &payload)
{
    const qsizetype total = HeaderSize + payload.size();
    if (!checkDatagramSize(total) || !acceptable(total))
        return false;
    char headerBytes[HeaderSize];
    writeHeader(headerBytes, header);
    const bool eligible = zeroCopySupported && payload.size() >= zeroCopyThreshold && !isRawData(payload);
    const bool immediate = sendsImmediately();
    if (immediate)
        immediateTurn = currentTurn();
    if (immediate && !(eligible && zeroCopyNow())) {
        const bool ok = trySendImmediately(headerBytes, payload, &payload);
        if (ok && !queue.empty())
            scheduleEndOfTurn();
        return ok;
    }
    if (eligible) {
        // The header goes out with the payload in one zero-copy send, so it
        // needs its own array that lives until the release.
        appendPiece(QByteArray(headerBytes, HeaderSize), true, payload.isEmpty() ? 1 : 0);
        appendPiece(payload, true, 1);
    } else if (datagram) {
        appendDatagram(headerBytes, payload);
    } else if (payload.size() > StageLimit) {
        appendStaged(headerBytes, HeaderSize, 0);
        appendPiece(payload, false, 1);
    } else {
        appendStaged(headerBytes, payload, 1);
    }
    stats.peakQueuedBytes = qMax(stats.peakQueuedBytes, stats.queuedBytes);
    afterEnqueue(immediate, isRawData(payload));
    return true;
}

bool BlightSocketPrivate::enqueueRaw(const QByteArray &data)
{
    if (data.isEmpty())
        return true;
    if (!checkDatagramSize(data.size()) || !acceptable(data.size()))
        return false;
    const bool eligible = zeroCopySupported && data.size() >= zeroCopyThreshold && !isRawData(data);
    const bool immediate = sendsImmediately();
    if (immediate)
        immediateTurn = currentTurn();
    if (immediate && !(eligible && zeroCopyNow())) {
        const bool ok = trySendImmediately(nullptr, data, &data);
        if (ok && !queue.empty())
            scheduleEndOfTurn();
        return ok;
    }
    if (eligible || data.size() > StageLimit || datagram)
        appendPiece(data, eligible, 1);
    else
        appendStaged(data.constData(), data.size(), 1);
    stats.peakQueuedBytes = qMax(stats.peakQueuedBytes, stats.queuedBytes);
    afterEnqueue(immediate, isRawData(data));
    return true;
}

void BlightSocketPrivate::afterEnqueue(bool immediate, bool rawData)
{
    if (state != BlightSocket::State::Connected)
        return;
    // A zero-copy message that opens a turn leaves at once too; later ones
    // wait for the end of the turn unless enough has piled up for a sendmsg.
    if (immediate || stats.queuedBytes >= flushThreshold || queuedPieces >= MaxIov)
        flushQueue();
    if (rawData)
        detachRawData();
    if (!queue.empty())
        scheduleEndOfTurn();
}

void BlightSocketPrivate::detachRawData()
{
    for (auto it = queue.rbegin(); it != queue.rend(); ++it) {
        if (it->staging || !isRawData(it->bytes))
            continue;
        it->bytes = QByteArray(it->bytes.constData(), it->bytes.size());
    }
}

void BlightSocketPrivate::scheduleEndOfTurn()
{
    Q_Q(BlightSocket);
    if (previousTurnMessages > 1 && writeNotifier && state == BlightSocket::State::Connected) {
        // A streaming sender: flush when the socket reports itself writable,
        // after the next pass has added its messages too.
        writeNotifier->setEnabled(true);
        return;
    }
    if (!endOfTurnPosted) {
        endOfTurnPosted = true;
        if (hookTurnClock())
            turnClock.pending.push_back(this);
        else
            QCoreApplication::postEvent(q, new QEvent(EndOfTurnEvent)); // no dispatcher yet
    }
}

void BlightSocketPrivate::endOfTurn()
{
    endOfTurnPosted = false;
    if (!queue.empty() && state == BlightSocket::State::Connected)
        flushQueue();
    if (queue.empty() && queueDrained && !closing) {
        queueDrained = false;
        Q_EMIT q_ptr->sendQueueEmpty();
    }
    emitStatistics();
}

void BlightSocketPrivate::flushQueue()
{
    if (fd < 0 || tornDown)
        return;
    const bool hadQueue = !queue.empty();
    while (!queue.empty()) {
        if (writeBlocked || waitingForCompletions || noBuffersTimer.isActive())
            break;
        if (!sendBatch())
            break;
    }
    if (hadQueue && queue.empty())
        queueDrained = true;
    updateCanSend();
    if (closing && queue.empty())
        maybeFinishClose();
}

bool BlightSocketPrivate::sendBatch()
{
    const bool zeroCopy = zeroCopyNow();
    iovec iov[MaxIov];
    int count = 0;
    qsizetype bytes = 0;
    const bool batchZeroCopy = queue.front().eligible && zeroCopy;
    // Pinned memory stays within the budget: a stream batch is cut at the
    // bytes left in it; a datagram (which cannot be cut) or the first send
    // after everything was released may exceed it alone.
    qsizetype budgetLeft = std::numeric_limits<qsizetype>::max();
    if (batchZeroCopy) {
        if (!tracker.isEmpty()
            && (tracker.pendingBytes() >= pendingBytesLimit || tracker.pendingCount() >= pendingBuffersLimit)) {
            waitForCompletions();
            return false;
        }
        if (!datagram)
            budgetLeft = qMax<qsizetype>(pendingBytesLimit - tracker.pendingBytes(), 1);
    }
    CompletionTracker::Buffers held;
    for (const Piece &piece : queue) {
        if ((piece.eligible && zeroCopy) != batchZeroCopy || count == MaxIov || bytes >= budgetLeft)
            break;
        const qsizetype take = qMin(piece.remaining(), budgetLeft - bytes);
        iov[count++] = {const_cast<char *>(piece.bytes.constData()) + piece.offset, size_t(take)};
        bytes += take;
        if (batchZeroCopy)
            held.append(piece.bytes);
        if (datagram && piece.messagesEnding > 0)
            break;
    }
    if (batchZeroCopy) {
        if (datagram && !tracker.isEmpty() && tracker.pendingBytes() + bytes > pendingBytesLimit) {
            waitForCompletions();
            return false;
        }
        tracker.add(std::move(held), bytes, nowNs());
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = size_t(count);
    ++stats.sendCalls;
    const ssize_t sent = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT | (batchZeroCopy ? MSG_ZEROCOPY : 0));
    if (sent < 0) {
        const int errorNumber = errno;
        if (batchZeroCopy)
            tracker.rollbackLast();
        if (errorNumber == EINTR)
            return true;
        if (holdForRetry(errorNumber))
            return false;
        if (errorNumber == EMSGSIZE && datagram && batchZeroCopy) {
            // The kernel caps zero-copy datagrams below the UDP maximum
            // (63500 bytes on Linux 6.x): this one goes as a copy.
            for (Piece &piece : queue) {
                piece.eligible = false;
                if (piece.messagesEnding > 0)
                    break;
            }
            return true;
        }
        if (errorNumber == EMSGSIZE && datagram) {
            fail(BlightSocket::Error::MessageTooLarge,
                 QStringLiteral("the kernel refused a datagram of %1 bytes as too large").arg(bytes));
            return false;
        }
        failErrno(errorNumber, QStringLiteral("sending"));
        return false;
    }
    noBuffersDelay = 1;
    if (batchZeroCopy) {
        tracker.setLastBytes(sent);
        ++stats.zeroCopySends;
        stats.zeroCopyBytes += quint64(sent);
    } else {
        ++stats.copySends;
    }
    const bool cut = batchZeroCopy && !datagram && bytes >= budgetLeft;
    advanceQueue(sent);
    if (cut && sent == bytes)
        return true; // the budget, not the socket, ended this batch
    if (!datagram && sent < bytes) {
        waitForWritable(); // a stream socket that took less than offered is full
        return false;
    }
    return true;
}

bool BlightSocketPrivate::holdForRetry(int errorNumber)
{
    if (errorNumber == EAGAIN || errorNumber == EWOULDBLOCK) {
        ++stats.wouldBlock;
        waitForWritable();
        return true;
    }
    if (errorNumber == ENOBUFS) {
        // Back-pressure from optmem or locked memory: the message stays
        // queued. Completions retry the send, and so does a timer, because
        // ENOBUFS with nothing pending never raises POLLERR.
        ++stats.noBufferErrors;
        noBuffersTimer.start(noBuffersDelay, q_ptr);
        noBuffersDelay = qMin(noBuffersDelay * 2, MaxNoBuffersDelayMs);
        return true;
    }
    return false;
}

void BlightSocketPrivate::waitForWritable()
{
    writeBlocked = true;
    writeNotifier->setEnabled(true);
}

void BlightSocketPrivate::waitForCompletions()
{
    waitingForCompletions = true;
    if (zeroCopyState == BlightSocket::ZeroCopyState::Active)
        setZeroCopyState(BlightSocket::ZeroCopyState::Budget,
                         QStringLiteral("waiting for completions: %1 bytes in %2 sends pinned")
                             .arg(tracker.pendingBytes())
                             .arg(tracker.pendingCount()));
}

void BlightSocketPrivate::advanceQueue(qsizetype bytes)
{
    stats.bytesSent += quint64(bytes);
    stats.queuedBytes -= bytes;
    while (bytes > 0 || (!queue.empty() && queue.front().remaining() == 0)) {
        Piece &piece = queue.front();
        const qsizetype take = qMin(bytes, piece.remaining());
        piece.offset += take;
        bytes -= take;
        if (piece.remaining() > 0)
            break;
        stats.messagesSent += quint64(qMax(piece.messagesEnding, 0));
        if (piece.staging && spareStaging.isNull() && piece.bytes.isDetached()) {
            spareStaging = std::move(piece.bytes);
            spareStaging.resize(0);
        }
        queue.pop_front();
        --queuedPieces;
    }
}

void BlightSocketPrivate::updateCanSend()
{
    Q_Q(BlightSocket);
    if (!canSend && stats.queuedBytes <= sendQueueLimit / 2) {
        canSend = true;
        Q_EMIT q->canSendChanged(true);
    }
}

// ---------------------------------------------------------------- receiving

void BlightSocketPrivate::onReadable()
{
    if (!tracker.isEmpty())
        drainErrorQueue(); // POLLERR wakes this notifier too
    if (fd < 0 || readingPaused || closing)
        return;
    if (datagram)
        readDatagrams();
    else if (mode == BlightSocket::Mode::RawStream)
        readRaw();
    else
        readStream();
    emitStatistics();
}

void BlightSocketPrivate::readStream()
{
    QPointer<BlightSocket> guard(q_ptr);
    for (int round = 0; round < ReadRoundsPerWake; ++round) {
        MessageAssembler::Span spans[2];
        const int count = assembler.readTargets(spans);
        iovec iov[2];
        qsizetype offered = 0;
        for (int i = 0; i < count; ++i) {
            iov[i] = {spans[i].data, size_t(spans[i].size)};
            offered += spans[i].size;
        }
        msghdr message{};
        message.msg_iov = iov;
        message.msg_iovlen = size_t(count);
        ++stats.receiveCalls;
        const ssize_t received = ::recvmsg(fd, &message, MSG_DONTWAIT);
        if (received < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            failErrno(errno, QStringLiteral("receiving"));
            return;
        }
        if (received == 0) {
            if (assembler.midMessage()) {
                fail(BlightSocket::Error::RemoteClosed,
                     QStringLiteral("%1: peer closed the connection in the middle of a message (%2 bytes of it received)")
                         .arg(endpointText)
                         .arg(assembler.bufferedBytes()));
            } else {
                fail(BlightSocket::Error::RemoteClosed, QStringLiteral("%1: peer closed the connection").arg(endpointText));
            }
            return;
        }
        stats.bytesReceived += quint64(received);
        assembler.commit(received);
        for (;;) {
            Message incoming;
            const MessageAssembler::Status status = assembler.next(&incoming);
            if (status == MessageAssembler::Status::NeedMore)
                break;
            if (status == MessageAssembler::Status::Error) {
                fail(BlightSocket::Error::ProtocolError, assembler.errorString());
                return;
            }
            if (!dispatch(incoming) || !guard)
                return;
        }
        if (readingPaused || received < offered)
            return;
    }
}

void BlightSocketPrivate::readDatagrams()
{
    Q_Q(BlightSocket);
    QPointer<BlightSocket> guard(q);
    if (rawBuffer.size() < 65536 + 1)
        rawBuffer = QByteArray(65536 + 1, Qt::Uninitialized);
    for (int round = 0; round < 64; ++round) {
        iovec iov{rawBuffer.data(), size_t(rawBuffer.size())};
        sockaddr_storage from{};
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        if (connectOnFirstDatagram) {
            message.msg_name = &from;
            message.msg_namelen = sizeof(from);
        }
        ++stats.receiveCalls;
        const ssize_t received = ::recvmsg(fd, &message, MSG_DONTWAIT | MSG_TRUNC);
        if (received < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == ECONNREFUSED && kind != BlightSocket::SocketKind::UnixSeqPacket) {
                // An ICMP port unreachable for an earlier datagram: UDP goes on.
                ++stats.errors;
                Q_EMIT q->warning(QStringLiteral("peer port unreachable (ICMP) for an earlier datagram"));
                continue;
            }
            failErrno(errno, QStringLiteral("receiving"));
            return;
        }
        if (received == 0 && kind == BlightSocket::SocketKind::UnixSeqPacket) {
            fail(BlightSocket::Error::RemoteClosed, QStringLiteral("%1: peer closed the connection").arg(endpointText));
            return;
        }
        if (received > rawBuffer.size() - 1) {
            fail(BlightSocket::Error::ProtocolError,
                 QStringLiteral("datagram of %1 bytes is larger than any blight message can be").arg(received));
            return;
        }
        if (connectOnFirstDatagram) {
            if (::connect(fd, reinterpret_cast<sockaddr *>(&from), message.msg_namelen) != 0) {
                failErrno(errno, QStringLiteral("connecting to the first peer"));
                return;
            }
            connectOnFirstDatagram = false;
            endpointText = describePeer(fd, kind);
            setState(BlightSocket::State::Connected);
            Q_EMIT q->endpointChanged();
            Q_EMIT q->connected();
            if (!guard)
                return;
        }
        stats.bytesReceived += quint64(received);
        const QByteArrayView datagramBytes(rawBuffer.constData(), received);
        if (mode == BlightSocket::Mode::RawStream) {
            ++stats.messagesReceived;
            Q_EMIT q->dataReceived(datagramBytes.toByteArray());
            if (!guard || state != BlightSocket::State::Connected)
                return;
            continue;
        }
        Message incoming;
        QString why;
        if (MessageAssembler::parseDatagram(datagramBytes, maxPayloadSize, &incoming, &why)
            != MessageAssembler::Status::Message) {
            fail(BlightSocket::Error::ProtocolError, why);
            return;
        }
        if (!dispatch(incoming) || !guard || readingPaused)
            return;
    }
}

void BlightSocketPrivate::readRaw()
{
    Q_Q(BlightSocket);
    QPointer<BlightSocket> guard(q);
    for (int round = 0; round < ReadRoundsPerWake; ++round) {
        if (rawBuffer.size() != RawReadSize || !rawBuffer.isDetached())
            rawBuffer = QByteArray(RawReadSize, Qt::Uninitialized);
        ++stats.receiveCalls;
        const ssize_t received = ::recv(fd, rawBuffer.data(), size_t(rawBuffer.size()), MSG_DONTWAIT);
        if (received < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            failErrno(errno, QStringLiteral("receiving"));
            return;
        }
        if (received == 0) {
            fail(BlightSocket::Error::RemoteClosed, QStringLiteral("%1: peer closed the connection").arg(endpointText));
            return;
        }
        stats.bytesReceived += quint64(received);
        ++stats.messagesReceived;
        QByteArray chunk;
        if (received >= RawReadSize / 4) {
            // Big reads are handed out as they are; small ones are copied so
            // that the big buffer is reused.
            chunk = std::move(rawBuffer);
            chunk.truncate(received);
            rawBuffer = QByteArray();
        } else {
            chunk = QByteArray(rawBuffer.constData(), received);
        }
        Q_EMIT q->dataReceived(chunk);
        if (!guard || state != BlightSocket::State::Connected || readingPaused || received < RawReadSize)
            return;
    }
}

bool BlightSocketPrivate::dispatch(Message &message)
{
    Q_Q(BlightSocket);
    ++stats.messagesReceived;
    if (readingPaused) {
        heldMessages.push_back(std::move(message));
        return true;
    }
    QPointer<BlightSocket> guard(q);
    switch (message.type()) {
    case MessageType::Ping:
        if (autoAnswerPings)
            q->sendMessage(MessageType::Ack, message.ackid());
        Q_EMIT q->pingReceived(message.ackid());
        break;
    case MessageType::Ack:
        if (const auto reply = replies.take(message.ackid()); reply)
            reply->finish(true, message.payload, QString());
        if (!guard)
            return false;
        Q_EMIT q->ackReceived(message.ackid(), message.payload);
        break;
    default:
        break;
    }
    if (!guard)
        return false;
    Q_EMIT q->messageReceived(message);
    return guard && state == BlightSocket::State::Connected;
}

void BlightSocketPrivate::resumeReading()
{
    Q_Q(BlightSocket);
    resumePosted = false;
    QPointer<BlightSocket> guard(q);
    while (!heldMessages.empty() && !readingPaused && state == BlightSocket::State::Connected) {
        Message message = std::move(heldMessages.front());
        heldMessages.pop_front();
        --stats.messagesReceived; // dispatch() counts it again
        if (!dispatch(message) || !guard)
            return;
    }
    if (readingPaused || state != BlightSocket::State::Connected)
        return;
    if (readNotifier)
        readNotifier->setEnabled(true);
    // Messages may sit complete in the assembler's buffer with no new bytes
    // to wake the notifier.
    if (!datagram && mode == BlightSocket::Mode::Messages) {
        for (;;) {
            Message incoming;
            const MessageAssembler::Status status = assembler.next(&incoming);
            if (status == MessageAssembler::Status::NeedMore)
                break;
            if (status == MessageAssembler::Status::Error) {
                fail(BlightSocket::Error::ProtocolError, assembler.errorString());
                return;
            }
            if (!dispatch(incoming) || !guard || readingPaused)
                return;
        }
    }
    onReadable();
}

// ---------------------------------------------------------------- zero-copy completions

void BlightSocketPrivate::onErrorQueue()
{
    if (fd < 0)
        return;
    if (drainErrorQueue())
        return;
    // POLLERR without a queued entry: a pending socket error.
    int soError = 0;
    socklen_t length = sizeof(soError);
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) != 0 || soError == 0)
        return;
    if (datagram) {
        ++stats.errors;
        Q_EMIT q_ptr->warning(QStringLiteral("socket error on %1: %2").arg(endpointText, errnoText(soError)));
        return;
    }
    failErrno(soError, QStringLiteral("on the socket"));
}

bool BlightSocketPrivate::drainErrorQueue()
{
    Q_Q(BlightSocket);
    if (fd < 0)
        return false;
    ErrorQueue::Events events;
    const ErrorQueue::DrainResult result = ErrorQueue::drain(fd, [&events](const ErrorQueueEvent &event) {
        events.append(event);
    });
    stats.errorQueueCalls += quint64(result.calls);
    if (events.isEmpty())
        return false;
    QPointer<BlightSocket> guard(q);
    for (const ErrorQueueEvent &event : std::as_const(events)) {
        if (event.kind == ErrorQueueEvent::Kind::ZeroCopyRange) {
            handleCompletion(event.lo, event.hi, event.copied);
        } else {
            ++stats.errors;
            qCInfo(lcSocket, "%s: queued error %s", qPrintable(endpointText), qPrintable(event.describe()));
            Q_EMIT q->warning(event.describe());
        }
        if (!guard)
            return true;
    }
    if (waitingForCompletions) {
        waitingForCompletions = false;
        if (zeroCopyState == BlightSocket::ZeroCopyState::Budget)
            setZeroCopyState(BlightSocket::ZeroCopyState::Active, QStringLiteral("payloads of %1 bytes or more go with MSG_ZEROCOPY")
                                                                     .arg(zeroCopyThreshold));
    }
    if (noBuffersTimer.isActive()) {
        noBuffersTimer.stop();
    }
    if (!queue.empty() && !closing)
        flushQueue();
    if (closing)
        maybeFinishClose();
    emitStatistics();
    return true;
}

void BlightSocketPrivate::handleCompletion(quint32 lo, quint32 hi, bool copied)
{
    Q_Q(BlightSocket);
    ++stats.completions;
    if (copied)
        ++stats.copiedCompletions;
    const CompletionTracker::Release released = tracker.release(lo, hi, nowNs());
    stats.releasedBuffers += released.sends;
    qCDebug(lcZeroCopy) << endpointText << "released" << lo << hi << "copied" << copied << released.sends;

    if (copied) {
        consecutiveCopied += int(qMin<quint64>(qMax<quint32>(released.sends, 1), 1u << 20));
        // Completions of sends made before a probe say nothing about it.
        const bool countsForProbe = !probing || quint32(hi - probeStartId) < 0x80000000u;
        if (zeroCopyMode == BlightSocket::ZeroCopyMode::Auto && countsForProbe
            && (zeroCopyState == BlightSocket::ZeroCopyState::Active
                || zeroCopyState == BlightSocket::ZeroCopyState::Budget)
            && (probing || consecutiveCopied >= copiedBackOffCount)) {
            backOff();
        } else if (zeroCopyMode == BlightSocket::ZeroCopyMode::On && consecutiveCopied >= copiedBackOffCount) {
            setZeroCopyState(zeroCopyState, QStringLiteral("forced on, but the kernel copies (delivery to a local "
                                                           "socket or loopback): zero-copy only adds cost here"));
        }
    } else {
        consecutiveCopied = 0;
        if (probing) {
            probing = false;
            currentBackOff = 0;
            setZeroCopyState(zeroCopyState, QStringLiteral("zero-copy works again after a probe"));
        }
    }
    QPointer<BlightSocket> guard(q);
    Q_EMIT q->completionReceived(lo, hi, copied);
    if (guard)
        Q_EMIT q->buffersReleased(lo, hi);
}

void BlightSocketPrivate::backOff()
{
    probing = false;
    currentBackOff = currentBackOff > 0 ? qMin(currentBackOff * 2, MaxBackOffMs) : backOffInterval;
    ++stats.backOffs;
    probeTimer.start(currentBackOff, q_ptr);
    const QString what = consecutiveCopied == 1 ? QStringLiteral("the kernel copied a zero-copy probe")
                                                : QStringLiteral("the kernel copied %1 zero-copy sends in a row")
                                                      .arg(consecutiveCopied);
    setZeroCopyState(BlightSocket::ZeroCopyState::BackedOff,
                     QStringLiteral("%1 (loopback or local delivery): copy path, next probe in %2 ms")
                         .arg(what)
                         .arg(currentBackOff));
}

void BlightSocketPrivate::probe()
{
    probeTimer.stop();
    if (zeroCopyState != BlightSocket::ZeroCopyState::BackedOff)
        return;
    probing = true;
    probeStartId = tracker.nextId();
    consecutiveCopied = 0;
    setZeroCopyState(BlightSocket::ZeroCopyState::Active,
                     QStringLiteral("probing: trying zero-copy again after %1 ms of copies").arg(currentBackOff));
}

void BlightSocketPrivate::setZeroCopyState(BlightSocket::ZeroCopyState newState, const QString &reason)
{
    if (zeroCopyState == newState && zeroCopyReason == reason)
        return;
    zeroCopyState = newState;
    zeroCopyReason = reason;
    qCInfo(lcZeroCopy, "%s: %s", qPrintable(endpointText), qPrintable(reason));
    Q_EMIT q_ptr->zeroCopyStateChanged();
}

void BlightSocketPrivate::retryAfterNoBuffers()
{
    noBuffersTimer.stop();
    if (!tracker.isEmpty())
        drainErrorQueue();
    flushQueue();
    emitStatistics();
}

// ---------------------------------------------------------------- errors and close

void BlightSocketPrivate::failErrno(int errorNumber, const QString &during)
{
    BlightSocket::Error kindOfError = BlightSocket::Error::NetworkError;
    QString what;
    switch (errorNumber) {
    case EPIPE:
        kindOfError = BlightSocket::Error::BrokenPipe;
        what = QStringLiteral("peer is gone (broken pipe)");
        break;
    case ECONNRESET:
        kindOfError = BlightSocket::Error::ConnectionReset;
        what = QStringLiteral("connection reset by peer");
        break;
    case ECONNREFUSED:
        kindOfError = BlightSocket::Error::ConnectionRefused;
        what = QStringLiteral("connection refused");
        break;
    default:
        what = errnoText(errorNumber);
        break;
    }
    fail(kindOfError, QStringLiteral("%1 %2: %3").arg(endpointText, during, what));
}

void BlightSocketPrivate::fail(BlightSocket::Error newError, const QString &reason)
{
    Q_Q(BlightSocket);
    if (failed)
        return;
    failed = true;
    error = newError;
    errorString = reason;
    ++stats.errors;
    qCWarning(lcSocket, "%s", qPrintable(reason));
    abandonConnect();
    QPointer<BlightSocket> guard(q);
    Q_EMIT q->errorOccurred(newError, reason);
    if (!guard)
        return;
    if (fd < 0) {
        // Never connected: nothing to drain.
        finishReplies(reason);
        setState(BlightSocket::State::Unconnected);
        Q_EMIT q->disconnected();
        return;
    }
    beginClose(false);
}

void BlightSocketPrivate::beginClose(bool graceful)
{
    if (closing)
        return;
    closing = true;
    setState(BlightSocket::State::Closing);
    if (readNotifier)
        readNotifier->setEnabled(false);
    probeTimer.stop();
    if (!graceful) {
        queue.clear();
        queuedPieces = 0;
        stats.queuedBytes = 0;
        teardown();
        return;
    }
    if (!queue.empty() || !tracker.isEmpty())
        lingerTimer.start(lingerTime, q_ptr);
    flushQueue();
    maybeFinishClose();
}

void BlightSocketPrivate::maybeFinishClose()
{
    if (!closing || fd < 0)
        return;
    if (tornDown) {
        if (tracker.isEmpty())
            finalize();
        return;
    }
    if (queue.empty() && tracker.isEmpty())
        finalize();
}

void BlightSocketPrivate::teardown()
{
    if (tornDown || fd < 0)
        return;
    tornDown = true;
    queue.clear();
    queuedPieces = 0;
    stats.queuedBytes = 0;
    if (tracker.isEmpty()) {
        finalize();
        return;
    }
    if (kind == BlightSocket::SocketKind::Tcp4 || kind == BlightSocket::SocketKind::Tcp6) {
        // Disconnecting empties the send queue while the descriptor stays
        // open, and the kernel then reports the outstanding range.
        sockaddr unspecified{};
        unspecified.sa_family = AF_UNSPEC;
        ::connect(fd, &unspecified, sizeof(unspecified));
    }
    drainErrorQueue();
    if (fd >= 0 && !tracker.isEmpty())
        lingerTimer.start(qMin(lingerTime, 1000), q_ptr);
    maybeFinishClose();
}

void BlightSocketPrivate::finalize()
{
    Q_Q(BlightSocket);
    if (fd < 0)
        return;
    lingerTimer.stop();
    probeTimer.stop();
    noBuffersTimer.stop();
    for (QSocketNotifier **notifier : {&readNotifier, &writeNotifier, &errorNotifier}) {
        if (*notifier) {
            (*notifier)->setEnabled(false);
            (*notifier)->deleteLater();
            *notifier = nullptr;
        }
    }
    if (!tracker.isEmpty()) {
        const qint64 bytes = tracker.pendingBytes();
        const qint64 sends = tracker.pendingCount();
        CompletionTracker::Buffers buffers = tracker.takeAll();
        Orphanage *keep = orphanage();
        QMutexLocker locker(&keep->mutex);
        for (QByteArray &buffer : buffers)
            keep->buffers.append(std::move(buffer));
        keep->bytes += bytes;
        qCWarning(lcZeroCopy, "%s: the kernel did not release %lld zero-copy sends (%lld bytes) before the "
                              "connection ended; their buffers are kept until the process exits",
                  qPrintable(endpointText), sends, bytes);
    }
    stats.pendingBuffers = 0;
    stats.pendingBytes = 0;
    if (ownsFd)
        ::close(fd);
    releaseSocketClaim();
    fd = -1;
    queue.clear();
    queuedPieces = 0;
    stats.queuedBytes = 0;
    closing = false;
    finishReplies(errorString.isEmpty() ? QStringLiteral("connection closed") : errorString);
    QPointer<BlightSocket> guard(q);
    setState(BlightSocket::State::Unconnected);
    if (guard)
        Q_EMIT q->disconnected();
    if (guard)
        emitStatistics();
}

void BlightSocketPrivate::finishReplies(const QString &reason)
{
    const auto pending = std::exchange(replies, {});
    for (const QPointer<BlightReply> &reply : pending) {
        if (reply)
            reply->finish(false, QByteArray(), reason);
    }
}

void BlightSocketPrivate::emitStatistics()
{
    stats.pendingBuffers = tracker.pendingCount();
    stats.pendingBytes = tracker.pendingBytes();
    stats.peakPendingBytes = tracker.peakPendingBytes();
    Q_EMIT q_ptr->statisticsChanged();
}

// ---------------------------------------------------------------- BlightSocket

BlightSocket::BlightSocket(QObject *parent)
    : BlightSocket(Mode::Messages, parent)
{
}

BlightSocket::BlightSocket(Mode mode, QObject *parent)
    : QObject(parent)
    , d_ptr(std::make_unique<BlightSocketPrivate>(this, mode))
{
    qRegisterMetaType<Blight::Message>();
    qRegisterMetaType<Blight::SocketStatistics>();
}

BlightSocket::~BlightSocket()
{
    Q_D(BlightSocket);
    if (d->fd < 0) {
        if (d->connectingFd >= 0)
            ::close(d->connectingFd);
        return;
    }
    QCoreApplication *app = QCoreApplication::instance();
    const bool canLinger = !d->tracker.isEmpty() && app && !QCoreApplication::closingDown()
        && thread() == QThread::currentThread() && !d->tornDown;
    if (canLinger) {
        // Buffers are still pinned by the kernel: hand the descriptor, the
        // buffers and the notifiers to an heir that finishes the close
        // without blocking, then deletes itself.
        auto *heir = new BlightSocket(d->mode);
        heir->d_ptr.swap(d_ptr);
        BlightSocketPrivate *moved = heir->d_func();
        moved->q_ptr = heir;
        for (QSocketNotifier *notifier : {moved->readNotifier, moved->writeNotifier, moved->errorNotifier}) {
            if (notifier)
                notifier->setParent(heir);
        }
        moved->probeTimer.stop();
        moved->noBuffersTimer.stop();
        moved->lingerTimer.stop();
        moved->queue.clear();
        moved->queuedPieces = 0;
        moved->stats.queuedBytes = 0;
        moved->replies.clear();
        moved->closing = false;
        moved->forgetEndOfTurn();
        QObject::connect(heir, &BlightSocket::disconnected, heir, &QObject::deleteLater);
        // A worker thread may end right after this: the heir lingers in the
        // application's thread, whose event loop outlives it.
        if (heir->thread() != app->thread())
            heir->moveToThread(app->thread());
        QMetaObject::invokeMethod(heir, [heir, app] {
            heir->setParent(app);
            heir->d_func()->beginClose(true);
        }, Qt::QueuedConnection);
        return;
    }
    // Nothing in flight (or the application is ending): close now.
    if (!d->tracker.isEmpty() && !d->tornDown
        && (d->kind == SocketKind::Tcp4 || d->kind == SocketKind::Tcp6)) {
        sockaddr unspecified{};
        unspecified.sa_family = AF_UNSPEC;
        ::connect(d->fd, &unspecified, sizeof(unspecified));
        d->drainErrorQueue();
    }
    const QSignalBlocker blocker(this);
    d->tornDown = true;
    d->closing = true;
    d->finalize();
}

bool BlightSocket::setSocketDescriptor(int fd, Ownership ownership)
{
    Q_D(BlightSocket);
    if (d->state != State::Unconnected) {
        d->error = Error::InvalidDescriptor;
        d->errorString = QStringLiteral("the socket is already in use");
        return false;
    }
    d->reset();
    return d->adopt(fd, ownership, false);
}

void BlightSocket::connectToEndpoint(const QString &endpoint)
{
    Q_D(BlightSocket);
    if (d->state != State::Unconnected) {
        qCWarning(lcSocket, "connectToEndpoint(%s): the socket is already in use", qPrintable(endpoint));
        return;
    }
    QString why;
    const Endpoint parsed = Endpoint::parse(endpoint, &why);
    if (!parsed.isValid()) {
        d->reset();
        d->endpointText = endpoint;
        d->setState(State::Connecting);
        QMetaObject::invokeMethod(this, [d, why] { d->fail(Error::InvalidEndpoint, why); }, Qt::QueuedConnection);
        return;
    }
    d->connectTo(parsed);
}

int BlightSocket::socketDescriptor() const { return d_func()->fd; }
QString BlightSocket::endpoint() const { return d_func()->endpointText; }
BlightSocket::SocketKind BlightSocket::kind() const { return d_func()->kind; }
BlightSocket::Mode BlightSocket::mode() const { return d_func()->mode; }
BlightSocket::State BlightSocket::state() const { return d_func()->state; }
BlightSocket::Error BlightSocket::error() const { return d_func()->error; }
QString BlightSocket::errorString() const { return d_func()->errorString; }
BlightSocket::Error BlightSocket::lastSendError() const { return d_func()->lastSendError; }

BlightSocket::ZeroCopyMode BlightSocket::zeroCopyMode() const { return d_func()->zeroCopyMode; }

void BlightSocket::setZeroCopyMode(ZeroCopyMode mode)
{
    Q_D(BlightSocket);
    if (d->zeroCopyMode == mode)
        return;
    d->zeroCopyMode = mode;
    Q_EMIT zeroCopyModeChanged();
    if (!d->zeroCopySupported)
        return;
    d->probeTimer.stop();
    d->probing = false;
    d->consecutiveCopied = 0;
    if (mode == ZeroCopyMode::Off)
        d->setZeroCopyState(ZeroCopyState::Disabled, QStringLiteral("zero-copy switched off"));
    else
        d->setZeroCopyState(ZeroCopyState::Active, QStringLiteral("payloads of %1 bytes or more go with MSG_ZEROCOPY")
                                                       .arg(d->zeroCopyThreshold));
}

bool BlightSocket::isZeroCopySupported() const { return d_func()->zeroCopySupported; }
bool BlightSocket::isZeroCopyActive() const { return d_func()->zeroCopyNow(); }
BlightSocket::ZeroCopyState BlightSocket::zeroCopyState() const { return d_func()->zeroCopyState; }
QString BlightSocket::zeroCopyReason() const { return d_func()->zeroCopyReason; }
qint64 BlightSocket::zeroCopyThreshold() const { return d_func()->zeroCopyThreshold; }

void BlightSocket::setZeroCopyThreshold(qint64 bytes)
{
    Q_D(BlightSocket);
    bytes = qMax<qint64>(bytes, 1);
    if (d->zeroCopyThreshold == bytes)
        return;
    d->zeroCopyThreshold = bytes;
    Q_EMIT zeroCopyThresholdChanged();
}

qint64 BlightSocket::pendingBytesLimit() const { return d_func()->pendingBytesLimit; }

void BlightSocket::setPendingBytesLimit(qint64 bytes)
{
    Q_D(BlightSocket);
    if (d->pendingBytesLimit == bytes)
        return;
    d->pendingBytesLimit = qMax<qint64>(bytes, 1);
    Q_EMIT pendingBytesLimitChanged();
    if (d->waitingForCompletions) {
        d->waitingForCompletions = false;
        d->flushQueue();
    }
}

int BlightSocket::pendingBuffersLimit() const { return d_func()->pendingBuffersLimit; }

void BlightSocket::setPendingBuffersLimit(int count)
{
    Q_D(BlightSocket);
    if (d->pendingBuffersLimit == count)
        return;
    d->pendingBuffersLimit = qMax(count, 1);
    Q_EMIT pendingBuffersLimitChanged();
    if (d->waitingForCompletions) {
        d->waitingForCompletions = false;
        d->flushQueue();
    }
}

int BlightSocket::copiedBackOffCount() const { return d_func()->copiedBackOffCount; }

void BlightSocket::setCopiedBackOffCount(int count)
{
    Q_D(BlightSocket);
    if (d->copiedBackOffCount == count)
        return;
    d->copiedBackOffCount = qMax(count, 1);
    Q_EMIT copiedBackOffCountChanged();
}

int BlightSocket::backOffInterval() const { return d_func()->backOffInterval; }

void BlightSocket::setBackOffInterval(int msecs)
{
    Q_D(BlightSocket);
    if (d->backOffInterval == msecs)
        return;
    d->backOffInterval = qMax(msecs, 1);
    Q_EMIT backOffIntervalChanged();
}

int BlightSocket::lingerTime() const { return d_func()->lingerTime; }

void BlightSocket::setLingerTime(int msecs)
{
    Q_D(BlightSocket);
    if (d->lingerTime == msecs)
        return;
    d->lingerTime = qMax(msecs, 0);
    Q_EMIT lingerTimeChanged();
}

qint64 BlightSocket::sendQueueLimit() const { return d_func()->sendQueueLimit; }

void BlightSocket::setSendQueueLimit(qint64 bytes)
{
    Q_D(BlightSocket);
    if (d->sendQueueLimit == bytes)
        return;
    d->sendQueueLimit = qMax<qint64>(bytes, 1);
    Q_EMIT sendQueueLimitChanged();
    d->updateCanSend();
}

qint64 BlightSocket::flushThreshold() const { return d_func()->flushThreshold; }

void BlightSocket::setFlushThreshold(qint64 bytes)
{
    Q_D(BlightSocket);
    if (d->flushThreshold == bytes)
        return;
    d->flushThreshold = qMax<qint64>(bytes, 1);
    Q_EMIT flushThresholdChanged();
}

quint32 BlightSocket::maxPayloadSize() const { return d_func()->maxPayloadSize; }

void BlightSocket::setMaxPayloadSize(quint32 bytes)
{
    Q_D(BlightSocket);
    if (d->maxPayloadSize == bytes)
        return;
    d->maxPayloadSize = bytes;
    d->assembler.setMaxPayloadSize(bytes);
    Q_EMIT maxPayloadSizeChanged();
}

bool BlightSocket::autoAnswerPings() const { return d_func()->autoAnswerPings; }

void BlightSocket::setAutoAnswerPings(bool answer)
{
    Q_D(BlightSocket);
    if (d->autoAnswerPings == answer)
        return;
    d->autoAnswerPings = answer;
    Q_EMIT autoAnswerPingsChanged();
}

bool BlightSocket::isReadingPaused() const { return d_func()->readingPaused; }

void BlightSocket::setReadingPaused(bool paused)
{
    Q_D(BlightSocket);
    if (d->readingPaused == paused)
        return;
    d->readingPaused = paused;
    Q_EMIT readingPausedChanged();
    if (paused) {
        if (d->readNotifier)
            d->readNotifier->setEnabled(false);
    } else if (!d->resumePosted) {
        // Resumed from the event loop, not inside this call: the caller may be
        // in the middle of handling a message.
        d->resumePosted = true;
        QCoreApplication::postEvent(this, new QEvent(ResumeReadingEvent));
    }
}

bool BlightSocket::canSend() const { return d_func()->canSend; }

SocketStatistics BlightSocket::statistics() const
{
    Q_D(const BlightSocket);
    SocketStatistics copy = d->stats;
    copy.pendingBuffers = d->tracker.pendingCount();
    copy.pendingBytes = d->tracker.pendingBytes();
    copy.peakPendingBytes = d->tracker.peakPendingBytes();
    const LatencyHistogram &latency = d->tracker.latency();
    copy.releaseLatencyP50 = double(latency.percentile(0.50)) / 1000.0;
    copy.releaseLatencyP99 = double(latency.percentile(0.99)) / 1000.0;
    copy.releaseLatencyMax = double(latency.max()) / 1000.0;
    return copy;
}

quint64 BlightSocket::messagesSent() const { return d_func()->stats.messagesSent; }
quint64 BlightSocket::bytesSent() const { return d_func()->stats.bytesSent; }
quint64 BlightSocket::messagesReceived() const { return d_func()->stats.messagesReceived; }
quint64 BlightSocket::bytesReceived() const { return d_func()->stats.bytesReceived; }

quint64 BlightSocket::systemCalls() const
{
    Q_D(const BlightSocket);
    return d->stats.sendCalls + d->stats.receiveCalls + d->stats.errorQueueCalls;
}

qint64 BlightSocket::queuedBytes() const { return d_func()->stats.queuedBytes; }
qint64 BlightSocket::pendingBuffers() const { return d_func()->tracker.pendingCount(); }
qint64 BlightSocket::pendingBytes() const { return d_func()->tracker.pendingBytes(); }
quint64 BlightSocket::errorCount() const { return d_func()->stats.errors; }

quint32 BlightSocket::nextAckId()
{
    Q_D(BlightSocket);
    if (++d->lastAckId == 0)
        ++d->lastAckId;
    return d->lastAckId;
}

BlightReply *BlightSocket::request(MessageType type, const QByteArray &payload, int timeoutMs)
{
    Q_D(BlightSocket);
    const quint32 ackid = nextAckId();
    if (!sendMessage(type, ackid, payload))
        return nullptr;
    auto *reply = new BlightReply(ackid, this);
    if (timeoutMs >= 0)
        reply->m_timerId = reply->startTimer(timeoutMs, Qt::PreciseTimer);
    d->replies.insert(ackid, reply);
    return reply;
}

bool BlightSocketPrivate::acceptsMessage(MessageType type, qsizetype payloadSize)
{
    // The peer would close the connection over any of these: refuse them here.
    lastSendError = BlightSocket::Error::NoError;
    if (mode != BlightSocket::Mode::Messages)
        lastSendError = BlightSocket::Error::WrongMode;
    else if (!isValidType(qint32(type)) || (payloadSize == 0 && requiresPayload(type)))
        lastSendError = BlightSocket::Error::ProtocolError;
    else if (quint64(payloadSize) > maxPayloadSize)
        lastSendError = BlightSocket::Error::MessageTooLarge;
    return lastSendError == BlightSocket::Error::NoError;
}

bool BlightSocket::sendMessage(MessageType type, quint32 ackid, const QByteArray &payload)
{
    Q_D(BlightSocket);
    return d->acceptsMessage(type, payload.size())
        && d->enqueueMessage(makeHeader(type, ackid, quint32(payload.size())), payload);
}

bool BlightSocket::sendMessageCopy(MessageType type, quint32 ackid, QByteArrayView payload)
{
    Q_D(BlightSocket);
    return d->acceptsMessage(type, payload.size())
        && d->enqueueMessageCopy(makeHeader(type, ackid, quint32(payload.size())), payload);
}

bool BlightSocket::sendMessage(const Message &message)
{
    return sendMessage(message.type(), message.ackid(), message.payload);
}

bool BlightSocket::send(const QByteArray &data)
{
    Q_D(BlightSocket);
    d->lastSendError = Error::NoError;
    if (d->mode != Mode::RawStream) {
        d->lastSendError = Error::WrongMode;
        return false;
    }
    return d->enqueueRaw(data);
}

void BlightSocket::flush()
{
    Q_D(BlightSocket);
    if (d->state == State::Connected || d->closing)
        d->flushQueue();
}

void BlightSocket::close()
{
    Q_D(BlightSocket);
    if (d->state == State::Unconnected)
        return;
    if (d->fd < 0) {
        abort();
        return;
    }
    d->beginClose(true);
}

void BlightSocket::abort()
{
    Q_D(BlightSocket);
    if (d->state == State::Unconnected)
        return;
    if (d->fd < 0) {
        // Still connecting: stop quietly.
        d->abandonConnect();
        d->setState(State::Unconnected);
        Q_EMIT disconnected();
        return;
    }
    d->closing = false;
    d->beginClose(false);
}

void BlightSocket::resetStatistics()
{
    Q_D(BlightSocket);
    const qint64 queued = d->stats.queuedBytes;
    d->stats = SocketStatistics();
    d->stats.queuedBytes = queued;
    d->stats.peakQueuedBytes = queued;
    d->tracker.resetCounters();
    d->emitStatistics();
}

bool BlightSocket::event(QEvent *event)
{
    Q_D(BlightSocket);
    if (event->type() == EndOfTurnEvent) {
        d->endOfTurn();
        return true;
    }
    if (event->type() == ResumeReadingEvent) {
        d->resumeReading();
        return true;
    }
    if (event->type() == QEvent::Timer) {
        const int id = static_cast<QTimerEvent *>(event)->timerId();
        if (id == d->probeTimer.timerId()) {
            d->probe();
            return true;
        }
        if (id == d->noBuffersTimer.timerId()) {
            d->retryAfterNoBuffers();
            return true;
        }
        if (id == d->lingerTimer.timerId()) {
            d->lingerTimer.stop();
            if (d->tornDown) {
                d->finalize();
            } else {
                qCInfo(lcZeroCopy, "%s: linger time over with %lld zero-copy sends pending: tearing down",
                       qPrintable(d->endpointText), d->tracker.pendingCount());
                d->teardown();
            }
            return true;
        }
    }
    return QObject::event(event);
}

// ---------------------------------------------------------------- BlightReply

BlightReply::BlightReply(quint32 ackid, BlightSocket *socket)
    : QObject(socket)
    , m_ackid(ackid)
{
}

BlightReply::~BlightReply()
{
    if (auto *socket = qobject_cast<BlightSocket *>(parent()))
        socket->d_func()->replies.remove(m_ackid);
}

void BlightReply::finish(bool acked, const QByteArray &payload, const QString &errorString)
{
    if (m_finished)
        return;
    if (m_timerId)
        killTimer(std::exchange(m_timerId, 0));
    m_finished = true;
    m_acked = acked;
    m_payload = payload;
    m_errorString = errorString;
    Q_EMIT finished();
}

void BlightReply::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timerId)
        return;
    if (auto *socket = qobject_cast<BlightSocket *>(parent()))
        socket->d_func()->replies.remove(m_ackid);
    finish(false, QByteArray(), QStringLiteral("no ack for request %1 in time").arg(m_ackid));
}

} // namespace Blight
