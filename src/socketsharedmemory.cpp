// SPDX-License-Identifier: MIT
// Shared memory on AF_UNIX and over TCP on loopback (docs/shared-memory.md):
// the offer, sending a shared pool's buffer as a frame message (with the
// region's descriptor once per connection, in band or on the descriptor
// channel), the descriptors and shared-memory messages the peer sends, and
// the releases going back. The bookkeeping and every check are
// the session's (sharedmemorysession.cpp); this file does the I/O around it.
#include "blightsocket_p.h"
#include "logging_p.h"
#include "sharedframe_p.h"
#include "mappedregion_p.h"
#include "socketutil_p.h"

#include <QtCore/QMetaMethod>

#include <cstring>

#include <cerrno>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace Blight {

using namespace SharedMemoryWire;

namespace {
// Room for this many descriptors per read; a Pool message carries one.
constexpr int MaxDescriptorsPerRead = 4;
} // namespace

bool BlightSocketPrivate::sharedMemoryPossible() const
{
    return mode == BlightSocket::Mode::Messages
        && (kind == BlightSocket::SocketKind::UnixStream || (SocketUtil::isTcp(kind) && peerOnLoopback));
}

void BlightSocketPrivate::takePeerChannel(const ChannelAddress &address)
{
    shm.channelReceived = true;
    peerChannel = address;
    connectChannel();
}

void BlightSocketPrivate::connectChannel()
{
    if (!shm.channelReceived || !shm.channelNeeded || fd < 0)
        return;
    shm.channelUsable = descriptorChannel.connectToPeer(peerChannel, fd);
    if (!shm.channelUsable)
        qCWarning(lcSocket, "%s: frames take the copy path: %s", qPrintable(endpointText),
                  qPrintable(descriptorChannel.failure()));
}

void BlightSocketPrivate::enableSharedMemory(bool enabled)
{
    const bool before = std::exchange(sharedMemoryEnabled, enabled);
    if (!notifyChange(before, enabled, &BlightSocket::sharedMemoryEnabledChanged) || before == enabled)
        return;
    offerSharedMemory();
    if (q_ptr)
        Q_EMIT q_ptr->zeroCopyStateChanged(); // the reason changed, and the state may have
}

void BlightSocketPrivate::offerSharedMemory(bool adopting)
{
    if (!sharedMemoryEnabled || !sharedMemoryPossible() || fd < 0 || closing || shm.offerSent
        || (!adopting && state != BlightSocket::State::Connected))
        return;
    ChannelAddress channel;
    if (!descriptorsInBand()) {
        QString why;
        if (!descriptorChannel.listen(fd, &channel, &why)) {
            qCWarning(lcSocket, "%s: shared memory not offered: %s", qPrintable(endpointText), qPrintable(why));
            offerFailure = why;
            return;
        }
    }
    char bytes[HeaderSize + OfferSize];
    encodeOffer(bytes, Offer{quint64(qMax<qint64>(sharedMemoryLimit, 0))});
    queue.appendMessageCopy(bytes, HeaderSize, QByteArrayView(bytes + HeaderSize, OfferSize), SendQueue::NoId);
    if (!descriptorsInBand()) {
        // Right behind the offer: the peer agrees only once it has both.
        char address[HeaderSize + ChannelSize];
        encodeChannel(address, channel);
        queue.appendMessageCopy(address, HeaderSize, QByteArrayView(address + HeaderSize, ChannelSize),
                                SendQueue::NoId);
        shm.channelNeeded = true;
    }
    shm.offerSent = true;
    offerFailure.clear();
    connectChannel(); // the peer's Channel may have come first
    if (!releaseChannel)
        releaseChannel = new ReleaseChannel(this);
    qCDebug(lcSocket, "%s: shared memory offered", qPrintable(endpointText));
    scheduleFlush();
}

QString BlightSocketPrivate::sharedMemoryReason() const
{
    if (!sharedMemoryEnabled && !shm.offerSent) {
        return shm.offerReceived ? QStringLiteral("the peer offered shared memory, which is off on this socket")
                                 : QString();
    }
    if (!sharedMemoryPossible())
        return QStringLiteral("shared memory works in messages mode on AF_UNIX stream sockets and on TCP to a "
                              "loopback address only");
    if (state != BlightSocket::State::Connected)
        return QStringLiteral("shared memory: not connected");
    if (!shm.offerReceived)
        return QStringLiteral("the peer has not offered shared memory");
    if (!shm.offerSent && !offerFailure.isEmpty())
        return QStringLiteral("shared memory not offered: ") + offerFailure;
    if (shm.channelNeeded && !shm.channelReceived)
        return QStringLiteral("the peer has not named its descriptor channel");
    if (shm.channelNeeded && !shm.channelUsable)
        return QStringLiteral("frames take the copy path: ") + descriptorChannel.failure();
    if (!sharedMemoryEnabled)
        return QStringLiteral("shared memory was turned off on this socket: frames take the copy path");
    const QString agreed = QStringLiteral("the peer agreed to shared memory: buffers of shared pools travel without "
                                          "a copy");
    return sharedMemoryFallback.isEmpty()
        ? agreed
        : agreed + QStringLiteral("; the last buffer took the copy path: ") + sharedMemoryFallback;
}

quint64 BlightSocketPrivate::enqueueSharedFrame(const Header &header, const BlightBuffer &buffer, bool *taken)
{
    *taken = false;
    if (!sharedMemoryEnabled || !shm.agreed() || state != BlightSocket::State::Connected || closing)
        return 0;
    const Detail::BufferBlock *block = Detail::BufferAccess::block(buffer);
    if (!block->pooled || block->regionDescriptor < 0) {
        sharedMemoryFallback = QStringLiteral("the buffer is not from a shared pool");
        return 0;
    }
    if (buffer.size() == 0) {
        sharedMemoryFallback = QStringLiteral("an empty buffer");
        return 0;
    }
    int pool = shm.poolFor(block->regionSerial);
    if (pool < 0 && !shm.peerCanMap(quint64(block->regionSize))) {
        sharedMemoryFallback = QStringLiteral("its pool (%1 bytes) is more than the peer maps (%2 bytes)")
                                   .arg(block->regionSize)
                                   .arg(shm.peerMapLimit);
        return 0;
    }
    const qsizetype wireBytes = HeaderSize + FrameSize + (pool < 0 ? HeaderSize + PoolSize : 0);
    if (pool < 0 && !descriptorsInBand()) {
        // Over TCP the descriptor goes now, ahead of the Pool message that
        // names it; one that did not go leaves nothing announced.
        if (!acceptable(wireBytes)) {
            *taken = true;
            return 0;
        }
        QString why;
        if (!descriptorChannel.send(block->regionDescriptor, &why)) {
            sharedMemoryFallback = why;
            if (!descriptorChannel.canSend()) {
                // For good: the agreement no longer stands. Told from the
                // event loop, since the caller is inside a send.
                shm.channelUsable = false;
                if (q_ptr)
                    QMetaObject::invokeMethod(q_ptr, &BlightSocket::zeroCopyStateChanged, Qt::QueuedConnection);
            }
            return 0;
        }
    }
    OwnedFd descriptor;
    if (pool < 0 && descriptorsInBand()) {
        descriptor = OwnedFd(::fcntl(block->regionDescriptor, F_DUPFD_CLOEXEC, 0));
        if (descriptor.get() < 0) {
            sharedMemoryFallback = QStringLiteral("the pool's descriptor could not be duplicated (%1)")
                                       .arg(SocketUtil::errnoText(errno));
            return 0;
        }
    }
    *taken = true;
    if (!acceptable(wireBytes))
        return 0;
    const bool immediate = sendsImmediately();
    if (pool < 0) {
        // In band, the descriptor goes with the first byte of this message's
        // own sendmsg(), so the peer knows which message it belongs to.
        pool = int(shm.announce(block->regionSerial, quint64(block->regionSize)));
        char bytes[HeaderSize + PoolSize];
        encodePool(bytes, PoolAnnounce{quint32(pool), quint64(block->regionSize)});
        if (descriptorsInBand())
            queue.appendWithDescriptor(bytes, sizeof(bytes), std::move(descriptor), SendQueue::NoId);
        else
            queue.appendMessageCopy(bytes, HeaderSize, QByteArrayView(bytes + HeaderSize, PoolSize), SendQueue::NoId);
    }
    const quint64 id = ledger.accept();
    FrameRef frame;
    frame.pool = quint32(pool);
    frame.token = shm.addFrame(id, BufferHold(buffer));
    frame.offset = quint64(buffer.constData() - block->regionBase);
    frame.length = quint64(buffer.size());
    frame.type = header.type;
    frame.ackid = header.ackid;
    ledger.heldByPeer(id);
    char bytes[HeaderSize + FrameSize];
    encodeFrame(bytes, frame);
    queue.appendMessageCopy(bytes, HeaderSize, QByteArrayView(bytes + HeaderSize, FrameSize), id);
    ++stats.sharedMemoryFramesSent;
    stats.sharedMemoryBytesSent += frame.length;
    sharedMemoryFallback.clear();
    afterEnqueue(immediate);
    return id;
}

bool BlightSocketPrivate::takeDescriptors(const msghdr &message)
{
    for (cmsghdr *control = CMSG_FIRSTHDR(&message); control;
         control = CMSG_NXTHDR(const_cast<msghdr *>(&message), control)) {
        if (control->cmsg_level != SOL_SOCKET || control->cmsg_type != SCM_RIGHTS)
            continue;
        const size_t count = (control->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        const auto *descriptors = reinterpret_cast<const unsigned char *>(CMSG_DATA(control));
        for (size_t i = 0; i < count; ++i) {
            int descriptor;
            std::memcpy(&descriptor, descriptors + i * sizeof(int), sizeof(int));
            pendingDescriptors.push_back(descriptor);
        }
    }
    if (message.msg_flags & MSG_CTRUNC) {
        closeDescriptors(); // the kernel closed the ones that did not fit
        return protocolError(QStringLiteral("the peer sent more descriptors than a message carries"));
    }
    if (pendingDescriptors.size() > size_t(MaxDescriptorsPerRead)) {
        closeDescriptors();
        return protocolError(QStringLiteral("the peer sent more descriptors than its messages carry"));
    }
    return true;
}

bool BlightSocketPrivate::checkStrayDescriptors()
{
    if (pendingDescriptors.empty() || assembler.midMessage())
        return true;
    const size_t count = pendingDescriptors.size();
    closeDescriptors();
    return protocolError(QStringLiteral("%1 descriptors came with messages that carry none").arg(count));
}

void BlightSocketPrivate::closeDescriptors()
{
    for (int descriptor : std::exchange(pendingDescriptors, {}))
        ::close(descriptor);
}

int BlightSocketPrivate::takeDescriptor(QString *why)
{
    if (!descriptorsInBand())
        return descriptorChannel.receive(why);
    if (pendingDescriptors.empty())
        return -1;
    const int descriptor = pendingDescriptors.front();
    pendingDescriptors.erase(pendingDescriptors.begin());
    return descriptor;
}

bool BlightSocketPrivate::deliver(Message &message)
{
    if (isSharedMemoryMessage(message.header, message.payload))
        return handleSharedMemoryMessage(message);
    if (closing)
        return true; // read only for the releases a graceful close waits for
    return dispatch(message);
}

bool BlightSocketPrivate::protocolError(const QString &reason)
{
    fail(BlightSocket::Error::ProtocolError, QStringLiteral("%1: %2").arg(endpointText, reason));
    return false;
}

bool BlightSocketPrivate::handleSharedMemoryMessage(const Message &message)
{
    Decoded decoded;
    QString why;
    const bool valid = decode(message.payload, &decoded, &why) == Result::Ok;
    if (!sharedMemoryEnabled && !shm.offerSent) {
        // Off here: only the peer's offer is taken out of the stream (noted
        // for zeroCopyReason()); anything else is the application's.
        if (valid && decoded.kind == Kind::Channel && sharedMemoryPossible() && !descriptorsInBand()
            && !shm.channelReceived) {
            ++stats.messagesReceived;
            takePeerChannel(decoded.channel); // kept, as the offer is
            return true;
        }
        if (!valid || decoded.kind != Kind::Offer) {
            Message copy = message;
            return dispatch(copy);
        }
        ++stats.messagesReceived;
        // Kept: enabling shared memory later completes the agreement.
        if (std::exchange(shm.offerReceived, true) || !q_ptr)
            return true;
        shm.peerMapLimit = decoded.offer.mapLimit;
        Q_EMIT q_ptr->zeroCopyStateChanged();
        return !gone();
    }
    if (!valid)
        return protocolError(why);
    if (closing && decoded.kind != Kind::Release) {
        // A graceful close waits for releases only. A pool the peer announced
        // meanwhile (its first frame from it follows) is not mapped; its
        // descriptor is closed here rather than taken for a stray one.
        if (decoded.kind == Kind::Pool) {
            QString none; // no descriptor: nothing to close
            if (const int descriptor = takeDescriptor(&none); descriptor >= 0)
                ::close(descriptor);
        }
        return true;
    }
    if (decoded.kind != Kind::Frame)
        ++stats.messagesReceived; // a frame is counted when it is dispatched
    switch (decoded.kind) {
    case Kind::Offer:
        if (shm.offerReceived)
            return protocolError(QStringLiteral("a second shared-memory offer"));
        shm.offerReceived = true;
        shm.peerMapLimit = decoded.offer.mapLimit;
        qCDebug(lcSocket, "%s: the peer offered shared memory (maps %llu bytes)", qPrintable(endpointText),
                decoded.offer.mapLimit);
        if (!shm.agreed() || !q_ptr)
            return true;
        Q_EMIT q_ptr->zeroCopyStateChanged();
        return !gone();
    case Kind::Channel:
        if (descriptorsInBand())
            return protocolError(QStringLiteral("a descriptor channel on a socket that carries descriptors"));
        if (shm.channelReceived)
            return protocolError(QStringLiteral("a second descriptor channel"));
        takePeerChannel(decoded.channel);
        if (!q_ptr)
            return true;
        Q_EMIT q_ptr->zeroCopyStateChanged(); // agreed, or the reason why frames are copied
        return !gone();
    case Kind::Pool:
    case Kind::Frame:
    case Kind::Release:
        break;
    }
    if (!shm.offersCrossed())
        return protocolError(
            QStringLiteral("a shared-memory message of kind %1 before both sides offered").arg(quint32(decoded.kind)));
    if (decoded.kind == Kind::Pool)
        return acceptPool(decoded.pool);
    if (decoded.kind == Kind::Frame)
        return acceptFrame(decoded.frame);
    return acceptRelease(decoded);
}

bool BlightSocketPrivate::acceptPool(const PoolAnnounce &pool)
{
    QString why;
    const int descriptor = takeDescriptor(&why);
    if (descriptor < 0) {
        return protocolError(QStringLiteral("pool %1 announced without a descriptor%2")
                                 .arg(pool.pool)
                                 .arg(why.isEmpty() ? QString() : QStringLiteral(": ") + why));
    }
    why = shm.checkPool(pool, sharedMemoryLimit);
    if (!why.isEmpty()) {
        ::close(descriptor);
        return protocolError(why);
    }
    MappedRegion *region = MappedRegion::map(descriptor, pool.size, &why);
    if (!region)
        return protocolError(QStringLiteral("pool %1 refused: %2").arg(pool.pool).arg(why));
    shm.addPool(region, pool.size);
    return true;
}

bool BlightSocketPrivate::acceptFrame(const FrameRef &frame)
{
    MappedRegion *region = nullptr;
    const QString why = shm.checkFrame(frame, maxPayloadSize, &region);
    if (!why.isEmpty())
        return protocolError(why);
    shm.frameReceived(frame.token);
    BlightBuffer handle = makeReceivedFrame(region, region->data() + frame.offset, qsizetype(frame.length),
                                            releaseChannel, frame.token);
    ++stats.sharedMemoryFramesReceived;
    stats.sharedMemoryBytesReceived += frame.length;
    const Header header = makeHeader(MessageType(frame.type), frame.ackid, quint32(frame.length));
    if (readingPaused) {
        ++stats.messagesReceived;
        heldMessages.push_back(HeldMessage{Message{header, QByteArray()}, std::move(handle)});
        return true;
    }
    return dispatchFrame(header, std::move(handle));
}

bool BlightSocketPrivate::dispatchFrame(const Header &header, BlightBuffer frame)
{
    // Pings and answers to requests go the way every message goes, with a
    // copy; so does everything when nobody takes frames.
    const auto type = MessageType(header.type);
    const bool copy = type == MessageType::Ping || (type == MessageType::Ack && replies.contains(header.ackid))
        || !q_ptr || !q_ptr->isSignalConnected(QMetaMethod::fromSignal(&BlightSocket::bufferReceived));
    if (copy) {
        Message message{header, QByteArray(frame.constData(), frame.size())};
        frame = BlightBuffer(); // the release goes at once
        return dispatch(message);
    }
    ++stats.messagesReceived;
    Q_EMIT q_ptr->bufferReceived(type, header.ackid, frame);
    return !gone() && state == BlightSocket::State::Connected;
}

bool BlightSocketPrivate::acceptRelease(const Decoded &release)
{
    for (quint32 i = 0; i < release.releaseCount; ++i) {
        const quint32 token = release.releaseToken(i);
        const SharedMemorySession::OutFrame frame = shm.release(token);
        if (frame.sendId == 0)
            return protocolError(QStringLiteral("release of frame token %1, which is not out").arg(token));
        ledger.releasedByPeer(frame.sendId);
    } // the holds go here: a pool buffer the caller dropped is back in its pool
    scheduleRelease();
    if (closing)
        maybeFinishClose();
    return !gone() && fd >= 0;
}

void BlightSocketPrivate::sendReleases()
{
    if (!releaseChannel)
        return;
    releaseChannel->take(&releaseTokens);
    if (state != BlightSocket::State::Connected || closing || releaseTokens.empty())
        return;
    char bytes[HeaderSize + MaxReleaseSize];
    quint32 batch[MaxReleaseCount];
    quint32 count = 0;
    const auto queueBatch = [&] {
        const qsizetype size = encodeRelease(bytes, batch, count);
        queue.appendMessageCopy(bytes, HeaderSize, QByteArrayView(bytes + HeaderSize, size - HeaderSize),
                                SendQueue::NoId);
        count = 0;
    };
    for (quint32 token : releaseTokens) {
        if (!shm.frameReleased(token))
            continue;
        batch[count++] = token;
        if (count == MaxReleaseCount)
            queueBatch();
    }
    if (count > 0)
        queueBatch();
    // The sender's pool may be waiting for these: they leave now.
    if (!writeBlocked && !flushQueue())
        return;
    if (!queue.isEmpty())
        scheduleFlush();
}

void BlightSocketPrivate::discardUnread()
{
    if (kind != BlightSocket::SocketKind::UnixStream)
        return;
    // Bounded: a peer that keeps writing gets its reset after all.
    char scratch[16 * 1024];
    for (int round = 0; round < 64; ++round) {
        const ssize_t got = ::recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
        if (got <= 0 && !(got < 0 && errno == EINTR))
            return;
    }
}

void BlightSocketPrivate::endSharedMemory()
{
    // Frames the peer still holds may be read after this: their regions are
    // never handed out again, and their sends were not delivered for sure.
    bool settled = false;
    for (SharedMemorySession::OutFrame &frame : shm.takeFramesOut()) {
        Detail::BufferAccess::block(frame.hold.buffer())->retireRegion();
        ledger.undeliveredAtPeer(frame.sendId);
        settled = true;
    }
    if (settled)
        scheduleRelease();
    if (releaseChannel) {
        releaseChannel->close();
        releaseChannel->deref();
        releaseChannel = nullptr;
    }
    closeDescriptors();
    descriptorChannel.reset();
    offerFailure.clear();
    shm.reset(); // handles keep the regions they read
}

} // namespace Blight
