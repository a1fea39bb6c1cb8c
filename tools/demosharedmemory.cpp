// SPDX-License-Identifier: MIT
// DemoLink's "unix shared memory" link: frames written into a sealed memfd
// pool, sent as small messages naming them, and checked in place by the
// receiver, which releases each one by dropping its handle.
#include "cliutil.h"
#include "demo.h"
#include "procmaps.h"

#include <BlightTransport/blightbufferpool.h>

#include <QtCore/QJsonObject>
#include <QtCore/QTimer>

#include <utility>

namespace Blight::Cli {

namespace {

// Up to 4 frames out at a time, in a region well inside the receiver's
// default map cap (64 MiB): at most 16 MiB frames make at least 2.
constexpr int MaxPoolBuffers = 4;
constexpr qint64 PoolRegionBytes = 32 * 1024 * 1024;
// Both offers leave when the pair is made; the agreement takes one read on
// each side. Far longer than that means it will not come.
constexpr int AgreementDeadlineMs = 5000;

} // namespace

void DemoLink::setUpSharedMemory()
{
    m_sender->setSharedMemoryEnabled(true);
    if (m_config.frames == 0)
        return;
    const int buffers = int(qBound<qint64>(1, PoolRegionBytes / m_config.frameSize, qint64(MaxPoolBuffers)));
    m_pool = new BlightBufferPool(buffers, qsizetype(m_config.frameSize), BlightBufferPool::Backing::SharedMemory,
                                  this);
    connect(m_pool, &BlightBufferPool::bufferAvailable, this, [this] {
        if (std::exchange(m_waitingForBuffer, false))
            pump();
    });
    connect(m_pool, &BlightBufferPool::availableChanged, this, &DemoLink::checkFinished);
}

void DemoLink::watchAgreement()
{
    auto agreed = [this] {
        if (m_agreed || !m_sender->isSharedMemoryActive())
            return;
        m_agreed = true;
        pump();
    };
    connect(m_sender, &BlightSocket::zeroCopyStateChanged, this, agreed);
    QTimer::singleShot(AgreementDeadlineMs, this, [this] {
        if (!m_agreed)
            failLink(QStringLiteral("no shared-memory agreement after %1 s: %2")
                         .arg(AgreementDeadlineMs / 1000)
                         .arg(m_sender->zeroCopyReason()));
    });
    agreed(); // it may stand already
}

bool DemoLink::sharedMemoryReady() const
{
    // Frames sent before the agreement would take the copy path.
    return !isSharedMemory() || m_agreed;
}

bool DemoLink::sendFrameFromPool(const Message &message, qint64 frame)
{
    BlightBuffer buffer = m_pool->acquire();
    if (buffer.isNull()) {
        // Every buffer is still held by the receiver: back-pressure, nothing grows.
        m_waitingForBuffer = true;
        return false;
    }
    const qint64 started = threadCpuNs();
    writePattern(frameSeed(frame), buffer.data(), buffer.size());
    m_generationNs += threadCpuNs() - started;
    if (m_sender->sendBuffer(message.type(), message.ackid(), buffer) != 0)
        return true; // the buffer comes back to the pool with the receiver's release
    if (m_sender->lastSendError() != BlightSocket::Error::QueueFull)
        failLink(QStringLiteral("frame %1 refused: %2").arg(frame).arg(int(m_sender->lastSendError())));
    return false;
}

void DemoLink::receiveFrame(MessageType type, quint32 ackid, const BlightBuffer &frame)
{
    // Where the bytes are is part of the check: in a memfd mapping of this
    // process, not in a copy.
    const qint64 started = threadCpuNs();
    if (frame.isShared())
        ++m_sharedFrames;
    if (frame.size() > 0 && isInMemfdMapping(frame.constData()))
        ++m_framesInMemfd;
    m_checkingNs += threadCpuNs() - started;
    m_peakMappedBytes = qMax(m_peakMappedBytes, qint64(m_receiver->mappedBytes()));
    // Held until its batch is checked (checkInbox()); the view does not keep it.
    m_heldFrames.append(frame);
    receiveMessage(Message{makeHeader(type, ackid, quint32(frame.size())), frame.toByteArray()});
}

QJsonObject DemoLink::sharedMemorySummary() const
{
    return QJsonObject{
        {QStringLiteral("poolBuffers"), m_pool ? m_pool->count() : 0},
        {QStringLiteral("poolShared"), m_pool && m_pool->isShared()},
        {QStringLiteral("poolWaits"), m_pool ? qint64(m_pool->waitingAcquires()) : qint64(0)},
        {QStringLiteral("retiredRegions"), m_pool ? m_pool->retiredRegions() : 0},
        {QStringLiteral("framesSent"), qint64(m_senderStats.sharedMemoryFramesSent)},
        {QStringLiteral("framesReceived"), qint64(m_receiverStats.sharedMemoryFramesReceived)},
        {QStringLiteral("framesAsSharedHandles"), m_sharedFrames},
        {QStringLiteral("framesInMemfd"), m_framesInMemfd},
        {QStringLiteral("mappedBytesPeak"), m_peakMappedBytes},
        {QStringLiteral("frameBytesSent"), qint64(m_senderStats.sharedMemoryBytesSent)},
        // Everything the receiver read through recvmsg(): headers and the small frame messages.
        {QStringLiteral("receiverBytesReceived"), qint64(m_receiverStats.bytesReceived)},
    };
}

} // namespace Blight::Cli
