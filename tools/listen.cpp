// blight-transport listen: accept connections and print one JSON line per
// received message.
#include "commands.h"
#include "cliutil.h"

#include <BlightTransport/blightserver.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QJsonObject>

namespace Blight::Cli {

int runListen(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Accepts one connection on <endpoint> (or adopts fd:N) and prints one JSON line per\n"
        "message: type, ackid, size and the sha256 of the payload. Answers pings. Exits when\n"
        "the peer disconnects or after --count messages."));
    parser.addPositionalArgument(QStringLiteral("endpoint"), QStringLiteral("unix:/path, tcp://host:port, udp://host:port or fd:N"));
    const QCommandLineOption countOption(QStringLiteral("count"), QStringLiteral("Exit after <n> messages."), QStringLiteral("n"));
    const QCommandLineOption keepOption(QStringLiteral("keep-listening"),
                                        QStringLiteral("After a connection ends (even with an error), accept the next one."));
    const QCommandLineOption maxOption(QStringLiteral("max-payload"), QStringLiteral("Largest payload accepted (default 16 MiB)."),
                                       QStringLiteral("bytes"));
    parser.addOptions({countOption, keepOption, maxOption});
    int exitCode = 0;
    if (!parseOrExit(parser, arguments, &exitCode))
        return exitCode;
    if (parser.positionalArguments().size() != 1) {
        printError(QStringLiteral("listen needs exactly one endpoint"));
        return 2;
    }
    const QString endpointText = parser.positionalArguments().constFirst();
    bool ok = true;
    const qint64 count = parser.isSet(countOption) ? parser.value(countOption).toLongLong(&ok) : -1;
    if (!ok || (parser.isSet(countOption) && count <= 0)) {
        printError(QStringLiteral("--count needs a positive number"));
        return 2;
    }
    const quint32 maxPayload = parser.isSet(maxOption) ? parser.value(maxOption).toUInt(&ok) : DefaultMaxPayloadSize;
    if (!ok) {
        printError(QStringLiteral("--max-payload needs a number of bytes"));
        return 2;
    }
    const bool keepListening = parser.isSet(keepOption);
    QString why;
    const Endpoint endpoint = Endpoint::parse(endpointText, &why);
    if (!endpoint.isValid()) {
        printError(why);
        return 2;
    }

    qint64 received = 0;
    int result = 0;
    BlightServer server;
    auto serve = [&](BlightSocket *socket) {
        socket->setMaxPayloadSize(maxPayload);
        QObject::connect(socket, &BlightSocket::messageReceived, socket, [&, socket](const Message &message) {
            printJsonLine(QJsonObject{
                {QStringLiteral("type"), typeName(message.header.type)},
                {QStringLiteral("typeId"), message.header.type},
                {QStringLiteral("ackid"), qint64(message.header.ackid)},
                {QStringLiteral("size"), qint64(message.header.size)},
                {QStringLiteral("sha256"), sha256Hex(message.payload)},
            });
            if (count > 0 && ++received >= count) {
                socket->close();
                QCoreApplication::exit(0);
            }
        });
        QObject::connect(socket, &BlightSocket::errorOccurred, socket,
                         [&](BlightSocket::Error error, const QString &reason) {
            if (error == BlightSocket::Error::RemoteClosed && !reason.contains(u"middle")) {
                printError(QStringLiteral("peer disconnected"));
                return;
            }
            printError(QStringLiteral("connection ended: %1").arg(reason));
            result = 1;
        });
        QObject::connect(socket, &BlightSocket::disconnected, socket, [&, socket] {
            socket->deleteLater();
            if (!keepListening || !server.isListening())
                QCoreApplication::exit(result);
            else
                printError(QStringLiteral("waiting for the next connection on %1").arg(server.endpoint()));
        });
    };

    if (endpoint.scheme() == Endpoint::Scheme::Fd) {
        auto *socket = new BlightSocket(&server);
        if (!socket->setSocketDescriptor(endpoint.descriptor())) {
            printError(socket->errorString());
            return 1;
        }
        serve(socket);
    } else {
        if (!server.listen(endpointText)) {
            printError(server.errorString());
            return 1;
        }
        printError(QStringLiteral("listening on %1").arg(server.endpoint()));
        QObject::connect(&server, &BlightServer::newConnection, &server, [&] {
            while (BlightSocket *socket = server.nextPendingConnection()) {
                printError(QStringLiteral("connection from %1").arg(socket->endpoint()));
                serve(socket);
                if (!keepListening && endpoint.scheme() != Endpoint::Scheme::Udp)
                    server.close(); // one connection
            }
        });
    }
    return QCoreApplication::exec();
}

} // namespace Blight::Cli
