// SPDX-License-Identifier: MIT
// DemoLink: one sender and one receiver over one socket, the receiver
// checking every byte; payload generation and checking timed on their own.
#include "cliutil.h"
#include "demo.h"

#include <BlightTransport/blightbufferpool.h>
#include <BlightTransport/blightserver.h>

#include <QtCore/QJsonObject>
#include <QtCore/QScopedValueRollback>

#include <cstring>
#include <ctime>
#include <sys/socket.h>
#include <unistd.h>

namespace Blight::Cli {

namespace {

constexpr quint32 FrameAckFlag = 0x80000000u;

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
    if (isSharedMemory())
        setUpSharedMemory();
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
    if (m_kind == Kind::UnixMessages || isSharedMemory()) {
        if (isSharedMemory() && m_pool && !m_pool->isValid()) {
            failLink(QStringLiteral("cannot allocate the shared-memory pool"));
            return;
        }
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
            failLink(QStringLiteral("socketpair failed"));
            return;
        }
        m_receiver = new BlightSocket(BlightSocket::Mode::Messages, this);
        m_receiver->setObjectName(m_name + QStringLiteral(" receiver"));
        // Enabled before connecting: each side's offer leaves at once.
        m_receiver->setSharedMemoryEnabled(isSharedMemory());
        m_sender->setSocketDescriptor(fds[0]);
        m_receiver->setSocketDescriptor(fds[1]);
        wireReceiver();
        wireSender();
        if (isSharedMemory())
            watchAgreement(); // pumps once the agreement stands
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
    connect(m_sender, &BlightSocket::errorOccurred, this,
            [this](BlightSocket::Error, const QString &reason) { failLink(QStringLiteral("sender: ") + reason); });
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
            if (!info || info->width != infoFor(id).width || info->x != infoFor(id).x
                || info->scale != infoFor(id).scale)
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
        connect(m_receiver, &BlightSocket::dataReceived, this, &DemoLink::receiveRawChunk);
        return;
    }
    connect(m_receiver, &BlightSocket::messageReceived, this, &DemoLink::receiveMessage);
    if (isSharedMemory())
        connect(m_receiver, &BlightSocket::bufferReceived, this, &DemoLink::receiveFrame);
}

qint64 threadCpuNs()
{
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return qint64(now.tv_sec) * 1000000000 + now.tv_nsec;
}

void DemoLink::generateBurst()
{
    // Bursts of messages per event-loop turn, as a busy service would send;
    // at most a few MiB generated ahead.
    constexpr qint64 MaxAheadBytes = 8 * 1024 * 1024;
    m_ready.clear();
    m_readyAt = 0;
    const qint64 started = threadCpuNs();
    qint64 bytes = 0;
    for (qint64 k = m_sent; k < m_total && k < m_sent + m_config.burst && bytes < MaxAheadBytes; ++k) {
        Message message;
        if (m_kind == Kind::TcpRaw) {
            message.payload = patternPayload(frameSeed(k), m_config.frameSize);
        } else {
            message = expectedMessage(k);
            const qint64 frame = frameIndexOf(k);
            if (frame >= 0 && !isSharedMemory()) // a pool buffer is written when it is sent
                message.payload = patternPayload(frameSeed(frame), m_config.frameSize);
        }
        bytes += message.payload.size();
        m_ready.append(std::move(message));
    }
    m_generationNs += threadCpuNs() - started;
}

void DemoLink::pump()
{
    if (m_failed || m_pumping || !m_sender->isConnected() || !m_receiver || !sharedMemoryReady())
        return;
    const QScopedValueRollback pumping(m_pumping, true); // a signal from a send must not re-enter
    if (m_readyAt == m_ready.size())
        generateBurst();
    while (m_readyAt < m_ready.size()) {
        const Message message = m_ready.at(m_readyAt);
        const qint64 poolFrame = isSharedMemory() ? frameIndexOf(m_sent) : -1;
        if (poolFrame >= 0) {
            if (!sendFrameFromPool(message, poolFrame))
                return; // bufferAvailable() or canSendChanged(true) resumes, or the link failed
        } else {
            const bool ok = m_kind == Kind::TcpRaw ? m_sender->send(message.payload)
                                                   : m_sender->forwardMessage(message);
            if (!ok) {
                if (m_sender->lastSendError() == BlightSocket::Error::QueueFull)
                    return; // canSendChanged(true) resumes
                failLink(QStringLiteral("send refused: %1").arg(int(m_sender->lastSendError())));
                return;
            }
        }
        if (m_kind != Kind::TcpRaw
            && (message.type() == MessageType::Info || message.type() == MessageType::List
                || message.type() == MessageType::Ping)) {
            m_awaitedAcks.insert(message.ackid(), message.type());
            ++m_acksExpected;
        }
        ++m_readyAt;
        ++m_sent;
    }
    m_ready.clear(); // frees the sent payloads (the socket keeps what it still needs)
    m_readyAt = 0;
    if (m_sent < m_total)
        QMetaObject::invokeMethod(this, &DemoLink::pump, Qt::QueuedConnection);
}

void DemoLink::receiveMessage(const Message &message)
{
    m_inbox.append(message);
    if (!m_checkQueued) {
        m_checkQueued = true;
        QMetaObject::invokeMethod(this, &DemoLink::checkInbox, Qt::QueuedConnection);
    }
}

void DemoLink::receiveRawChunk(const QByteArray &chunk)
{
    m_rawInbox.append(chunk);
    if (!m_checkQueued) {
        m_checkQueued = true;
        QMetaObject::invokeMethod(this, &DemoLink::checkInbox, Qt::QueuedConnection);
    }
}

void DemoLink::checkInbox()
{
    m_checkQueued = false;
    const QList<Message> messages = std::exchange(m_inbox, {});
    const QList<QByteArray> chunks = std::exchange(m_rawInbox, {});
    // Shared-memory frames of this batch: held while they are checked.
    QList<BlightBuffer> heldUntilChecked = std::exchange(m_heldFrames, {});
    const qint64 started = threadCpuNs();
    for (const Message &message : messages) {
        if (m_failed)
            break;
        checkMessage(message);
    }
    for (const QByteArray &chunk : chunks) {
        if (m_failed)
            break;
        checkRawChunk(chunk);
    }
    m_checkingNs += threadCpuNs() - started;
    // Checked: dropping the handles sends their releases, before the last
    // batch lets checkFinished() close the sender.
    heldUntilChecked.clear();
    // The receiver answers requests as blight does: transport work, untimed.
    const QList<Message> replies = std::exchange(m_replies, {});
    for (const Message &reply : replies) {
        if (m_failed || !m_receiver)
            break;
        m_receiver->forwardMessage(reply);
    }
    checkFinished();
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
    // Answered after the batch (checkInbox()), as blight would.
    if (message.type() == MessageType::Info) {
        const auto surface = message.payloadAs<SurfacePayload>();
        const QByteArray info = encode(infoFor(surface ? surface->identifier : 0));
        m_replies.append(Message{makeHeader(MessageType::Ack, message.ackid(), quint32(info.size())), info});
    } else if (message.type() == MessageType::List) {
        const SurfaceId ids[3] = {1, 2, 3};
        const QByteArray list(reinterpret_cast<const char *>(ids), sizeof(ids));
        m_replies.append(Message{makeHeader(MessageType::Ack, message.ackid(), quint32(list.size())), list});
    }
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
        const qsizetype bad = firstPatternMismatch(QByteArrayView(chunk.constData() + at, take), frameSeed(frame),
                                                   within);
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
}

void DemoLink::checkFinished()
{
    if (m_failed || m_done)
        return;
    // The shared-memory link closes once every frame's release reached the
    // sender: a frame still out when the connection ends retires its region.
    const bool framesOut = isSharedMemory() && m_pool && m_pool->inUse() > 0;
    if (!m_closing && m_received == m_total && m_sent == m_total && m_awaitedAcks.isEmpty() && !framesOut) {
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
    QJsonObject summary{
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
        // The demo's own work in the same thread, included in "seconds".
        {QStringLiteral("generationCpuSeconds"), double(m_generationNs) / 1e9},
        {QStringLiteral("checkingCpuSeconds"), double(m_checkingNs) / 1e9},
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
    if (isSharedMemory())
        summary.insert(QStringLiteral("sharedMemory"), sharedMemorySummary());
    return summary;
}

} // namespace Blight::Cli
