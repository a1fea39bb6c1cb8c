// SPDX-License-Identifier: MIT
// The io_uring SEND_ZC backend of the socket: settling the backend of a
// connection, turning a zero-copy batch into one SEND_ZC (fixed from a
// registered pool buffer where it can), submitting, and the two completions
// of every send. Numbering, budget and release are the tracker's and the
// zero-copy policy's, as on the MSG_ZEROCOPY path (socketsend.cpp,
// socketcompletions.cpp).
#include "blightsocket_p.h"
#include "logging_p.h"
#include "socketutil_p.h"
#include "zerocopybackend_p.h"

#ifdef BLIGHT_HAVE_LIBURING
#  include "socketuring_p.h"
#  include "syscalls_p.h"
#endif

#include <algorithm>
#include <cerrno>

namespace Blight {

using namespace SocketUtil;

ZeroCopyBackendPolicy::Choice BlightSocketPrivate::backendChoice() const
{
    if (backendSettled)
        return settledBackend;
    return ZeroCopyBackendPolicy::choose(backendRequested, kind, UringProbe::probe());
}

QString BlightSocketPrivate::backendReason() const
{
    QString reason = backendChoice().reason;
#ifdef BLIGHT_HAVE_LIBURING
    if (uring && !uring->registration.isEmpty())
        reason += QStringLiteral("; ") + uring->registration;
#endif
    return reason;
}

#ifndef BLIGHT_HAVE_LIBURING

bool BlightSocketPrivate::settleBackend()
{
    backendSettled = true;
    settledBackend = ZeroCopyBackendPolicy::choose(backendRequested, kind, UringProbe::probe());
    return false;
}

BlightSocketPrivate::BatchResult BlightSocketPrivate::sendBatchUring(const SendQueue::Batch &, const iovec *,
                                                                     CompletionTracker::Buffers)
{
    return BatchResult::Stop; // never called: settleBackend() chose MSG_ZEROCOPY
}

bool BlightSocketPrivate::submitUring()
{
    return !gone();
}

bool BlightSocketPrivate::resubmitDatagrams()
{
    return true;
}

void BlightSocketPrivate::closeUring() { }

#else

bool BlightSocketPrivate::settleBackend()
{
    if (backendSettled)
        return uring != nullptr;
    backendSettled = true;
    settledBackend = ZeroCopyBackendPolicy::choose(backendRequested, kind, UringProbe::probe());
    if (settledBackend.backend != BlightSocket::ZeroCopyBackend::IoUring)
        return false;
    auto backend = std::make_unique<UringBackend>();
    backend->sender = new UringSender(this);
    if (!backend->sender->init()) {
        settledBackend.backend = BlightSocket::ZeroCopyBackend::MsgZeroCopy;
        settledBackend.reason
            = QStringLiteral("MSG_ZEROCOPY, io_uring ring setup failed: %1").arg(backend->sender->errorString());
        delete backend->sender;
        qCInfo(lcZeroCopy, "%s: %s", qPrintable(endpointText), qPrintable(settledBackend.reason));
        // zeroCopyStateChanged() tells it with the first completion: this
        // runs inside a send.
        zeroCopy.markChanged();
        return false;
    }
    backend->reportUsage = settledBackend.reportUsage;
    connect(backend->sender, &UringSender::completionsReady, this,
            [this](const QList<UringCompletion> &records) { onUringCompletions(records); });
    uring = backend.release();
    qCDebug(lcZeroCopy, "%s: %s", qPrintable(endpointText), qPrintable(settledBackend.reason));
    return true;
}

int BlightSocketPrivate::fixedBufferFor(const SendQueue::Piece &piece, const void *data, quint32 size)
{
    // A pool buffer's slot (header room page and payload) is one registered
    // buffer; the first non-shared pool region sent from is registered.
    Detail::BufferBlock *block = piece.hold.isNull() ? nullptr : Detail::BufferAccess::block(piece.hold.buffer());
    if (!block || !block->pooled || block->shared || !block->regionBase)
        return -1;
    if (!uring->registrationTried) {
        uring->registrationTried = true;
        const qsizetype stride = Detail::pageSize() + Detail::roundUpToPage(block->capacity);
        const qsizetype count = stride > 0 ? block->regionSize / stride : 0;
        QList<UringRegion> regions;
        regions.reserve(count);
        for (qsizetype i = 0; i < count; ++i)
            regions.append(UringRegion{block->regionBase + i * stride, stride});
        const UringRegistration result = uring->sender->registerBuffers(regions, block->keepRegionAlive());
        uring->registeredSerial = block->regionSerial;
        uring->registeredBase = block->regionBase;
        uring->stride = stride;
        uring->registered = result.registered;
        uring->registration = QStringLiteral("%1 of %2 pool buffers registered: %3")
                                  .arg(result.registered)
                                  .arg(result.requested)
                                  .arg(result.reason);
        qCInfo(lcZeroCopy, "%s: io_uring: %s", qPrintable(endpointText), qPrintable(uring->registration));
    }
    if (block->regionSerial != uring->registeredSerial || uring->stride <= 0)
        return -1;
    const auto *begin = static_cast<const char *>(data);
    const qsizetype offset = begin - uring->registeredBase;
    const qsizetype index = offset >= 0 ? offset / uring->stride : -1;
    if (index < 0 || index >= uring->registered || offset + qsizetype(size) > (index + 1) * uring->stride)
        return -1;
    return int(index);
}

bool BlightSocketPrivate::queueUring(const UringFlight &flight)
{
    UringSend send;
    send.fd = fd;
    send.message = flight.payload->iov.empty() ? nullptr : &flight.payload->message;
    send.data = flight.data;
    send.size = flight.size;
    send.bufferIndex = flight.bufferIndex;
    send.userData = flight.id;
    send.reportUsage = uring->reportUsage;
    // A stream send completes only once all of it went (or on an error):
    // the next one cannot overtake a remainder.
    send.msgFlags = datagram ? 0 : MSG_WAITALL;
    send.hold = flight.payload;
    UringRing::QueueResult result = uring->sender->queue(send);
    if (result == UringRing::QueueResult::Full) {
        ++stats.sendCalls;
        if (uring->sender->submit() >= 0)
            result = uring->sender->queue(send);
    }
    if (result == UringRing::QueueResult::Invalid)
        qCWarning(lcZeroCopy, "%s: io_uring refused a send description", qPrintable(endpointText));
    if (result != UringRing::QueueResult::Queued) {
        // Submitting and draining frees entries; meanwhile the message waits.
        noBuffersTimer.start(zeroCopy.noBuffersDelay(), this);
        return false;
    }
    uring->flights.push_back(flight);
    ++stats.zeroCopySends;
    stats.zeroCopyBytes += flight.size;
    return true;
}

BlightSocketPrivate::BatchResult BlightSocketPrivate::sendBatchUring(const SendQueue::Batch &batch, const iovec *iov,
                                                                     CompletionTracker::Buffers held)
{
    UringFlight flight;
    flight.payload = std::make_shared<UringPayload>();
    flight.payload->held = std::move(held);
    flight.size = quint32(batch.bytes);
    if (batch.count == 1) {
        flight.data = iov[0].iov_base;
        flight.bufferIndex = fixedBufferFor(queue.front(), flight.data, flight.size);
    } else {
        flight.payload->iov.assign(iov, iov + batch.count);
        flight.payload->message.msg_iov = flight.payload->iov.data();
        flight.payload->message.msg_iovlen = size_t(batch.count);
    }
    flight.firstId = queue.idAt(0);
    flight.lastId = queue.idAt(batch.bytes - 1);
    flight.id = tracker.add({}, batch.bytes, monotonicNs(), flight.firstId, flight.lastId);
    if (!queueUring(flight)) {
        tracker.rollbackLast();
        return BatchResult::Stop;
    }
    if (!datagram) {
        // The queue keeps the batch until its send completion says how much went.
        uring->streamInFlight = true;
        uringBlocking = true;
        return BatchResult::Stop;
    }
    // A datagram is all or nothing: it leaves the queue now, and a failure
    // that lets it wait sends it again from the flight.
    stats.bytesSent += quint64(batch.bytes);
    stats.messagesSent += queue.advance(batch.bytes);
    if (queue.lastEndedId() > ledger.handed()) {
        ledger.handedUpTo(queue.lastEndedId());
        scheduleRelease();
    }
    return BatchResult::More;
}

bool BlightSocketPrivate::resubmitDatagrams()
{
    while (uring && !uring->retries.empty()) {
        if (!queueUring(uring->retries.front()))
            return false;
        uring->retries.pop_front();
    }
    return true;
}

bool BlightSocketPrivate::submitUring()
{
    if (!uring || uring->sender->queuedCount() == 0)
        return !gone();
    ++stats.sendCalls;
    const int result = uring->sender->submit();
    if (result >= 0 || result == -EBUSY || result == -EAGAIN || result == -EINTR) {
        // Not taken now: the entries stay queued for the next submit.
        if (result < 0)
            noBuffersTimer.start(zeroCopy.noBuffersDelay(), this);
        return !gone();
    }
    lastSendError = meaningOf(-result).error;
    failErrno(-result, QStringLiteral("submitting to io_uring"));
    return !gone();
}

void BlightSocketPrivate::onUringCompletions(const QList<UringCompletion> &records)
{
    Busy busy(this);
    for (const UringCompletion &record : records) {
        const quint32 id = quint32(record.userData);
        const bool alive = record.notification ? handleCompletion(id, id, record.copied) : uringSendDone(record);
        if (!alive)
            return;
    }
    if (!tornDown)
        afterCompletions();
    else if (closing)
        maybeFinishClose();
}

bool BlightSocketPrivate::uringSendDone(const UringCompletion &record)
{
    if (!uring)
        return !gone();
    const quint32 id = quint32(record.userData);
    const auto found = std::find_if(uring->flights.begin(), uring->flights.end(),
                                    [id](const UringFlight &flight) { return flight.id == id; });
    if (found == uring->flights.end())
        return !gone();
    UringFlight flight = std::move(*found);
    uring->flights.erase(found); // at the front, mostly: no element moves
    if (!record.more) {
        // No notification follows: the kernel holds none of these bytes.
        const CompletionTracker::Release released = tracker.release(flight.id, flight.id, monotonicNs());
        stats.releasedBuffers += released.sends;
        if (released.sends > 0)
            scheduleRelease();
    }
    if (!datagram) {
        uring->streamInFlight = false;
        uringBlocking = false;
        if (record.result >= 0)
            return streamSendDone(flight, record.result);
        return streamSendFailed(-record.result);
    }
    if (record.result >= 0)
        return !gone();
    return datagramSendFailed(std::move(flight), -record.result);
}

bool BlightSocketPrivate::streamSendDone(const UringFlight &flight, qint32 sent)
{
    zeroCopy.resetNoBuffersDelay();
    if (sent == 0 && flight.size > 0) {
        failErrno(EPIPE, QStringLiteral("sending (io_uring sent nothing)"));
        return !gone();
    }
    if (sent < qint32(flight.size) && tracker.isLastPending()) {
        tracker.setLastBytes(sent); // the rest goes again from the queue
        tracker.setLastSendId(queue.idAt(sent - 1));
    }
    stats.bytesSent += quint64(sent);
    stats.messagesSent += queue.advance(sent);
    if (queue.lastEndedId() > ledger.handed()) {
        ledger.handedUpTo(queue.lastEndedId());
        scheduleRelease();
    }
    return !gone();
}

bool BlightSocketPrivate::streamSendFailed(int errorNumber)
{
    // Nothing of the batch left the queue: it goes again, or the
    // connection fails as on the sendmsg() path.
    if (errorNumber == EINTR || errorNumber == ECANCELED)
        return !gone();
    if (holdForRetry(errorNumber == ENOMEM ? ENOBUFS : errorNumber))
        return !gone();
    lastSendError = meaningOf(errorNumber).error;
    failErrno(errorNumber, QStringLiteral("sending (io_uring)"));
    return !gone();
}

bool BlightSocketPrivate::datagramSendFailed(UringFlight flight, int errorNumber)
{
    const bool waits = errorNumber == ENOBUFS || errorNumber == ENOMEM || errorNumber == EAGAIN;
    const bool icmpReport = isDatagramError(errorNumber) && errorNumber != EMSGSIZE && !flight.retried;
    if (waits || icmpReport) {
        if (waits)
            ++stats.noBufferErrors;
        if (icmpReport
            && !warn(QStringLiteral("%1: an earlier datagram failed: %2").arg(endpointText, errnoText(errorNumber))))
            return false;
        // It goes again under a new id, taken now so that its send ids
        // stay pending until the new send is released.
        flight.retried = flight.retried || icmpReport;
        flight.id = tracker.add({}, flight.size, monotonicNs(), flight.firstId, flight.lastId);
        uring->retries.push_back(std::move(flight));
        noBuffersTimer.start(zeroCopy.noBuffersDelay(), this);
        return !gone();
    }
    if (errorNumber == EMSGSIZE) {
        // Too large for a zero-copy datagram: it goes as a copy.
        msghdr message = flight.payload->message;
        iovec one{const_cast<void *>(flight.data), flight.size};
        if (flight.payload->iov.empty()) {
            message.msg_iov = &one;
            message.msg_iovlen = 1;
        }
        ++stats.sendCalls;
        if (Sys::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT) == qint64(flight.size)) {
            ++stats.copySends;
            return !gone();
        }
        errorNumber = errno;
    }
    lastSendError = errorNumber == EMSGSIZE ? BlightSocket::Error::MessageTooLarge : BlightSocket::Error::NetworkError;
    return warn(QStringLiteral("%1: a datagram of %2 bytes (send ids %3..%4) was refused and lost: %5")
                    .arg(endpointText)
                    .arg(flight.size)
                    .arg(flight.firstId)
                    .arg(flight.lastId)
                    .arg(errnoText(errorNumber)));
}

void BlightSocketPrivate::closeUring()
{
    if (!uring)
        return;
    // The sender hands its ring to a reaper, which keeps every send's bytes
    // until the kernel's notifications; the ids end here (the connection is
    // gone), their bytes no longer need the tracker.
    delete uring->sender;
    delete uring;
    uring = nullptr;
    uringBlocking = false;
    if (!tracker.isEmpty()) {
        tracker.takeAll();
        scheduleRelease();
    }
}

#endif // BLIGHT_HAVE_LIBURING

} // namespace Blight
