// BlightServer: listens on a unix:, tcp:// or udp:// endpoint and hands out a
// BlightSocket per accepted connection.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QObject>

#include <memory>

namespace Blight {

class BlightServerPrivate;

/*!
    \class Blight::BlightServer
    \brief Accepts connections on an endpoint without blocking.

    For udp:// there is no accept: the bound socket becomes the one
    connection, connected to the peer of the first datagram it receives.
*/
class BLIGHTTRANSPORT_EXPORT BlightServer : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString endpoint READ endpoint NOTIFY listeningChanged)
    Q_PROPERTY(bool listening READ isListening NOTIFY listeningChanged)

public:
    /*! A server whose accepted sockets are in \a mode. */
    explicit BlightServer(BlightSocket::Mode mode = BlightSocket::Mode::Messages,
                          QObject *parent = nullptr);
    ~BlightServer() override;

    /*! Binds and listens. tcp://host:0 picks a free port; endpoint() tells which. */
    bool listen(const QString &endpoint);
    /*! Stops listening; sockets already accepted stay open. */
    void close();
    /*! True between a successful listen() and close(). */
    bool isListening() const;
    /*! The bound endpoint, with the real port. */
    QString endpoint() const;
    /*! Why the last listen() failed. */
    QString errorString() const;

    /*! True when nextPendingConnection() has a socket to hand out. */
    bool hasPendingConnections() const;
    /*! The next accepted socket, parented to the server; nullptr if none. */
    BlightSocket *nextPendingConnection();

Q_SIGNALS:
    /*! A connection was accepted; take it with nextPendingConnection(). */
    void newConnection();
    /*! listen() succeeded or close() was called. */
    void listeningChanged();
    /*! accept() failed for \a reason; the server keeps listening. */
    void acceptError(const QString &reason);

private:
    std::unique_ptr<BlightServerPrivate> d;
};

} // namespace Blight
