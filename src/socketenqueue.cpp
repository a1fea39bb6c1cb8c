// SPDX-License-Identifier: MIT
// Accepting sends: the checks a send must pass, its send id, and where its
// bytes wait (by reference, a buffer's hold, or a staging copy) before the
// kernel takes them in socketsend.cpp.
#include "blightsocket_p.h"
#include "socketutil_p.h"

#include <climits>

namespace Blight {

using namespace SocketUtil;

namespace {

constexpr int MaxIov = IOV_MAX;

} // namespace

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

bool BlightSocketPrivate::acceptsRaw()
{
    lastSendError = mode == BlightSocket::Mode::RawStream ? BlightSocket::Error::NoError
                                                          : BlightSocket::Error::WrongMode;
    return lastSendError == BlightSocket::Error::NoError;
}

bool BlightSocketPrivate::acceptable(qsizetype bytes)
{
    if (state == BlightSocket::State::Unconnected || closing) {
        lastSendError = BlightSocket::Error::NotConnected;
        return false;
    }
    if (queue.bytes() > 0 && queue.bytes() + bytes > sendQueueLimit) {
        lastSendError = BlightSocket::Error::QueueFull;
        setCanSend(false);
        return false;
    }
    return true;
}

bool BlightSocketPrivate::fitsDatagram(qsizetype total)
{
    const bool fits = isUdp(kind)                         ? total <= maxUdpDatagram(kind)
        : kind == BlightSocket::SocketKind::UnixSeqPacket ? maxRecord <= 0 || total <= maxRecord
                                                          : true;
    if (!fits)
        lastSendError = BlightSocket::Error::MessageTooLarge;
    return fits;
}

quint64 BlightSocketPrivate::enqueueMessageCopy(const Header &header, QByteArrayView payload)
{
    const qsizetype total = HeaderSize + payload.size();
    if (!fitsDatagram(total) || !acceptable(total))
        return 0;
    char headerBytes[HeaderSize];
    writeHeader(headerBytes, header);
    if (sendsImmediately())
        return trySendImmediately(headerBytes, payload, nullptr, nullptr);
    const quint64 id = ledger.accept();
    queue.appendMessageCopy(headerBytes, HeaderSize, payload, id);
    countCopy(payload.size());
    afterEnqueue(false);
    openLane();
    return id;
}

void BlightSocketPrivate::openLane()
{
    // Only while nothing but bytes could stop the next message of the turn:
    // below the queue limit, below the flush threshold (the iovec count does
    // not grow inside a staging array). While the socket is full the
    // threshold stops nothing (afterEnqueue() flushes only once it is
    // writable, from the event loop, and that flush closes the lane), so the
    // queue limit alone bounds the lane then.
    if (gone() || state != BlightSocket::State::Connected || closing || queue.isEmpty() || datagram)
        return;
    const qint64 limit = writeBlocked ? sendQueueLimit : qMin(coalescing.flushThreshold() - 1, sendQueueLimit);
    const qint64 room = limit - queue.bytes();
    if (room <= 0)
        return;
    coalescing.noteQueued(TurnClock::current());
    queue.openLane(qsizetype(room));
}

quint64 BlightSocketPrivate::enqueueMessage(const Header &header, const QByteArray &payload)
{
    // Bytes the array does not own are copied before the call returns, in
    // every state: the caller may change them as soon as it has.
    if (isRawData(payload))
        return enqueueMessageCopy(header, payload);
    const qsizetype total = HeaderSize + payload.size();
    if (!fitsDatagram(total) || !acceptable(total))
        return 0;
    char headerBytes[HeaderSize];
    writeHeader(headerBytes, header);
    const bool eligible = zeroCopy.isEligible(payload.size());
    const bool immediate = sendsImmediately();
    if (immediate && !(eligible && zeroCopy.isActive()))
        return trySendImmediately(headerBytes, payload, &payload, nullptr);
    const quint64 id = ledger.accept();
    if (eligible) {
        // The header goes out with the payload in one zero-copy send, so it
        // needs its own array that lives until the release.
        queue.appendShared(QByteArray(headerBytes, HeaderSize), 0, true, SendQueue::NoId);
        queue.appendShared(payload, 0, true, id);
    } else if (!datagram && payload.size() > SendQueue::StageLimit) {
        queue.appendCopy(headerBytes, HeaderSize, SendQueue::NoId);
        queue.appendShared(payload, 0, false, id);
    } else {
        queue.appendMessageCopy(headerBytes, HeaderSize, payload, id);
        countCopy(payload.size());
    }
    afterEnqueue(immediate);
    if (!immediate && !eligible)
        openLane(); // staged or after its own array: openLane() sees which
    return id;
}

quint64 BlightSocketPrivate::enqueueBuffer(const Header *header, const BlightBuffer &buffer)
{
    const qsizetype size = buffer.size();
    const qsizetype total = (header ? HeaderSize : 0) + size;
    if (total == 0)
        return enqueueRaw(QByteArray());
    if (header && (sharedMemoryEnabled || shm.offerSent)) {
        bool taken = false;
        const quint64 id = enqueueSharedFrame(*header, buffer, &taken);
        if (taken)
            return id;
    }
    if (!fitsDatagram(total) || !acceptable(total))
        return 0;
    // The header goes into the buffer's header room when no other send
    // holds it, so that the message is one contiguous region.
    const bool claimed = header && BufferHold::claimHeader(buffer);
    const BufferHold hold(buffer, claimed);
    char headerBytes[HeaderSize];
    const char *headerAt = nullptr;
    if (header) {
        char *room = claimed ? const_cast<char *>(buffer.constData()) - HeaderSize : headerBytes;
        writeHeader(room, *header);
        headerAt = room;
    }
    const bool eligible = zeroCopy.isEligible(size);
    const bool immediate = sendsImmediately();
    if (immediate && !(eligible && zeroCopy.isActive()))
        return trySendImmediately(headerAt, QByteArrayView(buffer.constData(), size), nullptr, &hold);
    const quint64 id = ledger.accept();
    if (claimed) {
        queue.appendBuffer(hold, headerAt, total, eligible, id);
    } else {
        if (header && eligible)
            queue.appendShared(QByteArray(headerBytes, HeaderSize), 0, true, SendQueue::NoId);
        else if (header)
            queue.appendCopy(headerBytes, HeaderSize, SendQueue::NoId);
        queue.appendBuffer(hold, buffer.constData(), size, eligible, id);
    }
    afterEnqueue(immediate);
    return id;
}

quint64 BlightSocketPrivate::enqueueRaw(const QByteArray &data)
{
    if (data.isEmpty()) {
        // Nothing to send: the id is released with the sends before it.
        if (state == BlightSocket::State::Unconnected || closing) {
            lastSendError = BlightSocket::Error::NotConnected;
            return 0;
        }
        const quint64 id = ledger.accept();
        if (queue.isEmpty()) {
            ledger.handedUpTo(id);
            scheduleRelease();
        } else {
            queue.appendMarker(id);
        }
        return id;
    }
    if (!fitsDatagram(data.size()) || !acceptable(data.size()))
        return 0;
    const bool owned = !isRawData(data);
    const bool eligible = owned && zeroCopy.isEligible(data.size());
    const bool immediate = sendsImmediately();
    if (immediate && !(eligible && zeroCopy.isActive()))
        return trySendImmediately(nullptr, data, owned ? &data : nullptr, nullptr);
    const quint64 id = ledger.accept();
    if (!owned || (!eligible && data.size() <= SendQueue::StageLimit && !datagram)) {
        queue.appendCopy(data.constData(), data.size(), id);
        countCopy(data.size());
    } else
        queue.appendShared(data, 0, eligible, id);
    afterEnqueue(immediate);
    return id;
}

void BlightSocketPrivate::afterEnqueue(bool immediate)
{
    stats.peakQueuedBytes = qMax(stats.peakQueuedBytes, queue.bytes());
    if (state != BlightSocket::State::Connected)
        return; // leaves once connected
    // A zero-copy message that opens a turn leaves at once too; later ones
    // wait for the end of the turn unless enough has piled up for a sendmsg.
    if (immediate || (!writeBlocked && coalescing.flushesNow(queue.bytes(), queue.pieceCount(), MaxIov))) {
        if (!flushQueue())
            return;
    }
    if (!queue.isEmpty())
        scheduleFlush();
}

} // namespace Blight
