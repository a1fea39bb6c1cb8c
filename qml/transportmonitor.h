// TransportMonitor: the QML-visible watcher of one BlightSocket, sampled on a
// timer, and RangeLogModel, its rolling log of released zero-copy ranges.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QAbstractListModel>
#include <QtCore/QBasicTimer>
#include <QtCore/QDateTime>
#include <QtCore/QElapsedTimer>
#include <QtCore/QList>
#include <QtCore/QPointer>
#include <QtQml/qqml.h>

#if defined(BLIGHTTRANSPORTQML_LIBRARY)
#  define BLIGHTTRANSPORTQML_EXPORT Q_DECL_EXPORT
#else
#  define BLIGHTTRANSPORTQML_EXPORT Q_DECL_IMPORT
#endif

namespace Blight {

/*!
    \class Blight::RangeLogModel
    \brief The last released zero-copy ranges of a socket, newest first.

    Roles: \c lo, \c hi, \c count (sends in the range, wrap-aware), \c time
    (a Date), \c copied (the kernel reported SO_EE_CODE_ZEROCOPY_COPIED).
*/
class BLIGHTTRANSPORTQML_EXPORT RangeLogModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("RangeLogModel belongs to a TransportMonitor")
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(int capacity READ capacity WRITE setCapacity NOTIFY capacityChanged)

public:
    struct Range
    {
        quint32 lo = 0;
        quint32 hi = 0;
        QDateTime time;
        bool copied = false;
        qint64 count() const { return qint64(quint32(hi - lo)) + 1; }
    };
    enum Role { LoRole = Qt::UserRole + 1, HiRole, CountRole, TimeRole, CopiedRole };
    Q_ENUM(Role)

    explicit RangeLogModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    int count() const { return int(m_ranges.size()); }
    int capacity() const { return m_capacity; }
    void setCapacity(int capacity);

    /*! Row \a row as a map with the role names as keys; empty when out of range. */
    Q_INVOKABLE QVariantMap get(int row) const;
    /*! Adds \a ranges (oldest first) at the top and trims to capacity(). */
    void prepend(const QList<Range> &ranges);
    Q_INVOKABLE void clear();

Q_SIGNALS:
    void countChanged();
    void capacityChanged();

private:
    QList<Range> m_ranges; // newest first
    int m_capacity = 20;
};

/*!
    \class Blight::TransportMonitor
    \brief Exposes the live state of one BlightSocket to QML.

    The monitor reads the socket's statistics on a timer (interval(), 100 ms
    by default), never per message, and emits a NOTIFY signal only for what
    changed since the last sample. Completion ranges are collected as the
    socket reports them and published with the next sample.
*/
class BLIGHTTRANSPORTQML_EXPORT TransportMonitor : public QObject
{
    Q_OBJECT
    QML_ELEMENT

    Q_PROPERTY(QObject *socket READ socket WRITE setSocket NOTIFY socketChanged)
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
    Q_PROPERTY(QString badgeText READ badgeText NOTIFY zeroCopyChanged)

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

    Q_PROPERTY(double sendRate READ sendRate NOTIFY throughputChanged)
    Q_PROPERTY(double receiveRate READ receiveRate NOTIFY throughputChanged)
    Q_PROPERTY(double throughput READ throughput NOTIFY throughputChanged)
    Q_PROPERTY(double peakThroughput READ peakThroughput NOTIFY throughputChanged)
    Q_PROPERTY(QList<qreal> throughputHistory READ throughputHistory NOTIFY throughputChanged)

    Q_PROPERTY(Blight::RangeLogModel *rangeLog READ rangeLog CONSTANT)
    Q_PROPERTY(double rangesSeen READ rangesSeen NOTIFY countersChanged)

public:
    /*! BlightSocket::ZeroCopyState, plus NoSocket while nothing is watched. */
    enum class ZeroCopyState { NoSocket, Unsupported, Disabled, Active, BackedOff, Budget };
    Q_ENUM(ZeroCopyState)

    explicit TransportMonitor(QObject *parent = nullptr);
    ~TransportMonitor() override;

    QObject *socket() const;
    BlightSocket *blightSocket() const { return m_socket; }
    /*! Watches \a socket, which must be a Blight::BlightSocket (or null). */
    void setSocket(QObject *socket);
    int interval() const { return m_interval; }
    void setInterval(int msecs);
    bool isRunning() const { return m_running; }
    void setRunning(bool running);
    int historyLength() const { return m_historyLength; }
    void setHistoryLength(int samples);
    int samples() const { return m_samples; }

    QString endpoint() const { return m_endpoint; }
    QString socketKind() const { return m_socketKind; }
    QString connectionState() const { return m_connectionState; }

    bool zeroCopyActive() const { return m_zeroCopyState == ZeroCopyState::Active; }
    ZeroCopyState zeroCopyState() const { return m_zeroCopyState; }
    QString zeroCopyReason() const { return m_zeroCopyReason; }
    /*! The panel badge: says the state in words, never by colour alone. */
    QString badgeText() const;

    // Sizes go to QML as numbers, as the counters below.
    double zeroCopyThreshold() const { return double(m_threshold); }
    double pendingBytesLimit() const { return double(m_pendingBytesLimit); }
    int pendingBuffersLimit() const { return m_pendingBuffersLimit; }

    double pendingBuffers() const { return double(m_stats.pendingBuffers); }
    double pendingBytes() const { return double(m_stats.pendingBytes); }
    double peakPendingBytes() const { return double(m_stats.peakPendingBytes); }
    double pendingFraction() const;
    double peakPendingFraction() const;
    double queuedBytes() const { return double(m_stats.queuedBytes); }
    // 64-bit counters go to QML as numbers (exact up to 2^53).
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

    /*! Bytes per second sent, received, and both, over the last sample. */
    double sendRate() const { return m_sendRate; }
    double receiveRate() const { return m_receiveRate; }
    double throughput() const { return m_sendRate + m_receiveRate; }
    double peakThroughput() const { return m_peakThroughput; }
    /*! throughput() of the last historyLength() samples, oldest first. */
    QList<qreal> throughputHistory() const { return m_history; }

    RangeLogModel *rangeLog() const { return m_rangeLog; }
    double rangesSeen() const { return double(m_rangesSeen); }

    /*! A text for a byte count: "512 B", "12.5 KiB", "3.20 MiB". */
    static QString formatBytes(double bytes);
    /*! A text for a duration in microseconds: "850 µs", "1.25 ms", "—" for none. */
    static QString formatMicroseconds(double micros);
    /*! A count with thousands separators: "1,234,567". */
    static QString formatCount(double count);

public Q_SLOTS:
    /*! Reads the socket now, outside the timer (e.g. before a screenshot). */
    void sample();

Q_SIGNALS:
    void socketChanged();
    void intervalChanged();
    void runningChanged();
    void historyLengthChanged();
    void sampled();
    void endpointChanged();
    void connectionStateChanged();
    void zeroCopyChanged();
    void limitsChanged();
    void countersChanged();
    void throughputChanged();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    void attach(BlightSocket *socket);
    void updateTimer();
    void readIdentity();
    void readZeroCopy();
    void readLimits();
    void resetCounters();
    void onCompletion(quint32 lo, quint32 hi, bool copied);

    QPointer<BlightSocket> m_socket;
    QList<QMetaObject::Connection> m_connections;
    QBasicTimer m_timer;
    int m_interval = 100;
    bool m_running = true;
    int m_historyLength = 120;
    int m_samples = 0;

    QString m_endpoint;
    QString m_socketKind;
    QString m_connectionState;
    BlightSocket::SocketKind m_kind = BlightSocket::SocketKind::None;
    ZeroCopyState m_zeroCopyState = ZeroCopyState::NoSocket;
    QString m_zeroCopyReason;
    qint64 m_threshold = 0;
    qint64 m_pendingBytesLimit = 0;
    int m_pendingBuffersLimit = 0;

    SocketStatistics m_stats;
    quint64 m_systemCalls = 0;
    QElapsedTimer m_clock;
    qint64 m_lastSampleNs = -1;
    double m_sendRate = 0;
    double m_receiveRate = 0;
    double m_peakThroughput = 0;
    QList<qreal> m_history;

    RangeLogModel *m_rangeLog;
    QList<RangeLogModel::Range> m_newRanges; // since the last sample, oldest first
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
    explicit TransportFormat(QObject *parent = nullptr) : QObject(parent) {}
    Q_INVOKABLE QString bytes(double bytes) const { return TransportMonitor::formatBytes(bytes); }
    Q_INVOKABLE QString microseconds(double micros) const { return TransportMonitor::formatMicroseconds(micros); }
    Q_INVOKABLE QString count(double count) const { return TransportMonitor::formatCount(count); }
};

} // namespace Blight
