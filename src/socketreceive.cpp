// SPDX-License-Identifier: MIT
// Receiving without blocking: the byte stream through the message assembler,
// datagrams and SOCK_SEQPACKET records (each read whole), raw-stream chunks,
// and dispatching messages (pings, acks) to the application.
#include "blightsocket_p.h"
#include "logging_p.h"
#include "socketutil_p.h"
#include "syscalls_p.h"

#include <cerrno>
#include <sys/uio.h>

namespace Blight {

using namespace SocketUtil;

namespace {
constexpr int ReadRoundsPerWake = 16;
constexpr int DatagramsPerWake = 64;
constexpr qsizetype RawReadSize = 256 * 1024;
constexpr qsizetype UdpBufferSize = 65536 + 1; // one more than any datagram, to see truncation
} // namespace

void BlightSocketPrivate::onReadable()
{
    if (!tracker.isEmpty() && !drainErrorQueue())
        return; // POLLERR wakes this notifier too
    if (fd < 0 || readingPaused || (closing && !awaitingReleases()))
        return;
    const bool alive = datagram ? readDatagrams() : mode == BlightSocket::Mode::RawStream ? readRaw() : readStream();
    if (alive)
        emitStatistics();
}

BlightSocketPrivate::Received BlightSocketPrivate::receive(msghdr *message, int flags, qsizetype *bytes, bool zeroIsEnd)
{
    ++stats.receiveCalls;
    const ssize_t received = Sys::recvmsg(fd, message, flags | MSG_DONTWAIT);
    if (received > 0 || (received == 0 && !zeroIsEnd)) {
        *bytes = qsizetype(received);
        coalescing.noteRead(); // what is sent next answers it: no coalescing wait
        return Received::Bytes;
    }
    if (received == 0) {
        failClosed();
        return Received::Failed;
    }
    const int errorNumber = errno;
    if (errorNumber == EINTR)
        return Received::Again;
    if (errorNumber == EAGAIN || errorNumber == EWOULDBLOCK)
        return Received::Drained;
    if (isUdp(kind) && isDatagramError(errorNumber)) {
        // An ICMP report for an earlier datagram: UDP goes on.
        return warn(QStringLiteral("%1: an earlier datagram failed: %2").arg(endpointText, errnoText(errorNumber)))
            ? Received::Again
            : Received::Failed;
    }
    failErrno(errorNumber, QStringLiteral("receiving"));
    return Received::Failed;
}

void BlightSocketPrivate::failClosed()
{
    fail(BlightSocket::Error::RemoteClosed,
         assembler.midMessage()
             ? QStringLiteral("%1: peer closed the connection in the middle of a message (%2 bytes of it received)")
                   .arg(endpointText)
                   .arg(assembler.bufferedBytes())
             : QStringLiteral("%1: peer closed the connection").arg(endpointText));
}

bool BlightSocketPrivate::readStream()
{
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
        // Shared memory: room for the descriptors of Pool messages. Without
        // it the kernel closes any descriptor the peer sends.
        alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
        const bool descriptors = (sharedMemoryEnabled || shm.offerSent) && descriptorsInBand()
            && sharedMemoryPossible();
        if (descriptors) {
            message.msg_control = control;
            message.msg_controllen = sizeof(control);
        }
        qsizetype received = 0;
        const Received result = receive(&message, descriptors ? MSG_CMSG_CLOEXEC : 0, &received, true);
        if (result == Received::Again)
            continue;
        if (result != Received::Bytes)
            return result == Received::Drained;
        if (descriptors && (message.msg_controllen > 0 || (message.msg_flags & MSG_CTRUNC))
            && !takeDescriptors(message))
            return false;
        stats.bytesReceived += quint64(received);
        assembler.commit(received);
        for (;;) {
            Message incoming;
            const MessageAssembler::Status status = assembler.next(&incoming);
            if (status == MessageAssembler::Status::NeedMore)
                break;
            if (status == MessageAssembler::Status::Error) {
                fail(BlightSocket::Error::ProtocolError, assembler.errorString());
                return false;
            }
            if (!deliver(incoming) && !readsForReleases())
                return false;
        }
        if (!checkStrayDescriptors())
            return false;
        if (readingPaused || received < offered)
            return !gone();
    }
    return !gone();
}

bool BlightSocketPrivate::readDatagrams()
{
    const bool seqPacket = kind == BlightSocket::SocketKind::UnixSeqPacket;
    for (int round = 0; round < DatagramsPerWake; ++round) {
        qsizetype capacity = UdpBufferSize;
        if (seqPacket) {
            // A record can be far larger than 64 KiB: peek at its real size
            // (and header) first, so that it is read whole, never truncated,
            // and nothing is allocated for a record over the cap.
            char head[HeaderSize];
            iovec peekIov{head, sizeof(head)};
            msghdr peek{};
            peek.msg_iov = &peekIov;
            peek.msg_iovlen = 1;
            qsizetype size = 0;
            const Received peeked = receive(&peek, MSG_PEEK | MSG_TRUNC, &size, true);
            if (peeked == Received::Again)
                continue;
            if (peeked != Received::Bytes)
                return peeked == Received::Drained;
            if (quint64(size) > quint64(HeaderSize) + maxPayloadSize) {
                fail(BlightSocket::Error::ProtocolError,
                     QStringLiteral("%1: a record of %2 bytes exceeds the payload cap of %3 bytes")
                         .arg(endpointText)
                         .arg(size)
                         .arg(maxPayloadSize));
                return false;
            }
            capacity = qsizetype(size) + 1;
        }
        if (rawBuffer.size() < capacity || !rawBuffer.isDetached())
            rawBuffer = QByteArray(qMax(capacity, UdpBufferSize), Qt::Uninitialized);
        iovec iov{rawBuffer.data(), size_t(rawBuffer.size())};
        sockaddr_storage from{};
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        if (connectOnFirstDatagram) {
            message.msg_name = &from;
            message.msg_namelen = sizeof(from);
        }
        qsizetype received = 0;
        const Received result = receive(&message, MSG_TRUNC, &received, seqPacket);
        if (result == Received::Again)
            continue;
        if (result != Received::Bytes)
            return result == Received::Drained;
        if (received >= rawBuffer.size()) {
            fail(BlightSocket::Error::ProtocolError,
                 QStringLiteral("datagram of %1 bytes is larger than any blight message can be").arg(received));
            return false;
        }
        if (connectOnFirstDatagram) {
            if (::connect(fd, reinterpret_cast<sockaddr *>(&from), message.msg_namelen) != 0) {
                failErrno(errno, QStringLiteral("connecting to the first peer"));
                return false;
            }
            connectOnFirstDatagram = false;
            if (!setState(BlightSocket::State::Connected) || !announceEndpoint(describePeer()) || !becomeConnected())
                return false;
        }
        stats.bytesReceived += quint64(received);
        const QByteArrayView bytes(rawBuffer.constData(), received);
        if (mode == BlightSocket::Mode::RawStream) {
            ++stats.messagesReceived;
            if (!deliverData(bytes.toByteArray()))
                return false;
            continue;
        }
        Message incoming;
        QString why;
        if (MessageAssembler::parseDatagram(bytes, maxPayloadSize, &incoming, &why)
            != MessageAssembler::Status::Message) {
            if (seqPacket) {
                fail(BlightSocket::Error::ProtocolError, why);
                return false;
            }
            // A datagram socket has no stream to lose sync with: skip it.
            if (!warn(QStringLiteral("%1: malformed datagram skipped: %2").arg(endpointText, why)))
                return false;
            continue;
        }
        if (!dispatch(incoming) || readingPaused)
            return !gone();
    }
    return !gone();
}

bool BlightSocketPrivate::readRaw()
{
    for (int round = 0; round < ReadRoundsPerWake; ++round) {
        if (rawBuffer.size() != RawReadSize || !rawBuffer.isDetached())
            rawBuffer = QByteArray(RawReadSize, Qt::Uninitialized);
        iovec iov{rawBuffer.data(), size_t(rawBuffer.size())};
        msghdr message{};
        message.msg_iov = &iov;
        message.msg_iovlen = 1;
        qsizetype received = 0;
        const Received result = receive(&message, 0, &received, true);
        if (result == Received::Again)
            continue;
        if (result != Received::Bytes)
            return result == Received::Drained;
        stats.bytesReceived += quint64(received);
        ++stats.messagesReceived;
        QByteArray chunk;
        if (received >= RawReadSize / 4) {
            // Big reads are handed out as they are; small ones are copied so
            // that the big buffer is reused.
            chunk = std::exchange(rawBuffer, QByteArray());
            chunk.truncate(received);
        } else {
            chunk = QByteArray(rawBuffer.constData(), received);
        }
        if (!deliverData(chunk) || readingPaused || received < RawReadSize)
            return !gone();
    }
    return !gone();
}

bool BlightSocketPrivate::deliverData(const QByteArray &data)
{
    if (q_ptr)
        Q_EMIT q_ptr->dataReceived(data);
    return !gone() && state == BlightSocket::State::Connected;
}

bool BlightSocketPrivate::dispatch(Message &message)
{
    ++stats.messagesReceived;
    if (readingPaused) {
        heldMessages.push_back(HeldMessage{std::move(message), BlightBuffer()});
        return true;
    }
    switch (message.type()) {
    case MessageType::Ping:
        if (autoAnswerPings) {
            answerPing(message.ackid());
            if (gone())
                return false;
        }
        if (q_ptr)
            Q_EMIT q_ptr->pingReceived(message.ackid());
        break;
    case MessageType::Ack:
        if (const auto reply = replies.take(message.ackid()); reply) {
            reply->finish(true, message.payload, QString());
            if (gone())
                return false;
        }
        if (q_ptr)
            Q_EMIT q_ptr->ackReceived(message.ackid(), message.payload);
        break;
    default:
        break;
    }
    if (gone())
        return false;
    if (q_ptr)
        Q_EMIT q_ptr->messageReceived(message);
    return !gone() && state == BlightSocket::State::Connected;
}

void BlightSocketPrivate::resumeReading()
{
    resumePosted = false;
    while (!heldMessages.empty() && !readingPaused && state == BlightSocket::State::Connected) {
        HeldMessage held = std::move(heldMessages.front());
        heldMessages.pop_front();
        --stats.messagesReceived; // dispatched again, and counted again
        if (!(held.frame.isNull() ? dispatch(held.message) : dispatchFrame(held.message.header, std::move(held.frame))))
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
            if ((!deliver(incoming) && !readsForReleases()) || readingPaused)
                return;
        }
    }
    onReadable();
}

} // namespace Blight
