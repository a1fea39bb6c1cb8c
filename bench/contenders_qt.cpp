// SPDX-License-Identifier: MIT
// Qt's own sockets as a Qt user would drive them: QLocalSocket over blight's
// socketpair and QTcpSocket, write() per message with the event loop running.
#include "contenders.h"
#include "receiver.h"

#include <QtNetwork/QLocalSocket>
#include <QtNetwork/QTcpSocket>

using namespace Qt::StringLiterals;

namespace Bench {

namespace {

using Clock = std::chrono::steady_clock;

} // namespace

Sample runEventLoopTurns(const RunRequest &request)
{
    // The same posting loop as the burst-1 contenders, without a socket.
    Sample s;
    EventLoopRun run;
    quint64 turns = 0;
    std::function<void()> turn = [&] {
        if (++turns < request.count)
            run.post(turn);
        else
            run.quit();
    };
    Meter meter;
    meter.start(request.warmup);
    run.post(turn);
    run.exec();
    meter.stop(&s);
    s.messages = turns;
    s.ok = !run.failed() && turns == request.count;
    s.error = run.failed() ? run.error() : QString();
    return s;
}

Sample runQLocalSocketSmall(int burst, const RunRequest &request)
{
    Sample s;
    SocketPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    MessageReceiver receiver(pair.receiver, request.count);
    QLocalSocket socket;
    if (!socket.setSocketDescriptor(pair.sender, QLocalSocket::ConnectedState, QIODevice::ReadWrite)) {
        s.error = u"QLocalSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    pair.releaseSender();

    EventLoopRun run;
    quint64 seq = 0;
    bool waiting = false;
    std::function<void()> turn = [&] {
        char message[RepaintMessageSize];
        for (int i = 0; i < burst && seq < request.count; ++i) {
            if (socket.bytesToWrite() >= SmallQueueBound) {
                waiting = true; // resumed by bytesWritten
                return;
            }
            writeRepaintMessage(seq, message);
            if (socket.write(message, RepaintMessageSize) != qint64(RepaintMessageSize)) {
                run.fail(u"QLocalSocket::write: "_s + socket.errorString());
                return;
            }
            ++seq;
        }
        if (seq < request.count)
            run.post(turn);
    };
    QObject::connect(&socket, &QLocalSocket::bytesWritten, run.context(), [&] {
        if (waiting && socket.bytesToWrite() < SmallQueueBound / 2) {
            waiting = false;
            turn();
        }
    });
    QObject::connect(&socket, &QLocalSocket::errorOccurred, run.context(),
                     [&] { run.fail(u"QLocalSocket: "_s + socket.errorString()); });

    runUntilReceived(&s, run, receiver, turn, request);
    socket.abort();
    return s;
}

Sample runQLocalSocketRtt(const RunRequest &request)
{
    Sample s;
    SocketPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    MessageReceiver peer(pair.receiver, request.count, true);
    QLocalSocket socket;
    if (!socket.setSocketDescriptor(pair.sender, QLocalSocket::ConnectedState, QIODevice::ReadWrite)) {
        s.error = u"QLocalSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    pair.releaseSender();

    EventLoopRun run;
    std::vector<double> latencies;
    latencies.reserve(request.count);
    quint64 seq = 0;
    Clock::time_point sentAt;
    QByteArray inbox;
    auto sendNext = [&] {
        char message[RepaintMessageSize];
        writeRepaintMessage(seq, message);
        sentAt = Clock::now();
        if (socket.write(message, RepaintMessageSize) != qint64(RepaintMessageSize))
            run.fail(u"QLocalSocket::write: "_s + socket.errorString());
    };
    QObject::connect(&socket, &QLocalSocket::readyRead, run.context(), [&] {
        inbox += socket.readAll();
        while (inbox.size() >= 12) {
            Blight::Header ack;
            std::memcpy(&ack, inbox.constData(), sizeof ack);
            if (ack.type != qint32(Blight::MessageType::Ack) || ack.ackid != ackidFor(seq) || ack.size != 0) {
                run.fail(u"message %1: unexpected answer (type %2, ackid %3)"_s.arg(seq).arg(ack.type).arg(ack.ackid));
                return;
            }
            inbox.remove(0, 12);
            latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sentAt).count());
            if (++seq == request.count) {
                run.quit();
                return;
            }
            sendNext();
        }
    });
    QObject::connect(&socket, &QLocalSocket::errorOccurred, run.context(),
                     [&] { run.fail(u"QLocalSocket: "_s + socket.errorString()); });

    runRoundTrips(&s, run, peer, sendNext, latencies, request);
    socket.abort();
    return s;
}

Sample runQTcpSocketFrames(const ColdPool &pool, const RunRequest &request)
{
    Sample s;
    TcpPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    FrameReceiver receiver(pair.receiver, pool, request.count, request.warmup);
    QTcpSocket socket;
    if (!socket.setSocketDescriptor(pair.sender)) {
        s.error = u"QTcpSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    pair.releaseSender();

    EventLoopRun run;
    quint64 frame = 0;
    auto pump = [&] {
        // Keep the user-space buffer bounded, as a streaming application would.
        while (frame < request.count && socket.bytesToWrite() < FrameQueueBound) {
            const QByteArray &data = pool.frame(frame);
            if (socket.write(data) != data.size()) {
                run.fail(u"QTcpSocket::write: "_s + socket.errorString());
                return;
            }
            ++frame;
        }
    };
    QObject::connect(&socket, &QTcpSocket::bytesWritten, run.context(), pump);
    QObject::connect(&socket, &QTcpSocket::errorOccurred, run.context(),
                     [&] { run.fail(u"QTcpSocket: "_s + socket.errorString()); });

    runUntilReceived(&s, run, receiver, pump, request);
    socket.abort();
    return s;
}

} // namespace Bench
