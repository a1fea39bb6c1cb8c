// SPDX-License-Identifier: MIT
// TransportFixture: POSIX socket pairs adopted by BlightSocket, for QML tests.
#include "transportfixture.h"

#include "rawsockets.h"

#include <QtQml/qqml.h>

#include <utility>

using Blight::BlightSocket;
using RawSockets::UniqueFd;

TransportFixture::TransportFixture(QObject *parent)
    : QObject(parent)
{
}

TransportFixture::~TransportFixture()
{
    destroyAll();
}

void TransportFixture::registerQmlSingleton()
{
    qmlRegisterSingletonType<TransportFixture>("BlightTest", 1, 0, "BlightTest",
                                               [](QQmlEngine *, QJSEngine *) -> QObject * {
                                                   return new TransportFixture;
                                               });
}

void TransportFixture::setError(const QString &error)
{
    m_lastError = error;
    Q_EMIT lastErrorChanged();
    qWarning("TransportFixture: %s", qPrintable(error));
}

BlightSocket *TransportFixture::adopt(int fd)
{
    auto *socket = new BlightSocket(BlightSocket::Mode::Messages, this);
    if (!socket->setSocketDescriptor(fd, BlightSocket::Ownership::TakeOwnership)) {
        setError(socket->errorString());
        delete socket;
        return nullptr;
    }
    m_sockets.append(socket);
    return socket;
}

QVariantList TransportFixture::unixPair()
{
    UniqueFd a;
    UniqueFd b;
    if (!RawSockets::unixPair(&a, &b)) {
        setError(QStringLiteral("socketpair failed"));
        return {};
    }
    BlightSocket *first = adopt(a.release());
    BlightSocket *second = adopt(b.release());
    if (!first || !second)
        return {};
    return {QVariant::fromValue<QObject *>(first), QVariant::fromValue<QObject *>(second)};
}

QVariantList TransportFixture::tcpPair(int zeroCopyMode, int threshold)
{
    UniqueFd client;
    UniqueFd server;
    if (!RawSockets::tcpPair(&client, &server)) {
        setError(QStringLiteral("cannot make a TCP loopback pair"));
        return {};
    }
    BlightSocket *first = adopt(client.release());
    BlightSocket *second = adopt(server.release());
    if (!first || !second)
        return {};
    first->setZeroCopyThreshold(threshold);
    first->setZeroCopyMode(static_cast<BlightSocket::ZeroCopyMode>(zeroCopyMode));
    return {QVariant::fromValue<QObject *>(first), QVariant::fromValue<QObject *>(second)};
}

bool TransportFixture::sendMessages(QObject *object, int count, int payloadSize)
{
    auto *socket = qobject_cast<BlightSocket *>(object);
    if (!socket) {
        setError(QStringLiteral("sendMessages: not a BlightSocket"));
        return false;
    }
    for (int i = 0; i < count; ++i) {
        // A fresh array per message, as an application would hand over frames.
        const QByteArray payload(payloadSize, char('a' + i % 26));
        if (!socket->sendMessage(Blight::MessageType::Ack, ++m_ackId, payload)) {
            setError(QStringLiteral("send %1 refused: %2").arg(i).arg(int(socket->lastSendError())));
            return false;
        }
    }
    return true;
}

void TransportFixture::destroyAll()
{
    const QList<QPointer<BlightSocket>> sockets = std::exchange(m_sockets, {});
    for (const QPointer<BlightSocket> &socket : sockets)
        delete socket.data();
}

QList<BlightSocket *> TransportFixture::sockets() const
{
    QList<BlightSocket *> list;
    for (const QPointer<BlightSocket> &socket : m_sockets) {
        if (socket)
            list.append(socket.data());
    }
    return list;
}
