// SPDX-License-Identifier: MIT
// TransportMonitor: the QML-visible watcher of one BlightSocket, which may live in another thread.
#pragma once

#include "rangelogmodel.h"
#include "socketprobe.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QBasicTimer>
#include <QtCore/QList>
#include <QtCore/QPointer>
#include <QtQml/qqml.h>

namespace Blight {

/*!
    \class Blight::TransportMonitor
    \brief Exposes the live state of one BlightSocket to QML.

    The monitor reads the socket on a timer (interval(), 100 ms by default),
    never per message, and emits a NOTIFY signal only for what changed since
    the last sample. It never calls into the socket from its own thread: a
    SocketProbe in the socket's thread takes each snapshot and posts it back
    (synchronously when both share a thread), and the controls
    (requestZeroCopyMode(), requestReadingPaused(), resetStatistics()) travel
    the same way. State changes, errors and zero-copy transitions are pushed
    as they happen and fill eventLog().
*/
class BLIGHTTRANSPORTQML_EXPORT TransportMonitor : public QObject
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(QObject *socket READ socket WRITE setSocket NOTIFY socketChanged)
    Q_PROPERTY(QString label READ label WRITE setLabel NOTIFY labelChanged)
    Q_PROPERTY(int interval READ interval WRITE setInterval NOTIFY intervalChanged)
    Q_PROPERTY(bool running READ isRunning WRITE setRunning NOTIFY runningChanged)
    Q_PROPERTY(int historyLength READ historyLength WRITE setHistoryLength NOTIFY historyLengthChanged)
    Q_PROPERTY(int samples READ samples NOTIFY sampled)

    Q_PROPERTY(QString endpoint READ endpoint NOTIFY endpointChanged)
    Q_PROPERTY(QString socketKind READ socketKind NOTIFY endpointChanged)
    Q_PROPERTY(QString connectionState READ connectionState NOTIFY connectionStateChanged)

    Q_PROPERTY(bool zeroCopyActive READ zeroCopyActive NOTIFY zeroCopyChanged)
    Q_PROPERTY(ZeroCopyState zeroCopyState READ zeroCopyState NOTIFY zeroCopyChanged)
    Q_PROPERTY(QString zeroCopyReason READ zeroCopyReason NOTIFY zeroCopyChanged)
    /*! "io_uring" or "MSG_ZEROCOPY" on TCP and UDP, empty where there is no zero-copy. */
    Q_PROPERTY(QString zeroCopyBackend READ zeroCopyBackend NOTIFY zeroCopyChanged)
    Q_PROPERTY(QString badgeText READ badgeText NOTIFY zeroCopyChanged)
    Q_PROPERTY(QString pathText READ pathText NOTIFY zeroCopyChanged)

    Q_PROPERTY(QString zeroCopyMode READ zeroCopyMode NOTIFY controlsChanged)
    Q_PROPERTY(bool readingPaused READ readingPaused NOTIFY controlsChanged)

    Q_PROPERTY(double zeroCopyThreshold READ zeroCopyThreshold NOTIFY limitsChanged)
    Q_PROPERTY(double pendingBytesLimit READ pendingBytesLimit NOTIFY limitsChanged)
    Q_PROPERTY(int pendingBuffersLimit READ pendingBuffersLimit NOTIFY limitsChanged)

    Q_PROPERTY(double pendingBuffers READ pendingBuffers NOTIFY countersChanged)
    Q_PROPERTY(double pendingBytes READ pendingBytes NOTIFY countersChanged)
    Q_PROPERTY(double peakPendingBytes READ peakPendingBytes NOTIFY countersChanged)
    Q_PROPERTY(double pendingFraction READ pendingFraction NOTIFY countersChanged)
    Q_PROPERTY(double peakPendingFraction READ peakPendingFraction NOTIFY countersChanged)
    Q_PROPERTY(double queuedBytes READ queuedBytes NOTIFY countersChanged)
    Q_PROPERTY(double messagesSent READ messagesSent NOTIFY countersChanged)
    Q_PROPERTY(double bytesSent READ bytesSent NOTIFY countersChanged)
    Q_PROPERTY(double messagesReceived READ messagesReceived NOTIFY countersChanged)
    Q_PROPERTY(double bytesReceived READ bytesReceived NOTIFY countersChanged)
    Q_PROPERTY(double zeroCopySends READ zeroCopySends NOTIFY countersChanged)
    Q_PROPERTY(double copySends READ copySends NOTIFY countersChanged)
    Q_PROPERTY(double zeroCopyBytes READ zeroCopyBytes NOTIFY countersChanged)
    Q_PROPERTY(double completions READ completions NOTIFY countersChanged)
    Q_PROPERTY(double copiedCompletions READ copiedCompletions NOTIFY countersChanged)
    Q_PROPERTY(double releasedBuffers READ releasedBuffers NOTIFY countersChanged)
    Q_PROPERTY(double noBufferErrors READ noBufferErrors NOTIFY countersChanged)
    Q_PROPERTY(double wouldBlock READ wouldBlock NOTIFY countersChanged)
    Q_PROPERTY(double backOffs READ backOffs NOTIFY countersChanged)
    Q_PROPERTY(double errors READ errors NOTIFY countersChanged)
    Q_PROPERTY(double systemCalls READ systemCalls NOTIFY countersChanged)
    Q_PROPERTY(double releaseLatencyP50 READ releaseLatencyP50 NOTIFY countersChanged)
    Q_PROPERTY(double releaseLatencyP99 READ releaseLatencyP99 NOTIFY countersChanged)
    Q_PROPERTY(double releaseLatencyMax READ releaseLatencyMax NOTIFY countersChanged)
    Q_PROPERTY(double mappedBytes READ mappedBytes NOTIFY countersChanged)

    Q_PROPERTY(double sendRate READ sendRate NOTIFY throughputChanged)
    Q_PROPERTY(double receiveRate READ receiveRate NOTIFY throughputChanged)
    Q_PROPERTY(double throughput READ throughput NOTIFY throughputChanged)
    Q_PROPERTY(double peakThroughput READ peakThroughput NOTIFY throughputChanged)
    Q_PROPERTY(QList<qreal> throughputHistory READ throughputHistory NOTIFY historyChanged)
    Q_PROPERTY(QList<qreal> pendingHistory READ pendingHistory NOTIFY historyChanged)
    Q_PROPERTY(QList<qreal> historyTimes READ historyTimes NOTIFY historyChanged)

    Q_PROPERTY(Blight::RangeLogModel *rangeLog READ rangeLog CONSTANT)
    Q_PROPERTY(Blight::EventLogModel *eventLog READ eventLog CONSTANT)
    Q_PROPERTY(double rangesSeen READ rangesSeen NOTIFY countersChanged)

public:
    /*! BlightSocket::ZeroCopyState, plus NoSocket while nothing is watched. */
    enum class ZeroCopyState { NoSocket, Unsupported, Disabled, Active, BackedOff, Budget, SharedMemory };
    Q_ENUM(ZeroCopyState)

    explicit TransportMonitor(QObject *parent = nullptr);
    ~TransportMonitor() override;

    QObject *socket() const;
    /*! Watches \a socket, which must be a Blight::BlightSocket (or null) and
        may live in any thread; it must be alive when it is set. */
    void setSocket(QObject *socket);
    /*! What the application calls this socket ("demo unix sender"); the panel's row heading. */
    QString label() const { return m_label; }
    void setLabel(const QString &label);
    int interval() const { return m_interval; }
    void setInterval(int msecs);
    bool isRunning() const { return m_running; }
    void setRunning(bool running);
    int historyLength() const { return m_historyLength; }
    void setHistoryLength(int samples);
    int samples() const { return m_samples; }

    /*! The last endpoint the socket reported; kept after it closed. */
    QString endpoint() const { return m_endpoint; }
    QString socketKind() const { return socketKindText(m_kind); }
    /*! "connected", ..., and "closed" for a socket that was connected and is no longer. */
    QString connectionState() const;

    bool zeroCopyActive() const { return m_zeroCopyState == ZeroCopyState::Active; }
    ZeroCopyState zeroCopyState() const { return m_zeroCopyState; }
    QString zeroCopyReason() const { return m_zeroCopyReason; }
    QString zeroCopyBackend() const;
    /*! The panel badge: what happened in words, never by colour alone;
        "KERNEL COPIED" when every completion came back COPIED, "SHARED
        MEMORY" once frames went through a shared-memory pool. */
    QString badgeText() const;
    /*! badgeText() in at most 16 characters, for the overview row. */
    QString pathText() const;

    /*! "auto", "on" or "off", as the socket last reported it. */
    QString zeroCopyMode() const;
    bool readingPaused() const { return m_readingPaused; }

    // Sizes and 64-bit counters go to QML as numbers (exact up to 2^53).
    double zeroCopyThreshold() const { return double(m_threshold); }
    double pendingBytesLimit() const { return double(m_pendingBytesLimit); }
    int pendingBuffersLimit() const { return m_pendingBuffersLimit; }

    double pendingBuffers() const { return double(m_stats.pendingBuffers); }
    double pendingBytes() const { return double(m_stats.pendingBytes); }
    double peakPendingBytes() const { return double(m_stats.peakPendingBytes); }
    double pendingFraction() const;
    double peakPendingFraction() const;
    double queuedBytes() const { return double(m_stats.queuedBytes); }
    double messagesSent() const { return double(m_stats.messagesSent); }
    double bytesSent() const { return double(m_stats.bytesSent); }
    double messagesReceived() const { return double(m_stats.messagesReceived); }
    double bytesReceived() const { return double(m_stats.bytesReceived); }
    double zeroCopySends() const { return double(m_stats.zeroCopySends); }
    double copySends() const { return double(m_stats.copySends); }
    double zeroCopyBytes() const { return double(m_stats.zeroCopyBytes); }
    double completions() const { return double(m_stats.completions); }
    double copiedCompletions() const { return double(m_stats.copiedCompletions); }
    double releasedBuffers() const { return double(m_stats.releasedBuffers); }
    double noBufferErrors() const { return double(m_stats.noBufferErrors); }
    double wouldBlock() const { return double(m_stats.wouldBlock); }
    double backOffs() const { return double(m_stats.backOffs); }
    double errors() const { return double(m_stats.errors); }
    double systemCalls() const { return double(m_systemCalls); }
    double releaseLatencyP50() const { return m_stats.releaseLatencyP50; }
    double releaseLatencyP99() const { return m_stats.releaseLatencyP99; }
    double releaseLatencyMax() const { return m_stats.releaseLatencyMax; }
    /*! Bytes of the peer's shared-memory pools this socket maps (SocketStatistics::mappedBytes). */
    double mappedBytes() const { return double(m_stats.mappedBytes); }

    /*! Bytes per second sent, received, and both, over the last sample. */
    double sendRate() const { return m_sendRate; }
    double receiveRate() const { return m_receiveRate; }
    double throughput() const { return m_sendRate + m_receiveRate; }
    double peakThroughput() const { return m_peakThroughput; }
    /*! throughput() of the last historyLength() samples, oldest first. */
    QList<qreal> throughputHistory() const { return m_history; }
    /*! pendingBytes() at the same samples. */
    QList<qreal> pendingHistory() const { return m_pendingHistory; }
    /*! When each history sample was taken, in seconds since the monitor started watching. */
    QList<qreal> historyTimes() const { return m_historyTimes; }

    RangeLogModel *rangeLog() const { return m_rangeLog; }
    EventLogModel *eventLog() const { return m_eventLog; }
    double rangesSeen() const { return double(m_rangesSeen); }

    /*! A text for a byte count: "512 B", "12.5 KiB", "3.20 MiB". */
    static QString formatBytes(double bytes);
    /*! A text for a duration in microseconds: "850 µs", "1.25 ms", "—" for none. */
    static QString formatMicroseconds(double micros);
    /*! A count with thousands separators: "1,234,567". */
    static QString formatCount(double count);

public Q_SLOTS:
    /*! Reads the socket now, outside the timer (e.g. before a screenshot);
        synchronous when the socket lives in this thread. */
    void sample();
    /*! Sets the socket's zero-copy mode: "auto", "on" or "off". */
    void requestZeroCopyMode(const QString &mode);
    void requestReadingPaused(bool paused);
    /*! BlightSocket::resetStatistics(), and a fresh history here. */
    void resetStatistics();

Q_SIGNALS:
    void socketChanged();
    void labelChanged();
    void intervalChanged();
    void runningChanged();
    void historyLengthChanged();
    void sampled();
    void endpointChanged();
    void connectionStateChanged();
    void zeroCopyChanged();
    void controlsChanged();
    void limitsChanged();
    void countersChanged();
    void throughputChanged();
    void historyChanged();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    void attach(BlightSocket *socket);
    void detachProbe();
    void updateTimer();
    void clearHistory();
    void applySnapshot(const Blight::SocketSnapshot &snapshot);
    void applyIdentity(const SocketSnapshot &snapshot);
    void applyZeroCopy(const SocketSnapshot &snapshot);
    void applyRates(const SocketSnapshot &snapshot);

    QPointer<BlightSocket> m_socket; // identity only: never dereferenced here
    SocketRequests *m_requests;
    QList<QMetaObject::Connection> m_probeConnections;
    quint64 m_generation = 0; // of the current attachment
    bool m_sampleInFlight = false;
    QBasicTimer m_timer;
    QString m_label;
    int m_interval = 100;
    bool m_running = true;
    int m_historyLength = 120;
    int m_samples = 0;

    QString m_endpoint;
    BlightSocket::SocketKind m_kind = BlightSocket::SocketKind::None;
    BlightSocket::State m_state = BlightSocket::State::Unconnected;
    bool m_wasConnected = false;
    ZeroCopyState m_zeroCopyState = ZeroCopyState::NoSocket;
    QString m_zeroCopyReason;
    BlightSocket::ZeroCopyBackend m_zeroCopyBackend = BlightSocket::ZeroCopyBackend::MsgZeroCopy;
    BlightSocket::ZeroCopyMode m_zeroCopyMode = BlightSocket::ZeroCopyMode::Auto;
    bool m_readingPaused = false;
    qint64 m_threshold = 0;
    qint64 m_pendingBytesLimit = 0;
    int m_pendingBuffersLimit = 0;

    SocketStatistics m_stats;
    quint64 m_systemCalls = 0;
    qint64 m_watchStartNs = -1;
    qint64 m_lastSampleNs = -1;
    quint64 m_lastSampleSent = 0;
    quint64 m_lastSampleReceived = 0;
    double m_sendRate = 0;
    double m_receiveRate = 0;
    double m_peakThroughput = 0;
    QList<qreal> m_history;
    QList<qreal> m_pendingHistory;
    QList<qreal> m_historyTimes;

    RangeLogModel *m_rangeLog;
    EventLogModel *m_eventLog;
    quint64 m_rangesSeen = 0;
};

/*!
    \class Blight::TransportFormat
    \brief QML singleton with the panel's number formats (TransportFormat.bytes(n), ...).
*/
class BLIGHTTRANSPORTQML_EXPORT TransportFormat : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_SINGLETON

public:
    explicit TransportFormat(QObject *parent = nullptr)
        : QObject(parent)
    {
    }
    Q_INVOKABLE QString bytes(double bytes) const { return TransportMonitor::formatBytes(bytes); }
    Q_INVOKABLE QString microseconds(double micros) const { return TransportMonitor::formatMicroseconds(micros); }
    Q_INVOKABLE QString count(double count) const { return TransportMonitor::formatCount(count); }
};

} // namespace Blight
