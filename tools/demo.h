// SPDX-License-Identifier: MIT
// The demo's connections: one DemoLink is a sender and a receiver over one
// socket, with the receiver checking every byte; and the demo's panel hooks.
#pragma once

#include <BlightTransport/blightbuffer.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QObject>

#include <memory>

class QCoreApplication;

namespace Blight {
class BlightBufferPool;
class BlightServer;
} // namespace Blight

namespace Blight::Cli {

struct DemoConfig
{
    qint64 messages = 200000;
    qint64 frames = 16;
    qint64 frameSize = 5 * 1024 * 1024;
    qint64 burst = 256;
    BlightSocket::ZeroCopyMode zeroCopyMode = BlightSocket::ZeroCopyMode::Auto;
    QString zeroCopyModeName = QStringLiteral("auto");
};

/*! The pattern seed of frame \a frame (f * 7 + 3), so that neighbouring frames differ. */
inline quint64 frameSeed(qint64 frame)
{
    return quint64(frame) * 7 + 3;
}

/*! CPU time of the calling thread, in nanoseconds (CLOCK_THREAD_CPUTIME_ID). */
qint64 threadCpuNs();

class DemoLink : public QObject
{
    Q_OBJECT

public:
    /*! UnixSharedMemory: a socket pair with shared memory enabled on both
        sides; frames go from a memfd pool and are checked in place. */
    enum class Kind { UnixMessages, UnixSharedMemory, TcpMessages, TcpRaw };

    DemoLink(const QString &name, Kind kind, const DemoConfig &config, QObject *parent = nullptr);

    void start();
    void abandon(const QString &reason) { failLink(reason); }
    QString name() const { return m_name; }
    BlightSocket *sender() const { return m_sender; }
    BlightSocket *receiver() const { return m_receiver; }
    double progress() const;
    qint64 bytesChecked() const { return m_bytesChecked; }
    /*! Thread CPU spent making payloads, and checking what arrived: the
        demo's own work, not the transport's. */
    qint64 generationCpuNs() const { return m_generationNs; }
    qint64 checkingCpuNs() const { return m_checkingNs; }
    bool isDone() const { return m_done; }
    QJsonObject summary() const;

Q_SIGNALS:
    void socketsReady();
    void finished();

private:
    Message expectedMessage(qint64 k) const;
    qint64 frameIndexOf(qint64 k) const;
    void wireSender();
    void wireReceiver();
    void generateBurst();
    void pump();
    void receiveMessage(const Blight::Message &message);
    void receiveRawChunk(const QByteArray &chunk);
    void checkInbox();
    void checkMessage(const Blight::Message &message);
    void checkRawChunk(const QByteArray &chunk);
    void checkFinished();
    void failLink(const QString &reason);
    // The shared-memory link (demosharedmemory.cpp).
    bool isSharedMemory() const { return m_kind == Kind::UnixSharedMemory; }
    void setUpSharedMemory();
    void watchAgreement();
    bool sharedMemoryReady() const;
    /*! Sends frame \a frame from the pool; false when no buffer is free
        (bufferAvailable() resumes) or the send was refused (link failed). */
    bool sendFrameFromPool(const Message &message, qint64 frame);
    void receiveFrame(Blight::MessageType type, quint32 ackid, const Blight::BlightBuffer &frame);
    QJsonObject sharedMemorySummary() const;

    QString m_name;
    Kind m_kind;
    DemoConfig m_config;
    BlightSocket *m_sender = nullptr;
    BlightSocket *m_receiver = nullptr;
    BlightServer *m_server = nullptr;
    qint64 m_total = 0;
    qint64 m_frameStride = 0;
    qint64 m_sent = 0;
    qint64 m_received = 0;
    qint64 m_framesReceived = 0;
    qint64 m_rawOffset = 0;
    qint64 m_bytesChecked = 0;
    qint64 m_acksExpected = 0;
    qint64 m_acksReceived = 0;
    QHash<quint32, MessageType> m_awaitedAcks;
    // Generated ahead of sending and checked after arrival, a batch at a
    // time, so that each batch is timed with two clock reads.
    QList<Message> m_ready;
    qsizetype m_readyAt = 0;
    QList<Message> m_inbox;
    QList<QByteArray> m_rawInbox;
    QList<Message> m_replies;
    // Shared-memory link: the pool, the frames held until their batch is
    // checked (dropping them sends the release), and what was seen of them.
    BlightBufferPool *m_pool = nullptr;
    QList<BlightBuffer> m_heldFrames;
    bool m_waitingForBuffer = false;
    bool m_agreed = false;
    qint64 m_sharedFrames = 0;
    qint64 m_framesInMemfd = 0;
    qint64 m_peakMappedBytes = 0;
    bool m_checkQueued = false;
    bool m_pumping = false;
    qint64 m_generationNs = 0;
    qint64 m_checkingNs = 0;
    QElapsedTimer m_clock;
    qint64 m_elapsedNs = 0;
    SocketStatistics m_senderStats;
    SocketStatistics m_receiverStats;
    BlightSocket::ZeroCopyState m_zeroCopyState = BlightSocket::ZeroCopyState::Unsupported;
    QString m_zeroCopyReason;
    bool m_closing = false;
    bool m_senderClosed = false;
    bool m_receiverClosed = false;
    bool m_done = false;
    bool m_failed = false;
    QString m_failure;
};

/*! A QGuiApplication when \a gui and the panel is built, else a QCoreApplication;
    offscreen when \a offscreen (a --screenshot without --gui). */
std::unique_ptr<QCoreApplication> createDemoApplication(int &argc, char **argv, bool gui, bool offscreen);

class DemoPanel;
/*! Opens the panel before the links start, so that it sees all their
    traffic; it follows their sockets as they connect. Shown in a window when
    \a window. Returns nullptr (error printed) when the panel cannot load. */
std::shared_ptr<DemoPanel> openDemoPanel(const QList<DemoLink *> &links, bool window);
/*! Renders the panel (offscreen) into \a path as PNG. */
bool saveDemoPanel(DemoPanel *panel, const QString &path);

} // namespace Blight::Cli
