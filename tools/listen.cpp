// SPDX-License-Identifier: MIT
// blight-transport listen: accept connections and print one JSON line per
// received message (--shared-memory: frames read in place from the sender's pool).
#include "commands.h"
#include "cliutil.h"
#include "listentally.h"
#include "signalwatcher.h"
#include "unixsocketpath.h"

#include <BlightTransport/blightserver.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QJsonObject>

#include <limits>
#include <memory>

namespace Blight::Cli {

int runListen(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Accepts one connection on <endpoint> (or adopts fd:N) and prints one JSON line per\n"
                       "message: type, ackid, size and the sha256 of the payload. Answers pings. Exits when\n"
                       "the peer disconnects, after --count messages, or on SIGINT or SIGTERM (exit 0 unless a\n"
                       "connection failed). A unix: socket file is removed when it exits; a stale one (nobody\n"
                       "listening) is replaced, one in use or a path that is not a socket is refused.\n"
                       "With --shared-memory, a peer that enables it too sends its frames from a sealed memfd\n"
                       "pool (AF_UNIX stream sockets only): each is hashed in place, from the mapping, and\n"
                       "released when its line is printed. --check-mappings (implied by --shared-memory) adds\n"
                       "to each line whether the payload lay in a /memfd: mapping of this process (memfd) and\n"
                       "came as a shared-memory handle (shared), and prints a summary line per connection\n"
                       "(\"summary\": true) with those counts, the bytes read through recvmsg() and the\n"
                       "shared-memory state as it stood at the last frame."));
    parser.addPositionalArgument(QStringLiteral("endpoint"),
                                 QStringLiteral("unix:/path, tcp://host:port, udp://host:port or fd:N"));
    const QCommandLineOption countOption(QStringLiteral("count"), QStringLiteral("Exit after <n> messages."),
                                         QStringLiteral("n"));
    const QCommandLineOption keepOption(QStringLiteral("keep-listening"),
                                        QStringLiteral(
                                            "After a connection ends (even with an error), accept the next one."));
    const QCommandLineOption maxOption(QStringLiteral("max-payload"),
                                       QStringLiteral("Largest payload accepted (default 16 MiB)."),
                                       QStringLiteral("bytes"));
    const QCommandLineOption sharedMemoryOption(QStringLiteral("shared-memory"),
                                                QStringLiteral("Accept frames in shared memory from a peer that "
                                                               "enables it too (implies --check-mappings)."));
    const QCommandLineOption checkMappingsOption(QStringLiteral("check-mappings"),
                                                 QStringLiteral("Say for each payload whether it lay in a /memfd: "
                                                                "mapping; print a summary per connection."));
    parser.addOptions({countOption, keepOption, maxOption, sharedMemoryOption, checkMappingsOption});
    int exitCode = 0;
    if (!parseOrExit(parser, arguments, &exitCode))
        return exitCode;
    if (parser.positionalArguments().size() != 1) {
        printError(QStringLiteral("listen needs exactly one endpoint"));
        return ExitUsage;
    }
    const QString endpointText = parser.positionalArguments().constFirst();
    qint64 count = -1;
    if (parser.isSet(countOption)) {
        const auto value = integerOption(parser, countOption, 1, std::numeric_limits<qint64>::max());
        if (!value)
            return ExitUsage;
        count = *value;
    }
    quint32 maxPayload = DefaultMaxPayloadSize;
    if (parser.isSet(maxOption)) {
        const auto value = integerOption(parser, maxOption, 0, std::numeric_limits<quint32>::max());
        if (!value)
            return ExitUsage;
        maxPayload = quint32(*value);
    }
    const bool keepListening = parser.isSet(keepOption);
    const bool sharedMemory = parser.isSet(sharedMemoryOption);
    const bool checkMappings = sharedMemory || parser.isSet(checkMappingsOption);
    QString why;
    const Endpoint endpoint = Endpoint::parse(endpointText, &why);
    if (!endpoint.isValid()) {
        printError(why);
        return ExitUsage;
    }

    qint64 received = 0;
    int result = ExitOk;
    // Stopping by signal goes through the event loop, so that the server's
    // destructor closes it and removes a unix: socket file.
    SignalWatcher signalWatcher;
    if (!signalWatcher.isValid()) {
        printError(signalWatcher.errorString());
        return ExitFailure;
    }
    QObject::connect(&signalWatcher, &SignalWatcher::signalReceived, &signalWatcher, [&](int signalNumber) {
        printError(QStringLiteral("stopping on %1")
                       .arg(signalNumber == SIGINT ? QStringLiteral("SIGINT") : QStringLiteral("SIGTERM")));
        QCoreApplication::exit(result);
    });
    BlightServer server;
    auto serve = [&](BlightSocket *socket) {
        socket->setMaxPayloadSize(maxPayload);
        // Before the event loop reads anything: the offer leaves ahead of any
        // answer, so a peer that pings first knows the agreement when the pong comes.
        socket->setSharedMemoryEnabled(sharedMemory);
        const auto tally = std::make_shared<ListenTally>();
        auto summarize = [tally, socket, checkMappings] {
            if (!checkMappings || tally->isSummarized())
                return;
            tally->setSummarized();
            printJsonLine(tally->summary(*socket));
        };
        // One line per message; \a payload is read where it lies (a frame: in the mapping).
        auto report = [&, socket, tally, summarize](qint32 type, quint32 ackid, QByteArrayView payload, bool shared) {
            QJsonObject line{
                {QStringLiteral("type"), typeName(type)},       {QStringLiteral("typeId"), type},
                {QStringLiteral("ackid"), qint64(ackid)},       {QStringLiteral("size"), qint64(payload.size())},
                {QStringLiteral("sha256"), sha256Hex(payload)},
            };
            if (checkMappings) {
                const QJsonObject where = tally->record(payload, shared, *socket);
                for (auto it = where.begin(); it != where.end(); ++it)
                    line.insert(it.key(), it.value());
            }
            printJsonLine(line);
            if (count > 0 && ++received >= count) {
                summarize();
                socket->close();
                QCoreApplication::exit(result);
            }
        };
        QObject::connect(socket, &BlightSocket::messageReceived, socket, [report](const Message &message) {
            report(message.header.type, message.header.ackid, message.payload, false);
        });
        if (sharedMemory) {
            // Connected, so frames come here as handles into the mapping, not as copies.
            QObject::connect(socket, &BlightSocket::bufferReceived, socket,
                             [report](MessageType type, quint32 ackid, const BlightBuffer &frame) {
                                 report(qint32(type), ackid, QByteArrayView(frame.constData(), frame.size()),
                                        frame.isShared());
                             }); // the release goes back when this handle is dropped
        }
        QObject::connect(socket, &BlightSocket::errorOccurred, socket,
                         [&](BlightSocket::Error error, const QString &reason) {
                             if (error == BlightSocket::Error::RemoteClosed && !reason.contains(u"middle")) {
                                 printError(QStringLiteral("peer disconnected"));
                                 return;
                             }
                             printError(QStringLiteral("connection ended: %1").arg(reason));
                             result = ExitFailure;
                         });
        QObject::connect(socket, &BlightSocket::disconnected, socket, [&, socket, summarize] {
            summarize();
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
            return ExitFailure;
        }
        serve(socket);
    } else {
        if (endpoint.scheme() == Endpoint::Scheme::Unix) {
            bool removedStale = false;
            const QString refused = prepareUnixSocketPath(endpoint.path(), &removedStale);
            if (!refused.isEmpty()) {
                printError(QStringLiteral("cannot listen on %1: %2").arg(endpointText, refused));
                return ExitFailure;
            }
            if (removedStale)
                printError(QStringLiteral("replaced the stale socket %1 (nobody was listening)").arg(endpoint.path()));
        }
        if (!server.listen(endpointText)) {
            printError(server.errorString());
            return ExitFailure;
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
