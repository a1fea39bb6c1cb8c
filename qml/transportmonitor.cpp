// SPDX-License-Identifier: MIT
// TransportMonitor: timer-sampled socket state for the panel, read through a SocketProbe.
#include "transportmonitor.h"

#include <QtCore/QLocale>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTimerEvent>

#include <algorithm>
#include <cmath>

namespace Blight {

namespace {
Q_LOGGING_CATEGORY(lcMonitor, "oxide.blight.monitor", QtWarningMsg)

TransportMonitor::ZeroCopyState fromSocket(BlightSocket::ZeroCopyState state)
{
    switch (state) {
    case BlightSocket::ZeroCopyState::Unsupported:
        return TransportMonitor::ZeroCopyState::Unsupported;
    case BlightSocket::ZeroCopyState::Disabled:
        return TransportMonitor::ZeroCopyState::Disabled;
    case BlightSocket::ZeroCopyState::Active:
        return TransportMonitor::ZeroCopyState::Active;
    case BlightSocket::ZeroCopyState::BackedOff:
        return TransportMonitor::ZeroCopyState::BackedOff;
    case BlightSocket::ZeroCopyState::Budget:
        return TransportMonitor::ZeroCopyState::Budget;
    case BlightSocket::ZeroCopyState::SharedMemory:
        return TransportMonitor::ZeroCopyState::SharedMemory;
    }
    return TransportMonitor::ZeroCopyState::Unsupported;
}

// The counters the panel shows; a sample that changes none of them emits nothing.
bool sameCounters(const SocketStatistics &a, const SocketStatistics &b)
{
    return a.messagesSent == b.messagesSent && a.bytesSent == b.bytesSent && a.messagesReceived == b.messagesReceived
        && a.bytesReceived == b.bytesReceived && a.queuedBytes == b.queuedBytes && a.zeroCopySends == b.zeroCopySends
        && a.copySends == b.copySends && a.zeroCopyBytes == b.zeroCopyBytes && a.completions == b.completions
        && a.copiedCompletions == b.copiedCompletions && a.releasedBuffers == b.releasedBuffers
        && a.pendingBuffers == b.pendingBuffers && a.pendingBytes == b.pendingBytes
        && a.peakPendingBytes == b.peakPendingBytes && a.noBufferErrors == b.noBufferErrors
        && a.wouldBlock == b.wouldBlock && a.backOffs == b.backOffs && a.errors == b.errors
        && a.releaseLatencyP50 == b.releaseLatencyP50 && a.releaseLatencyP99 == b.releaseLatencyP99
        && a.releaseLatencyMax == b.releaseLatencyMax && a.mappedBytes == b.mappedBytes
        && a.sharedMemoryFramesSent == b.sharedMemoryFramesSent
        && a.sharedMemoryFramesReceived == b.sharedMemoryFramesReceived;
}

// Frames went through shared memory on this socket, either way.
bool movedSharedFrames(const SocketStatistics &stats)
{
    return stats.sharedMemoryFramesSent > 0 || stats.sharedMemoryFramesReceived > 0;
}

bool isUnix(BlightSocket::SocketKind kind)
{
    return kind == BlightSocket::SocketKind::UnixStream || kind == BlightSocket::SocketKind::UnixSeqPacket;
}
} // namespace

TransportMonitor::TransportMonitor(QObject *parent)
    : QObject(parent)
    , m_requests(new SocketRequests(this))
    , m_rangeLog(new RangeLogModel(this))
    , m_eventLog(new EventLogModel(this))
{
}

TransportMonitor::~TransportMonitor()
{
    detachProbe();
}

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

void TransportMonitor::setLabel(const QString &label)
{
    if (label == m_label)
        return;
    m_label = label;
    Q_EMIT labelChanged();
}

void TransportMonitor::detachProbe()
{
    // The probe deletes itself in its own thread; after the disconnects none
    // of its snapshots can reach this monitor any more.
    Q_EMIT m_requests->detachRequested();
    for (const QMetaObject::Connection &connection : std::as_const(m_probeConnections))
        disconnect(connection);
    m_probeConnections.clear();
}

void TransportMonitor::attach(BlightSocket *socket)
{
    detachProbe();
    ++m_generation;
    m_sampleInFlight = false;
    m_socket = socket;
    m_endpoint.clear();
    m_kind = BlightSocket::SocketKind::None;
    m_state = BlightSocket::State::Unconnected;
    m_wasConnected = false;
    m_zeroCopyState = ZeroCopyState::NoSocket;
    m_zeroCopyReason.clear();
    m_zeroCopyBackend = BlightSocket::ZeroCopyBackend::MsgZeroCopy;
    m_threshold = m_pendingBytesLimit = 0;
    m_pendingBuffersLimit = 0;
    m_stats = SocketStatistics();
    m_systemCalls = 0;
    m_rangesSeen = 0;
    m_rangeLog->clear();
    m_eventLog->clear();
    clearHistory();

    if (socket) {
        auto *probe = new SocketProbe(socket);
        m_probeConnections = {
            connect(m_requests, &SocketRequests::sampleRequested, probe, &SocketProbe::takeSample),
            connect(m_requests, &SocketRequests::zeroCopyModeRequested, probe, &SocketProbe::setZeroCopyMode),
            connect(m_requests, &SocketRequests::readingPausedRequested, probe, &SocketProbe::setReadingPaused),
            connect(m_requests, &SocketRequests::resetRequested, probe, &SocketProbe::resetStatistics),
            connect(m_requests, &SocketRequests::detachRequested, probe, &QObject::deleteLater),
            // A snapshot already queued when the socket was replaced must not
            // land on the new one: each attachment has its generation.
            connect(probe, &SocketProbe::snapshotTaken, this,
                    [this, generation = m_generation](const SocketSnapshot &snapshot) {
                        if (generation == m_generation)
                            applySnapshot(snapshot);
                    }),
            connect(probe, &SocketProbe::socketGone, this,
                    [this, generation = m_generation] {
                        if (generation == m_generation)
                            attach(nullptr);
                    }),
        };
    }
    Q_EMIT socketChanged();
    Q_EMIT endpointChanged();
    Q_EMIT connectionStateChanged();
    Q_EMIT zeroCopyChanged();
    Q_EMIT controlsChanged();
    Q_EMIT limitsChanged();
    Q_EMIT countersChanged();
    Q_EMIT throughputChanged();
    Q_EMIT historyChanged();
    sample();
    updateTimer();
}

void TransportMonitor::clearHistory()
{
    m_watchStartNs = -1;
    m_lastSampleNs = -1;
    m_sendRate = m_receiveRate = m_peakThroughput = 0;
    m_history.clear();
    m_pendingHistory.clear();
    m_historyTimes.clear();
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
        const qsizetype drop = m_history.size() - m_historyLength;
        m_history.remove(0, drop);
        m_pendingHistory.remove(0, drop);
        m_historyTimes.remove(0, drop);
        Q_EMIT historyChanged();
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

void TransportMonitor::sample()
{
    if (!m_socket) {
        ++m_samples;
        Q_EMIT sampled();
        return;
    }
    // A socket thread that is busy gets one request at a time, not a backlog.
    if (m_sampleInFlight)
        return;
    m_sampleInFlight = true;
    Q_EMIT m_requests->sampleRequested();
}

void TransportMonitor::requestZeroCopyMode(const QString &mode)
{
    if (mode == u"auto")
        Q_EMIT m_requests->zeroCopyModeRequested(BlightSocket::ZeroCopyMode::Auto);
    else if (mode == u"on")
        Q_EMIT m_requests->zeroCopyModeRequested(BlightSocket::ZeroCopyMode::On);
    else if (mode == u"off")
        Q_EMIT m_requests->zeroCopyModeRequested(BlightSocket::ZeroCopyMode::Off);
    else
        qCWarning(lcMonitor) << "TransportMonitor: zero-copy mode must be auto, on or off, not" << mode;
}

void TransportMonitor::requestReadingPaused(bool paused)
{
    Q_EMIT m_requests->readingPausedRequested(paused);
}

void TransportMonitor::resetStatistics()
{
    if (!m_socket)
        return;
    // Rates and peaks restart with the counters; the event log keeps what happened.
    clearHistory();
    m_rangeLog->clear();
    m_rangesSeen = 0;
    Q_EMIT throughputChanged();
    Q_EMIT historyChanged();
    Q_EMIT m_requests->resetRequested();
}

QString TransportMonitor::connectionState() const
{
    if (!m_socket)
        return QStringLiteral("no socket");
    if (m_state == BlightSocket::State::Unconnected && m_wasConnected)
        return QStringLiteral("closed");
    return socketStateText(m_state);
}

QString TransportMonitor::zeroCopyMode() const
{
    switch (m_zeroCopyMode) {
    case BlightSocket::ZeroCopyMode::Auto:
        return QStringLiteral("auto");
    case BlightSocket::ZeroCopyMode::On:
        return QStringLiteral("on");
    case BlightSocket::ZeroCopyMode::Off:
        return QStringLiteral("off");
    }
    return {};
}

QString TransportMonitor::badgeText() const
{
    // Completions tell what the kernel really did; the state only what was asked.
    const bool allCopied = m_stats.completions > 0 && m_stats.copiedCompletions == m_stats.completions;
    const bool someCopied = m_stats.copiedCompletions > 0 && !allCopied;
    switch (m_zeroCopyState) {
    case ZeroCopyState::NoSocket:
        return QStringLiteral("NO SOCKET");
    case ZeroCopyState::Active:
        if (allCopied)
            return QStringLiteral("KERNEL COPIED");
        if (someCopied)
            return QStringLiteral("ZERO-COPY, PART COPIED");
        if (m_stats.zeroCopySends == 0)
            return QStringLiteral("ZERO-COPY READY");
        return m_zeroCopyBackend == BlightSocket::ZeroCopyBackend::IoUring
            ? QStringLiteral("ZERO-COPY ACTIVE, IO_URING")
            : QStringLiteral("ZERO-COPY ACTIVE");
    case ZeroCopyState::Unsupported:
        if (isUnix(m_kind))
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
    case ZeroCopyState::SharedMemory:
        return movedSharedFrames(m_stats) ? QStringLiteral("SHARED MEMORY") : QStringLiteral("SHARED MEMORY READY");
    }
    return {};
}

QString TransportMonitor::zeroCopyBackend() const
{
    if (m_zeroCopyState == ZeroCopyState::NoSocket || isUnix(m_kind) || m_kind == BlightSocket::SocketKind::None)
        return QString();
    return m_zeroCopyBackend == BlightSocket::ZeroCopyBackend::IoUring ? QStringLiteral("io_uring")
                                                                       : QStringLiteral("MSG_ZEROCOPY");
}

QString TransportMonitor::pathText() const
{
    const bool allCopied = m_stats.completions > 0 && m_stats.copiedCompletions == m_stats.completions;
    switch (m_zeroCopyState) {
    case ZeroCopyState::NoSocket:
        return QStringLiteral("NO SOCKET");
    case ZeroCopyState::Active:
        if (allCopied)
            return QStringLiteral("KERNEL COPIED");
        return m_stats.zeroCopySends == 0 ? QStringLiteral("ZC READY") : QStringLiteral("ZERO-COPY");
    case ZeroCopyState::Unsupported:
        return isUnix(m_kind) ? QStringLiteral("COPY: AF_UNIX") : QStringLiteral("COPY PATH");
    case ZeroCopyState::Disabled:
        return QStringLiteral("ZERO-COPY OFF");
    case ZeroCopyState::BackedOff:
        return QStringLiteral("BACKED OFF");
    case ZeroCopyState::Budget:
        return QStringLiteral("BUDGET FULL");
    case ZeroCopyState::SharedMemory:
        return movedSharedFrames(m_stats) ? QStringLiteral("SHARED MEMORY") : QStringLiteral("SHM READY");
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

void TransportMonitor::applyIdentity(const SocketSnapshot &snapshot)
{
    // A closed socket forgets its endpoint and kind; the panel keeps showing
    // which connection it was.
    bool identityChanged = false;
    if (!snapshot.endpoint.isEmpty() && snapshot.endpoint != m_endpoint) {
        m_endpoint = snapshot.endpoint;
        identityChanged = true;
    }
    if (snapshot.kind != BlightSocket::SocketKind::None && snapshot.kind != m_kind) {
        m_kind = snapshot.kind;
        identityChanged = true;
    }
    if (identityChanged) {
        Q_EMIT endpointChanged();
        Q_EMIT zeroCopyChanged(); // the badge wording depends on the kind
    }
    if (snapshot.state != m_state || m_samples == 0) {
        m_state = snapshot.state;
        m_wasConnected = m_wasConnected || m_state == BlightSocket::State::Connected;
        Q_EMIT connectionStateChanged();
    }
}

void TransportMonitor::applyZeroCopy(const SocketSnapshot &snapshot)
{
    const ZeroCopyState state = fromSocket(snapshot.zeroCopyState);
    if (state != m_zeroCopyState || snapshot.zeroCopyReason != m_zeroCopyReason
        || snapshot.zeroCopyBackend != m_zeroCopyBackend) {
        m_zeroCopyState = state;
        m_zeroCopyReason = snapshot.zeroCopyReason;
        m_zeroCopyBackend = snapshot.zeroCopyBackend;
        Q_EMIT zeroCopyChanged();
    }
    if (snapshot.zeroCopyMode != m_zeroCopyMode || snapshot.readingPaused != m_readingPaused) {
        m_zeroCopyMode = snapshot.zeroCopyMode;
        m_readingPaused = snapshot.readingPaused;
        Q_EMIT controlsChanged();
    }
    if (snapshot.threshold != m_threshold || snapshot.pendingBytesLimit != m_pendingBytesLimit
        || snapshot.pendingBuffersLimit != m_pendingBuffersLimit) {
        m_threshold = snapshot.threshold;
        m_pendingBytesLimit = snapshot.pendingBytesLimit;
        m_pendingBuffersLimit = snapshot.pendingBuffersLimit;
        Q_EMIT limitsChanged();
        Q_EMIT countersChanged(); // the fractions depend on the cap
    }
}

void TransportMonitor::applyRates(const SocketSnapshot &snapshot)
{
    const quint64 sent = snapshot.stats.bytesSent;
    const quint64 received = snapshot.stats.bytesReceived;
    if (m_watchStartNs < 0)
        m_watchStartNs = snapshot.takenNs;
    if (m_lastSampleNs >= 0 && snapshot.takenNs > m_lastSampleNs) {
        const double seconds = double(snapshot.takenNs - m_lastSampleNs) / 1e9;
        // min(): a reset between two samples must not read as a huge rate.
        m_sendRate = double(sent - std::min(sent, m_lastSampleSent)) / seconds;
        m_receiveRate = double(received - std::min(received, m_lastSampleReceived)) / seconds;
        m_peakThroughput = std::max(m_peakThroughput, throughput());
        Q_EMIT throughputChanged();
        // An idle socket with flat histories changes nothing on screen: stay
        // quiet, which matters on e-ink where every repaint shows.
        const auto isZero = [](qreal value) { return value == 0; };
        const bool flat = throughput() == 0 && snapshot.stats.pendingBytes == 0
            && std::all_of(m_history.cbegin(), m_history.cend(), isZero)
            && std::all_of(m_pendingHistory.cbegin(), m_pendingHistory.cend(), isZero);
        if (!flat) {
            const double at = double(snapshot.takenNs - m_watchStartNs) / 1e9;
            if (m_history.isEmpty()) {
                // The idle baseline the traffic rose from.
                m_history.append(0);
                m_pendingHistory.append(0);
                m_historyTimes.append(double(m_lastSampleNs - m_watchStartNs) / 1e9);
            }
            m_history.append(throughput());
            m_pendingHistory.append(double(snapshot.stats.pendingBytes));
            m_historyTimes.append(at);
            if (m_history.size() > m_historyLength) {
                const qsizetype drop = m_history.size() - m_historyLength;
                m_history.remove(0, drop);
                m_pendingHistory.remove(0, drop);
                m_historyTimes.remove(0, drop);
            }
            Q_EMIT historyChanged();
        }
    }
    m_lastSampleNs = snapshot.takenNs;
    m_lastSampleSent = sent;
    m_lastSampleReceived = received;
}

void TransportMonitor::applySnapshot(const SocketSnapshot &snapshot)
{
    applyIdentity(snapshot);
    applyZeroCopy(snapshot);
    if (snapshot.sample) {
        m_sampleInFlight = false;
        applyRates(snapshot);
    }

    const bool changed = !sameCounters(snapshot.stats, m_stats) || snapshot.systemCalls != m_systemCalls
        || !snapshot.ranges.isEmpty();
    const QString badgeBefore = badgeText() + pathText();
    m_stats = snapshot.stats;
    m_systemCalls = snapshot.systemCalls;
    m_rangesSeen += quint64(snapshot.ranges.size());
    m_rangeLog->prepend(snapshot.ranges);
    m_eventLog->prepend(snapshot.events);
    ++m_samples;
    if (changed)
        Q_EMIT countersChanged();
    if (badgeText() + pathText() != badgeBefore)
        Q_EMIT zeroCopyChanged(); // the badge follows the completions
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
