// FakeCompositor: owns codes.eeems.blight1, hands out socket pairs from
// open(), pings every connection and acks requests the way blight does.
#include "fakecompositor.h"

#include <QtCore/QHash>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTimer>
#include <QtDBus/QDBusConnectionInterface>
#include <QtDBus/QDBusError>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <utility>
#include <unistd.h>

namespace Blight {

Q_LOGGING_CATEGORY(lcFakeCompositor, "oxide.blight.fakecompositor", QtWarningMsg)

namespace {

QString requestName(MessageType type)
{
    return typeName(qint32(type));
}

QString errnoText(int errorNumber)
{
    return QString::fromLocal8Bit(std::strerror(errorNumber));
}

} // namespace

// One connection: the compositor's end of the socket pair and its ping
// bookkeeping. A QObject so that it can be deleted later, never from inside
// one of its own timers' or socket's signals.
struct FakeCompositor::Client : public QObject
{
    explicit Client(QObject *parent)
        : QObject(parent)
    {
    }

    int id = 0;
    QString busName;
    BlightSocket *socket = nullptr;
    QTimer pingTimer;
    QTimer deadline;
    quint32 lastPing = 0;     // ackid of the latest ping
    quint32 lastAnswered = 0; // latest ping acked
    bool notResponding = false;
    QHash<quint32, int> pendingMarkers; // repaint marker -> repaints not yet painted
    QMultiHash<quint32, quint32> waits; // marker -> ackids of Wait requests
};

FakeCompositorObject::FakeCompositorObject(FakeCompositor *compositor)
    : QObject(compositor)
    , m_compositor(compositor)
{
}

QDBusUnixFileDescriptor FakeCompositorObject::open()
{
    const QString caller = message().service();
    switch (m_compositor->m_openReply) {
    case FakeCompositor::OpenReply::Descriptor:
        break;
    case FakeCompositor::OpenReply::NoDescriptor:
        setDelayedReply(true);
        connection().send(message().createReply());
        m_compositor->report(QStringLiteral("open() from %1 answered without a descriptor, as configured").arg(caller));
        return {};
    case FakeCompositor::OpenReply::Error:
        sendErrorReply(QStringLiteral("codes.eeems.blight1.Error.Refused"),
                       QStringLiteral("the fake compositor is configured to refuse open()"));
        m_compositor->report(QStringLiteral("open() from %1 refused, as configured").arg(caller));
        return {};
    case FakeCompositor::OpenReply::Hold:
        setDelayedReply(true);
        m_compositor->m_held.append(message());
        m_compositor->report(QStringLiteral("open() from %1 held").arg(caller));
        return {};
    }
    if (!(connection().connectionCapabilities() & QDBusConnection::UnixFileDescriptorPassing)) {
        sendErrorReply(QDBusError::NotSupported, QStringLiteral("this bus connection cannot pass file descriptors"));
        return {};
    }
    QString why;
    const int fd = m_compositor->openConnection(caller, &why);
    if (fd < 0) {
        sendErrorReply(QDBusError::Failed, why);
        return {};
    }
    // QDBusUnixFileDescriptor keeps its own duplicate; the reply carries it.
    QDBusUnixFileDescriptor descriptor(fd);
    ::close(fd);
    return descriptor;
}

FakeCompositor::FakeCompositor(const QDBusConnection &bus, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
    , m_object(new FakeCompositorObject(this))
{
}

FakeCompositor::~FakeCompositor()
{
    // Connections first, as when blight exits, then the name.
    for (auto &[id, client] : m_clients) {
        client->socket->disconnect(this);
        delete client;
    }
    m_clients.clear();
    releaseService();
    if (m_objectExported)
        m_bus.unregisterObject(QString(CompositorPath));
}

bool FakeCompositor::start()
{
    if (!m_bus.isConnected()) {
        m_errorString = QStringLiteral("not connected to a D-Bus bus: %1").arg(m_bus.lastError().message());
        return false;
    }
    if (!m_objectExported) {
        if (!m_bus.registerObject(QString(CompositorPath), m_object, QDBusConnection::ExportAllSlots)) {
            m_errorString = QStringLiteral("cannot export an object at %1: %2")
                                .arg(QString(CompositorPath), m_bus.lastError().message());
            return false;
        }
        m_objectExported = true;
    }
    if (m_registered)
        return true;
    QDBusConnectionInterface *busInterface = m_bus.interface();
    const auto reply = busInterface->registerService(QString(CompositorService),
                                                     QDBusConnectionInterface::DontQueueService,
                                                     QDBusConnectionInterface::DontAllowReplacement);
    if (!reply.isValid() || reply.value() != QDBusConnectionInterface::ServiceRegistered) {
        const QString owner = busInterface->serviceOwner(QString(CompositorService)).value();
        m_errorString = reply.isValid()
            ? QStringLiteral("cannot own %1: it belongs to %2").arg(QString(CompositorService), owner)
            : QStringLiteral("cannot own %1: %2").arg(QString(CompositorService), reply.error().message());
        return false;
    }
    m_registered = true;
    report(QStringLiteral("serving %1 at %2 as %3")
               .arg(QString(CompositorService), QString(CompositorPath), m_bus.baseService()));
    return true;
}

void FakeCompositor::releaseService()
{
    if (!m_registered)
        return;
    m_registered = false;
    if (m_bus.isConnected())
        m_bus.unregisterService(QString(CompositorService));
    report(QStringLiteral("released %1").arg(QString(CompositorService)));
}

void FakeCompositor::setPingInterval(int msecs)
{
    m_pingInterval = qMax(1, msecs);
    for (const auto &[id, client] : m_clients)
        client->pingTimer.setInterval(m_pingInterval);
}

void FakeCompositor::setPingTimeout(int msecs)
{
    m_pingTimeout = qMax(1, msecs);
    for (const auto &[id, client] : m_clients)
        client->deadline.setInterval(m_pingTimeout);
}

SurfaceId FakeCompositor::addSurface(const InfoReply &info)
{
    do {
        ++m_lastSurface;
    } while (m_lastSurface == 0 || m_surfaces.contains(m_lastSurface));
    m_surfaces.insert(m_lastSurface, Surface{info, true, ++m_topZ});
    return m_lastSurface;
}

std::optional<InfoReply> FakeCompositor::surfaceInfo(SurfaceId id) const
{
    const auto it = m_surfaces.constFind(id);
    if (it == m_surfaces.constEnd())
        return std::nullopt;
    return it->info;
}

QList<int> FakeCompositor::clients() const
{
    QList<int> ids;
    for (const auto &[id, client] : m_clients)
        ids.append(id);
    return ids;
}

BlightSocket *FakeCompositor::clientSocket(int client) const
{
    const Client *c = find(client);
    return c ? c->socket : nullptr;
}

QString FakeCompositor::clientBusName(int client) const
{
    const Client *c = find(client);
    return c ? c->busName : QString();
}

void FakeCompositor::releaseHeldCalls()
{
    const QList<QDBusMessage> held = std::exchange(m_held, {});
    for (const QDBusMessage &call : held) {
        QString why;
        const int fd = openConnection(call.service(), &why);
        if (fd < 0) {
            m_bus.send(call.createErrorReply(QDBusError::Failed, why));
            continue;
        }
        m_bus.send(call.createReply(QVariant::fromValue(QDBusUnixFileDescriptor(fd))));
        ::close(fd);
    }
}

int FakeCompositor::openConnection(const QString &caller, QString *errorString)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        *errorString = QStringLiteral("socketpair: %1").arg(errnoText(errno));
        report(QStringLiteral("open() from %1 failed: %2").arg(caller, *errorString));
        return -1;
    }
    auto *client = new Client(this);
    client->busName = caller;
    client->socket = new BlightSocket(BlightSocket::Mode::Messages, client);
    if (!client->socket->setSocketDescriptor(fds[1])) {
        *errorString = client->socket->errorString();
        ::close(fds[0]);
        ::close(fds[1]);
        delete client;
        report(QStringLiteral("open() from %1 failed: %2").arg(caller, *errorString));
        return -1;
    }
    const int id = ++m_lastClient;
    client->id = id;
    m_clients.emplace(id, client);

    connect(client->socket, &BlightSocket::messageReceived, this,
            [this, id](const Message &message) { onMessage(id, message); });
    connect(client->socket, &BlightSocket::ackReceived, this,
            [this, id](quint32 ackid, const QByteArray &) { onAck(id, ackid); });
    connect(client->socket, &BlightSocket::disconnected, this, [this, id] { onDisconnected(id); });

    client->pingTimer.setInterval(m_pingInterval);
    connect(&client->pingTimer, &QTimer::timeout, this, [this, id] { ping(id); });
    client->pingTimer.start();
    // As in blight: the client must answer within the timeout of connecting,
    // and of every answer after that.
    client->deadline.setSingleShot(true);
    client->deadline.setInterval(m_pingTimeout);
    connect(&client->deadline, &QTimer::timeout, this, [this, id] { notResponding(id); });
    client->deadline.start();

    Q_EMIT clientConnected(id, caller);
    report(QStringLiteral("client %1 connected (%2)").arg(id).arg(caller));
    return fds[0];
}

FakeCompositor::Client *FakeCompositor::find(int client) const
{
    const auto it = m_clients.find(client);
    return it == m_clients.end() ? nullptr : it->second;
}

void FakeCompositor::report(const QString &text)
{
    qCInfo(lcFakeCompositor, "%s", qPrintable(text));
    Q_EMIT eventOccurred(text);
}

void FakeCompositor::ping(int id)
{
    Client *client = find(id);
    if (!client || client->socket->state() != BlightSocket::State::Connected)
        return;
    if (++client->lastPing == 0)
        ++client->lastPing;
    const quint32 ackid = client->lastPing;
    qCDebug(lcFakeCompositor, "client %d: ping %u", id, ackid);
    if (!client->socket->sendMessage(MessageType::Ping, ackid, {}) || !find(id))
        return;
    Q_EMIT pingSent(id, ackid);
}

void FakeCompositor::onAck(int id, quint32 ackid)
{
    Client *client = find(id);
    if (!client)
        return;
    // Any ping newer than the last one answered counts: a slow client that
    // answers an older ping is alive.
    if (ackid == 0 || ackid > client->lastPing || ackid <= client->lastAnswered) {
        report(QStringLiteral("client %1: unexpected ack %2").arg(id).arg(ackid));
        return;
    }
    client->lastAnswered = ackid;
    client->deadline.start();
    Q_EMIT pingAnswered(id, ackid);
    if (client->notResponding) {
        client->notResponding = false;
        Q_EMIT clientRespondingAgain(id);
        report(QStringLiteral("client %1 responding again").arg(id));
    }
}

void FakeCompositor::notResponding(int id)
{
    Client *client = find(id);
    if (!client || client->notResponding)
        return;
    client->notResponding = true;
    qCWarning(lcFakeCompositor, "client %d not responding", id);
    Q_EMIT clientNotResponding(id);
    Q_EMIT eventOccurred(QStringLiteral("client %1 not responding").arg(id));
}

void FakeCompositor::onDisconnected(int id)
{
    const auto it = m_clients.find(id);
    if (it == m_clients.end())
        return;
    Client *client = it->second;
    m_clients.erase(it);
    client->pingTimer.stop();
    client->deadline.stop();
    const QString reason = client->socket->errorString().isEmpty() ? QStringLiteral("closed")
                                                                   : client->socket->errorString();
    client->socket->disconnect(this);
    client->deleteLater();
    Q_EMIT clientDisconnected(id, reason);
    report(QStringLiteral("client %1 disconnected: %2").arg(id).arg(reason));
}

void FakeCompositor::ack(int id, MessageType type, quint32 ackid, const QByteArray &payload)
{
    Client *client = find(id);
    if (!client)
        return;
    // A send to a client that has gone ends its connection at once
    // (onDisconnected() reports it); there is no ack to report then.
    if (!client->socket->sendMessage(MessageType::Ack, ackid, payload) || !find(id))
        return;
    Q_EMIT requestAcked(id, type, ackid, int(payload.size()));
    if (payload.isEmpty())
        report(QStringLiteral("client %1: acked %2 %3").arg(id).arg(requestName(type)).arg(ackid));
    else
        report(QStringLiteral("client %1: acked %2 %3 with %4 bytes")
                   .arg(id)
                   .arg(requestName(type))
                   .arg(ackid)
                   .arg(payload.size()));
}

void FakeCompositor::onMessage(int id, const Message &message)
{
    const MessageType type = message.type();
    if (type == MessageType::Ack || type == MessageType::Ping)
        return; // acks are matched in onAck(); the socket answers pings itself
    Client *client = find(id);
    if (!client)
        return;
    const quint32 ackid = message.ackid();
    Q_EMIT requestReceived(id, type, ackid);

    // Blight acks a request it cannot carry out at once and without a
    // payload; so does the fake, and it says why.
    auto ackUnknown = [&](SurfaceId surface) {
        report(QStringLiteral("client %1: %2 for unknown surface %3").arg(id).arg(requestName(type)).arg(surface));
        ack(id, type, ackid);
    };
    auto ackMalformed = [&] {
        report(QStringLiteral("client %1: malformed %2 (%3 bytes of payload)")
                   .arg(id)
                   .arg(requestName(type))
                   .arg(message.payload.size()));
        ack(id, type, ackid);
    };
    auto surfaceRequest = [&]() -> Surface * {
        const auto payload = message.payloadAs<SurfacePayload>();
        if (!payload) {
            ackMalformed();
            return nullptr;
        }
        const auto it = m_surfaces.find(payload->identifier);
        if (it == m_surfaces.end()) {
            ackUnknown(payload->identifier);
            return nullptr;
        }
        return &*it;
    };

    switch (type) {
    case MessageType::Repaint: {
        const auto repaint = message.payloadAs<RepaintPayload>();
        if (!repaint)
            return ackMalformed();
        if (!m_surfaces.contains(repaint->identifier))
            return ackUnknown(repaint->identifier);
        report(QStringLiteral("client %1: repaint %2 surface %3 (%4,%5 %6x%7) marker %8")
                   .arg(id)
                   .arg(ackid)
                   .arg(repaint->identifier)
                   .arg(repaint->x)
                   .arg(repaint->y)
                   .arg(repaint->width)
                   .arg(repaint->height)
                   .arg(repaint->marker));
        ++client->pendingMarkers[repaint->marker];
        schedulePaint(PaintJob{id, type, ackid, repaint->marker, true});
        return;
    }
    case MessageType::Move: {
        const auto move = message.payloadAs<MovePayload>();
        if (!move)
            return ackMalformed();
        const auto it = m_surfaces.find(move->identifier);
        if (it == m_surfaces.end())
            return ackUnknown(move->identifier);
        it->info.x = move->x;
        it->info.y = move->y;
        report(QStringLiteral("client %1: move %2 surface %3 to %4,%5")
                   .arg(id)
                   .arg(ackid)
                   .arg(move->identifier)
                   .arg(move->x)
                   .arg(move->y));
        schedulePaint(PaintJob{id, type, ackid});
        return;
    }
    case MessageType::Info: {
        const Surface *surface = surfaceRequest();
        if (!surface)
            return;
        ack(id, type, ackid, encode(surface->info));
        return;
    }
    case MessageType::Delete: {
        const auto payload = message.payloadAs<SurfacePayload>();
        if (!surfaceRequest())
            return;
        m_surfaces.remove(payload->identifier);
        report(QStringLiteral("client %1: delete %2 surface %3").arg(id).arg(ackid).arg(payload->identifier));
        schedulePaint(PaintJob{id, type, ackid});
        return;
    }
    case MessageType::List: {
        const QList<SurfaceId> ids = m_surfaces.keys();
        QByteArray reply(ids.size() * qsizetype(sizeof(SurfaceId)), Qt::Uninitialized);
        if (!ids.isEmpty())
            std::memcpy(reply.data(), ids.constData(), size_t(reply.size()));
        ack(id, type, ackid, reply);
        return;
    }
    case MessageType::Raise:
    case MessageType::Lower: {
        Surface *surface = surfaceRequest();
        if (!surface)
            return;
        surface->visible = type == MessageType::Raise;
        if (type == MessageType::Raise)
            surface->z = ++m_topZ;
        report(QStringLiteral("client %1: %2 %3").arg(id).arg(requestName(type)).arg(ackid));
        schedulePaint(PaintJob{id, type, ackid});
        return;
    }
    case MessageType::Focus:
        report(QStringLiteral("client %1: focus %2").arg(id).arg(ackid));
        schedulePaint(PaintJob{id, type, ackid});
        return;
    case MessageType::Wait: {
        const auto wait = message.payloadAs<WaitPayload>();
        if (!wait)
            return ackMalformed();
        if (client->pendingMarkers.value(wait->marker) > 0) {
            report(QStringLiteral("client %1: wait %2 for marker %3").arg(id).arg(ackid).arg(wait->marker));
            client->waits.insert(wait->marker, ackid);
        } else {
            ack(id, type, ackid); // nothing with that marker is on its way
        }
        return;
    }
    default:
        report(QStringLiteral("client %1: unexpected %2 %3").arg(id).arg(requestName(type)).arg(ackid));
        ack(id, type, ackid);
        return;
    }
}

void FakeCompositor::schedulePaint(const PaintJob &job)
{
    m_paintQueue.append(job);
    if (m_paintScheduled)
        return;
    m_paintScheduled = true;
    // Never inside the read that brought the request: an ack always comes
    // on a later event-loop turn.
    QTimer::singleShot(m_paintDelay, this, &FakeCompositor::paint);
}

void FakeCompositor::paint()
{
    m_paintScheduled = false;
    const QList<PaintJob> jobs = std::exchange(m_paintQueue, {});
    for (const PaintJob &job : jobs) {
        if (!find(job.client))
            continue;
        Q_EMIT painted(job.client, job.type, job.ackid);
        ack(job.client, job.type, job.ackid);
        Client *client = find(job.client);
        if (!client || !job.hasMarker)
            continue;
        if (--client->pendingMarkers[job.marker] > 0)
            continue;
        client->pendingMarkers.remove(job.marker);
        const QList<quint32> waiting = client->waits.values(job.marker);
        client->waits.remove(job.marker);
        for (quint32 waitAckid : waiting)
            ack(job.client, MessageType::Wait, waitAckid);
    }
}

} // namespace Blight
