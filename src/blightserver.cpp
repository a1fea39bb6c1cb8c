// BlightServer: non-blocking accept on unix:, tcp:// and udp:// endpoints.
#include <BlightTransport/blightserver.h>

#include "blightsocket_p.h"
#include "logging_p.h"

#include <QtCore/QFile>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostAddress>

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace Blight {

class BlightServerPrivate
{
public:
    BlightServerPrivate(BlightServer *server, BlightSocket::Mode socketMode)
        : q(server)
        , mode(socketMode)
    {
    }

    BlightServer *q;
    BlightSocket::Mode mode;
    int fd = -1;
    Endpoint endpoint;
    QString boundEndpoint;
    QString errorString;
    QString unixPath;
    QSocketNotifier *notifier = nullptr;
    QList<QPointer<BlightSocket>> pending;
    QPointer<BlightSocket> udpSocket;

    bool fail(const QString &why)
    {
        errorString = why;
        qCInfo(lcServer, "%s", qPrintable(why));
        if (fd >= 0)
            ::close(fd);
        fd = -1;
        return false;
    }
    void onAcceptable();
};

static QString errnoText()
{
    return QString::fromLocal8Bit(std::strerror(errno));
}

BlightServer::BlightServer(BlightSocket::Mode mode, QObject *parent)
    : QObject(parent)
    , d(std::make_unique<BlightServerPrivate>(this, mode))
{
}

BlightServer::~BlightServer()
{
    close();
}

bool BlightServer::listen(const QString &text)
{
    if (d->fd >= 0) {
        d->errorString = QStringLiteral("already listening on %1").arg(d->boundEndpoint);
        return false;
    }
    QString why;
    d->endpoint = Endpoint::parse(text, &why);
    if (!d->endpoint.isValid())
        return d->fail(why);
    sockaddr_storage address{};
    socklen_t length = 0;
    int type = SOCK_STREAM;
    switch (d->endpoint.scheme()) {
    case Endpoint::Scheme::Unix: {
        const QByteArray path = QFile::encodeName(d->endpoint.path());
        auto *un = reinterpret_cast<sockaddr_un *>(&address);
        if (path.size() >= qsizetype(sizeof(un->sun_path)))
            return d->fail(QStringLiteral("socket path %1 is too long").arg(d->endpoint.path()));
        un->sun_family = AF_UNIX;
        std::memcpy(un->sun_path, path.constData(), size_t(path.size()));
        length = sizeof(sockaddr_un);
        break;
    }
    case Endpoint::Scheme::Tcp:
    case Endpoint::Scheme::Udp: {
        type = d->endpoint.scheme() == Endpoint::Scheme::Udp ? SOCK_DGRAM : SOCK_STREAM;
        QHostAddress host(d->endpoint.host());
        if (d->endpoint.host() == u"localhost")
            host = QHostAddress(QHostAddress::LocalHost);
        if (host.isNull())
            return d->fail(QStringLiteral("listen needs a numeric address or localhost, not %1").arg(d->endpoint.host()));
        if (host.protocol() == QAbstractSocket::IPv4Protocol) {
            auto *in = reinterpret_cast<sockaddr_in *>(&address);
            in->sin_family = AF_INET;
            in->sin_port = htons(d->endpoint.port());
            in->sin_addr.s_addr = htonl(host.toIPv4Address());
            length = sizeof(sockaddr_in);
        } else {
            auto *in6 = reinterpret_cast<sockaddr_in6 *>(&address);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(d->endpoint.port());
            const Q_IPV6ADDR bytes = host.toIPv6Address();
            std::memcpy(&in6->sin6_addr, &bytes, sizeof(bytes));
            length = sizeof(sockaddr_in6);
        }
        break;
    }
    default:
        return d->fail(QStringLiteral("cannot listen on %1: use unix:, tcp:// or udp://").arg(text));
    }
    d->fd = ::socket(address.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->fd < 0)
        return d->fail(QStringLiteral("cannot create a socket: %1").arg(errnoText()));
    if (address.ss_family != AF_UNIX) {
        const int one = 1;
        ::setsockopt(d->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    }
    if (::bind(d->fd, reinterpret_cast<sockaddr *>(&address), length) != 0)
        return d->fail(QStringLiteral("cannot bind %1: %2").arg(text, errnoText()));
    if (type == SOCK_STREAM && ::listen(d->fd, 64) != 0)
        return d->fail(QStringLiteral("cannot listen on %1: %2").arg(text, errnoText()));
    if (address.ss_family == AF_UNIX)
        d->unixPath = d->endpoint.path();

    // The real port, for :0.
    d->boundEndpoint = d->endpoint.toString();
    if (address.ss_family != AF_UNIX) {
        sockaddr_storage bound{};
        socklen_t boundLength = sizeof(bound);
        ::getsockname(d->fd, reinterpret_cast<sockaddr *>(&bound), &boundLength);
        const quint16 port = bound.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in *>(&bound)->sin_port)
                                                        : ntohs(reinterpret_cast<sockaddr_in6 *>(&bound)->sin6_port);
        const QString host = d->endpoint.host().contains(u':') ? u'[' + d->endpoint.host() + u']' : d->endpoint.host();
        d->boundEndpoint = d->endpoint.schemeName() + QStringLiteral("://") + host + u':' + QString::number(port);
    }

    if (type == SOCK_DGRAM) {
        // No accept for UDP: the bound socket is the one connection, tied to
        // the sender of the first datagram.
        auto *socket = new BlightSocket(d->mode, this);
        BlightSocketPrivate *sd = BlightSocketPrivate::get(socket);
        sd->startConnection();
        sd->connectOnFirstDatagram = true;
        if (!sd->adopt(d->fd, BlightSocket::Ownership::TakeOwnership, d->boundEndpoint)) {
            const QString why2 = sd->errorString;
            delete socket;
            return d->fail(why2);
        }
        d->udpSocket = socket;
        connect(socket, &BlightSocket::connected, this, [this, socket] {
            // The one connection is made: the server no longer listens.
            d->udpSocket = nullptr;
            d->pending.append(socket);
            Q_EMIT listeningChanged();
            Q_EMIT newConnection();
        });
        d->fd = -1; // owned by the socket now
    } else {
        d->notifier = new QSocketNotifier(d->fd, QSocketNotifier::Read, this);
        connect(d->notifier, &QSocketNotifier::activated, this, [this] { d->onAcceptable(); });
    }
    qCDebug(lcServer) << "listening on" << d->boundEndpoint;
    Q_EMIT listeningChanged();
    return true;
}

void BlightServerPrivate::onAcceptable()
{
    for (;;) {
        const int accepted = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (accepted < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                const QString why = QStringLiteral("accept failed: %1").arg(errnoText());
                qCInfo(lcServer, "%s", qPrintable(why));
                Q_EMIT q->acceptError(why);
            }
            return;
        }
        auto *socket = new BlightSocket(mode, q);
        if (!socket->setSocketDescriptor(accepted)) {
            Q_EMIT q->acceptError(socket->errorString());
            ::close(accepted);
            delete socket;
            continue;
        }
        pending.append(socket);
        Q_EMIT q->newConnection();
        if (fd < 0)
            return; // closed by a newConnection() handler
    }
}

void BlightServer::close()
{
    const bool was = isListening();
    if (d->notifier) {
        d->notifier->setEnabled(false);
        delete d->notifier;
        d->notifier = nullptr;
    }
    if (d->fd >= 0)
        ::close(d->fd);
    d->fd = -1;
    if (!d->unixPath.isEmpty())
        ::unlink(QFile::encodeName(d->unixPath).constData());
    d->unixPath.clear();
    // A udp:// socket still waiting for its first datagram goes with the server's listening.
    delete d->udpSocket.data();
    d->udpSocket = nullptr;
    if (was)
        Q_EMIT listeningChanged();
}

bool BlightServer::isListening() const
{
    return d->fd >= 0 || d->udpSocket;
}

QString BlightServer::endpoint() const
{
    return d->boundEndpoint;
}

QString BlightServer::errorString() const
{
    return d->errorString;
}

bool BlightServer::hasPendingConnections() const
{
    for (const auto &socket : d->pending) {
        if (socket)
            return true;
    }
    return false;
}

BlightSocket *BlightServer::nextPendingConnection()
{
    while (!d->pending.isEmpty()) {
        QPointer<BlightSocket> socket = d->pending.takeFirst();
        if (socket)
            return socket;
    }
    return nullptr;
}

} // namespace Blight
