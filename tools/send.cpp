// SPDX-License-Identifier: MIT
// blight-transport send: connect, send --count messages, optionally wait for
// every request's Ack and print its decoded reply, then print a JSON summary
// (with how many sends the socket released; --pool sends from a buffer pool,
// --shared-memory from one in a sealed memfd, to a peer that agreed).
#include "commands.h"
#include "cliutil.h"
#include "replyjson.h"
#include "sendoptions.h"

#include <BlightTransport/blightbufferpool.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QElapsedTimer>
#include <QtCore/QHash>
#include <QtCore/QJsonObject>
#include <QtCore/QMetaEnum>
#include <QtCore/QTimer>

#include <memory>
#include <utility>

namespace Blight::Cli {

int runSend(const QStringList &arguments)
{
    int exitCode = ExitOk;
    const std::optional<SendOptions> parsed = parseSendOptions(arguments, &exitCode);
    if (!parsed)
        return exitCode;
    const SendOptions &options = *parsed;

    // Declared before the socket: the socket, destroyed first, gives the
    // buffers its sends still hold back to a pool that still exists.
    std::unique_ptr<BlightBufferPool> pool;
    if (options.poolBuffers > 0) {
        const auto backing = options.sharedMemory ? BlightBufferPool::Backing::SharedMemory
                                                  : BlightBufferPool::Backing::Anonymous;
        pool = std::make_unique<BlightBufferPool>(options.poolBuffers, options.payloadSize(), backing);
        if (!pool->isValid()) {
            printError(QStringLiteral("%1: cannot allocate %2 buffers of %3 bytes")
                           .arg(options.sharedMemory ? QStringLiteral("--shared-memory") : QStringLiteral("--pool"))
                           .arg(options.poolBuffers)
                           .arg(options.payloadSize()));
            return ExitFailure;
        }
    }
    BlightSocket socket;
    socket.setZeroCopyMode(options.zeroCopyMode);
    if (options.zeroCopyThreshold)
        socket.setZeroCopyThreshold(*options.zeroCopyThreshold);
    socket.setSharedMemoryEnabled(options.sharedMemory);
    qint64 next = 0;
    QHash<quint32, QByteArray> awaited; // ackid -> the request's payload
    qint64 acks = 0;
    qint64 unknownSurfaces = 0;
    qint64 pingsAnswered = 0;
    qint64 released = 0;            // sends whose bytes the socket let go of
    qint64 releasedUndelivered = 0; // of those, the ones dropped before the kernel took them
    bool waitingForBuffer = false;  // every pool buffer is out: bufferAvailable() resumes
    // --shared-memory: the Ping sent first, and what the socket said once its answer came.
    BlightReply *handshake = nullptr;
    bool handshakeDone = !options.sharedMemory;
    bool handshakeAckDue = false; // its Ack reaches ackReceived() too, once
    bool sharedMemoryActive = false;
    QString sharedMemoryState;
    QString sharedMemoryReason;
    QString failure; // the first reason, printed once and put in the summary
    QElapsedTimer clock;

    // Records and prints the first reason; \a abort ends the connection (an
    // errorOccurred() is followed by disconnected() anyway).
    auto fail = [&](const QString &reason, bool abort) {
        if (!failure.isEmpty())
            return;
        failure = reason;
        printError(reason);
        if (abort)
            socket.abort();
        QCoreApplication::exit(ExitFailure);
    };
    // With --shared-memory, every buffer must be back first: a frame still out
    // at the peer when the connection ends retires its pool region.
    auto framesOut = [&] { return options.sharedMemory && pool && pool->inUse() > 0; };
    auto finishIfDone = [&] {
        if (next == options.count && awaited.isEmpty() && !framesOut()
            && socket.state() == BlightSocket::State::Connected)
            socket.close(); // flushes, waits for zero-copy releases, then disconnects
    };
    auto pump = [&] {
        if (!handshakeDone)
            return;
        while (next < options.count && socket.state() == BlightSocket::State::Connected) {
            const auto ackid = quint32(next + 1);
            quint64 id = 0;
            if (pool) {
                BlightBuffer buffer = pool->acquire();
                if (buffer.isNull()) {
                    waitingForBuffer = true;
                    return;
                }
                options.writePayload(next, buffer.data());
                id = socket.sendBuffer(options.type, ackid, buffer);
                // The handle goes here: the buffer returns to the pool once the send is released.
            } else {
                id = socket.sendMessage(options.type, ackid, options.payload(next));
            }
            if (!id) {
                if (socket.lastSendError() == BlightSocket::Error::QueueFull)
                    return; // canSendChanged(true) resumes
                fail(QStringLiteral("message %1 refused (%2)")
                         .arg(next)
                         .arg(QString::fromLatin1(
                             QMetaEnum::fromType<BlightSocket::Error>().valueToKey(int(socket.lastSendError())))),
                     true);
                return;
            }
            if (options.waitAcks)
                awaited.insert(ackid, options.payload(next));
            ++next;
        }
        finishIfDone();
    };
    QObject::connect(&socket, &BlightSocket::connected, &socket, [&] {
        clock.start();
        if (options.sharedMemory) {
            // The peer sends its offer when it connects, before it reads this
            // Ping: once the answer is here, so is any offer (one stream, in order).
            handshake = socket.request(MessageType::Ping, {}, options.timeoutMs > 0 ? options.timeoutMs : 5000);
            if (!handshake) {
                fail(QStringLiteral("--shared-memory: the first Ping was refused"), true);
                return;
            }
            handshakeAckDue = true;
            QObject::connect(handshake, &BlightReply::finished, &socket, [&] {
                handshakeDone = true;
                sharedMemoryActive = socket.isSharedMemoryActive();
                sharedMemoryState = zeroCopyStateName(socket.zeroCopyState());
                sharedMemoryReason = socket.zeroCopyReason();
                if (!handshake->isAcked()) {
                    fail(QStringLiteral("--shared-memory: the peer did not answer the first Ping (%1)")
                             .arg(handshake->errorString()),
                         true);
                    return;
                }
                if (!sharedMemoryActive)
                    printError(QStringLiteral("no shared memory on this connection: %1").arg(sharedMemoryReason));
                pump();
            });
            return;
        }
        pump();
    });
    QObject::connect(&socket, &BlightSocket::canSendChanged, &socket, [&](bool can) {
        if (can)
            pump();
    });
    if (pool) {
        QObject::connect(pool.get(), &BlightBufferPool::bufferAvailable, &socket, [&] {
            if (std::exchange(waitingForBuffer, false))
                pump();
        });
        if (options.sharedMemory)
            QObject::connect(pool.get(), &BlightBufferPool::availableChanged, &socket, [&] { finishIfDone(); });
    }
    QObject::connect(&socket, &BlightSocket::sendsReleased, &socket, [&](const QList<SendIdRange> &ranges) {
        for (const SendIdRange &range : ranges) {
            // The first Ping of --shared-memory is not one of the messages counted here.
            const qint64 sends = qint64(range.count()) - (handshake && range.contains(handshake->sendId()) ? 1 : 0);
            released += sends;
            if (!range.delivered)
                releasedUndelivered += sends;
        }
    });
    QObject::connect(&socket, &BlightSocket::ackReceived, &socket, [&](quint32 ackid, const QByteArray &reply) {
        if (handshakeAckDue && ackid == handshake->ackid()) {
            handshakeAckDue = false; // later Acks with this ackid answer messages
            return;
        }
        if (!options.waitAcks)
            return;
        const auto it = awaited.constFind(ackid);
        if (it == awaited.constEnd()) {
            printJsonLine(QJsonObject{{QStringLiteral("ack"), qint64(ackid)}, {QStringLiteral("unexpected"), true}});
            return;
        }
        const QJsonObject line = describeAck(options.type, it.value(), ackid, reply);
        awaited.erase(it);
        ++acks;
        printJsonLine(line);
        if (line.value(u"known") == QJsonValue(false))
            ++unknownSurfaces;
        if (line.contains(u"error")) {
            fail(QStringLiteral("ack %1: %2").arg(ackid).arg(line.value(u"error").toString()), true);
            return;
        }
        finishIfDone();
    });
    QObject::connect(&socket, &BlightSocket::pingReceived, &socket, [&] { ++pingsAnswered; });
    QObject::connect(&socket, &BlightSocket::errorOccurred, &socket, [&](BlightSocket::Error, const QString &reason) {
        if (clock.isValid() && (next < options.count || !awaited.isEmpty()))
            fail(QStringLiteral("%1 (%2 of %3 messages accepted, %4 acks outstanding)")
                     .arg(reason)
                     .arg(next)
                     .arg(options.count)
                     .arg(awaited.size()),
                 false);
        else
            fail(reason, false);
    });
    QObject::connect(&socket, &BlightSocket::disconnected, &socket,
                     [&] { QCoreApplication::exit(failure.isEmpty() ? ExitOk : ExitFailure); });
    QTimer deadline;
    deadline.setSingleShot(true);
    // A coarse timer may fire up to 5 % early; --timeout promises "longer than".
    deadline.setTimerType(Qt::PreciseTimer);
    QObject::connect(&deadline, &QTimer::timeout, &socket, [&] {
        QString what;
        if (socket.state() == BlightSocket::State::Connecting)
            what = QStringLiteral("still connecting");
        else if (!handshakeDone)
            what = QStringLiteral("waiting for the answer to the first Ping");
        else if (waitingForBuffer)
            what = QStringLiteral("%1 of %2 messages accepted, waiting for one of the %3 pool buffers to come back")
                       .arg(next)
                       .arg(options.count)
                       .arg(options.poolBuffers);
        else if (next < options.count || socket.queuedBytes() > 0)
            what = QStringLiteral("%1 of %2 messages accepted, %3 bytes still queued: the peer is not reading")
                       .arg(next)
                       .arg(options.count)
                       .arg(socket.queuedBytes());
        else if (!awaited.isEmpty())
            what = QStringLiteral("%1 of %2 acks outstanding").arg(awaited.size()).arg(next);
        else if (framesOut())
            what = QStringLiteral("%1 of the %2 pool buffers still held by the peer")
                       .arg(pool->inUse())
                       .arg(options.poolBuffers);
        else
            what = QStringLiteral("still closing");
        fail(QStringLiteral("timed out after %1 ms: %2").arg(options.timeoutMs).arg(what), true);
    });
    if (options.timeoutMs > 0)
        deadline.start(options.timeoutMs);
    socket.connectToEndpoint(options.endpoint);
    QCoreApplication::exec();

    const double seconds = clock.isValid() ? double(clock.nsecsElapsed()) / 1e9 : 0.0;
    const SocketStatistics stats = socket.statistics();
    if (failure.isEmpty() && next != options.count) {
        failure = QStringLiteral("only %1 of %2 messages sent").arg(next).arg(options.count);
        printError(failure);
    }
    // The socket reports the settled sends before disconnected(): after a
    // clean close every accepted send has been reported, or it is a bug.
    if (failure.isEmpty() && released != next) {
        failure = QStringLiteral("the socket reported %1 of %2 sends released").arg(released).arg(next);
        printError(failure);
    }
    QJsonObject summary{
        {QStringLiteral("endpoint"), socket.endpoint()},
        {QStringLiteral("kind"), kindName(socket.kind())},
        {QStringLiteral("type"), typeName(qint32(options.type))},
        {QStringLiteral("messages"), next},
        {QStringLiteral("requested"), options.count},
        {QStringLiteral("acks"), acks},
        {QStringLiteral("acksOutstanding"), qint64(awaited.size())},
        {QStringLiteral("unknownSurfaces"), unknownSurfaces},
        {QStringLiteral("pingsAnswered"), pingsAnswered},
        {QStringLiteral("released"), released},
        {QStringLiteral("releasedUndelivered"), releasedUndelivered},
        {QStringLiteral("poolBuffers"), options.poolBuffers},
        {QStringLiteral("poolWaits"), pool ? qint64(pool->waitingAcquires()) : qint64(0)},
        {QStringLiteral("userSpaceCopies"), qint64(stats.userSpaceCopies)},
        {QStringLiteral("bytes"), qint64(stats.bytesSent)},
        {QStringLiteral("seconds"), seconds},
        {QStringLiteral("messagesPerSecond"), seconds > 0 ? double(next) / seconds : 0.0},
        {QStringLiteral("sendCalls"), qint64(stats.sendCalls)},
        {QStringLiteral("systemCalls"), qint64(socket.systemCalls())},
        {QStringLiteral("zeroCopySends"), qint64(stats.zeroCopySends)},
        {QStringLiteral("copySends"), qint64(stats.copySends)},
        {QStringLiteral("completions"), qint64(stats.completions)},
        {QStringLiteral("copiedCompletions"), qint64(stats.copiedCompletions)},
        {QStringLiteral("noBufferErrors"), qint64(stats.noBufferErrors)},
        {QStringLiteral("zeroCopyState"), zeroCopyStateName(socket.zeroCopyState())},
        {QStringLiteral("zeroCopyReason"), socket.zeroCopyReason()},
        {QStringLiteral("error"), failure},
    };
    if (options.sharedMemory) {
        summary.insert(QStringLiteral("sharedMemory"), true);
        summary.insert(QStringLiteral("poolShared"), pool && pool->isShared());
        // As the socket stood when the first message went: what every message went under.
        summary.insert(QStringLiteral("sharedMemoryActive"), sharedMemoryActive);
        summary.insert(QStringLiteral("sharedMemoryState"), sharedMemoryState);
        summary.insert(QStringLiteral("sharedMemoryReason"), sharedMemoryReason);
        summary.insert(QStringLiteral("sharedMemoryFramesSent"), qint64(stats.sharedMemoryFramesSent));
        summary.insert(QStringLiteral("sharedMemoryBytesSent"), qint64(stats.sharedMemoryBytesSent));
        summary.insert(QStringLiteral("retiredRegions"), pool ? qint64(pool->retiredRegions()) : qint64(0));
    }
    printJsonLine(summary);
    return failure.isEmpty() ? ExitOk : ExitFailure;
}

} // namespace Blight::Cli
