// blight-transport demo: a sender and a receiver in one process, over an
// AF_UNIX socket pair (blight's own kind of socket) and over TCP on loopback,
// streaming typed blight messages and large frames and checking every byte.
#include "commands.h"
#include "cliutil.h"
#include "demo.h"

#include <BlightTransport/blightserver.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtCore/QLocale>
#include <QtCore/QTextStream>
#include <QtCore/QTimer>

#include <sys/socket.h>
#include <unistd.h>

namespace Blight::Cli {

namespace {

constexpr quint32 FrameAckFlag = 0x80000000u;

// Frame f carries pattern seed f * 7 + 3 so that neighbouring frames differ.
quint64 frameSeed(qint64 frame)
{
    return quint64(frame) * 7 + 3;
}

} // namespace

DemoLink::DemoLink(const QString &name, Kind kind, const DemoConfig &config, QObject *parent)
    : QObject(parent)
    , m_name(name)
    , m_kind(kind)
    , m_config(config)
{
    const BlightSocket::Mode mode = kind == Kind::TcpRaw ? BlightSocket::Mode::RawStream : BlightSocket::Mode::Messages;
    m_sender = new BlightSocket(mode, this);
    m_sender->setObjectName(name + QStringLiteral(" sender"));
    m_sender->setZeroCopyMode(config.zeroCopyMode);
    const qint64 messages = kind == Kind::TcpRaw ? 0 : config.messages;
    m_frameStride = config.frames > 0 ? qMax<qint64>(1, (messages + config.frames) / config.frames) : 0;
    m_total = kind == Kind::TcpRaw ? config.frames : messages + config.frames;
}

qint64 DemoLink::frameIndexOf(qint64 k) const
{
    if (m_frameStride == 0 || (k + 1) % m_frameStride != 0)
        return -1;
    const qint64 frame = (k + 1) / m_frameStride - 1;
    return frame < m_config.frames ? frame : -1;
}

Message DemoLink::expectedMessage(qint64 k) const
{
    Message message;
    const qint64 frame = frameIndexOf(k);
    if (frame >= 0) {
        // A large frame travels as the payload of an Ack, as replies do.
        message.header = makeHeader(MessageType::Ack, FrameAckFlag | quint32(frame), quint32(m_config.frameSize));
        return message; // payload generated on demand: 5 MiB each
    }
    const auto id = SurfaceId(k % 64 + 1);
    const quint32 ackid = quint32(k + 1);
    switch (k % 8) {
    case 0: {
        RepaintPayload repaint;
        repaint.x = qint32(k % 1404);
        repaint.y = qint32(k % 1872);
        repaint.width = 64;
        repaint.height = 32;
        repaint.waveform = qint32(k % 8);
        repaint.marker = quint32(k);
        repaint.identifier = id;
        message.payload = encode(repaint);
        message.header = makeHeader(MessageType::Repaint, ackid, quint32(message.payload.size()));
        break;
    }
    case 1:
        message.payload = encode(MovePayload{id, qint32(k % 100), qint32(k % 200)});
        message.header = makeHeader(MessageType::Move, ackid, quint32(message.payload.size()));
        break;
    case 2:
        message.payload = encode(SurfacePayload{id});
        message.header = makeHeader(MessageType::Info, ackid, quint32(message.payload.size()));
        break;
    case 3:
        message.payload = encode(SurfacePayload{id});
        message.header = makeHeader(MessageType::Raise, ackid, quint32(message.payload.size()));
        break;
    case 4:
        message.payload = encode(SurfacePayload{id});
        message.header = makeHeader(MessageType::Lower, ackid, quint32(message.payload.size()));
        break;
    case 5:
        message.header = makeHeader(MessageType::Ping, ackid, 0);
        break;
    case 6:
        message.payload = encode(WaitPayload{quint32(k)});
        message.header = makeHeader(MessageType::Wait, ackid, quint32(message.payload.size()));
        break;
    default:
        message.header = makeHeader(MessageType::List, ackid, 0);
        break;
    }
    return message;
}

static InfoReply infoFor(SurfaceId id)
{
    InfoReply info;
    info.x = id * 10;
    info.y = id * 20;
    info.width = 256;
    info.height = 128;
    info.stride = 256 * 4;
    info.format = 5;
    info.scale = 1.0 + id / 100.0;
    return info;
}

void DemoLink::start()
{
    m_clock.start();
    if (m_kind == Kind::UnixMessages) {
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
            failLink(QStringLiteral("socketpair failed"));
            return;
        }
        m_receiver = new BlightSocket(BlightSocket::Mode::Messages, this);
        m_sender->setSocketDescriptor(fds[0]);
        m_receiver->setSocketDescriptor(fds[1]);
        wireReceiver();
        wireSender();
        QMetaObject::invokeMethod(this, &DemoLink::pump, Qt::QueuedConnection);
        QMetaObject::invokeMethod(this, &DemoLink::checkFinished, Qt::QueuedConnection);
        return;
    }
    m_server = new BlightServer(m_sender->mode(), this);
    if (!m_server->listen(QStringLiteral("tcp://127.0.0.1:0"))) {
        failLink(m_server->errorString());
        return;
    }
    connect(m_server, &BlightServer::newConnection, this, [this] {
        m_receiver = m_server->nextPendingConnection();
        m_receiver->setParent(this);
        m_server->close();
        wireReceiver();
        Q_EMIT socketsReady();
        pump();
        checkFinished(); // nothing to send at all
    });
    wireSender();
    connect(m_sender, &BlightSocket::connected, this, &DemoLink::pump);
    m_sender->connectToEndpoint(m_server->endpoint());
}

void DemoLink::wireSender()
{
    connect(m_sender, &BlightSocket::canSendChanged, this, [this](bool can) {
        if (can)
            pump();
    });
    connect(m_sender, &BlightSocket::errorOccurred, this, [this](BlightSocket::Error, const QString &reason) {
        failLink(QStringLiteral("sender: ") + reason);
    });
    connect(m_sender, &BlightSocket::disconnected, this, [this] {
        m_senderClosed = true;
        checkFinished();
    });
    connect(m_sender, &BlightSocket::ackReceived, this, [this](quint32 ackid, const QByteArray &payload) {
        const auto it = m_awaitedAcks.find(ackid);
        if (it == m_awaitedAcks.end()) {
            failLink(QStringLiteral("unexpected ack %1").arg(ackid));
            return;
        }
        const MessageType requestType = it.value();
        m_awaitedAcks.erase(it);
        ++m_acksReceived;
        if (requestType == MessageType::Ping) {
            // A peer answers pings that arrive together with one Ack for the
            // latest: it stands for the earlier ones too.
            for (auto earlier = m_awaitedAcks.begin(); earlier != m_awaitedAcks.end();) {
                if (earlier.value() == MessageType::Ping && earlier.key() < ackid) {
                    earlier = m_awaitedAcks.erase(earlier);
                    ++m_acksReceived;
                } else {
                    ++earlier;
                }
            }
        }
        if (requestType == MessageType::Info) {
            const auto info = decode<InfoReply>(payload);
            const auto id = SurfaceId((ackid - 1) % 64 + 1);
            if (!info || info->width != infoFor(id).width || info->x != infoFor(id).x || info->scale != infoFor(id).scale)
                failLink(QStringLiteral("wrong Info reply for ackid %1").arg(ackid));
        } else if (requestType == MessageType::List) {
            if (payload.size() != 3 * qsizetype(sizeof(SurfaceId)))
                failLink(QStringLiteral("wrong List reply for ackid %1").arg(ackid));
        } else if (!payload.isEmpty()) {
            failLink(QStringLiteral("ping ack %1 carries a payload").arg(ackid));
        }
        checkFinished();
    });
}

void DemoLink::wireReceiver()
{
    connect(m_receiver, &BlightSocket::errorOccurred, this, [this](BlightSocket::Error error, const QString &reason) {
        // The sender closing after the last message is the expected end.
        if (error == BlightSocket::Error::RemoteClosed && m_received == m_total && !reason.contains(u"middle"))
            return;
        failLink(QStringLiteral("receiver: ") + reason);
    });
    connect(m_receiver, &BlightSocket::disconnected, this, [this] {
        m_receiverClosed = true;
        checkFinished();
    });
    if (m_kind == Kind::TcpRaw) {
        connect(m_receiver, &BlightSocket::dataReceived, this, &DemoLink::checkRawChunk);
        return;
    }
    connect(m_receiver, &BlightSocket::messageReceived, this, &DemoLink::checkMessage);
}

void DemoLink::pump()
{
    if (m_failed || !m_sender->isConnected() || !m_receiver)
        return;
    // Bursts of messages per event-loop turn, as a busy service would send.
    const qint64 burstEnd = qMin(m_total, m_sent + m_config.burst);
    while (m_sent < burstEnd) {
        bool ok = false;
        if (m_kind == Kind::TcpRaw) {
            ok = m_sender->send(patternPayload(frameSeed(m_sent), m_config.frameSize));
        } else {
            Message message = expectedMessage(m_sent);
            const qint64 frame = frameIndexOf(m_sent);
            if (frame >= 0)
                message.payload = patternPayload(frameSeed(frame), m_config.frameSize);
            ok = m_sender->forwardMessage(message);
            if (ok && (message.type() == MessageType::Info || message.type() == MessageType::List
                       || message.type() == MessageType::Ping)) {
                m_awaitedAcks.insert(message.ackid(), message.type());
                ++m_acksExpected;
            }
        }
        if (!ok) {
            if (m_sender->lastSendError() == BlightSocket::Error::QueueFull)
                return; // canSendChanged(true) resumes
            failLink(QStringLiteral("send refused: %1").arg(int(m_sender->lastSendError())));
            return;
        }
        ++m_sent;
    }
    if (m_sent < m_total)
        QMetaObject::invokeMethod(this, &DemoLink::pump, Qt::QueuedConnection);
}

void DemoLink::checkMessage(const Message &message)
{
    if (m_failed)
        return;
    const qint64 k = m_received;
    if (k >= m_total) {
        failLink(QStringLiteral("more messages than were sent"));
        return;
    }
    const Message expected = expectedMessage(k);
    if (std::memcmp(&expected.header, &message.header, sizeof(Header)) != 0) {
        failLink(QStringLiteral("message %1: header differs (type %2 ackid %3 size %4)")
                     .arg(k)
                     .arg(message.header.type)
                     .arg(message.header.ackid)
                     .arg(message.header.size));
        return;
    }
    const qint64 frame = frameIndexOf(k);
    if (frame >= 0) {
        const qsizetype bad = firstPatternMismatch(message.payload, frameSeed(frame));
        if (bad >= 0) {
            failLink(QStringLiteral("frame %1: byte %2 differs").arg(frame).arg(bad));
            return;
        }
        ++m_framesReceived;
    } else if (message.payload != expected.payload) {
        failLink(QStringLiteral("message %1: payload differs").arg(k));
        return;
    }
    m_bytesChecked += HeaderSize + message.payload.size();
    ++m_received;
    // The receiver answers requests as blight does.
    if (message.type() == MessageType::Info) {
        const auto surface = message.payloadAs<SurfacePayload>();
        m_receiver->sendMessage(MessageType::Ack, message.ackid(), encode(infoFor(surface ? surface->identifier : 0)));
    } else if (message.type() == MessageType::List) {
        const SurfaceId ids[3] = {1, 2, 3};
        m_receiver->sendMessage(MessageType::Ack, message.ackid(),
                                QByteArray(reinterpret_cast<const char *>(ids), sizeof(ids)));
    }
    checkFinished();
}

void DemoLink::checkRawChunk(const QByteArray &chunk)
{
    if (m_failed)
        return;
    qsizetype at = 0;
    while (at < chunk.size()) {
        const qint64 frame = m_rawOffset / m_config.frameSize;
        const qint64 within = m_rawOffset % m_config.frameSize;
        if (frame >= m_total) {
            failLink(QStringLiteral("more raw bytes than were sent"));
            return;
        }
        const qsizetype take = qsizetype(qMin<qint64>(chunk.size() - at, m_config.frameSize - within));
        const qsizetype bad = firstPatternMismatch(QByteArrayView(chunk.constData() + at, take), frameSeed(frame), within);
        if (bad >= 0) {
            failLink(QStringLiteral("raw frame %1: byte %2 differs").arg(frame).arg(within + bad));
            return;
        }
        at += take;
        m_rawOffset += take;
        m_bytesChecked += take;
        if (m_rawOffset % m_config.frameSize == 0) {
            ++m_received;
            ++m_framesReceived;
        }
    }
    checkFinished();
}

void DemoLink::checkFinished()
{
    if (m_failed || m_done)
        return;
    if (!m_closing && m_received == m_total && m_sent == m_total && m_awaitedAcks.isEmpty()) {
        m_elapsedNs = m_clock.nsecsElapsed();
        m_senderStats = m_sender->statistics();
        m_receiverStats = m_receiver->statistics();
        m_zeroCopyState = m_sender->zeroCopyState();
        m_zeroCopyReason = m_sender->zeroCopyReason();
        m_closing = true;
        m_sender->close(); // waits for zero-copy releases, then disconnects
        return;
    }
    if (m_closing && m_senderClosed) {
        if (!m_receiverClosed) {
            m_receiver->close();
            return;
        }
        // The close waited for every zero-copy release: take the final counts.
        m_senderStats = m_sender->statistics();
        m_done = true;
        Q_EMIT finished();
    }
}

void DemoLink::failLink(const QString &reason)
{
    if (m_failed || m_done)
        return;
    m_failed = true;
    m_failure = reason;
    m_elapsedNs = m_clock.nsecsElapsed();
    m_senderStats = m_sender->statistics();
    if (m_receiver)
        m_receiverStats = m_receiver->statistics();
    m_zeroCopyState = m_sender->zeroCopyState();
    m_zeroCopyReason = m_sender->zeroCopyReason();
    m_sender->abort();
    if (m_receiver)
        m_receiver->abort();
    m_done = true;
    Q_EMIT finished();
}

double DemoLink::progress() const
{
    return m_total > 0 ? double(m_received) / double(m_total) : 1.0;
}

QJsonObject DemoLink::summary() const
{
    const double seconds = double(m_elapsedNs) / 1e9;
    const quint64 messages = quint64(m_received);
    const quint64 calls = m_senderStats.sendCalls + m_senderStats.receiveCalls + m_senderStats.errorQueueCalls
        + m_receiverStats.sendCalls + m_receiverStats.receiveCalls + m_receiverStats.errorQueueCalls;
    return QJsonObject{
        {QStringLiteral("name"), m_name},
        {QStringLiteral("kind"), kindName(m_sender->kind())},
        {QStringLiteral("mode"), m_kind == Kind::TcpRaw ? QStringLiteral("raw-stream") : QStringLiteral("messages")},
        {QStringLiteral("verified"), !m_failed && m_received == m_total},
        {QStringLiteral("failure"), m_failure},
        {QStringLiteral("messages"), qint64(messages)},
        {QStringLiteral("frames"), m_framesReceived},
        {QStringLiteral("frameSize"), m_config.frameSize},
        {QStringLiteral("acks"), m_acksReceived},
        {QStringLiteral("bytesChecked"), m_bytesChecked},
        {QStringLiteral("seconds"), seconds},
        {QStringLiteral("megabytesPerSecond"), seconds > 0 ? double(m_bytesChecked) / 1e6 / seconds : 0.0},
        {QStringLiteral("messagesPerSecond"), seconds > 0 ? double(messages) / seconds : 0.0},
        {QStringLiteral("systemCalls"), qint64(calls)},
        {QStringLiteral("systemCallsPerMessage"), messages > 0 ? double(calls) / double(messages) : 0.0},
        {QStringLiteral("senderSendCalls"), qint64(m_senderStats.sendCalls)},
        {QStringLiteral("receiverReceiveCalls"), qint64(m_receiverStats.receiveCalls)},
        {QStringLiteral("zeroCopy"),
         QJsonObject{
             {QStringLiteral("mode"), m_config.zeroCopyModeName},
             {QStringLiteral("state"), zeroCopyStateName(m_zeroCopyState)},
             {QStringLiteral("reason"), m_zeroCopyReason},
             {QStringLiteral("zeroCopySends"), qint64(m_senderStats.zeroCopySends)},
             {QStringLiteral("copySends"), qint64(m_senderStats.copySends)},
             {QStringLiteral("completions"), qint64(m_senderStats.completions)},
             {QStringLiteral("copiedCompletions"), qint64(m_senderStats.copiedCompletions)},
             {QStringLiteral("releasedBuffers"), qint64(m_senderStats.releasedBuffers)},
             {QStringLiteral("backOffs"), qint64(m_senderStats.backOffs)},
             {QStringLiteral("pendingBuffersAtEnd"), m_senderStats.pendingBuffers},
             {QStringLiteral("releaseLatencyP50us"), m_senderStats.releaseLatencyP50},
         }},
    };
}

static QString pathSentence(const QJsonObject &link)
{
    const QJsonObject zc = link.value(u"zeroCopy").toObject();
    const QString state = zc.value(u"state").toString();
    if (state == u"unsupported")
        return QStringLiteral("copy path: ") + zc.value(u"reason").toString();
    if (state == u"disabled")
        return QStringLiteral("copy path: zero-copy switched off");
    const qint64 sends = zc.value(u"zeroCopySends").toInteger();
    const qint64 completions = zc.value(u"completions").toInteger();
    const qint64 copied = zc.value(u"copiedCompletions").toInteger();
    QString sentence = QStringLiteral("zero-copy %1 sends, %2 completions (%3 COPIED by the kernel)")
                           .arg(sends)
                           .arg(completions)
                           .arg(copied);
    if (zc.value(u"backOffs").toInteger() > 0 || state == u"backed-off")
        sentence += QStringLiteral("; fell back to copies: ") + zc.value(u"reason").toString();
    return sentence;
}

static void printHumanSummary(const QJsonArray &links, bool ok)
{
    QTextStream out(stdout);
    const QLocale locale(QLocale::English);
    out << "\nblight-transport demo: " << links.size() << " connections, "
        << (ok ? "every message and byte arrived and matched" : "FAILED") << "\n\n";
    for (const QJsonValue &value : links) {
        const QJsonObject link = value.toObject();
        out << "  " << link.value(u"name").toString() << " (" << link.value(u"kind").toString() << ", "
            << link.value(u"mode").toString() << ")\n";
        if (!link.value(u"failure").toString().isEmpty())
            out << "    FAILED: " << link.value(u"failure").toString() << "\n";
        out << "    " << locale.toString(link.value(u"messages").toInteger()) << " messages, "
            << link.value(u"frames").toInteger() << " frames of "
            << locale.toString(double(link.value(u"frameSize").toInteger()) / (1024 * 1024), 'f', 1) << " MiB, "
            << locale.toString(double(link.value(u"bytesChecked").toInteger()) / 1e6, 'f', 1) << " MB checked in "
            << locale.toString(link.value(u"seconds").toDouble(), 'f', 2) << " s\n";
        out << "    " << locale.toString(link.value(u"megabytesPerSecond").toDouble(), 'f', 0) << " MB/s, "
            << locale.toString(link.value(u"messagesPerSecond").toDouble(), 'f', 0) << " messages/s, "
            << locale.toString(link.value(u"systemCallsPerMessage").toDouble(), 'f', 3) << " system calls per message\n";
        out << "    " << pathSentence(link) << "\n";
    }
    out.flush();
}

int runDemo(const QStringList &arguments)
{
    static int argc = 1;
    static QByteArray argv0 = arguments.constFirst().toLocal8Bit();
    static char *argv[] = {argv0.data(), nullptr};

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Starts a sender and a receiver in this process over an AF_UNIX socket pair (blight's\n"
        "own kind of socket) and over TCP on loopback, streams typed blight messages and large\n"
        "frames (as Ack payloads, and through a raw-stream socket), checks every byte on arrival\n"
        "and prints a summary. No server or hardware needed."));
    const QCommandLineOption messagesOption(QStringLiteral("messages"), QStringLiteral("Small messages per connection (default 200000)."),
                                            QStringLiteral("n"), QStringLiteral("200000"));
    const QCommandLineOption framesOption(QStringLiteral("frames"), QStringLiteral("Large frames per connection (default 16)."),
                                          QStringLiteral("n"), QStringLiteral("16"));
    const QCommandLineOption frameSizeOption(QStringLiteral("frame-size"), QStringLiteral("Bytes per frame (default 5 MiB)."),
                                             QStringLiteral("bytes"), QString::number(5 * 1024 * 1024));
    const QCommandLineOption burstOption(QStringLiteral("burst"), QStringLiteral("Messages sent per event-loop turn (default 256)."),
                                         QStringLiteral("n"), QStringLiteral("256"));
    const QCommandLineOption zeroCopyOption(QStringLiteral("zerocopy"), QStringLiteral("auto, on or off for the TCP connections (default auto)."),
                                            QStringLiteral("mode"), QStringLiteral("auto"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print the summary as JSON."));
    const QCommandLineOption guiOption(QStringLiteral("gui"), QStringLiteral("Show the transport panel while the demo runs."));
    const QCommandLineOption screenshotOption(QStringLiteral("screenshot"),
                                              QStringLiteral("Render the panel offscreen after the demo and save it as PNG."),
                                              QStringLiteral("file"));
    const QCommandLineOption linksOption(QStringLiteral("links"),
                                         QStringLiteral("Connections to run, from unix, tcp and raw (default all)."),
                                         QStringLiteral("list"), QStringLiteral("unix,tcp,raw"));
    parser.addOptions({messagesOption, framesOption, frameSizeOption, burstOption, zeroCopyOption, linksOption, jsonOption,
                       guiOption, screenshotOption});
    int exitCode = 0;
    if (!parseOrExit(parser, arguments, &exitCode))
        return exitCode;

    DemoConfig config;
    bool ok1 = false, ok2 = false, ok3 = false, ok4 = false;
    config.messages = parser.value(messagesOption).toLongLong(&ok1);
    config.frames = parser.value(framesOption).toLongLong(&ok2);
    config.frameSize = parser.value(frameSizeOption).toLongLong(&ok3);
    config.burst = parser.value(burstOption).toLongLong(&ok4);
    const auto zeroCopy = parseZeroCopyMode(parser.value(zeroCopyOption));
    if (!ok1 || !ok2 || !ok3 || !ok4 || config.messages < 0 || config.frames < 0 || config.frameSize <= 0
        || config.frameSize > DefaultMaxPayloadSize || config.burst <= 0 || !zeroCopy) {
        printError(QStringLiteral("invalid option value; see --help"));
        return 2;
    }
    config.zeroCopyMode = *zeroCopy;
    config.zeroCopyModeName = parser.value(zeroCopyOption);
    const bool json = parser.isSet(jsonOption);
    const bool gui = parser.isSet(guiOption);
    const QString screenshot = parser.value(screenshotOption);

    std::unique_ptr<QCoreApplication> app =
        createDemoApplication(argc, argv, gui || !screenshot.isEmpty(), !gui && !screenshot.isEmpty());
    if (!app)
        return 2;

    QList<DemoLink *> links;
    const QStringList wanted = parser.value(linksOption).split(u',', Qt::SkipEmptyParts);
    for (const QString &name : wanted) {
        if (name == u"unix")
            links.append(new DemoLink(QStringLiteral("unix socket pair"), DemoLink::Kind::UnixMessages, config, app.get()));
        else if (name == u"tcp")
            links.append(new DemoLink(QStringLiteral("tcp loopback"), DemoLink::Kind::TcpMessages, config, app.get()));
        else if (name == u"raw")
            links.append(new DemoLink(QStringLiteral("tcp raw stream"), DemoLink::Kind::TcpRaw, config, app.get()));
        else {
            printError(QStringLiteral("unknown link '%1' in --links: use unix, tcp, raw").arg(name));
            return 2;
        }
    }
    if (links.isEmpty()) {
        printError(QStringLiteral("--links names no connection"));
        return 2;
    }
    ProgressBar progress(QStringLiteral("demo"));
    QTimer ticker;
    ticker.setInterval(100);
    QObject::connect(&ticker, &QTimer::timeout, &ticker, [&] {
        double sum = 0;
        qint64 bytes = 0;
        for (DemoLink *link : std::as_const(links)) {
            sum += link->progress();
            bytes += link->bytesChecked();
        }
        progress.update(sum / double(links.size()), QStringLiteral("%1 MB checked").arg(double(bytes) / 1e6, 0, 'f', 0));
    });
    int finished = 0;
    for (DemoLink *link : std::as_const(links)) {
        QObject::connect(link, &DemoLink::finished, link, [&] {
            if (++finished == links.size() && !gui)
                QCoreApplication::exit(0);
        });
    }
    // A hung demo must end with a reason, not stall.
    QTimer watchdog;
    watchdog.setSingleShot(true);
    QObject::connect(&watchdog, &QTimer::timeout, &watchdog, [&] {
        for (DemoLink *link : std::as_const(links))
            link->abandon(QStringLiteral("timed out after 300 s"));
        QCoreApplication::exit(1);
    });
    watchdog.start(300000);
    std::shared_ptr<DemoPanel> panel;
    if (gui || !screenshot.isEmpty()) {
        panel = openDemoPanel(links, gui);
        if (!panel)
            return 2;
    }
    ticker.start();
    for (DemoLink *link : std::as_const(links))
        link->start();

    // With --gui the loop ends when the window is closed.
    const int guiResult = QCoreApplication::exec();
    ticker.stop();
    progress.finish();

    QJsonArray summaries;
    bool ok = true;
    for (DemoLink *link : std::as_const(links)) {
        const QJsonObject summary = link->summary();
        ok = ok && summary.value(u"verified").toBool();
        summaries.append(summary);
    }
    if (json)
        printJsonLine(QJsonObject{{QStringLiteral("ok"), ok}, {QStringLiteral("connections"), summaries}});
    else
        printHumanSummary(summaries, ok);
    if (!screenshot.isEmpty() && !saveDemoPanel(panel.get(), screenshot))
        return 1;
    return ok && guiResult == 0 ? 0 : 1;
}

} // namespace Blight::Cli
