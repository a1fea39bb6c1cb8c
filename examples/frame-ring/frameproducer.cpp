// SPDX-License-Identifier: MIT
// FrameProducer: the frame ring's sending side (pace, acquire, render, check, send, count releases).
#include "frameproducer.h"

#include "framepattern.h"

#include <QtCore/QMetaEnum>

using namespace Blight;

namespace FrameRing {

FrameProducer::FrameProducer(BlightSocket *socket, const Options &options, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_options(options)
    , m_pool(PoolBuffers, FrameBytes)
{
    m_timer.setTimerType(Qt::PreciseTimer);
    m_timer.setInterval(1000 / qMax(1, options.framesPerSecond));
    connect(&m_timer, &QTimer::timeout, this, &FrameProducer::tick);
    // A frame that found the pool empty leaves as soon as a buffer is back.
    connect(&m_pool, &BlightBufferPool::bufferAvailable, this, &FrameProducer::bufferAvailable);
    connect(m_socket, &BlightSocket::sendsReleased, this, &FrameProducer::countReleased);
}

void FrameProducer::start()
{
    m_clock.start();
    if (m_options.pace == Pace::FlatOut) {
        m_framesDue = m_options.frames;
        bufferAvailable();
        return;
    }
    m_timer.start();
    tick(); // the first frame at once, the next one a tick later
}

void FrameProducer::tick()
{
    if (m_failed || m_framesSent + m_framesDue >= m_options.frames) {
        m_timer.stop();
        return;
    }
    ++m_framesDue;
    if (!produceDue())
        ++m_stalls;
}

void FrameProducer::bufferAvailable()
{
    // Paced, a frame that found the pool empty leaves now, late; that tick
    // was counted as a stall. Flat out, a frame is due at every moment, so
    // running the pool dry is a stall there.
    if (!produceDue() && m_options.pace == Pace::FlatOut)
        ++m_stalls;
}

bool FrameProducer::produceDue()
{
    // False when a due frame found no buffer.
    while (m_framesDue > 0 && !m_failed) {
        if (!produceOne())
            return m_failed; // a refused send is reported by failed(), not as a stall
        --m_framesDue;
    }
    return true;
}

bool FrameProducer::produceOne()
{
    BlightBuffer buffer = m_pool.acquire();
    if (buffer.isNull())
        return false;
    const quint32 frame = quint32(m_framesSent + 1);
    // acquire() gives a buffer no send shares: data() writes in place.
    renderFrame(buffer.data(), buffer.size(), frame);
    checkPlacement(buffer);
    const quint64 id = m_socket->sendBuffer(MessageType::Ack, frame, buffer);
    if (id == 0) {
        m_failed = true;
        Q_EMIT failed(QStringLiteral("frame %1 refused: %2")
                          .arg(frame)
                          .arg(QString::fromLatin1(
                              QMetaEnum::fromType<BlightSocket::Error>().valueToKey(int(m_socket->lastSendError())))));
        return false;
    }
    m_sentAt.insert(id, m_clock.nsecsElapsed());
    ++m_framesSent;
    if (m_options.writeWhileOut && !buffer.isDetached()) {
        // The socket still holds this send. Writing now makes the handle
        // detach into a heap copy of 10.5 MB (the wire keeps the original):
        // exactly the copy the ring exists to avoid, and the check sees it.
        buffer.data()[0] ^= 0x5a;
        ++m_writesWhileOut;
        checkPlacement(buffer);
    }
    return true;
}

void FrameProducer::checkPlacement(const BlightBuffer &buffer)
{
    // After a write the bytes must still be the pool's: a detaching copy
    // moves them to the heap.
    if (!buffer.isPooled() || !m_pool.contains(buffer.constData()))
        ++m_misplaced;
}

void FrameProducer::countReleased(const QList<SendIdRange> &ranges)
{
    const qint64 now = m_clock.nsecsElapsed();
    for (const SendIdRange &range : ranges) {
        m_released += range.count();
        if (!range.delivered)
            m_undelivered += range.count();
        for (quint64 id = range.first; id <= range.last; ++id) {
            if (const auto sent = m_sentAt.constFind(id); sent != m_sentAt.cend()) {
                m_releaseLatencyMaxNs = qMax(m_releaseLatencyMaxNs, now - *sent);
                m_sentAt.erase(sent);
            }
        }
    }
    if (!m_finished && m_framesSent == m_options.frames && m_sentAt.isEmpty()) {
        m_finished = true;
        Q_EMIT finished();
    }
}

} // namespace FrameRing
