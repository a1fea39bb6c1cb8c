// SPDX-License-Identifier: MIT
// SocketProbe: reads a BlightSocket in the socket's own thread and hands snapshots to the monitor.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QDateTime>
#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QObject>
#include <QtCore/QPointer>

namespace Blight {

/*! One thing that happened to a socket, for the panel's event history. */
struct SocketEvent
{
    enum class Kind { State, ZeroCopy, NoBuffers, Error, Warning, Reset };
    QDateTime time;
    Kind kind = Kind::State;
    QString text;
};

/*! A released zero-copy range, as the kernel reported it. */
struct ReleasedRange
{
    quint32 lo = 0;
    quint32 hi = 0;
    QDateTime time;
    bool copied = false;
    qint64 count() const { return qint64(quint32(hi - lo)) + 1; }
};

/*! Everything the monitor shows of a socket, read at one moment in the socket's thread. */
struct SocketSnapshot
{
    bool sample = false; //!< asked for by the monitor's timer (rates are computed from these)
    qint64 takenNs = 0;  //!< steady clock
    QString endpoint;
    BlightSocket::SocketKind kind = BlightSocket::SocketKind::None;
    BlightSocket::State state = BlightSocket::State::Unconnected;
    BlightSocket::ZeroCopyMode zeroCopyMode = BlightSocket::ZeroCopyMode::Auto;
    BlightSocket::ZeroCopyState zeroCopyState = BlightSocket::ZeroCopyState::Unsupported;
    QString zeroCopyReason;
    BlightSocket::ZeroCopyBackend zeroCopyBackend = BlightSocket::ZeroCopyBackend::MsgZeroCopy; //!< the active one
    bool readingPaused = false;
    qint64 threshold = 0;
    qint64 pendingBytesLimit = 0;
    int pendingBuffersLimit = 0;
    SocketStatistics stats;
    quint64 systemCalls = 0;
    QList<ReleasedRange> ranges; //!< since the previous snapshot, oldest first
    QList<SocketEvent> events;   //!< since the previous snapshot, oldest first
};

/*!
    Lives in the socket's thread, so that every call into the socket is made
    there: the monitor talks to it only through queued signals (SocketRequests)
    and gets SocketSnapshot values back the same way. With socket and monitor
    in one thread the connections are direct and a snapshot is synchronous.

    It deletes itself when the socket goes or when the monitor asks
    (SocketRequests::detachRequested); the monitor never holds its pointer
    beyond the connect calls.
*/
class SocketProbe : public QObject
{
    Q_OBJECT

public:
    /*! Call from the monitor's thread; the probe moves itself to \a socket's thread. */
    explicit SocketProbe(BlightSocket *socket);

    /*! Cap on ranges kept between two snapshots (older ones are dropped). */
    static constexpr int MaxRangesPerSnapshot = 64;

public Q_SLOTS:
    void takeSample();
    void takeUpdate();
    void setZeroCopyMode(Blight::BlightSocket::ZeroCopyMode mode);
    void setReadingPaused(bool paused);
    void resetStatistics();

Q_SIGNALS:
    void snapshotTaken(const Blight::SocketSnapshot &snapshot);
    void socketGone();

private:
    void publish(bool sample);
    void onCompletion(quint32 lo, quint32 hi, bool copied);
    void onState(Blight::BlightSocket::State state);
    void onError(Blight::BlightSocket::Error error, const QString &reason);
    void onWarning(const QString &message);
    void addEvent(SocketEvent::Kind kind, const QString &text);

    QPointer<BlightSocket> m_socket;
    QList<ReleasedRange> m_ranges;
    QList<SocketEvent> m_events;
    // What the last snapshot said, to log zero-copy transitions and ENOBUFS once each.
    BlightSocket::ZeroCopyState m_lastZeroCopyState = BlightSocket::ZeroCopyState::Unsupported;
    QString m_lastZeroCopyReason;
    quint64 m_lastNoBufferErrors = 0;
    bool m_first = true;
};

/*! The monitor's side of the probe: signals only, so no pointer to the probe is needed. */
class SocketRequests : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

Q_SIGNALS:
    void sampleRequested();
    void zeroCopyModeRequested(Blight::BlightSocket::ZeroCopyMode mode);
    void readingPausedRequested(bool paused);
    void resetRequested();
    void detachRequested();
};

/*! Text for the panel: "connected", "AF_UNIX stream", ... */
QString socketStateText(BlightSocket::State state);
QString socketKindText(BlightSocket::SocketKind kind);

} // namespace Blight

Q_DECLARE_METATYPE(Blight::SocketSnapshot)
