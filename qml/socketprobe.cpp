// SPDX-License-Identifier: MIT
// SocketProbe: snapshots and controls of a BlightSocket, run in the socket's thread.
#include "socketprobe.h"

#include <QtCore/QThread>

#include <chrono>

namespace Blight {

QString socketKindText(BlightSocket::SocketKind kind)
{
    switch (kind) {
    case BlightSocket::SocketKind::None:
        return QStringLiteral("not connected");
    case BlightSocket::SocketKind::UnixStream:
        return QStringLiteral("AF_UNIX stream");
    case BlightSocket::SocketKind::UnixSeqPacket:
        return QStringLiteral("AF_UNIX seqpacket");
    case BlightSocket::SocketKind::Tcp4:
        return QStringLiteral("TCP / IPv4");
    case BlightSocket::SocketKind::Tcp6:
        return QStringLiteral("TCP / IPv6");
    case BlightSocket::SocketKind::Udp4:
        return QStringLiteral("UDP / IPv4");
    case BlightSocket::SocketKind::Udp6:
        return QStringLiteral("UDP / IPv6");
    }
    return QStringLiteral("unknown");
}

QString socketStateText(BlightSocket::State state)
{
    switch (state) {
    case BlightSocket::State::Unconnected:
        return QStringLiteral("unconnected");
    case BlightSocket::State::Connecting:
        return QStringLiteral("connecting");
    case BlightSocket::State::Connected:
        return QStringLiteral("connected");
    case BlightSocket::State::Closing:
        return QStringLiteral("closing");
    }
    return QStringLiteral("unknown");
}

SocketProbe::SocketProbe(BlightSocket *socket)
    : m_socket(socket)
{
    // AutoConnection decides per emission: once the probe lives in the
    // socket's thread these are direct calls there.
    connect(socket, &BlightSocket::completionReceived, this, &SocketProbe::onCompletion);
    connect(socket, &BlightSocket::stateChanged, this, &SocketProbe::onState);
    connect(socket, &BlightSocket::errorOccurred, this, &SocketProbe::onError);
    connect(socket, &BlightSocket::warning, this, &SocketProbe::onWarning);
    for (auto signal :
         {&BlightSocket::endpointChanged, &BlightSocket::zeroCopyStateChanged, &BlightSocket::zeroCopyModeChanged,
          &BlightSocket::zeroCopyThresholdChanged, &BlightSocket::pendingBytesLimitChanged,
          &BlightSocket::pendingBuffersLimitChanged, &BlightSocket::readingPausedChanged})
        connect(socket, signal, this, &SocketProbe::takeUpdate);
    connect(socket, &QObject::destroyed, this, [this] {
        Q_EMIT socketGone();
        deleteLater();
    });
    moveToThread(socket->thread());
}

void SocketProbe::takeSample()
{
    publish(true);
}

void SocketProbe::takeUpdate()
{
    publish(false);
}

void SocketProbe::setZeroCopyMode(BlightSocket::ZeroCopyMode mode)
{
    if (m_socket)
        m_socket->setZeroCopyMode(mode); // zeroCopyModeChanged publishes
}

void SocketProbe::setReadingPaused(bool paused)
{
    if (m_socket)
        m_socket->setReadingPaused(paused);
}

void SocketProbe::resetStatistics()
{
    if (!m_socket)
        return;
    m_socket->resetStatistics();
    m_lastNoBufferErrors = 0;
    addEvent(SocketEvent::Kind::Reset, QStringLiteral("counters reset"));
    publish(false);
}

void SocketProbe::addEvent(SocketEvent::Kind kind, const QString &text)
{
    m_events.append({QDateTime::currentDateTime(), kind, text});
    // A burst of errors between two samples: the newest ones tell most.
    if (m_events.size() > MaxRangesPerSnapshot)
        m_events.removeFirst();
}

void SocketProbe::onCompletion(quint32 lo, quint32 hi, bool copied)
{
    // Per completion range (the kernel coalesces many sends into one): just
    // remember it; it goes out with the next snapshot.
    m_ranges.append({lo, hi, QDateTime::currentDateTime(), copied});
    if (m_ranges.size() > MaxRangesPerSnapshot)
        m_ranges.removeFirst();
}

void SocketProbe::onState(BlightSocket::State state)
{
    addEvent(SocketEvent::Kind::State, socketStateText(state));
    publish(false);
}

void SocketProbe::onError(BlightSocket::Error, const QString &reason)
{
    addEvent(SocketEvent::Kind::Error, reason);
    publish(false);
}

void SocketProbe::onWarning(const QString &message)
{
    addEvent(SocketEvent::Kind::Warning, message);
}

void SocketProbe::publish(bool sample)
{
    BlightSocket *socket = m_socket.data();
    if (!socket)
        return;
    Q_ASSERT(QThread::currentThread() == socket->thread());
    SocketSnapshot snapshot;
    snapshot.sample = sample;
    snapshot.takenNs = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now().time_since_epoch())
                           .count();
    snapshot.endpoint = socket->endpoint();
    snapshot.kind = socket->kind();
    snapshot.state = socket->state();
    snapshot.zeroCopyMode = socket->zeroCopyMode();
    snapshot.zeroCopyState = socket->zeroCopyState();
    snapshot.zeroCopyReason = socket->zeroCopyReason();
    snapshot.zeroCopyBackend = socket->activeZeroCopyBackend();
    snapshot.readingPaused = socket->isReadingPaused();
    snapshot.threshold = socket->zeroCopyThreshold();
    snapshot.pendingBytesLimit = socket->pendingBytesLimit();
    snapshot.pendingBuffersLimit = socket->pendingBuffersLimit();
    snapshot.stats = socket->statistics();
    snapshot.systemCalls = socket->systemCalls();

    // Back-offs and probes show as zero-copy transitions with the library's reason.
    if (m_first)
        addEvent(SocketEvent::Kind::State, QStringLiteral("watching: ") + socketStateText(snapshot.state));
    if ((snapshot.zeroCopyState != m_lastZeroCopyState || snapshot.zeroCopyReason != m_lastZeroCopyReason)
        && !snapshot.zeroCopyReason.isEmpty())
        addEvent(SocketEvent::Kind::ZeroCopy, snapshot.zeroCopyReason);
    if (snapshot.stats.noBufferErrors > m_lastNoBufferErrors) {
        const quint64 more = snapshot.stats.noBufferErrors - m_lastNoBufferErrors;
        addEvent(SocketEvent::Kind::NoBuffers,
                 QStringLiteral("ENOBUFS \u00d7%1: back-pressure, sends wait for completions").arg(more));
    }
    m_first = false;
    m_lastZeroCopyState = snapshot.zeroCopyState;
    m_lastZeroCopyReason = snapshot.zeroCopyReason;
    m_lastNoBufferErrors = snapshot.stats.noBufferErrors;

    snapshot.ranges = std::exchange(m_ranges, {});
    snapshot.events = std::exchange(m_events, {});
    Q_EMIT snapshotTaken(snapshot);
}

} // namespace Blight
