// SPDX-License-Identifier: MIT
// Parsing and checking the options of blight-transport send: the payload
// (pattern, hex, file or typed fields), the conversation and its limits.
#include "sendoptions.h"
#include "cliutil.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QFile>
#include <QtCore/QRegularExpression>

#include <cstring>
#include <limits>

namespace Blight::Cli {

namespace {

constexpr qint64 Int32Min = std::numeric_limits<qint32>::min();
constexpr qint64 Int32Max = std::numeric_limits<qint32>::max();
constexpr qint64 UInt32Max = std::numeric_limits<quint32>::max();
// --shared-memory without --pool: up to 4 buffers, in a region the peer's
// default map cap (64 MiB) takes with room to spare.
constexpr int DefaultSharedBuffers = 4;
constexpr qint64 DefaultSharedRegion = 32 * 1024 * 1024;

bool hasSurface(MessageType type)
{
    switch (type) {
    case MessageType::Repaint:
    case MessageType::Move:
    case MessageType::Info:
    case MessageType::Delete:
    case MessageType::Raise:
    case MessageType::Lower:
        return true;
    default:
        return false;
    }
}

// The payload of a typed message built from the field options (each
// defaulting to 0, the surface to 1: the fake compositor's first surface).
struct TypedFields
{
    qint64 surface = 1;
    qint64 x = 0;
    qint64 y = 0;
    qint64 width = 0;
    qint64 height = 0;
    qint64 marker = 0;
};

QByteArray typedPayload(MessageType type, const TypedFields &f)
{
    const auto surface = SurfaceId(f.surface);
    switch (type) {
    case MessageType::Repaint: {
        RepaintPayload repaint;
        repaint.x = qint32(f.x);
        repaint.y = qint32(f.y);
        repaint.width = quint32(f.width);
        repaint.height = quint32(f.height);
        repaint.marker = quint32(f.marker);
        repaint.identifier = surface;
        return encode(repaint);
    }
    case MessageType::Move:
        return encode(MovePayload{surface, qint32(f.x), qint32(f.y)});
    case MessageType::Wait:
        return encode(WaitPayload{quint32(f.marker)});
    default:
        return hasSurface(type) ? encode(SurfacePayload{surface}) : QByteArray();
    }
}

} // namespace

QByteArray SendOptions::payload(qint64 k) const
{
    return fixedPayload ? *fixedPayload : patternPayload(quint64(k), patternSize);
}

qsizetype SendOptions::payloadSize() const
{
    return fixedPayload ? fixedPayload->size() : qsizetype(patternSize);
}

void SendOptions::writePayload(qint64 k, char *out) const
{
    if (fixedPayload)
        std::memcpy(out, fixedPayload->constData(), size_t(fixedPayload->size()));
    else
        writePattern(quint64(k), out, qsizetype(patternSize));
}

std::optional<SendOptions> parseSendOptions(const QStringList &arguments, int *exitCode)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Connects to <endpoint> (or adopts fd:N) and sends --count messages of --type; message k\n"
                       "(from 0) has ackid k + 1. The payload is one of:\n"
                       "  --size N          N bytes where byte i of message k is (k + i) % 251;\n"
                       "  --payload-hex H   these bytes (hex digits, spaces allowed) in every message;\n"
                       "  --payload-file F  the bytes of file F in every message;\n"
                       "  typed fields      --surface, --x, --y, --width, --height, --marker, laid out as\n"
                       "                    Oxide does for repaint, move, info, delete, raise, lower and wait.\n"
                       "Without any of them, typed messages get their typed payload (surface 1, other fields 0)\n"
                       "and the other types none. With --wait-acks, every request's Ack is awaited and printed\n"
                       "as a JSON line with its decoded reply (Info's geometry, List's surfaces). With --pool N,\n"
                       "each payload is written into a free buffer of a pool of N and sent from there, with no\n"
                       "copy in the socket (userSpaceCopies counts those); when every buffer is still held by a\n"
                       "send, send waits until one comes back (counted in poolWaits). Prints a JSON summary at\n"
                       "the end, with the error text when it failed; its \"released\" counts the messages whose\n"
                       "bytes the socket let go of (\"releasedUndelivered\": those it dropped before the kernel\n"
                       "took them). After a clean exit, released equals messages.\n"
                       "With --shared-memory (AF_UNIX stream, or TCP to a loopback address), the pool is a\n"
                       "sealed memfd (of --pool N buffers, or up to 4 of them in 32 MiB) and, once the peer has\n"
                       "offered shared memory too, each message is a small one naming its buffer: no payload\n"
                       "byte is copied. A Ping goes first\n"
                       "and its answer is awaited, so that the peer's offer, sent when it connected, has\n"
                       "arrived; the summary then says whether the agreement stood (sharedMemoryActive) and\n"
                       "why not (sharedMemoryReason)."));
    parser.addPositionalArgument(QStringLiteral("endpoint"),
                                 QStringLiteral(
                                     "unix:/path, tcp://host:port, udp://host:port, fd:N, blight: or blight:session"));
    const QCommandLineOption countOption(QStringLiteral("count"), QStringLiteral("Messages to send (default 1)."),
                                         QStringLiteral("n"), QStringLiteral("1"));
    const QCommandLineOption typeOption(QStringLiteral("type"),
                                        QStringLiteral("Message type, a name or 1..11 (default repaint)."),
                                        QStringLiteral("type"), QStringLiteral("repaint"));
    const QCommandLineOption sizeOption(QStringLiteral("size"),
                                        QStringLiteral("Pattern payload of <bytes> per message."),
                                        QStringLiteral("bytes"));
    const QCommandLineOption hexOption(QStringLiteral("payload-hex"),
                                       QStringLiteral("The payload of every message, in hex."), QStringLiteral("hex"));
    const QCommandLineOption fileOption(QStringLiteral("payload-file"),
                                        QStringLiteral("The payload of every message, from <file>."),
                                        QStringLiteral("file"));
    const QCommandLineOption
        surfaceOption(QStringLiteral("surface"),
                      QStringLiteral("Surface identifier (repaint, move, info, delete, raise, lower; default 1)."),
                      QStringLiteral("id"));
    const QCommandLineOption xOption(QStringLiteral("x"), QStringLiteral("X coordinate (repaint, move)."),
                                     QStringLiteral("px"));
    const QCommandLineOption yOption(QStringLiteral("y"), QStringLiteral("Y coordinate (repaint, move)."),
                                     QStringLiteral("px"));
    const QCommandLineOption widthOption(QStringLiteral("width"), QStringLiteral("Width (repaint)."),
                                         QStringLiteral("px"));
    const QCommandLineOption heightOption(QStringLiteral("height"), QStringLiteral("Height (repaint)."),
                                          QStringLiteral("px"));
    const QCommandLineOption markerOption(QStringLiteral("marker"), QStringLiteral("Marker (repaint, wait)."),
                                          QStringLiteral("n"));
    const QCommandLineOption zeroCopyOption(QStringLiteral("zerocopy"),
                                            QStringLiteral("auto, on or off (default auto)."), QStringLiteral("mode"),
                                            QStringLiteral("auto"));
    const QCommandLineOption thresholdOption(QStringLiteral("zerocopy-threshold"),
                                             QStringLiteral("Smallest payload sent with MSG_ZEROCOPY."),
                                             QStringLiteral("bytes"));
    const QCommandLineOption waitAcksOption(QStringLiteral("wait-acks"),
                                            QStringLiteral(
                                                "Wait for each request's Ack and print its decoded reply as JSON."));
    const QCommandLineOption timeoutOption(QStringLiteral("timeout"),
                                           QStringLiteral(
                                               "Give up (exit 1) when the whole command takes longer than <ms>."),
                                           QStringLiteral("ms"));
    const QCommandLineOption poolOption(QStringLiteral("pool"),
                                        QStringLiteral("Send from a pool of <n> (1..1024) buffers of the payload's "
                                                       "size; waits for a buffer when all are out."),
                                        QStringLiteral("n"));
    const QCommandLineOption sharedMemoryOption(QStringLiteral("shared-memory"),
                                                QStringLiteral("Send from a shared-memory pool to a peer that "
                                                               "enables it too (AF_UNIX stream)."));
    parser.addOptions({countOption, typeOption, sizeOption, hexOption, fileOption, surfaceOption, xOption, yOption,
                       widthOption, heightOption, markerOption, zeroCopyOption, thresholdOption, waitAcksOption,
                       timeoutOption, poolOption, sharedMemoryOption});
    if (!parseOrExit(parser, arguments, exitCode))
        return std::nullopt;
    *exitCode = ExitUsage;
    if (parser.positionalArguments().size() != 1) {
        printError(QStringLiteral("send needs exactly one endpoint"));
        return std::nullopt;
    }

    SendOptions options;
    options.endpoint = parser.positionalArguments().constFirst();
    QString why;
    if (!Endpoint::parse(options.endpoint, &why).isValid()) {
        printError(why);
        return std::nullopt;
    }
    const std::optional<MessageType> type = typeFromString(parser.value(typeOption));
    if (!type) {
        printError(QStringLiteral("unknown --type '%1': use a name (repaint, move, ...) or 1..11")
                       .arg(parser.value(typeOption)));
        return std::nullopt;
    }
    options.type = *type;
    const QString name = typeName(qint32(*type));
    const auto count = integerOption(parser, countOption, 0, UInt32Max);
    if (!count)
        return std::nullopt;
    options.count = *count;
    const auto zeroCopy = parseZeroCopyMode(parser.value(zeroCopyOption));
    if (!zeroCopy) {
        printError(QStringLiteral("--zerocopy takes auto, on or off"));
        return std::nullopt;
    }
    options.zeroCopyMode = *zeroCopy;
    if (parser.isSet(thresholdOption)) {
        options.zeroCopyThreshold = integerOption(parser, thresholdOption, 0, std::numeric_limits<qint64>::max());
        if (!options.zeroCopyThreshold)
            return std::nullopt;
    }
    if (parser.isSet(timeoutOption)) {
        const auto timeout = integerOption(parser, timeoutOption, 1, std::numeric_limits<int>::max());
        if (!timeout)
            return std::nullopt;
        options.timeoutMs = int(*timeout);
    }
    if (parser.isSet(poolOption)) {
        // A pool of thousands of frames is a mistake, not a plan: cap it.
        const auto buffers = integerOption(parser, poolOption, 1, 1024);
        if (!buffers)
            return std::nullopt;
        options.poolBuffers = int(*buffers);
    }
    options.sharedMemory = parser.isSet(sharedMemoryOption);
    options.waitAcks = parser.isSet(waitAcksOption);
    if (options.waitAcks && *type == MessageType::Ack) {
        printError(QStringLiteral("--wait-acks: nobody acks an ack; choose a request --type"));
        return std::nullopt;
    }

    // One source of payload, and typed fields only where the type has them.
    struct Field
    {
        const QCommandLineOption &option;
        qint64 minimum;
        qint64 maximum;
        qint64 *value;
        bool applies;
    };
    TypedFields fields;
    const Field typed[] = {
        {surfaceOption, 0, 0xffff, &fields.surface, hasSurface(*type)},
        {xOption, Int32Min, Int32Max, &fields.x, *type == MessageType::Repaint || *type == MessageType::Move},
        {yOption, Int32Min, Int32Max, &fields.y, *type == MessageType::Repaint || *type == MessageType::Move},
        {widthOption, 0, UInt32Max, &fields.width, *type == MessageType::Repaint},
        {heightOption, 0, UInt32Max, &fields.height, *type == MessageType::Repaint},
        {markerOption, 0, UInt32Max, &fields.marker, *type == MessageType::Repaint || *type == MessageType::Wait},
    };
    bool anyField = false;
    for (const Field &field : typed) {
        if (!parser.isSet(field.option))
            continue;
        if (!field.applies) {
            printError(
                QStringLiteral("--%1 does not apply to %2 messages").arg(field.option.names().constFirst(), name));
            return std::nullopt;
        }
        const auto value = integerOption(parser, field.option, field.minimum, field.maximum);
        if (!value)
            return std::nullopt;
        *field.value = *value;
        anyField = true;
    }
    const int sources = int(parser.isSet(sizeOption)) + int(parser.isSet(hexOption)) + int(parser.isSet(fileOption))
        + int(anyField);
    if (sources > 1) {
        printError(
            QStringLiteral("give one payload: --size, --payload-hex, --payload-file or typed fields, not several"));
        return std::nullopt;
    }
    qint64 payloadSize = 0;
    if (parser.isSet(sizeOption)) {
        const auto size = integerOption(parser, sizeOption, 0, DefaultMaxPayloadSize);
        if (!size)
            return std::nullopt;
        options.patternSize = *size;
        payloadSize = *size;
    } else if (parser.isSet(hexOption)) {
        QString digits = parser.value(hexOption);
        digits.remove(QRegularExpression(QStringLiteral("\\s")));
        static const QRegularExpression hex(QStringLiteral("\\A(?:[0-9a-fA-F]{2})*\\z"));
        if (!hex.match(digits).hasMatch()) {
            printError(
                QStringLiteral("--payload-hex needs pairs of hex digits, not '%1'").arg(parser.value(hexOption)));
            return std::nullopt;
        }
        options.fixedPayload = QByteArray::fromHex(digits.toLatin1());
    } else if (parser.isSet(fileOption)) {
        QFile file(parser.value(fileOption));
        if (!file.open(QIODevice::ReadOnly)) {
            printError(QStringLiteral("cannot read --payload-file %1: %2").arg(file.fileName(), file.errorString()));
            return std::nullopt;
        }
        // Reads at most one byte past the cap, so that a huge file is refused, not loaded.
        options.fixedPayload = file.read(qint64(DefaultMaxPayloadSize) + 1);
    } else {
        options.fixedPayload = typedPayload(*type, fields);
    }
    if (options.fixedPayload)
        payloadSize = options.fixedPayload->size();
    if (payloadSize > qint64(DefaultMaxPayloadSize)) {
        printError(QStringLiteral("the payload is larger than %1 bytes").arg(DefaultMaxPayloadSize));
        return std::nullopt;
    }
    if (payloadSize == 0 && requiresPayload(*type)) {
        printError(
            QStringLiteral("%1 messages need a payload: give --size, --payload-hex, --payload-file or typed fields")
                .arg(name));
        return std::nullopt;
    }
    if ((options.poolBuffers > 0 || options.sharedMemory) && payloadSize == 0) {
        printError(
            QStringLiteral("%1 needs a payload of at least 1 byte (a pool buffer holds one payload); "
                           "%2 messages here have none")
                .arg(options.poolBuffers > 0 ? QStringLiteral("--pool") : QStringLiteral("--shared-memory"), name));
        return std::nullopt;
    }
    if (options.sharedMemory && options.poolBuffers == 0)
        options.poolBuffers = int(qBound<qint64>(1, DefaultSharedRegion / payloadSize, qint64(DefaultSharedBuffers)));
    *exitCode = ExitOk;
    return options;
}

} // namespace Blight::Cli
