// blight-transport send: connect and send --count messages with a checkable
// payload pattern, then print a JSON summary.
#include "commands.h"
#include "cliutil.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonObject>
#include <QtCore/QMetaEnum>

namespace Blight::Cli {

int runSend(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Connects to <endpoint> (or adopts fd:N) and sends --count messages of --type with\n"
        "--size payload bytes. Payload byte i of message k (from 0) is (k + i) % 251; message\n"
        "k has ackid k + 1. Prints a JSON summary at the end."));
    parser.addPositionalArgument(QStringLiteral("endpoint"),
                                 QStringLiteral("unix:/path, tcp://host:port, udp://host:port, fd:N, blight: or blight:session"));
    const QCommandLineOption countOption(QStringLiteral("count"), QStringLiteral("Messages to send (default 1)."),
                                         QStringLiteral("n"), QStringLiteral("1"));
    const QCommandLineOption typeOption(QStringLiteral("type"), QStringLiteral("Message type, a name or 1..11 (default repaint)."),
                                        QStringLiteral("type"), QStringLiteral("repaint"));
    const QCommandLineOption sizeOption(QStringLiteral("size"), QStringLiteral("Payload bytes per message (default 36)."),
                                        QStringLiteral("bytes"), QStringLiteral("36"));
    const QCommandLineOption zeroCopyOption(QStringLiteral("zerocopy"), QStringLiteral("auto, on or off (default auto)."),
                                            QStringLiteral("mode"), QStringLiteral("auto"));
    const QCommandLineOption thresholdOption(QStringLiteral("zerocopy-threshold"),
                                             QStringLiteral("Smallest payload sent with MSG_ZEROCOPY."), QStringLiteral("bytes"));
    parser.addOptions({countOption, typeOption, sizeOption, zeroCopyOption, thresholdOption});
    int exitCode = 0;
    if (!parseOrExit(parser, arguments, &exitCode))
        return exitCode;
    if (parser.positionalArguments().size() != 1) {
        printError(QStringLiteral("send needs exactly one endpoint"));
        return 2;
    }
    bool countOk = false;
    bool sizeOk = false;
    const qint64 count = parser.value(countOption).toLongLong(&countOk);
    const qint64 size = parser.value(sizeOption).toLongLong(&sizeOk);
    const std::optional<MessageType> type = typeFromString(parser.value(typeOption));
    const std::optional<BlightSocket::ZeroCopyMode> zeroCopy = parseZeroCopyMode(parser.value(zeroCopyOption));
    if (!countOk || count < 0) {
        printError(QStringLiteral("--count needs a number"));
        return 2;
    }
    if (!sizeOk || size < 0 || size > qint64(DefaultMaxPayloadSize)) {
        printError(QStringLiteral("--size needs a number of bytes up to %1").arg(DefaultMaxPayloadSize));
        return 2;
    }
    if (!type) {
        printError(QStringLiteral("unknown --type '%1': use a name (repaint, move, ...) or 1..11").arg(parser.value(typeOption)));
        return 2;
    }
    if (size == 0 && requiresPayload(*type)) {
        printError(QStringLiteral("%1 messages need a payload: give --size").arg(typeName(qint32(*type))));
        return 2;
    }
    if (!zeroCopy) {
        printError(QStringLiteral("--zerocopy takes auto, on or off"));
        return 2;
    }

    BlightSocket socket;
    socket.setZeroCopyMode(*zeroCopy);
    if (parser.isSet(thresholdOption))
        socket.setZeroCopyThreshold(parser.value(thresholdOption).toLongLong());
    qint64 next = 0;
    int result = 0;
    QElapsedTimer clock;

    auto pump = [&] {
        while (next < count && socket.state() == BlightSocket::State::Connected) {
            if (!socket.sendMessage(*type, quint32(next + 1), patternPayload(quint64(next), size))) {
                if (socket.lastSendError() == BlightSocket::Error::QueueFull)
                    return; // canSendChanged(true) resumes
                printError(QStringLiteral("message %1 refused (%2)")
                               .arg(next)
                               .arg(QString::fromLatin1(QMetaEnum::fromType<BlightSocket::Error>().valueToKey(
                                   int(socket.lastSendError())))));
                result = 1;
                socket.abort();
                return;
            }
            ++next;
        }
        if (next == count && socket.state() == BlightSocket::State::Connected)
            socket.close(); // flushes, waits for zero-copy releases, then disconnects
    };
    QObject::connect(&socket, &BlightSocket::connected, &socket, [&] {
        clock.start();
        pump();
    });
    QObject::connect(&socket, &BlightSocket::canSendChanged, &socket, [&](bool can) {
        if (can)
            pump();
    });
    QObject::connect(&socket, &BlightSocket::errorOccurred, &socket, [&](BlightSocket::Error, const QString &reason) {
        printError(reason);
        result = 1;
    });
    QObject::connect(&socket, &BlightSocket::disconnected, &socket, [&] { QCoreApplication::exit(result); });
    socket.connectToEndpoint(parser.positionalArguments().constFirst());
    QCoreApplication::exec();

    const double seconds = clock.isValid() ? double(clock.nsecsElapsed()) / 1e9 : 0.0;
    const SocketStatistics stats = socket.statistics();
    printJsonLine(QJsonObject{
        {QStringLiteral("endpoint"), socket.endpoint()},
        {QStringLiteral("kind"), kindName(socket.kind())},
        {QStringLiteral("type"), typeName(qint32(*type))},
        {QStringLiteral("messages"), qint64(stats.messagesSent)},
        {QStringLiteral("requested"), count},
        {QStringLiteral("bytes"), qint64(stats.bytesSent)},
        {QStringLiteral("seconds"), seconds},
        {QStringLiteral("messagesPerSecond"), seconds > 0 ? double(stats.messagesSent) / seconds : 0.0},
        {QStringLiteral("sendCalls"), qint64(stats.sendCalls)},
        {QStringLiteral("systemCalls"), qint64(socket.systemCalls())},
        {QStringLiteral("zeroCopySends"), qint64(stats.zeroCopySends)},
        {QStringLiteral("copySends"), qint64(stats.copySends)},
        {QStringLiteral("completions"), qint64(stats.completions)},
        {QStringLiteral("copiedCompletions"), qint64(stats.copiedCompletions)},
        {QStringLiteral("noBufferErrors"), qint64(stats.noBufferErrors)},
        {QStringLiteral("zeroCopyState"), zeroCopyStateName(socket.zeroCopyState())},
        {QStringLiteral("zeroCopyReason"), socket.zeroCopyReason()},
        {QStringLiteral("error"), socket.errorString()},
    });
    if (result == 0 && qint64(stats.messagesSent) != count)
        result = 1;
    return result;
}

} // namespace Blight::Cli
