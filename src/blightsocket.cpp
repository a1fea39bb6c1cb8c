// SPDX-License-Identifier: MIT
// BlightSocket: the public object, a thin layer of properties and calls over
// its engine (blightsocket_p.h). Every call that can emit holds the engine
// busy, so that a slot may delete the socket from any signal.
#include "blightsocket_p.h"
#include "logging_p.h"
#include "sharedframe_p.h"

#include <QtCore/QMetaMethod>

namespace Blight {

using Busy = BlightSocketPrivate::Busy;

BlightSocket::BlightSocket(QObject *parent)
    : BlightSocket(Mode::Messages, parent)
{
}

BlightSocket::BlightSocket(Mode mode, QObject *parent)
    : QObject(parent)
    , d_ptr(new BlightSocketPrivate(this, mode))
{
    qRegisterMetaType<Blight::Message>();
    qRegisterMetaType<Blight::SocketStatistics>();
}

BlightSocket::~BlightSocket()
{
    // Emits nothing. The engine drops what was not sent and either closes
    // now or, with zero-copy buffers in flight, lingers on as their heir.
    d_ptr->detach();
}

bool BlightSocket::setSocketDescriptor(int fd, Ownership ownership)
{
    Q_D(BlightSocket);
    Busy busy(d);
    if (d->state != State::Unconnected) {
        d->error = Error::InvalidDescriptor;
        d->errorString = QStringLiteral("the socket is already in use");
        return false;
    }
    d->startConnection();
    return d->adopt(fd, ownership);
}

void BlightSocket::connectToEndpoint(const QString &endpoint)
{
    Q_D(BlightSocket);
    Busy busy(d);
    if (d->state != State::Unconnected) {
        qCWarning(lcSocket, "connectToEndpoint(%s): the socket is already in use", qPrintable(endpoint));
        return;
    }
    d->connectTo(endpoint);
}

int BlightSocket::socketDescriptor() const
{
    return d_func()->fd;
}
QString BlightSocket::endpoint() const
{
    return d_func()->endpointText;
}
BlightSocket::SocketKind BlightSocket::kind() const
{
    return d_func()->kind;
}
BlightSocket::Mode BlightSocket::mode() const
{
    return d_func()->mode;
}
BlightSocket::State BlightSocket::state() const
{
    return d_func()->state;
}
BlightSocket::Error BlightSocket::error() const
{
    return d_func()->error;
}
QString BlightSocket::errorString() const
{
    return d_func()->errorString;
}
BlightSocket::Error BlightSocket::lastSendError() const
{
    return d_func()->lastSendError;
}

BlightSocket::ZeroCopyMode BlightSocket::zeroCopyMode() const
{
    return d_func()->zeroCopy.mode();
}

void BlightSocket::setZeroCopyMode(ZeroCopyMode mode)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const ZeroCopyMode before = d->zeroCopy.mode();
    if (before == mode)
        return;
    d->probeTimer.stop();
    d->zeroCopy.setMode(mode);
    if (d->notifyChange(before, mode, &BlightSocket::zeroCopyModeChanged))
        d->applyZeroCopyChange();
}

bool BlightSocket::isZeroCopySupported() const
{
    return d_func()->zeroCopy.isSupported();
}
bool BlightSocket::isZeroCopyActive() const
{
    return d_func()->zeroCopy.isActive();
}
BlightSocket::ZeroCopyState BlightSocket::zeroCopyState() const
{
    return isSharedMemoryActive() ? ZeroCopyState::SharedMemory : d_func()->zeroCopy.state();
}
QString BlightSocket::zeroCopyReason() const
{
    Q_D(const BlightSocket);
    if (isSharedMemoryActive())
        return d->sharedMemoryReason();
    QString reason = d->zeroCopy.reason();
    if (const QString backend = d->backendReason(); !backend.isEmpty())
        reason += QStringLiteral("; ") + backend;
    if (const QString sharedMemory = d->sharedMemoryReason(); !sharedMemory.isEmpty())
        reason += QStringLiteral("; ") + sharedMemory;
    return reason;
}
BlightSocket::ZeroCopyBackend BlightSocket::zeroCopyBackend() const
{
    return d_func()->backendRequested;
}

void BlightSocket::setZeroCopyBackend(ZeroCopyBackend backend)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const ZeroCopyBackend before = std::exchange(d->backendRequested, backend);
    const ZeroCopyBackend activeBefore = activeZeroCopyBackend();
    if (d->notifyChange(before, backend, &BlightSocket::zeroCopyBackendChanged))
        d->notifyChange(activeBefore, activeZeroCopyBackend(), &BlightSocket::zeroCopyStateChanged);
}

BlightSocket::ZeroCopyBackend BlightSocket::activeZeroCopyBackend() const
{
    return d_func()->backendChoice().backend;
}

qint64 BlightSocket::zeroCopyThreshold() const
{
    return d_func()->zeroCopy.threshold();
}

void BlightSocket::setZeroCopyThreshold(qint64 bytes)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const qint64 before = d->zeroCopy.threshold();
    d->zeroCopy.setThreshold(bytes);
    if (d->notifyChange(before, d->zeroCopy.threshold(), &BlightSocket::zeroCopyThresholdChanged))
        d->applyZeroCopyChange();
}

qint64 BlightSocket::pendingBytesLimit() const
{
    return d_func()->zeroCopy.pendingBytesLimit();
}

void BlightSocket::setPendingBytesLimit(qint64 bytes)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const qint64 before = d->zeroCopy.pendingBytesLimit();
    d->zeroCopy.setPendingBytesLimit(bytes);
    if (d->notifyChange(before, d->zeroCopy.pendingBytesLimit(), &BlightSocket::pendingBytesLimitChanged)
        && d->zeroCopy.budgetFreed() && d->applyZeroCopyChange())
        d->flushQueue();
}

int BlightSocket::pendingBuffersLimit() const
{
    return d_func()->zeroCopy.pendingBuffersLimit();
}

void BlightSocket::setPendingBuffersLimit(int count)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const int before = d->zeroCopy.pendingBuffersLimit();
    d->zeroCopy.setPendingBuffersLimit(count);
    if (d->notifyChange(before, d->zeroCopy.pendingBuffersLimit(), &BlightSocket::pendingBuffersLimitChanged)
        && d->zeroCopy.budgetFreed() && d->applyZeroCopyChange())
        d->flushQueue();
}

int BlightSocket::copiedBackOffCount() const
{
    return d_func()->zeroCopy.copiedBackOffCount();
}

void BlightSocket::setCopiedBackOffCount(int count)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const int before = d->zeroCopy.copiedBackOffCount();
    d->zeroCopy.setCopiedBackOffCount(count);
    d->notifyChange(before, d->zeroCopy.copiedBackOffCount(), &BlightSocket::copiedBackOffCountChanged);
}

int BlightSocket::backOffInterval() const
{
    return d_func()->zeroCopy.backOffInterval();
}

void BlightSocket::setBackOffInterval(int msecs)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const int before = d->zeroCopy.backOffInterval();
    d->zeroCopy.setBackOffInterval(msecs);
    d->notifyChange(before, d->zeroCopy.backOffInterval(), &BlightSocket::backOffIntervalChanged);
}

int BlightSocket::lingerTime() const
{
    return d_func()->lingerTime;
}

void BlightSocket::setLingerTime(int msecs)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const int before = std::exchange(d->lingerTime, qMax(msecs, 0));
    d->notifyChange(before, d->lingerTime, &BlightSocket::lingerTimeChanged);
}

bool BlightSocket::isSharedMemoryEnabled() const
{
    return d_func()->sharedMemoryEnabled;
}

void BlightSocket::setSharedMemoryEnabled(bool enabled)
{
    Q_D(BlightSocket);
    Busy busy(d);
    d->enableSharedMemory(enabled);
}

bool BlightSocket::isSharedMemoryActive() const
{
    Q_D(const BlightSocket);
    return d->sharedMemoryEnabled && d->shm.agreed() && d->state == State::Connected;
}

qint64 BlightSocket::sharedMemoryLimit() const
{
    return d_func()->sharedMemoryLimit;
}

void BlightSocket::setSharedMemoryLimit(qint64 bytes)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const qint64 before = std::exchange(d->sharedMemoryLimit, qMax<qint64>(bytes, 0));
    d->notifyChange(before, d->sharedMemoryLimit, &BlightSocket::sharedMemoryLimitChanged);
}

qint64 BlightSocket::mappedBytes() const
{
    return d_func()->shm.mappedBytes();
}

void BlightSocket::releaseBuffer(const BlightBuffer &buffer)
{
    releaseReceivedFrame(buffer);
}

qint64 BlightSocket::sendQueueLimit() const
{
    return d_func()->sendQueueLimit;
}

void BlightSocket::setSendQueueLimit(qint64 bytes)
{
    Q_D(BlightSocket);
    Busy busy(d);
    d->queue.closeLane(); // it was sized by the old limit
    const qint64 before = std::exchange(d->sendQueueLimit, qMax<qint64>(bytes, 1));
    if (d->notifyChange(before, d->sendQueueLimit, &BlightSocket::sendQueueLimitChanged))
        d->updateCanSend();
}

qint64 BlightSocket::flushThreshold() const
{
    return d_func()->coalescing.flushThreshold();
}

void BlightSocket::setFlushThreshold(qint64 bytes)
{
    Q_D(BlightSocket);
    Busy busy(d);
    d->queue.closeLane(); // it was sized by the old threshold
    const qint64 before = d->coalescing.flushThreshold();
    d->coalescing.setFlushThreshold(bytes);
    d->notifyChange(before, d->coalescing.flushThreshold(), &BlightSocket::flushThresholdChanged);
}

quint32 BlightSocket::maxPayloadSize() const
{
    return d_func()->maxPayloadSize;
}

void BlightSocket::setMaxPayloadSize(quint32 bytes)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const quint32 before = std::exchange(d->maxPayloadSize, bytes);
    d->assembler.setMaxPayloadSize(bytes);
    d->notifyChange(before, bytes, &BlightSocket::maxPayloadSizeChanged);
}

bool BlightSocket::autoAnswerPings() const
{
    return d_func()->autoAnswerPings;
}

void BlightSocket::setAutoAnswerPings(bool answer)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const bool before = std::exchange(d->autoAnswerPings, answer);
    d->notifyChange(before, answer, &BlightSocket::autoAnswerPingsChanged);
}

bool BlightSocket::isReadingPaused() const
{
    return d_func()->readingPaused;
}

void BlightSocket::setReadingPaused(bool paused)
{
    Q_D(BlightSocket);
    Busy busy(d);
    const bool before = std::exchange(d->readingPaused, paused);
    if (before == paused)
        return;
    if (paused && d->readNotifier)
        d->readNotifier->setEnabled(false);
    else if (!paused)
        d->resumeReadingLater();
    d->notifyChange(before, paused, &BlightSocket::readingPausedChanged);
}

bool BlightSocket::canSend() const
{
    return d_func()->canSend;
}

SocketStatistics BlightSocket::statistics() const
{
    Q_D(const BlightSocket);
    SocketStatistics copy = d->stats;
    copy.queuedBytes = d->queue.bytes();
    copy.pendingBuffers = d->tracker.pendingCount();
    copy.pendingBytes = d->tracker.pendingBytes();
    copy.peakPendingBytes = d->tracker.peakPendingBytes();
    const LatencyHistogram &latency = d->tracker.latency();
    copy.releaseLatencyP50 = double(latency.percentile(0.50)) / 1000.0;
    copy.releaseLatencyP99 = double(latency.percentile(0.99)) / 1000.0;
    copy.releaseLatencyMax = double(latency.max()) / 1000.0;
    return copy;
}

quint64 BlightSocket::messagesSent() const
{
    return d_func()->stats.messagesSent;
}
quint64 BlightSocket::bytesSent() const
{
    return d_func()->stats.bytesSent;
}
quint64 BlightSocket::messagesReceived() const
{
    return d_func()->stats.messagesReceived;
}
quint64 BlightSocket::bytesReceived() const
{
    return d_func()->stats.bytesReceived;
}

quint64 BlightSocket::systemCalls() const
{
    Q_D(const BlightSocket);
    return d->stats.sendCalls + d->stats.receiveCalls + d->stats.errorQueueCalls;
}

qint64 BlightSocket::queuedBytes() const
{
    return d_func()->queue.bytes();
}
qint64 BlightSocket::pendingBuffers() const
{
    return d_func()->tracker.pendingCount();
}
qint64 BlightSocket::pendingBytes() const
{
    return d_func()->tracker.pendingBytes();
}
quint64 BlightSocket::errorCount() const
{
    return d_func()->stats.errors;
}

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
    Busy busy(d);
    const quint32 ackid = nextAckId();
    if (!d->acceptsMessage(type, payload.size()))
        return nullptr;
    const quint64 id = d->enqueueMessage(makeHeader(type, ackid, quint32(payload.size())), payload);
    if (id == 0 || d->gone())
        return nullptr;
    auto *reply = new BlightReply(ackid, this);
    reply->m_sendId = id;
    if (timeoutMs >= 0)
        reply->m_timerId = reply->startTimer(timeoutMs, Qt::PreciseTimer);
    d->replies.insert(ackid, reply);
    return reply;
}

quint64 BlightSocket::sendMessage(MessageType type, quint32 ackid, const QByteArray &payload)
{
    Q_D(BlightSocket);
    // A small payload that could not go zero-copy is copied into staging on
    // the full path too.
    if (!d->zeroCopy.isEligible(payload.size())) {
        if (const quint64 id = d->queueBehindTurn(type, ackid, payload))
            return id;
    }
    Busy busy(d);
    if (!d->acceptsMessage(type, payload.size()))
        return 0;
    return d->enqueueMessage(makeHeader(type, ackid, quint32(payload.size())), payload);
}

namespace {

// Out of line, so that the lane's path in sendMessageCopy() carries none of
// the full path's calls (it saves one register instead of six).
Q_NEVER_INLINE quint64 sendCopyFullPath(BlightSocketPrivate *d, MessageType type, quint32 ackid, QByteArrayView payload)
{
    Busy busy(d);
    if (!d->acceptsMessage(type, payload.size()))
        return 0;
    return d->enqueueMessageCopy(makeHeader(type, ackid, quint32(payload.size())), payload);
}

} // namespace

quint64 BlightSocket::sendMessageCopy(MessageType type, quint32 ackid, QByteArrayView payload)
{
    Q_D(BlightSocket);
    if (const quint64 id = d->queueBehindTurn(type, ackid, payload))
        return id; // behind the turn's other messages: nothing else to decide
    return sendCopyFullPath(d, type, ackid, payload);
}

quint64 BlightSocket::sendBuffer(MessageType type, quint32 ackid, const BlightBuffer &buffer)
{
    Q_D(BlightSocket);
    Busy busy(d);
    if (!d->acceptsMessage(type, buffer.size()))
        return 0;
    const Header header = makeHeader(type, ackid, quint32(buffer.size()));
    return d->enqueueBuffer(&header, buffer);
}

quint64 BlightSocket::forwardMessage(const Message &message)
{
    return sendMessage(message.type(), message.ackid(), message.payload);
}

quint64 BlightSocket::send(const QByteArray &data)
{
    Q_D(BlightSocket);
    Busy busy(d);
    if (!d->acceptsRaw())
        return 0;
    return d->enqueueRaw(data);
}

quint64 BlightSocket::sendRawBuffer(const BlightBuffer &buffer)
{
    Q_D(BlightSocket);
    Busy busy(d);
    if (!d->acceptsRaw())
        return 0;
    return d->enqueueBuffer(nullptr, buffer);
}

void BlightSocket::connectNotify(const QMetaMethod &signal)
{
    // May run in any thread: the engine looks in its own.
    if (signal != QMetaMethod::fromSignal(&BlightSocket::sendsReleased))
        return;
    BlightSocketPrivate *d = d_func();
    QMetaObject::invokeMethod(
        d,
        [d] {
            Busy busy(d);
            d->scheduleRelease();
        },
        Qt::QueuedConnection);
}

quint64 BlightSocket::lastSendId() const
{
    return d_func()->ledger.lastId();
}

void BlightSocket::flush()
{
    Q_D(BlightSocket);
    Busy busy(d);
    if (d->state == State::Connected || d->closing)
        d->flushQueue();
}

void BlightSocket::close()
{
    Q_D(BlightSocket);
    Busy busy(d);
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
    Busy busy(d);
    if (d->state == State::Unconnected)
        return;
    if (d->fd < 0) {
        // Still connecting: stop quietly.
        d->cancelAttempt();
        d->becomeUnconnected();
        return;
    }
    d->beginClose(false);
}

void BlightSocket::resetStatistics()
{
    Q_D(BlightSocket);
    Busy busy(d);
    d->stats = SocketStatistics();
    d->stats.peakQueuedBytes = d->queue.bytes();
    d->tracker.resetCounters();
    d->emitStatistics();
}

} // namespace Blight
