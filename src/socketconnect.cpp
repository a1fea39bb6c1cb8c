// SPDX-License-Identifier: MIT
// Connecting to an endpoint: descriptors, unix: paths, host lookup and a
// non-blocking connect() per address. Each attempt owns a context object;
// abort() or a new attempt retires it, so a stale lookup or queued connect
// never reaches a later attempt.
#include "blightsocket_p.h"
#include "logging_p.h"
#include "socketutil_p.h"

#include <QtCore/QFile>
#include <QtNetwork/QHostInfo>

#include <cerrno>
#include <functional>
#include <cstring>
#include <netinet/in.h>
#include <sys/un.h>
#include <unistd.h>

namespace Blight {

using namespace SocketUtil;

namespace {

// Receives one host lookup for a connect attempt. A string-named slot rather
// than a functor: Qt 6.4 never frees a functor's slot object whose lookup is
// still running when its context goes (abort(), a new attempt, exit).
class HostLookup : public QObject
{
    Q_OBJECT

public:
    HostLookup(QObject *attempt, std::function<void(const QHostInfo &)> done)
        : QObject(attempt)
        , m_done(std::move(done))
    {
    }

public Q_SLOTS:
    void finished(const QHostInfo &info) { m_done(info); }

private:
    std::function<void(const QHostInfo &)> m_done;
};

} // namespace

QObject *BlightSocketPrivate::newAttempt()
{
    cancelAttempt();
    attempt = new QObject(this);
    return attempt;
}

void BlightSocketPrivate::cancelAttempt()
{
    if (QObject *old = std::exchange(attempt, nullptr)) {
        // Its notifier may be the one whose signal is running now: disable it
        // at once, delete it later. Callbacks check that their attempt is current.
        for (QSocketNotifier *notifier : old->findChildren<QSocketNotifier *>())
            notifier->setEnabled(false);
        old->deleteLater();
    }
    if (lookupId >= 0)
        QHostInfo::abortHostLookup(std::exchange(lookupId, -1));
    if (connectingFd >= 0)
        ::close(std::exchange(connectingFd, -1));
    pendingAddresses.clear();
}

void BlightSocketPrivate::connectTo(const QString &text)
{
    startConnection();
    QString why;
    const Endpoint endpoint = Endpoint::parse(text, &why);
    pendingEndpoint = endpoint;
    endpointText = endpoint.isValid() ? endpoint.toString() : text;
    if (!setState(BlightSocket::State::Connecting) || !announceEndpoint(endpointText)
        || state != BlightSocket::State::Connecting)
        return; // a slot aborted or deleted the socket
    QObject *const context = newAttempt();
    const auto current = [this, context] { return attempt == context && state == BlightSocket::State::Connecting; };
    // Every step runs from the event loop, so that connected() or
    // errorOccurred() always arrive after connectToEndpoint() returned, and
    // only while this attempt is the current one.
    const auto later = [this, context, current](auto step) {
        QMetaObject::invokeMethod(
            context,
            [this, current, step] {
                if (!current())
                    return;
                Busy busy(this);
                step();
            },
            Qt::QueuedConnection);
    };
    switch (endpoint.scheme()) {
    case Endpoint::Scheme::Invalid:
        later([this, why] { fail(BlightSocket::Error::InvalidEndpoint, why); });
        return;
    case Endpoint::Scheme::Fd:
        later([this, fdNumber = endpoint.descriptor()] {
            if (adopt(fdNumber, BlightSocket::Ownership::TakeOwnership))
                becomeConnected();
            else
                fail(BlightSocket::Error::InvalidDescriptor, errorString);
        });
        return;
    case Endpoint::Scheme::Unix: {
        const QByteArray path = QFile::encodeName(endpoint.path());
        sockaddr_un address{};
        address.sun_family = AF_UNIX;
        if (path.size() >= qsizetype(sizeof(address.sun_path))) {
            later([this] { fail(BlightSocket::Error::InvalidEndpoint, QStringLiteral("socket path is too long")); });
            return;
        }
        std::memcpy(address.sun_path, path.constData(), size_t(path.size()));
        const int newFd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        startConnect(newFd, reinterpret_cast<sockaddr *>(&address), sizeof(address));
        return;
    }
    case Endpoint::Scheme::Tcp:
    case Endpoint::Scheme::Udp: {
        const QHostAddress literal(endpoint.host());
        if (!literal.isNull()) {
            pendingAddresses = {literal};
            later([this] { connectToAddressList(); });
            return;
        }
        auto *lookup = new HostLookup(context, [this, current](const QHostInfo &info) {
            if (!current())
                return;
            Busy busy(this);
            lookupId = -1;
            if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
                fail(BlightSocket::Error::HostNotFound,
                     QStringLiteral("cannot resolve %1: %2").arg(pendingEndpoint.host(), info.errorString()));
                return;
            }
            pendingAddresses = info.addresses();
            connectToAddressList();
        });
        lookupId = QHostInfo::lookupHost(endpoint.host(), lookup, SLOT(finished(QHostInfo)));
        return;
    }
    case Endpoint::Scheme::Blight:
        startCompositorHandshake(endpoint.sessionBus());
        return;
    }
}

void BlightSocketPrivate::connectToAddressList()
{
    const bool udp = pendingEndpoint.scheme() == Endpoint::Scheme::Udp;
    while (!pendingAddresses.isEmpty()) {
        const QHostAddress host = pendingAddresses.takeFirst();
        sockaddr_storage address{};
        socklen_t length = 0;
        if (host.protocol() == QAbstractSocket::IPv4Protocol) {
            auto *in = reinterpret_cast<sockaddr_in *>(&address);
            in->sin_family = AF_INET;
            in->sin_port = htons(pendingEndpoint.port());
            in->sin_addr.s_addr = htonl(host.toIPv4Address());
            length = sizeof(sockaddr_in);
        } else if (host.protocol() == QAbstractSocket::IPv6Protocol) {
            auto *in6 = reinterpret_cast<sockaddr_in6 *>(&address);
            in6->sin6_family = AF_INET6;
            in6->sin6_port = htons(pendingEndpoint.port());
            const Q_IPV6ADDR bytes = host.toIPv6Address();
            std::memcpy(&in6->sin6_addr, &bytes, sizeof(bytes));
            in6->sin6_scope_id = host.scopeId().toUInt();
            length = sizeof(sockaddr_in6);
        } else {
            continue;
        }
        const int type = (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
        startConnect(::socket(address.ss_family, type, 0), reinterpret_cast<sockaddr *>(&address), length);
        return;
    }
    fail(BlightSocket::Error::HostNotFound, QStringLiteral("no usable address for %1").arg(endpointText));
}

void BlightSocketPrivate::startConnect(int newFd, const sockaddr *address, socklen_t length)
{
    if (newFd < 0) {
        failErrno(errno, QStringLiteral("creating a socket"));
        return;
    }
    QObject *const context = attempt;
    connectingFd = newFd;
    const auto ready = [this, context] {
        if (attempt != context)
            return;
        Busy busy(this);
        onConnectReady();
    };
    if (::connect(newFd, address, length) == 0) {
        QMetaObject::invokeMethod(context, ready, Qt::QueuedConnection);
        return;
    }
    if (errno == EINPROGRESS || errno == EAGAIN) {
        auto *notifier = new QSocketNotifier(newFd, QSocketNotifier::Write, context);
        QObject::connect(notifier, &QSocketNotifier::activated, notifier, [notifier, ready] {
            notifier->setEnabled(false);
            ready();
        });
        return;
    }
    const int errorNumber = errno;
    ::close(std::exchange(connectingFd, -1));
    if (!pendingAddresses.isEmpty()) {
        connectToAddressList();
        return;
    }
    QMetaObject::invokeMethod(
        context,
        [this, context, errorNumber] {
            if (attempt != context)
                return;
            Busy busy(this);
            failConnect(errorNumber);
        },
        Qt::QueuedConnection);
}

void BlightSocketPrivate::failConnect(int errorNumber)
{
    fail(errorNumber == ECONNREFUSED || errorNumber == ENOENT ? BlightSocket::Error::ConnectionRefused
                                                              : BlightSocket::Error::ConnectError,
         QStringLiteral("cannot connect to %1: %2").arg(endpointText, errnoText(errorNumber)));
}

void BlightSocketPrivate::onConnectReady()
{
    const int newFd = std::exchange(connectingFd, -1);
    if (newFd < 0)
        return;
    if (state != BlightSocket::State::Connecting) {
        ::close(newFd);
        return;
    }
    int soError = 0;
    socklen_t length = sizeof(soError);
    ::getsockopt(newFd, SOL_SOCKET, SO_ERROR, &soError, &length);
    if (soError != 0) {
        ::close(newFd);
        if (!pendingAddresses.isEmpty()) {
            connectToAddressList();
            return;
        }
        failConnect(soError);
        return;
    }
    if (!adopt(newFd, BlightSocket::Ownership::TakeOwnership)) {
        ::close(newFd);
        fail(BlightSocket::Error::ConnectError, errorString);
        return;
    }
    becomeConnected();
}

void BlightSocketPrivate::finishHandshake(int newFd)
{
    if (state != BlightSocket::State::Connecting) {
        ::close(newFd);
        return;
    }
    if (!adopt(newFd, BlightSocket::Ownership::TakeOwnership, endpointText)) {
        ::close(newFd);
        fail(BlightSocket::Error::ConnectError, errorString);
        return;
    }
    becomeConnected();
}

} // namespace Blight

#include "socketconnect.moc"
