// SPDX-License-Identifier: MIT
// FrameProducer: renders frames into a three-buffer pool and sends each with BlightSocket::sendBuffer().
#pragma once

#include <BlightTransport/blightbufferpool.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QTimer>

namespace FrameRing {

/*!
    The producer side of the ring. Frame k (1, 2, ...) is rendered into a
    buffer from the pool and sent as an Ack with ackid k: blight's Ack takes
    any payload and asks for no answer. A buffer is reused only once it came
    back to the pool, which is when the socket released its send.
*/
class FrameProducer : public QObject
{
    Q_OBJECT

public:
    enum class Pace {
        Timer,   //!< one frame per tick of a precise timer
        FlatOut, //!< a frame whenever the pool has a buffer
    };
    struct Options
    {
        int frames = 120;
        int framesPerSecond = 30;
        Pace pace = Pace::Timer;
        //! The negative control: write into a frame's buffer while its send is still out.
        bool writeWhileOut = false;
    };

    static constexpr int PoolBuffers = 3;

    FrameProducer(Blight::BlightSocket *socket, const Options &options, QObject *parent = nullptr);

    void start();
    bool isValid() const { return m_pool.isValid(); }

    int framesSent() const { return m_framesSent; }
    /*! Frames due (a timer tick, or any moment when flat out) for which acquire() returned null. */
    quint64 stalls() const { return m_stalls; }
    /*! Writes after which the buffer's bytes were no longer in the pool (a detaching copy). */
    quint64 misplacedBuffers() const { return m_misplaced; }
    /*! Negative control: writes made into a buffer whose send was still out. */
    quint64 writesWhileOut() const { return m_writesWhileOut; }
    quint64 sendsReleased() const { return m_released; }
    quint64 sendsUndelivered() const { return m_undelivered; }
    /*! The longest time from sendBuffer() to the release of that send, in milliseconds. */
    double releaseLatencyMaxMs() const { return double(m_releaseLatencyMaxNs) / 1e6; }
    const Blight::BlightBufferPool &pool() const { return m_pool; }

Q_SIGNALS:
    /*! Every frame was sent and every send released. */
    void finished();
    void failed(const QString &reason);

private:
    void tick();
    void bufferAvailable();
    bool produceDue();
    bool produceOne();
    void checkPlacement(const Blight::BlightBuffer &buffer);
    void countReleased(const QList<Blight::SendIdRange> &ranges);

    Blight::BlightSocket *m_socket;
    Options m_options;
    Blight::BlightBufferPool m_pool;
    QTimer m_timer;
    QElapsedTimer m_clock;
    QHash<quint64, qint64> m_sentAt; // send id -> m_clock nanoseconds
    int m_framesSent = 0;
    int m_framesDue = 0;
    quint64 m_stalls = 0;
    quint64 m_misplaced = 0;
    quint64 m_writesWhileOut = 0;
    quint64 m_released = 0;
    quint64 m_undelivered = 0;
    qint64 m_releaseLatencyMaxNs = 0;
    bool m_failed = false;
    bool m_finished = false;
};

} // namespace FrameRing
