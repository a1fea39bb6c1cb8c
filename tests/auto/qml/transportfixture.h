// SPDX-License-Identifier: MIT
// Real socket pairs for the QML and panel tests, handed to QML as the
// BlightTest singleton.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QVariantList>

class QQmlEngine;
class QJSEngine;

class TransportFixture : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString lastError READ lastError NOTIFY lastErrorChanged)

public:
    explicit TransportFixture(QObject *parent = nullptr);
    ~TransportFixture() override;

    /*! Registers the singleton "BlightTest 1.0 / BlightTest" (one fixture per engine). */
    static void registerQmlSingleton();

    /*! A connected AF_UNIX socketpair, as [a, b]. */
    Q_INVOKABLE QVariantList unixPair();
    /*!
        A TCP loopback pair, as [client, server]; the client gets \a zeroCopyMode
        (a Blight::BlightSocket::ZeroCopyMode value) and \a threshold.
    */
    Q_INVOKABLE QVariantList tcpPair(int zeroCopyMode, int threshold);
    /*! Queues \a count Ack messages with \a payloadSize-byte payloads. */
    Q_INVOKABLE bool sendMessages(QObject *socket, int count, int payloadSize);
    /*! Deletes every socket made so far. */
    Q_INVOKABLE void destroyAll();

    QList<Blight::BlightSocket *> sockets() const;
    QString lastError() const { return m_lastError; }

Q_SIGNALS:
    void lastErrorChanged();

private:
    Blight::BlightSocket *adopt(int fd);
    void setError(const QString &error);

    QList<QPointer<Blight::BlightSocket>> m_sockets;
    QString m_lastError;
    quint32 m_ackId = 0;
};
