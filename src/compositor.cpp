// blight: and blight:session endpoints: the D-Bus handshake with blight's
// compositor (open() hands out one end of a socket pair), and the watch on
// the compositor's bus name for as long as the connection lasts.
#include <BlightTransport/compositor.h>

#include "blightsocket_p.h"
#include "logging_p.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QPointer>
#include <QtDBus/QDBusConnection>
#include <QtDBus/QDBusError>
#include <QtDBus/QDBusMessage>
#include <QtDBus/QDBusPendingCall>
#include <QtDBus/QDBusPendingCallWatcher>
#include <QtDBus/QDBusServiceWatcher>
#include <QtDBus/QDBusUnixFileDescriptor>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace Blight {

/*
    One blight: connection attempt, then the connection itself. A child of the
    socket, so that destroying the socket destroys the pending-call watcher
    and the name watcher with it and no reply can reach a dead socket. It
    keeps a raw pointer to the socket's private object: the private object
    outlives every event delivery to its socket's children, but not the
    socket's destructor, so nothing here touches it from a synchronous signal
    that the destructor might emit (stateChanged).
*/
class CompositorLink : public QObject
{
    Q_OBJECT

public:
    CompositorLink(BlightSocketPrivate *d, BlightSocket *socket, bool sessionBus);

    void start();
    /*! Ends this link's part: it will neither fail nor finish the socket. */
    void retire();

private:
    enum class Phase { Calling, Connected, Done };

    QString busText() const;
    QString serviceText() const;
    QString prefix() const;
    bool stillWanted() const;
    void failLater(BlightSocket::Error error, const QString &reason);
    void failNow(BlightSocket::Error error, const QString &reason);
    void onStateChanged(BlightSocket::State state);
    void onReply(QDBusPendingCallWatcher *call);
    void onOwnerChanged(const QString &name, const QString &oldOwner, const QString &newOwner);
    void describeCallError(const QDBusError &error, BlightSocket::Error *kind, QString *reason) const;

    BlightSocketPrivate *const d;
    const QPointer<BlightSocket> m_socket;
    const bool m_sessionBus;
    const QString m_endpointText;
    QDBusConnection m_bus;
    QDBusServiceWatcher *m_serviceWatcher = nullptr;
    QString m_owner; // unique name of the compositor that answered open()
    Phase m_phase = Phase::Calling;
};

CompositorLink::CompositorLink(BlightSocketPrivate *dd, BlightSocket *socket, bool sessionBus)
    : QObject(socket)
    , d(dd)
    , m_socket(socket)
    , m_sessionBus(sessionBus)
    , m_endpointText(dd->endpointText)
    , m_bus(sessionBus ? QDBusConnection::sessionBus() : QDBusConnection::systemBus())
{
    // Any state change while the call is in flight (abort(), a failure)
    // means the answer is no longer wanted; a drop to Unconnected ends the
    // watch on the name.
    connect(socket, &BlightSocket::stateChanged, this, &CompositorLink::onStateChanged);
}

QString CompositorLink::busText() const
{
    return m_sessionBus ? QStringLiteral("session bus") : QStringLiteral("system bus");
}

QString CompositorLink::prefix() const
{
    // "blight:session: ..." but "blight: ...", not "blight:: ...".
    if (m_endpointText.endsWith(u':'))
        return m_endpointText + u' ';
    return m_endpointText + QStringLiteral(": ");
}

QString CompositorLink::serviceText() const
{
    return QString(CompositorService);
}

void CompositorLink::start()
{
    if (!m_bus.isConnected()) {
        // Say where the address came from: that is what a user can fix.
        const char *variable = m_sessionBus ? "DBUS_SESSION_BUS_ADDRESS" : "DBUS_SYSTEM_BUS_ADDRESS";
        const QString address = qEnvironmentVariable(variable);
        const QString where = address.isEmpty() ? QStringLiteral("%1 not set").arg(QLatin1StringView(variable))
                                                : QStringLiteral("%1=%2").arg(QLatin1StringView(variable), address);
        const QDBusError why = m_bus.lastError();
        failLater(BlightSocket::Error::ConnectError,
                  QStringLiteral("%1cannot reach the D-Bus %2 (%3): %4")
                      .arg(prefix(), busText(), where,
                           why.isValid() ? why.message() : QStringLiteral("not connected")));
        return;
    }
    if (!(m_bus.connectionCapabilities() & QDBusConnection::UnixFileDescriptorPassing)) {
        failLater(BlightSocket::Error::ConnectError,
                  QStringLiteral("%1the D-Bus %2 connection cannot pass file descriptors, "
                                 "so the compositor cannot hand out a socket over it")
                      .arg(prefix(), busText()));
        return;
    }

    // Watch the name before asking: the bus delivers the owner-change signal
    // and the reply in order, so a compositor that leaves at any point after
    // the call is noticed.
    m_serviceWatcher = new QDBusServiceWatcher(serviceText(), m_bus,
                                               QDBusServiceWatcher::WatchForOwnerChange, this);
    connect(m_serviceWatcher, &QDBusServiceWatcher::serviceOwnerChanged, this, &CompositorLink::onOwnerChanged);

    const QDBusMessage call = QDBusMessage::createMethodCall(serviceText(), QString(CompositorPath),
                                                             QString(CompositorInterface),
                                                             QString(CompositorOpenMethod));
    auto *watcher = new QDBusPendingCallWatcher(m_bus.asyncCall(call), this);
    connect(watcher, &QDBusPendingCallWatcher::finished, this, &CompositorLink::onReply);
    qCDebug(lcCompositor, "%s: calling %s %s.%s on the %s", qPrintable(m_endpointText),
            qPrintable(serviceText()), qPrintable(QString(CompositorInterface)),
            qPrintable(QString(CompositorOpenMethod)), qPrintable(busText()));
}

void CompositorLink::retire()
{
    m_phase = Phase::Done;
    deleteLater();
}

bool CompositorLink::stillWanted() const
{
    // The socket may have been aborted (and even reconnected elsewhere)
    // while the call was in flight.
    return m_phase == Phase::Calling && m_socket && d->state == BlightSocket::State::Connecting && d->fd < 0
        && d->endpointText == m_endpointText;
}

void CompositorLink::failLater(BlightSocket::Error error, const QString &reason)
{
    // connected() or errorOccurred() must come after connectToEndpoint()
    // returned; the queued call dies with this object.
    QMetaObject::invokeMethod(this, [this, error, reason] {
        if (stillWanted())
            failNow(error, reason);
    }, Qt::QueuedConnection);
}

void CompositorLink::failNow(BlightSocket::Error error, const QString &reason)
{
    m_phase = Phase::Done;
    if (m_serviceWatcher)
        m_serviceWatcher->disconnect(this);
    deleteLater();
    // May delete the socket, and this object with it, from a slot.
    BlightSocketPrivate::Busy busy(d);
    d->fail(error, reason);
}

void CompositorLink::onStateChanged(BlightSocket::State state)
{
    // No access to d here: the socket's destructor may be the emitter.
    if (m_phase == Phase::Calling && state != BlightSocket::State::Connecting) {
        m_phase = Phase::Done;
        deleteLater();
    } else if (m_phase == Phase::Connected && state == BlightSocket::State::Unconnected) {
        m_phase = Phase::Done;
        deleteLater();
    }
}

void CompositorLink::describeCallError(const QDBusError &error, BlightSocket::Error *kind, QString *reason) const
{
    const QString name = error.name();
    const QString detail = name + QStringLiteral(": ") + error.message();
    if (error.type() == QDBusError::ServiceUnknown || name == QLatin1StringView("org.freedesktop.DBus.Error.NameHasNoOwner")) {
        *kind = BlightSocket::Error::ServiceUnavailable;
        *reason = QStringLiteral("%1no compositor on the %2: nothing owns %3 (is blight running?) (%4)")
                      .arg(prefix(), busText(), serviceText(), detail);
    } else if (error.type() == QDBusError::UnknownObject || error.type() == QDBusError::UnknownInterface
               || error.type() == QDBusError::UnknownMethod) {
        *kind = BlightSocket::Error::ServiceUnavailable;
        *reason = QStringLiteral("%1%2 on the %3 is not a blight compositor: it has no %4.%5() at %6 (%7)")
                      .arg(prefix(), serviceText(), busText(), QString(CompositorInterface),
                           QString(CompositorOpenMethod), QString(CompositorPath), detail);
    } else if (error.type() == QDBusError::NoReply || error.type() == QDBusError::Timeout
               || error.type() == QDBusError::TimedOut) {
        *kind = BlightSocket::Error::ConnectError;
        *reason = QStringLiteral("%1the compositor did not answer %2() on the %3 (%4)")
                      .arg(prefix(), QString(CompositorOpenMethod), busText(), detail);
    } else if (error.type() == QDBusError::Disconnected) {
        *kind = BlightSocket::Error::ConnectError;
        *reason = QStringLiteral("%1lost the D-Bus %2 during the handshake (%3)")
                      .arg(prefix(), busText(), detail);
    } else {
        *kind = BlightSocket::Error::ConnectError;
        *reason = QStringLiteral("%1the compositor refused %2() (%3)")
                      .arg(prefix(), QString(CompositorOpenMethod), detail);
    }
}

void CompositorLink::onReply(QDBusPendingCallWatcher *call)
{
    call->deleteLater();
    if (!stillWanted()) {
        // The descriptor in the reply, if any, is closed with the message.
        qCDebug(lcCompositor, "%s: open() answered after the attempt ended; dropped", qPrintable(m_endpointText));
        return;
    }
    const QDBusMessage reply = call->reply();
    if (reply.type() == QDBusMessage::ErrorMessage) {
        BlightSocket::Error kind;
        QString reason;
        describeCallError(QDBusError(reply), &kind, &reason);
        failNow(kind, reason);
        return;
    }
    const QVariantList arguments = reply.arguments();
    if (reply.type() != QDBusMessage::ReplyMessage || arguments.isEmpty()
        || arguments.constFirst().metaType() != QMetaType::fromType<QDBusUnixFileDescriptor>()) {
        failNow(BlightSocket::Error::ConnectError,
                QStringLiteral("%1the compositor's reply to %2() carried no file descriptor "
                               "(reply signature \"%3\", expected \"h\")")
                    .arg(prefix(), QString(CompositorOpenMethod), reply.signature()));
        return;
    }
    const auto descriptor = arguments.constFirst().value<QDBusUnixFileDescriptor>();
    if (!descriptor.isValid()) {
        failNow(BlightSocket::Error::ConnectError,
                QStringLiteral("%1the compositor's reply to %2() carried an invalid file descriptor")
                    .arg(prefix(), QString(CompositorOpenMethod)));
        return;
    }
    // The message keeps its own descriptor and closes it; the socket gets a
    // close-on-exec copy above the standard streams, as Oxide's clients do.
    const int fd = ::fcntl(descriptor.fileDescriptor(), F_DUPFD_CLOEXEC, 3);
    if (fd < 0) {
        const int errorNumber = errno;
        failNow(BlightSocket::Error::ConnectError,
                QStringLiteral("%1cannot duplicate the compositor's descriptor: %2")
                    .arg(prefix(), QString::fromLocal8Bit(std::strerror(errorNumber))));
        return;
    }
    m_owner = reply.service();
    m_phase = Phase::Connected;
    qCDebug(lcCompositor, "%s: %s (%s) handed out descriptor %d", qPrintable(m_endpointText),
            qPrintable(serviceText()), qPrintable(m_owner), fd);
    // Adopts fd (or closes it and fails) and emits connected(), whose slots
    // may delete the socket and this object with it.
    BlightSocketPrivate::Busy busy(d);
    d->finishHandshake(fd);
}

void CompositorLink::onOwnerChanged(const QString &name, const QString &oldOwner, const QString &newOwner)
{
    Q_UNUSED(name);
    if (m_phase == Phase::Done || oldOwner.isEmpty() || !m_socket)
        return; // a compositor appearing changes nothing for this socket
    if (m_phase == Phase::Connected && !m_owner.isEmpty() && oldOwner != m_owner)
        return; // some other owner came and went
    if (m_phase == Phase::Calling && !stillWanted())
        return;
    if (m_phase == Phase::Connected
        && (d->state == BlightSocket::State::Unconnected || d->state == BlightSocket::State::Closing)) {
        return; // the socket already ended, with its own reason
    }
    const QString what = newOwner.isEmpty()
        ? QStringLiteral("left the %1").arg(busText())
        : QStringLiteral("was replaced on the %1 by %2").arg(busText(), newOwner);
    const QString when = m_phase == Phase::Calling ? QStringLiteral("during the handshake")
                                                   : QStringLiteral("while connected");
    qCInfo(lcCompositor, "%s: the compositor %s %s", qPrintable(m_endpointText), qPrintable(oldOwner),
           qPrintable(what));
    failNow(BlightSocket::Error::ServiceUnavailable,
            QStringLiteral("%1the compositor (%2, %3) %4 %5").arg(prefix(), serviceText(), oldOwner, what, when));
}

void BlightSocketPrivate::startCompositorHandshake(bool sessionBus)
{
    Q_Q(BlightSocket);
    // Only one attempt per socket: an older link (its socket aborted and
    // reconnected) must not answer for this one.
    const auto stale = q->findChildren<CompositorLink *>(Qt::FindDirectChildrenOnly);
    for (CompositorLink *link : stale)
        link->retire();
    if (state != BlightSocket::State::Connecting)
        setState(BlightSocket::State::Connecting);
    auto *link = new CompositorLink(this, q, sessionBus);
    link->start();
}

QString compositorEndpoint(Bus bus)
{
    return bus == Bus::Session ? QStringLiteral("blight:session") : QStringLiteral("blight:");
}

BlightSocket *connectToCompositor(Bus bus, QObject *parent)
{
    auto *socket = new BlightSocket(BlightSocket::Mode::Messages, parent);
    socket->connectToEndpoint(compositorEndpoint(bus));
    return socket;
}

} // namespace Blight

#include "compositor.moc"
