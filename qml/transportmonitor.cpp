// TransportMonitor and RangeLogModel: timer-sampled socket state for the panel.
#include "transportmonitor.h"

#include <QtCore/QLocale>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTimerEvent>

#include <algorithm>
#include <cmath>

namespace Blight {

namespace {
Q_LOGGING_CATEGORY(lcMonitor, "oxide.blight.monitor", QtWarningMsg)

QString kindText(BlightSocket::SocketKind kind)
{
    switch (kind) {
    case BlightSocket::SocketKind::None: return QStringLiteral("not connected");
    case BlightSocket::SocketKind::UnixStream: return QStringLiteral("AF_UNIX stream");
    case BlightSocket::SocketKind::UnixSeqPacket: return QStringLiteral("AF_UNIX seqpacket");
    case BlightSocket::SocketKind::Tcp4: return QStringLiteral("TCP / IPv4");
    case BlightSocket::SocketKind::Tcp6: return QStringLiteral("TCP / IPv6");
    case BlightSocket::SocketKind::Udp4: return QStringLiteral("UDP / IPv4");
    case BlightSocket::SocketKind::Udp6: return QStringLiteral("UDP / IPv6");
    }
    return QStringLiteral("unknown");
}

QString stateText(BlightSocket::State state)
{
    switch (state) {
    case BlightSocket::State::Unconnected: return QStringLiteral("unconnected");
    case BlightSocket::State::Connecting: return QStringLiteral("connecting");
    case BlightSocket::State::Connected: return QStringLiteral("connected");
    case BlightSocket::State::Closing: return QStringLiteral("closing");
    }
    return QStringLiteral("unknown");
}

TransportMonitor::ZeroCopyState fromSocket(BlightSocket::ZeroCopyState state)
{
    switch (state) {
    case BlightSocket::ZeroCopyState::Unsupported: return TransportMonitor::ZeroCopyState::Unsupported;
    case BlightSocket::ZeroCopyState::Disabled: return TransportMonitor::ZeroCopyState::Disabled;
    case BlightSocket::ZeroCopyState::Active: return TransportMonitor::ZeroCopyState::Active;
    case BlightSocket::ZeroCopyState::BackedOff: return TransportMonitor::ZeroCopyState::BackedOff;
    case BlightSocket::ZeroCopyState::Budget: return TransportMonitor::ZeroCopyState::Budget;
    }
    return TransportMonitor::ZeroCopyState::Unsupported;
}

// The counters the panel shows; a sample that changes none of them emits nothing.
bool sameCounters(const SocketStatistics &a, const SocketStatistics &b)
{
    return a.messagesSent == b.messagesSent && a.bytesSent == b.bytesSent
        && a.messagesReceived == b.messagesReceived && a.bytesReceived == b.bytesReceived
        && a.queuedBytes == b.queuedBytes && a.zeroCopySends == b.zeroCopySends
        && a.copySends == b.copySends && a.zeroCopyBytes == b.zeroCopyBytes
        && a.completions == b.completions && a.copiedCompletions == b.copiedCompletions
        && a.releasedBuffers == b.releasedBuffers && a.pendingBuffers == b.pendingBuffers
        && a.pendingBytes == b.pendingBytes && a.peakPendingBytes == b.peakPendingBytes
        && a.noBufferErrors == b.noBufferErrors && a.wouldBlock == b.wouldBlock
        && a.backOffs == b.backOffs && a.errors == b.errors
        && a.releaseLatencyP50 == b.releaseLatencyP50 && a.releaseLatencyP99 == b.releaseLatencyP99
        && a.releaseLatencyMax == b.releaseLatencyMax;
}
} // namespace

// ---------------------------------------------------------------- RangeLogModel

RangeLogModel::RangeLogModel(QObject *parent)
    : QAbstractListModel(parent)
{
}

int RangeLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_ranges.size());
}

QVariant RangeLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Range &range = m_ranges.at(index.row());
    switch (role) {
    case LoRole: return QVariant::fromValue(double(range.lo));
    case HiRole: return QVariant::fromValue(double(range.hi));
    case CountRole: return QVariant::fromValue(double(range.count()));
    case TimeRole: return range.time;
    case CopiedRole: return range.copied;
    case Qt::DisplayRole:
        return QStringLiteral("%1..%2%3").arg(range.lo).arg(range.hi).arg(
            range.copied ? QStringLiteral(" copied") : QString());
    default: return {};
    }
}

QHash<int, QByteArray> RangeLogModel::roleNames() const
{
    return {{LoRole, "lo"}, {HiRole, "hi"}, {CountRole, "count"}, {TimeRole, "time"}, {CopiedRole, "copied"}};
}

void RangeLogModel::setCapacity(int capacity)
{
    capacity = std::max(1, capacity);
    if (capacity == m_capacity)
        return;
    m_capacity = capacity;
    if (m_ranges.size() > m_capacity) {
        beginRemoveRows({}, m_capacity, int(m_ranges.size()) - 1);
        m_ranges.resize(m_capacity);
        endRemoveRows();
        Q_EMIT countChanged();
    }
    Q_EMIT capacityChanged();
}

QVariantMap RangeLogModel::get(int row) const
{
    QVariantMap map;
    if (row < 0 || row >= m_ranges.size())
        return map;
    const QHash<int, QByteArray> roles = roleNames();
    for (auto it = roles.cbegin(); it != roles.cend(); ++it)
        map.insert(QString::fromLatin1(it.value()), data(index(row), it.key()));
    return map;
}

void RangeLogModel::prepend(const QList<Range> &ranges)
{
    if (ranges.isEmpty())
        return;
    const qsizetype take = std::min<qsizetype>(ranges.size(), m_capacity);
    const qsizetype oldCount = m_ranges.size();
    // Trim the oldest rows first so that the model never exceeds capacity.
    const qsizetype keep = std::min<qsizetype>(oldCount, m_capacity - take);
    if (keep < oldCount) {
        beginRemoveRows({}, int(keep), int(oldCount) - 1);
        m_ranges.resize(keep);
        endRemoveRows();
    }
    beginInsertRows({}, 0, int(take) - 1);
    QList<Range> fresh;
    fresh.reserve(take + m_ranges.size());
    for (qsizetype i = ranges.size() - 1; i >= ranges.size() - take; --i)
        fresh.append(ranges.at(i));
    fresh.append(m_ranges);
    m_ranges = std::move(fresh);
    endInsertRows();
    if (m_ranges.size() != oldCount)
        Q_EMIT countChanged();
}

void RangeLogModel::clear()
{
    if (m_ranges.isEmpty())
        return;
    beginResetModel();
    m_ranges.clear();
    endResetModel();
    Q_EMIT countChanged();
}

// ------------------------------------------------------------- TransportMonitor

TransportMonitor::TransportMonitor(QObject *parent)
    : QObject(parent)
    , m_rangeLog(new RangeLogModel(this))
{
    m_clock.start();
}

TransportMonitor::~TransportMonitor() = default;

QObject *TransportMonitor::socket() const
{
    return m_socket.data();
}

void TransportMonitor::setSocket(QObject *object)
{
    auto *socket = qobject_cast<BlightSocket *>(object);
    if (object && !socket) {
        qCWarning(lcMonitor) << "TransportMonitor: not a Blight::BlightSocket:" << object;
        return;
    }
    if (socket == m_socket.data())
        return;
    attach(socket);
}

void TransportMonitor::attach(BlightSocket *socket)
{
    for (const QMetaObject::Connection &connection : std::as_const(m_connections))
        disconnect(connection);
    m_connections.clear();
    m_socket = socket;
    m_newRanges.clear();
    m_rangeLog->clear();
    m_rangesSeen = 0;
    m_history.clear();
    m_lastSampleNs = -1;
    m_sendRate = m_receiveRate = m_peakThroughput = 0;
    resetCounters();

    if (socket) {
        // Only the rare state changes are followed as they happen; counters wait for the timer.
        m_connections = {
            connect(socket, &BlightSocket::completionReceived, this, &TransportMonitor::onCompletion),
            connect(socket, &BlightSocket::endpointChanged, this, &TransportMonitor::readIdentity),
            connect(socket, &BlightSocket::stateChanged, this, &TransportMonitor::readIdentity),
            connect(socket, &BlightSocket::zeroCopyStateChanged, this, &TransportMonitor::readZeroCopy),
            connect(socket, &BlightSocket::zeroCopyThresholdChanged, this, &TransportMonitor::readLimits),
            connect(socket, &BlightSocket::pendingBytesLimitChanged, this, &TransportMonitor::readLimits),
            connect(socket, &BlightSocket::pendingBuffersLimitChanged, this, &TransportMonitor::readLimits),
            // The QPointer is already null here, so detach unconditionally.
            connect(socket, &QObject::destroyed, this, [this] { attach(nullptr); }),
        };
    }
    readIdentity();
    readZeroCopy();
    readLimits();
    Q_EMIT socketChanged();
    Q_EMIT throughputChanged();
    sample();
    updateTimer();
}

void TransportMonitor::setInterval(int msecs)
{
    msecs = std::max(10, msecs);
    if (msecs == m_interval)
        return;
    m_interval = msecs;
    updateTimer();
    Q_EMIT intervalChanged();
}

void TransportMonitor::setRunning(bool running)
{
    if (running == m_running)
        return;
    m_running = running;
    updateTimer();
    Q_EMIT runningChanged();
}

void TransportMonitor::setHistoryLength(int length)
{
    length = std::max(2, length);
    if (length == m_historyLength)
        return;
    m_historyLength = length;
    if (m_history.size() > m_historyLength) {
        m_history.remove(0, m_history.size() - m_historyLength);
        Q_EMIT throughputChanged();
    }
    Q_EMIT historyLengthChanged();
}

void TransportMonitor::updateTimer()
{
    if (m_running && m_socket)
        m_timer.start(m_interval, Qt::CoarseTimer, this);
    else
        m_timer.stop();
}

void TransportMonitor::timerEvent(QTimerEvent *event)
{
    if (event->timerId() == m_timer.timerId()) {
        sample();
        return;
    }
    QObject::timerEvent(event);
}

QString TransportMonitor::badgeText() const
{
    switch (m_zeroCopyState) {
    case ZeroCopyState::NoSocket:
        return QStringLiteral("NO SOCKET");
    case ZeroCopyState::Active:
        return QStringLiteral("ZERO-COPY ACTIVE");
    case ZeroCopyState::Unsupported:
        if (m_kind == BlightSocket::SocketKind::UnixStream || m_kind == BlightSocket::SocketKind::UnixSeqPacket)
            return QStringLiteral("COPY PATH: AF_UNIX");
        if (m_kind == BlightSocket::SocketKind::None)
            return QStringLiteral("COPY PATH: NOT CONNECTED");
        return QStringLiteral("COPY PATH: NO KERNEL SUPPORT");
    case ZeroCopyState::Disabled:
        return QStringLiteral("COPY PATH: ZERO-COPY OFF");
    case ZeroCopyState::BackedOff:
        return QStringLiteral("BACKED OFF: KERNEL COPIES");
    case ZeroCopyState::Budget:
        return QStringLiteral("BUDGET: PINNED MEMORY FULL");
    }
    return {};
}

double TransportMonitor::pendingFraction() const
{
    if (m_pendingBytesLimit <= 0)
        return 0;
    return std::clamp(double(m_stats.pendingBytes) / double(m_pendingBytesLimit), 0.0, 1.0);
}

double TransportMonitor::peakPendingFraction() const
{
    if (m_pendingBytesLimit <= 0)
        return 0;
    return std::clamp(double(m_stats.peakPendingBytes) / double(m_pendingBytesLimit), 0.0, 1.0);
}

void TransportMonitor::readIdentity()
{
    const QString endpoint = m_socket ? m_socket->endpoint() : QString();
    const BlightSocket::SocketKind kind = m_socket ? m_socket->kind() : BlightSocket::SocketKind::None;
    const QString state = m_socket ? stateText(m_socket->state()) : QStringLiteral("no socket");
    if (endpoint != m_endpoint || kind != m_kind || m_socketKind.isEmpty()) {
        m_endpoint = endpoint;
        m_kind = kind;
        m_socketKind = kindText(kind);
        Q_EMIT endpointChanged();
        // The badge wording depends on the kind.
        Q_EMIT zeroCopyChanged();
    }
    if (state != m_connectionState) {
        m_connectionState = state;
        Q_EMIT connectionStateChanged();
    }
}

void TransportMonitor::readZeroCopy()
{
    const ZeroCopyState state = m_socket ? fromSocket(m_socket->zeroCopyState()) : ZeroCopyState::NoSocket;
    const QString reason = m_socket ? m_socket->zeroCopyReason() : QString();
    if (state == m_zeroCopyState && reason == m_zeroCopyReason)
        return;
    m_zeroCopyState = state;
    m_zeroCopyReason = reason;
    Q_EMIT zeroCopyChanged();
}

void TransportMonitor::readLimits()
{
    const qint64 threshold = m_socket ? m_socket->zeroCopyThreshold() : 0;
    const qint64 bytesLimit = m_socket ? m_socket->pendingBytesLimit() : 0;
    const int buffersLimit = m_socket ? m_socket->pendingBuffersLimit() : 0;
    if (threshold == m_threshold && bytesLimit == m_pendingBytesLimit && buffersLimit == m_pendingBuffersLimit)
        return;
    m_threshold = threshold;
    m_pendingBytesLimit = bytesLimit;
    m_pendingBuffersLimit = buffersLimit;
    Q_EMIT limitsChanged();
    Q_EMIT countersChanged(); // the fractions depend on the cap
}

void TransportMonitor::resetCounters()
{
    m_stats = SocketStatistics();
    m_systemCalls = 0;
    Q_EMIT countersChanged();
}

void TransportMonitor::onCompletion(quint32 lo, quint32 hi, bool copied)
{
    // Called per completion range (the kernel coalesces many sends into one):
    // just remember it; the model is updated with the next sample.
    ++m_rangesSeen;
    m_newRanges.append({lo, hi, QDateTime::currentDateTime(), copied});
    if (m_newRanges.size() > m_rangeLog->capacity())
        m_newRanges.removeFirst();
}

void TransportMonitor::sample()
{
    ++m_samples;
    if (!m_socket) {
        Q_EMIT sampled();
        return;
    }
    readIdentity();
    readZeroCopy();
    readLimits();

    const SocketStatistics stats = m_socket->statistics();
    const quint64 systemCalls = m_socket->systemCalls();
    const qint64 now = m_clock.nsecsElapsed();
    if (m_lastSampleNs >= 0 && now > m_lastSampleNs) {
        const double seconds = double(now - m_lastSampleNs) / 1e9;
        m_sendRate = double(stats.bytesSent - std::min(stats.bytesSent, m_stats.bytesSent)) / seconds;
        m_receiveRate = double(stats.bytesReceived - std::min(stats.bytesReceived, m_stats.bytesReceived)) / seconds;
        m_peakThroughput = std::max(m_peakThroughput, throughput());
        // An idle socket with a flat history changes nothing on screen: stay
        // quiet, which matters on e-ink where every repaint shows.
        const bool flat = throughput() == 0
            && std::all_of(m_history.cbegin(), m_history.cend(), [](qreal value) { return value == 0; });
        if (!flat) {
            if (m_history.isEmpty())
                m_history.append(0); // the idle baseline the traffic rose from
            m_history.append(throughput());
            if (m_history.size() > m_historyLength)
                m_history.remove(0, m_history.size() - m_historyLength);
            Q_EMIT throughputChanged();
        }
    }
    m_lastSampleNs = now;

    const bool changed = !sameCounters(stats, m_stats) || systemCalls != m_systemCalls || !m_newRanges.isEmpty();
    m_stats = stats;
    m_systemCalls = systemCalls;
    if (!m_newRanges.isEmpty()) {
        m_rangeLog->prepend(m_newRanges);
        m_newRanges.clear();
    }
    if (changed)
        Q_EMIT countersChanged();
    Q_EMIT sampled();
}

QString TransportMonitor::formatBytes(double bytes)
{
    const double magnitude = std::abs(bytes);
    if (magnitude < 1024)
        return QStringLiteral("%1 B").arg(qint64(bytes));
    if (magnitude < 1024.0 * 1024)
        return QStringLiteral("%1 KiB").arg(bytes / 1024, 0, 'f', 1);
    if (magnitude < 1024.0 * 1024 * 1024)
        return QStringLiteral("%1 MiB").arg(bytes / (1024.0 * 1024), 0, 'f', 2);
    return QStringLiteral("%1 GiB").arg(bytes / (1024.0 * 1024 * 1024), 0, 'f', 2);
}

QString TransportMonitor::formatMicroseconds(double micros)
{
    if (micros <= 0)
        return QStringLiteral("—");
    if (micros < 1000)
        return QStringLiteral("%1 µs").arg(micros, 0, 'f', micros < 10 ? 1 : 0);
    if (micros < 1e6)
        return QStringLiteral("%1 ms").arg(micros / 1000, 0, 'f', 2);
    return QStringLiteral("%1 s").arg(micros / 1e6, 0, 'f', 2);
}

QString TransportMonitor::formatCount(double count)
{
    return QLocale(QLocale::English).toString(qint64(count));
}

} // namespace Blight
