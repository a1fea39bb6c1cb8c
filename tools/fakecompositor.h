// SPDX-License-Identifier: MIT
// FakeCompositor: a stand-in for blight on a D-Bus bus, for tests and for
// trying clients out (blight-transport serve-compositor).
#pragma once

#include <BlightTransport/blightsocket.h>
#include <BlightTransport/compositor.h>
#include <BlightTransport/protocol.h>

#include <QtCore/QList>
#include <QtCore/QMap>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtDBus/QDBusConnection>
#include <QtDBus/QDBusContext>
#include <QtDBus/QDBusMessage>
#include <QtDBus/QDBusUnixFileDescriptor>

#include <map>
#include <optional>

namespace Blight {

class FakeCompositor;

/*!
    \class Blight::FakeCompositorObject
    \brief The object exported at CompositorPath; hands open() to the compositor.
*/
class FakeCompositorObject : public QObject, protected QDBusContext
{
    Q_OBJECT
    Q_CLASSINFO("D-Bus Interface", "codes.eeems.blight1.Compositor")

public:
    explicit FakeCompositorObject(FakeCompositor *compositor);

public Q_SLOTS:
    /*! One end of a fresh socket pair; the compositor keeps the other. */
    QDBusUnixFileDescriptor open();

private:
    FakeCompositor *m_compositor;
};

/*!
    \class Blight::FakeCompositor
    \brief Owns codes.eeems.blight1 on a bus and serves blight's protocol like Oxide's server.

    Each open() gets a fresh
    \c socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC); the
    compositor keeps its end in a server-side BlightSocket and:

    - pings the connection every pingInterval() and reports a client that
      has not answered for pingTimeout() (clientNotResponding() and the log
      line "client N not responding"), once per silence; a later answer is
      reported with clientRespondingAgain();
    - answers Info with an InfoReply and List with the surface identifiers
      (an array of uint16), at once;
    - acks Repaint, Move, Raise, Lower, Focus and Delete only after it has
      "painted" them: on a later event-loop turn, paintDelay() later;
    - acks Wait for a marker once the repaint carrying that marker (from the
      same client) has been painted, at once when none is pending;
    - acks a request for an unknown surface at once with no payload, as
      Oxide does, and says so in eventOccurred().

    Surfaces belong to the compositor, not to a connection (blight ties them
    to the client that made them through shared memory, which the fake does
    not have): addSurface() makes one and every client's List shows it.
*/
class FakeCompositor : public QObject
{
    Q_OBJECT

public:
    /*! How open() answers, for testing clients against a misbehaving server. */
    enum class OpenReply {
        Descriptor,   //!< a fresh socket pair, as blight does
        NoDescriptor, //!< an empty reply (no \c h argument)
        Error,        //!< a D-Bus error reply
        Hold,         //!< no reply until releaseHeldCalls()
    };
    Q_ENUM(OpenReply)

    /*! Serves on \a bus (a connection that stays open as long as this object). */
    explicit FakeCompositor(const QDBusConnection &bus, QObject *parent = nullptr);
    /*! Releases the name, unexports the object and closes every connection. */
    ~FakeCompositor() override;

    /*! Exports the object and requests CompositorService; false and errorString() on failure. */
    bool start();
    /*! Gives up the name but keeps the object and the open connections. */
    void releaseService();
    bool isRegistered() const { return m_registered; }
    QString errorString() const { return m_errorString; }
    QDBusConnection bus() const { return m_bus; }

    int pingInterval() const { return m_pingInterval; }
    void setPingInterval(int msecs);
    int pingTimeout() const { return m_pingTimeout; }
    void setPingTimeout(int msecs);
    int paintDelay() const { return m_paintDelay; }
    void setPaintDelay(int msecs) { m_paintDelay = qMax(0, msecs); }
    OpenReply openReply() const { return m_openReply; }
    void setOpenReply(OpenReply reply) { m_openReply = reply; }

    /*! Adds a surface with \a info as its geometry; returns its identifier (from 1). */
    SurfaceId addSurface(const InfoReply &info);
    QList<SurfaceId> surfaces() const { return m_surfaces.keys(); }
    std::optional<InfoReply> surfaceInfo(SurfaceId id) const;

    /*! Identifiers of the open connections, in order of arrival (from 1). */
    QList<int> clients() const;
    /*! The compositor's end of connection \a client, or nullptr. */
    BlightSocket *clientSocket(int client) const;
    /*! The D-Bus unique name that opened connection \a client. */
    QString clientBusName(int client) const;
    int heldCalls() const { return int(m_held.size()); }
    /*! Answers every open() held by OpenReply::Hold with a descriptor. */
    void releaseHeldCalls();

Q_SIGNALS:
    void clientConnected(int client, const QString &busName);
    void clientDisconnected(int client, const QString &reason);
    void pingSent(int client, quint32 ackid);
    void pingAnswered(int client, quint32 ackid);
    void clientNotResponding(int client);
    void clientRespondingAgain(int client);
    void requestReceived(int client, Blight::MessageType type, quint32 ackid);
    /*! A request's effect reached the (imaginary) screen. */
    void painted(int client, Blight::MessageType type, quint32 ackid);
    /*! An Ack went out for \a type with \a replySize bytes of payload. */
    void requestAcked(int client, Blight::MessageType type, quint32 ackid, int replySize);
    /*! One line per event, for people: what the CLI prints. */
    void eventOccurred(const QString &text);

private:
    friend class FakeCompositorObject;
    struct Client;
    struct Surface
    {
        InfoReply info;
        bool visible = true;
        int z = 0;
    };
    struct PaintJob
    {
        int client = 0;
        MessageType type = MessageType::Invalid;
        quint32 ackid = 0;
        quint32 marker = 0;
        bool hasMarker = false;
    };

    /*! A new connection for \a caller: returns the client's end (the caller closes it) or -1. */
    int openConnection(const QString &caller, QString *errorString);
    void onMessage(int client, const Message &message);
    void onAck(int client, quint32 ackid);
    void onDisconnected(int client);
    void ping(int client);
    void notResponding(int client);
    void ack(int client, MessageType type, quint32 ackid, const QByteArray &payload = {});
    void schedulePaint(const PaintJob &job);
    void paint();
    Client *find(int client) const;
    void report(const QString &text);

    QDBusConnection m_bus;
    FakeCompositorObject *m_object = nullptr;
    bool m_objectExported = false;
    bool m_registered = false;
    QString m_errorString;
    int m_pingInterval = CompositorPingInterval;
    int m_pingTimeout = CompositorNotRespondingTimeout;
    int m_paintDelay = 0;
    OpenReply m_openReply = OpenReply::Descriptor;
    std::map<int, Client *> m_clients; // children of this object
    int m_lastClient = 0;
    QMap<SurfaceId, Surface> m_surfaces;
    SurfaceId m_lastSurface = 0;
    int m_topZ = 0;
    QList<PaintJob> m_paintQueue;
    bool m_paintScheduled = false;
    QList<QDBusMessage> m_held;
};

} // namespace Blight
