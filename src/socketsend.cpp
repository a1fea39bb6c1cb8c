// SPDX-License-Identifier: MIT
// Sending: the lone message that leaves inside the call, the answer to a
// ping, and handing the queue to the kernel in batches on the copy or the
// MSG_ZEROCOPY path (accepting a send is socketenqueue.cpp). System calls and
// their errors only; when to send is the coalescing policy's, whether
// zero-copy is the zero-copy policy's.
#include "blightsocket_p.h"
#include "logging_p.h"
#include "socketutil_p.h"
#include "syscalls_p.h"
#include "turnclock_p.h"

#include <cerrno>
#include <climits>
#include <limits>
#include <cstring>
#include <sys/uio.h>

#ifndef MSG_ZEROCOPY
#  define MSG_ZEROCOPY 0x4000000
#endif

namespace Blight {

using namespace SocketUtil;

namespace {

constexpr int MaxIov = IOV_MAX;

} // namespace

quint64 BlightSocketPrivate::trySendImmediately(const char *header, QByteArrayView payload, const QByteArray *owner,
                                                const BufferHold *hold)
{
    // The common case of a lone message: one sendmsg straight from the
    // caller's bytes, no queue, no allocation. The id is taken only once the
    // message is accepted (sent, or queued in part).
    iovec iov[2];
    int count = 0;
    qsizetype total = 0;
    if (header) {
        iov[count++] = {const_cast<char *>(header), size_t(HeaderSize)};
        total += HeaderSize;
    }
    if (!payload.isEmpty()) {
        if (count == 1 && header + HeaderSize == payload.data())
            iov[0].iov_len += size_t(payload.size()); // the header is in the buffer's header room
        else
            iov[count++] = {const_cast<char *>(payload.data()), size_t(payload.size())};
        total += payload.size();
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = size_t(count);
    ssize_t sent = -1;
    bool retried = false;
    while (sent < 0) {
        ++stats.sendCalls;
        sent = Sys::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent >= 0)
            break;
        const int errorNumber = errno;
        if (errorNumber == EINTR)
            continue;
        if (holdForRetry(errorNumber)) {
            sent = 0;
            break;
        }
        const bool seqPacketTooLarge = kind == BlightSocket::SocketKind::UnixSeqPacket && errorNumber == EMSGSIZE;
        if (!seqPacketTooLarge && !(isUdp(kind) && isDatagramError(errorNumber))) {
            lastSendError = meaningOf(errorNumber).error;
            failErrno(errorNumber, QStringLiteral("sending"));
            return 0;
        }
        if (seqPacketTooLarge)
            refreshRecordLimit();
        if (isUdp(kind) && errorNumber != EMSGSIZE && !retried) {
            // Most likely an ICMP report for an earlier datagram: this one
            // was not sent, and goes again once.
            retried = true;
            if (!warn(QStringLiteral("%1: an earlier datagram failed: %2").arg(endpointText, errnoText(errorNumber))))
                return 0;
            continue;
        }
        lastSendError = errorNumber == EMSGSIZE ? BlightSocket::Error::MessageTooLarge
                                                : BlightSocket::Error::NetworkError;
        warn(QStringLiteral("%1: a datagram of %2 bytes was refused: %3")
                 .arg(endpointText)
                 .arg(total)
                 .arg(errnoText(errorNumber)));
        return 0;
    }
    if (sent > 0) {
        ++stats.copySends;
        stats.bytesSent += quint64(sent);
    }
    const quint64 id = ledger.accept();
    if (sent == total) {
        ++stats.messagesSent;
        ledger.handedUpTo(id);
        scheduleRelease();
        emitStatistics();
        return id;
    }
    if (datagram && sent > 0) {
        // Accepted, then lost with the connection: reported as not delivered.
        ledger.droppedUpTo(id);
        scheduleRelease();
        fail(BlightSocket::Error::MessageTooLarge, QStringLiteral("the kernel sent a datagram only in part"));
        return id;
    }
    // Queue what is left: the payload by reference when the caller's array
    // or buffer owns its bytes, else a copy.
    qsizetype done = sent;
    if (header && done < HeaderSize) {
        if (datagram) {
            queue.appendMessageCopy(header, HeaderSize, payload, id);
            countCopy(payload.size());
            payload = {};
        } else {
            queue.appendCopy(header + done, HeaderSize - done, payload.isEmpty() ? id : SendQueue::NoId);
        }
        done = 0;
    } else if (header) {
        done -= HeaderSize;
    }
    if (!payload.isEmpty()) {
        const QByteArrayView rest = payload.sliced(done);
        if (hold)
            queue.appendBuffer(*hold, rest.data(), rest.size(), false, id);
        else if (owner)
            queue.appendShared(*owner, done, false, id);
        else if (rest.size() <= SendQueue::StageLimit && !datagram)
            queue.appendCopy(rest.data(), rest.size(), id);
        else
            queue.appendShared(rest.toByteArray(), 0, false, id);
        if (!hold && !owner)
            countCopy(rest.size());
    }
    if (sent > 0)
        queue.continueMessage();
    stats.peakQueuedBytes = qMax(stats.peakQueuedBytes, queue.bytes());
    scheduleFlush();
    return id;
}

void BlightSocketPrivate::answerPing(quint32 ackid)
{
    // The answer bypasses sendQueueLimit and goes at the next message
    // boundary, ahead of data still queued: blight reports a client that
    // misses pings for two seconds as not responding.
    if (state != BlightSocket::State::Connected || closing)
        return;
    char bytes[HeaderSize];
    writeHeader(bytes, makeHeader(MessageType::Ack, ackid, 0));
    // Always through the queue as the one rewritable answer, so that an
    // answer the kernel did not take at once is still the one a later ping
    // rewrites, never an older answer left behind a newer one.
    const bool idle = queue.isEmpty() && !writeBlocked && !uringBlocking && !noBuffersTimer.isActive();
    queue.putPriority(bytes, HeaderSize);
    if (idle)
        flushQueue();
    else
        scheduleFlush();
}

bool BlightSocketPrivate::flushQueue()
{
    queue.closeLane(); // reopened by the next message the full path queues
    if (fd < 0 || tornDown || (state != BlightSocket::State::Connected && !closing))
        return !gone();
    const bool hadQueue = !queue.isEmpty();
    if (uring && !resubmitDatagrams())
        return submitUring();
    while (!queue.isEmpty()) {
        if (writeBlocked || uringBlocking || zeroCopy.isWaitingForCompletions() || noBuffersTimer.isActive())
            break;
        const BatchResult result = sendBatch();
        if (result == BatchResult::Gone)
            return false;
        if (result == BatchResult::Stop)
            break;
    }
    if (uring && !submitUring())
        return false;
    if (queue.isEmpty())
        streamHeldSince = 0;
    if (hadQueue && queue.isEmpty())
        queueDrained = true;
    if (!updateCanSend())
        return false;
    if (closing && queue.isEmpty())
        maybeFinishClose();
    return !gone();
}

BlightSocketPrivate::BatchResult BlightSocketPrivate::sendBatch()
{
    const bool zeroCopyOn = zeroCopy.isActive();
    const bool frontZeroCopy = queue.front().eligible && zeroCopyOn;
    // Pinned memory stays within the budget: a stream batch is cut at the
    // bytes left in it; a datagram (which cannot be cut) or the first send
    // after everything was released may exceed it alone.
    qsizetype budget = std::numeric_limits<qsizetype>::max();
    if (frontZeroCopy) {
        if (zeroCopy.mustWait(tracker.pendingBytes(), tracker.pendingCount())) {
            zeroCopy.waitForCompletions(tracker.pendingBytes(), tracker.pendingCount());
            return applyZeroCopyChange() ? BatchResult::Stop : BatchResult::Gone;
        }
        if (!datagram)
            budget = zeroCopy.budgetLeft(tracker.pendingBytes());
    }
    iovec iov[MaxIov];
    CompletionTracker::Buffers held;
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, zeroCopyOn, budget, &held);
    if (batch.zeroCopy) {
        if (datagram && !tracker.isEmpty() && tracker.pendingBytes() + batch.bytes > zeroCopy.pendingBytesLimit()) {
            zeroCopy.waitForCompletions(tracker.pendingBytes(), tracker.pendingCount());
            return applyZeroCopyChange() ? BatchResult::Stop : BatchResult::Gone;
        }
        if (settleBackend())
            return sendBatchUring(batch, iov, std::move(held));
        tracker.add(std::move(held), batch.bytes, monotonicNs(), queue.idAt(0), queue.idAt(batch.bytes - 1));
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = size_t(batch.count);
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (batch.descriptor >= 0) {
        // A shared-memory region for the peer: with this call's first byte.
        message.msg_control = control;
        message.msg_controllen = sizeof(control);
        cmsghdr *rights = CMSG_FIRSTHDR(&message);
        rights->cmsg_level = SOL_SOCKET;
        rights->cmsg_type = SCM_RIGHTS;
        rights->cmsg_len = CMSG_LEN(sizeof(int));
        std::memcpy(CMSG_DATA(rights), &batch.descriptor, sizeof(int));
    }
    ++stats.sendCalls;
    const ssize_t sent = Sys::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT | (batch.zeroCopy ? MSG_ZEROCOPY : 0));
    if (sent < 0) {
        const int errorNumber = errno;
        if (batch.zeroCopy) {
            // TCP takes no counter value for a send that queued nothing. UDP
            // may have taken one before a later stage dropped the datagram
            // (a qdisc drop with IP_RECVERR, a filter): then its completion
            // is already queued. The kernel's ranges are the truth.
            // Counted as numbered while its completion may be read, so that
            // zeroCopySends is never below a released id.
            ++stats.zeroCopySends;
            if (isUdp(kind) && !drainErrorQueue(nullptr, false))
                return BatchResult::Gone;
            if (tracker.isLastPending()) {
                tracker.rollbackLast();
                --stats.zeroCopySends;
            }
        }
        if (errorNumber == EINTR)
            return BatchResult::More;
        if (holdForRetry(errorNumber))
            return BatchResult::Stop;
        if (datagram)
            return datagramFailed(errorNumber, batch.zeroCopy, batch.bytes);
        lastSendError = meaningOf(errorNumber).error;
        failErrno(errorNumber, QStringLiteral("sending"));
        return BatchResult::Gone;
    }
    zeroCopy.resetNoBuffersDelay();
    datagramRetried = false;
    if (batch.zeroCopy) {
        if (sent < batch.bytes) { // a partial send ends in an earlier message than registered
            tracker.setLastBytes(sent);
            if (sent > 0)
                tracker.setLastSendId(queue.idAt(sent - 1));
        }
        ++stats.zeroCopySends;
        stats.zeroCopyBytes += quint64(sent);
    } else {
        ++stats.copySends;
    }
    stats.bytesSent += quint64(sent);
    if (batch.descriptor >= 0 && sent > 0)
        queue.descriptorSent();
    stats.messagesSent += queue.advance(sent);
    if (queue.lastEndedId() > ledger.handed()) {
        ledger.handedUpTo(queue.lastEndedId());
        scheduleRelease();
    }
    if (batch.cutByBudget && sent == batch.bytes)
        return BatchResult::More; // the budget, not the socket, ended this batch
    if (!datagram && sent < batch.bytes) {
        waitForWritable(); // a stream socket that took less than offered is full
        return BatchResult::Stop;
    }
    return BatchResult::More;
}

BlightSocketPrivate::BatchResult BlightSocketPrivate::datagramFailed(int errorNumber, bool zeroCopySend,
                                                                     qsizetype bytes)
{
    if (errorNumber == EMSGSIZE && zeroCopySend && isUdp(kind)) {
        // The kernel caps zero-copy datagrams below the UDP maximum (63500
        // bytes on Linux 6.x): this one goes as a copy.
        queue.makeFrontDatagramCopied();
        return BatchResult::More;
    }
    const bool seqPacketTooLarge = kind == BlightSocket::SocketKind::UnixSeqPacket && errorNumber == EMSGSIZE;
    if (!seqPacketTooLarge && !(isUdp(kind) && isDatagramError(errorNumber))) {
        lastSendError = meaningOf(errorNumber).error;
        failErrno(errorNumber, QStringLiteral("sending"));
        return BatchResult::Gone;
    }
    if (isUdp(kind) && errorNumber != EMSGSIZE && !datagramRetried) {
        datagramRetried = true; // an ICMP report for an earlier datagram: this one goes again once
        return warn(QStringLiteral("%1: an earlier datagram failed: %2").arg(endpointText, errnoText(errorNumber)))
            ? BatchResult::More
            : BatchResult::Gone;
    }
    datagramRetried = false;
    if (seqPacketTooLarge)
        refreshRecordLimit();
    queue.dropFrontDatagram();
    if (queue.lastEndedId() > ledger.handed()) {
        ledger.droppedUpTo(queue.lastEndedId());
        scheduleRelease();
    }
    lastSendError = errorNumber == EMSGSIZE ? BlightSocket::Error::MessageTooLarge : BlightSocket::Error::NetworkError;
    return warn(QStringLiteral("%1: a queued datagram of %2 bytes was refused and dropped: %3")
                    .arg(endpointText)
                    .arg(bytes)
                    .arg(errnoText(errorNumber)))
        ? BatchResult::More
        : BatchResult::Gone;
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
        noBuffersTimer.start(zeroCopy.noBuffersDelay(), this);
        return true;
    }
    return false;
}

void BlightSocketPrivate::waitForWritable()
{
    writeBlocked = true;
    if (writeNotifier)
        writeNotifier->setEnabled(true);
}

bool BlightSocketPrivate::setCanSend(bool canSendNow)
{
    if (canSend != canSendNow) {
        canSend = canSendNow;
        if (q_ptr)
            Q_EMIT q_ptr->canSendChanged(canSendNow);
    }
    return !gone();
}

bool BlightSocketPrivate::updateCanSend()
{
    if (!canSend && queue.bytes() <= sendQueueLimit / 2)
        return setCanSend(true);
    return !gone();
}

bool BlightSocketPrivate::reportQueueEmpty()
{
    if (queue.isEmpty() && queueDrained && !closing) {
        queueDrained = false;
        if (q_ptr)
            Q_EMIT q_ptr->sendQueueEmpty();
    }
    return !gone();
}

void BlightSocketPrivate::endOfTurn()
{
    Busy busy(this);
    // From here on a flush or a release asked for is the next turn end's.
    // releaseScheduled stays set through the flush, whose releases are
    // reported below in this one.
    turnEndPending = false;
    const bool flush = std::exchange(flushScheduled, false);
    if (flush && !queue.isEmpty() && state == BlightSocket::State::Connected && !flushQueue())
        return;
    if (std::exchange(releaseScheduled, false) && !emitReleases())
        return;
    // A turn end only for releases changed nothing else.
    if (flush && reportQueueEmpty())
        emitStatistics();
}

bool BlightSocketPrivate::onWritable()
{
    const bool blocked = std::exchange(writeBlocked, false);
    if (!blocked && streamHeldSince != 0 && !queue.isEmpty()
        && !coalescing.releasesHeldStream(TurnClock::current(), streamHeldSince))
        return true; // a held stream: one more pass adds its messages
    // While the sender streams the notifier stays on for the next pass's
    // messages; a pass that queued nothing switches it off.
    const bool hadStream = std::exchange(streamHeldSince, 0) != 0 && !queue.isEmpty();
    if (!hadStream || !coalescing.isStreaming())
        writeNotifier->setEnabled(false);
    if (!uring && !tracker.isEmpty() && !drainErrorQueue())
        return false;
    if (!flushQueue() || !reportQueueEmpty())
        return false;
    return emitStatistics();
}

} // namespace Blight
