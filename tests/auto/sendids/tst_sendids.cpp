// SPDX-License-Identifier: MIT
// Send ids and sendsReleased() on real sockets: ids from every sending call,
// release on the copy path, the zero-copy path and for dropped sends, pool
// buffers and caller memory, across a destroyed socket and from a producer
// thread.
#include <BlightTransport/blightbufferpool.h>

#include <testutil.h>

#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>
#include <map>

using namespace Blight;

namespace {

// Every id sendsReleased() reported, with its delivered flag; an id
// reported twice is kept in twice.
struct ReleaseLog
{
    std::map<quint64, bool> ids;
    QList<quint64> twice;
    int notifications = 0;
    quint64 highest() const { return ids.empty() ? 0 : ids.rbegin()->first; }
    bool complete(quint64 last) const { return ids.size() == last && (last == 0 || highest() == last); }
    void record(const QList<SendIdRange> &ranges)
    {
        ++notifications;
        for (const SendIdRange &range : ranges) {
            for (quint64 id = range.first; id <= range.last; ++id) {
                if (!ids.emplace(id, range.delivered).second)
                    twice.append(id);
            }
        }
    }
    void attach(BlightSocket *socket)
    {
        QObject::connect(socket, &BlightSocket::sendsReleased, socket,
                         [this](const QList<SendIdRange> &ranges) { record(ranges); });
    }
};

quint64 countDelivered(const ReleaseLog &log, bool delivered)
{
    return quint64(std::count_if(log.ids.begin(), log.ids.end(),
                                 [delivered](const auto &entry) { return entry.second == delivered; }));
}

} // namespace

class FrameProducer : public QObject
{
    Q_OBJECT
Q_SIGNALS:
    void frame(const Blight::BlightBuffer &buffer);
};

class tst_SendIds : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everySendingCallTakesTheNextId_data();
    void everySendingCallTakesTheNextId();
    void rawChunksTakeIds();
    void idsContinueAcrossReconnects();
    void pingAnswersTakeNoId();
    void copyPathReleasesOnlyWhatTheKernelTook();
    void oneNotificationForABurst();
    void sendsFromATurnEndSlotLeave();
    void lateReceiverHearsEverything();
    void zeroCopyReleasedAfterTheCompletion();
    void droppedByAbortAreNotDelivered();
    void poolBufferReturnsOnTheCopyPath();
    void poolBufferOnEveryKind_data();
    void poolBufferOnEveryKind();
    void poolBufferOutlivesItsSocket();
    void callerMemoryReleasedOnce_data();
    void callerMemoryReleasedOnce();
    void producerInAnotherThread();
};

void tst_SendIds::everySendingCallTakesTheNextId_data()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("unix") << QStringLiteral("unix");
    QTest::newRow("tcp4") << QStringLiteral("tcp4");
    QTest::newRow("udp4") << QStringLiteral("udp4");
}

void tst_SendIds::everySendingCallTakesTheNextId()
{
    QFETCH(QString, kind);
    TestUtil::Pair pair = TestUtil::makePair(kind);
    QVERIFY(pair.ok);
    BlightSocket &socket = *pair.a;
    ReleaseLog log;
    log.attach(&socket);
    // makePair() sent one message on UDP to introduce the client.
    const quint64 base = socket.lastSendId();
    QCOMPARE(base, kind == u"udp4" ? quint64(1) : quint64(0));
    BlightBufferPool pool(1, 256);
    QCOMPARE(socket.sendMessage(MessageType::Focus, 1, {}), base + 1);
    QCOMPARE(socket.sendMessageCopy(MessageType::Focus, 2, {}), base + 2);
    QCOMPARE(socket.sendPayload(MessageType::Repaint, 3, RepaintPayload{}), base + 3);
    QCOMPARE(socket.sendBuffer(MessageType::Raise, 4, pool.acquire()), base + 4);
    BlightReply *reply = socket.request(MessageType::Focus, {}, 1000);
    QVERIFY(reply);
    QCOMPARE(reply->sendId(), base + 5);
    // Refused: no id, and the next accepted one follows without a gap.
    QCOMPARE(socket.sendMessage(MessageType(99), 0, {}), quint64(0));
    QCOMPARE(socket.lastSendError(), BlightSocket::Error::ProtocolError);
    QCOMPARE(socket.sendMessage(MessageType::Repaint, 0, {}), quint64(0)); // needs a payload
    QCOMPARE(socket.send(QByteArrayLiteral("raw")), quint64(0));
    QCOMPARE(socket.lastSendError(), BlightSocket::Error::WrongMode);
    QCOMPARE(socket.sendMessage(MessageType::Focus, 6, {}), base + 6);
    QCOMPARE(socket.lastSendId(), base + 6);
    QTRY_VERIFY(log.complete(base + 6));
    QVERIFY(log.twice.isEmpty());
    QCOMPARE(countDelivered(log, false), quint64(0));
}

void tst_SendIds::rawChunksTakeIds()
{
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("unix"), BlightSocket::Mode::RawStream);
    QVERIFY(pair.ok);
    ReleaseLog log;
    log.attach(pair.a.get());
    BlightBufferPool pool(1, 100);
    QCOMPARE(pair.a->send(QByteArrayLiteral("one")), quint64(1));
    QCOMPARE(pair.a->sendRawBuffer(pool.acquire()), quint64(2));
    QCOMPARE(pair.a->send(QByteArray()), quint64(3)); // nothing to send, still an accepted send
    QCOMPARE(pair.a->sendMessage(MessageType::Focus, 0, {}), quint64(0));
    QTRY_VERIFY(log.complete(3));
    QVERIFY(log.twice.isEmpty());
}

void tst_SendIds::idsContinueAcrossReconnects()
{
    BlightServer server;
    QVERIFY(server.listen(QStringLiteral("tcp://127.0.0.1:0")));
    BlightSocket socket;
    ReleaseLog log;
    log.attach(&socket);
    for (int connection = 0; connection < 2; ++connection) {
        QSignalSpy connected(&socket, &BlightSocket::connected);
        socket.connectToEndpoint(server.endpoint());
        QVERIFY(connected.wait(5000));
        for (int i = 0; i < 3; ++i)
            QCOMPARE(socket.sendMessage(MessageType::Focus, 0, {}), quint64(connection * 3 + i + 1));
        QSignalSpy disconnected(&socket, &BlightSocket::disconnected);
        socket.close();
        QVERIFY(!disconnected.isEmpty() || disconnected.wait(5000));
    }
    QVERIFY(log.complete(6));
    QCOMPARE(countDelivered(log, true), quint64(6));
}

void tst_SendIds::pingAnswersTakeNoId()
{
    auto [socket, peerFd] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    ReleaseLog log;
    log.attach(socket.get());
    const QByteArray ping = TestUtil::headerBytes(qint32(MessageType::Ping), 77, 0);
    QCOMPARE(::write(peerFd, ping.constData(), size_t(ping.size())), ssize_t(ping.size()));
    QSignalSpy pinged(socket.get(), &BlightSocket::pingReceived);
    QVERIFY(pinged.wait(5000));
    QTRY_COMPARE(socket->messagesSent(), quint64(1)); // the answer left
    QCOMPARE(socket->lastSendId(), quint64(0));
    QCOMPARE(socket->sendMessage(MessageType::Focus, 0, {}), quint64(1));
    QTRY_VERIFY(log.complete(1));
    ::close(peerFd);
}

void tst_SendIds::copyPathReleasesOnlyWhatTheKernelTook()
{
    // A reader that does not read: the kernel takes what fits, the rest
    // waits in the queue. An id is reported only once the kernel took the
    // whole message: at every notification, no reported id is above the
    // messages handed to the kernel.
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    BlightSocket &socket = *pair.a;
    pair.b->setReadingPaused(true);
    ReleaseLog log;
    quint64 violations = 0;
    QObject::connect(&socket, &BlightSocket::sendsReleased, &socket, [&](const QList<SendIdRange> &ranges) {
        for (const SendIdRange &range : ranges)
            violations += range.last > socket.messagesSent() ? 1 : 0;
        log.record(ranges);
    });
    const QByteArray payload = TestUtil::pattern(64 * 1024, 3);
    quint64 last = 0;
    for (int i = 0; i < 64; ++i)
        last = socket.sendMessage(MessageType::Focus, 0, payload);
    QCOMPARE(last, quint64(64));
    QVERIFY(socket.queuedBytes() > 0);
    QTest::qWait(50); // turns pass: what the kernel took is reported, the rest is not
    QVERIFY(log.highest() < 64);
    QCOMPARE(quint64(log.ids.size()), log.highest());
    QCOMPARE(log.highest(), socket.messagesSent());
    pair.b->setReadingPaused(false);
    QTRY_VERIFY(log.complete(64));
    QCOMPARE(violations, quint64(0));
    QVERIFY(log.twice.isEmpty());
    QTRY_COMPARE(pair.b->messagesReceived(), quint64(64));
}

void tst_SendIds::oneNotificationForABurst()
{
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    QSignalSpy released(pair.a.get(), &BlightSocket::sendsReleased);
    for (int i = 0; i < 1000; ++i)
        QVERIFY(pair.a->sendMessage(MessageType::Focus, quint32(i), {}) != 0);
    QVERIFY(released.isEmpty()); // from the event loop, never inside the call
    QVERIFY(released.wait(5000));
    QTest::qWait(20);
    QCOMPARE(released.size(), 1);
    const auto ranges = released.at(0).at(0).value<QList<SendIdRange>>();
    QCOMPARE(ranges, (QList<SendIdRange>{{1, 1000, true}}));
}

void tst_SendIds::sendsFromATurnEndSlotLeave()
{
    // A slot that sends from a signal of the end-of-turn flush, while a
    // notification is due in the same turn end: what it queues must leave,
    // and later turns must still flush and be reported.
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    BlightSocket &socket = *pair.a;
    ReleaseLog log;
    log.attach(&socket);
    socket.setSendQueueLimit(4096);
    // One turn: the first message leaves inside the call (a notification is
    // due), the second waits for the turn's end, and a send the queue has no
    // room for is refused, so canSend() turns false with a small queue.
    QCOMPARE(socket.sendMessage(MessageType::Focus, 1, {}), quint64(1));
    QCOMPARE(socket.sendMessage(MessageType::Focus, 2, {}), quint64(2));
    QCOMPARE(socket.queuedBytes(), qint64(HeaderSize));
    QCOMPARE(socket.sendMessage(MessageType::Focus, 3, QByteArray(8192, 'x')), quint64(0));
    QCOMPARE(socket.lastSendError(), BlightSocket::Error::QueueFull);
    QVERIFY(!socket.canSend());
    // Time, not I/O: the turn ends after an idle pause (200 µs), so what the
    // slot sends is not a stream held for the write notifier but a lone
    // message and one queued behind it until the next turn's end.
    QTest::qSleep(1);
    // The turn's end flushes the queue and says canSendChanged(true) before
    // it reports the releases; the slot sends two: the first leaves at once,
    // the second is queued behind it.
    int resumed = 0;
    QObject::connect(&socket, &BlightSocket::canSendChanged, &socket, [&](bool can) {
        if (!can || resumed++ > 0)
            return;
        QCOMPARE(socket.sendMessage(MessageType::Focus, 4, {}), quint64(3));
        QCOMPARE(socket.sendMessage(MessageType::Focus, 5, {}), quint64(4));
    });
    QTRY_COMPARE(pair.b->messagesReceived(), quint64(4));
    QCOMPARE(resumed, 1);
    QTRY_VERIFY(log.complete(4));
    QCOMPARE(socket.queuedBytes(), qint64(0));
    for (int turn = 0; turn < 3; ++turn) {
        const quint64 before = socket.messagesSent();
        QVERIFY(socket.sendMessage(MessageType::Focus, 6, {}) != 0);
        QVERIFY(socket.sendMessage(MessageType::Focus, 7, {}) != 0);
        QTRY_COMPARE(socket.messagesSent(), before + 2);
    }
    QTRY_COMPARE(pair.b->messagesReceived(), quint64(10));
    QTRY_VERIFY(log.complete(10));
    QVERIFY(log.twice.isEmpty());
}

void tst_SendIds::lateReceiverHearsEverything()
{
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    for (int i = 0; i < 3; ++i)
        QVERIFY(pair.a->sendMessage(MessageType::Focus, 0, {}) != 0);
    QTRY_COMPARE(pair.b->messagesReceived(), quint64(3)); // turns went by, nobody listened
    ReleaseLog log;
    log.attach(pair.a.get());
    QTRY_VERIFY(log.complete(3));
    QCOMPARE(log.notifications, 1);
}

void tst_SendIds::zeroCopyReleasedAfterTheCompletion()
{
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    BlightSocket &socket = *pair.a;
    if (!socket.isZeroCopySupported())
        QSKIP(qPrintable(QStringLiteral("zero-copy is not supported here: ") + socket.zeroCopyReason()));
    socket.setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    socket.setZeroCopyThreshold(4096);
    BlightBufferPool pool(2, 1024 * 1024);
    quint64 completionsSeen = 0;
    QObject::connect(&socket, &BlightSocket::completionReceived, &socket, [&] { ++completionsSeen; });
    ReleaseLog log;
    QList<QString> problems;
    QObject::connect(&socket, &BlightSocket::sendsReleased, &socket, [&](const QList<SendIdRange> &ranges) {
        // The kernel let go first: its completion came, nothing is pending.
        if (completionsSeen == 0 || socket.pendingBuffers() != 0)
            problems.append(QStringLiteral("released with %1 sends pending, %2 completions")
                                .arg(socket.pendingBuffers())
                                .arg(completionsSeen));
        log.record(ranges);
    });
    for (int frame = 1; frame <= 4; ++frame) {
        completionsSeen = 0;
        BlightBuffer buffer = pool.acquire();
        QVERIFY(!buffer.isNull());
        std::memset(buffer.data(), frame, size_t(buffer.size()));
        const quint64 id = socket.sendBuffer(MessageType::Raise, 0, buffer);
        QCOMPARE(id, quint64(frame));
        buffer = BlightBuffer();
        // The kernel holds the pages: the socket holds the buffer.
        QVERIFY(socket.pendingBuffers() > 0);
        QCOMPARE(pool.available(), 1);
        QVERIFY(log.ids.count(id) == 0);
        QTRY_VERIFY(log.ids.count(id) == 1);
        QCOMPARE(pool.available(), 2);
    }
    QVERIFY2(problems.isEmpty(), qPrintable(problems.join(u"; ")));
    QVERIFY(socket.statistics().zeroCopySends >= 4);
    QVERIFY(log.twice.isEmpty());
    QTRY_COMPARE(pair.b->messagesReceived(), quint64(4));
}

void tst_SendIds::droppedByAbortAreNotDelivered()
{
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    BlightSocket &socket = *pair.a;
    pair.b->setReadingPaused(true);
    ReleaseLog log;
    log.attach(&socket);
    bool disconnectedBeforeReleases = false;
    QObject::connect(&socket, &BlightSocket::disconnected, &socket,
                     [&] { disconnectedBeforeReleases = !log.complete(socket.lastSendId()); });
    const QByteArray payload = TestUtil::pattern(64 * 1024, 5);
    for (int i = 0; i < 64; ++i)
        QVERIFY(socket.sendMessage(MessageType::Focus, 0, payload) != 0);
    QVERIFY(socket.queuedBytes() > 0);
    const quint64 handed = socket.messagesSent();
    socket.abort();
    QTRY_VERIFY(log.complete(64));
    QVERIFY2(!disconnectedBeforeReleases, "disconnected() came before the dropped sends were reported");
    QVERIFY(log.twice.isEmpty());
    // The first ones reached the kernel; the partly sent one and the rest did not.
    QCOMPARE(countDelivered(log, true), handed);
    QCOMPARE(countDelivered(log, false), 64 - handed);
    for (quint64 id = 1; id <= 64; ++id)
        QCOMPARE(log.ids.at(id), id <= handed);
}

void tst_SendIds::poolBufferReturnsOnTheCopyPath()
{
    // AF_UNIX: no zero-copy; a pool buffer waits in the queue by reference
    // and comes back once the kernel took its bytes.
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    BlightSocket &socket = *pair.a;
    pair.b->setReadingPaused(true);
    QList<QByteArray> received;
    QObject::connect(pair.b.get(), &BlightSocket::messageReceived, pair.b.get(),
                     [&](const Message &message) { received.append(message.payload); });
    constexpr qsizetype Size = 4 * 1024 * 1024; // more than the socket buffer holds
    BlightBufferPool pool(2, Size);
    QSignalSpy available(&pool, &BlightBufferPool::bufferAvailable);
    for (int frame = 0; frame < 2; ++frame) {
        BlightBuffer buffer = pool.acquire();
        std::memset(buffer.data(), 'A' + frame, size_t(Size));
        QVERIFY(socket.sendBuffer(MessageType::Raise, 0, buffer) != 0);
    }
    QCOMPARE(pool.available(), 0); // both held by the socket: not yet taken by the kernel
    QVERIFY(pool.acquire().isNull());
    QCOMPARE(socket.statistics().userSpaceCopies, quint64(0));
    pair.b->setReadingPaused(false);
    QVERIFY(available.wait(5000));
    QTRY_COMPARE(pool.available(), 2);
    QTRY_COMPARE(received.size(), 2);
    QCOMPARE(received.at(0), QByteArray(Size, 'A'));
    QCOMPARE(received.at(1), QByteArray(Size, 'B'));
    QCOMPARE(socket.statistics().userSpaceCopies, quint64(0));
}

void tst_SendIds::poolBufferOnEveryKind_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("zeroCopy"); // BlightSocket::ZeroCopyMode
    QTest::newRow("unix") << QStringLiteral("unix") << int(BlightSocket::ZeroCopyMode::Auto);
    QTest::newRow("seqpacket") << QStringLiteral("seqpacket") << int(BlightSocket::ZeroCopyMode::Auto);
    QTest::newRow("tcp4, copy") << QStringLiteral("tcp4") << int(BlightSocket::ZeroCopyMode::Off);
    QTest::newRow("tcp4, zero-copy") << QStringLiteral("tcp4") << int(BlightSocket::ZeroCopyMode::On);
    QTest::newRow("udp4, copy") << QStringLiteral("udp4") << int(BlightSocket::ZeroCopyMode::Off);
    QTest::newRow("udp4, zero-copy") << QStringLiteral("udp4") << int(BlightSocket::ZeroCopyMode::On);
}

void tst_SendIds::poolBufferOnEveryKind()
{
    // Header in the buffer's room, header and payload one region: the peer
    // gets exactly the message, on streams, records and datagrams.
    QFETCH(QString, kind);
    QFETCH(int, zeroCopy);
    TestUtil::Pair pair;
    if (kind == u"seqpacket") {
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
        pair.a = std::make_unique<BlightSocket>();
        pair.b = std::make_unique<BlightSocket>();
        QVERIFY(pair.a->setSocketDescriptor(fds[0]) && pair.b->setSocketDescriptor(fds[1]));
        pair.ok = true;
    } else {
        pair = TestUtil::makePair(kind);
    }
    QVERIFY(pair.ok);
    BlightSocket &socket = *pair.a;
    socket.setZeroCopyMode(BlightSocket::ZeroCopyMode(zeroCopy));
    socket.setZeroCopyThreshold(1024);
    const quint64 base = socket.lastSendId();
    ReleaseLog log;
    log.attach(&socket);
    QList<Message> received;
    QObject::connect(pair.b.get(), &BlightSocket::messageReceived, pair.b.get(),
                     [&](const Message &message) { received.append(message); });
    constexpr int Frames = 8;
    constexpr qsizetype Size = 16 * 1024; // fits a UDP datagram
    BlightBufferPool pool(2, Size);
    int sent = 0;
    const auto produce = [&] {
        for (BlightBuffer buffer = pool.acquire(); !buffer.isNull() && sent < Frames; buffer = pool.acquire()) {
            const QByteArray bytes = TestUtil::pattern(Size, sent);
            std::memcpy(buffer.data(), bytes.constData(), size_t(Size));
            QCOMPARE(socket.sendBuffer(MessageType::Raise, quint32(sent), buffer), base + quint64(sent) + 1);
            ++sent;
        }
    };
    QObject::connect(&pool, &BlightBufferPool::bufferAvailable, &socket, produce);
    produce();
    QTRY_COMPARE(received.size(), Frames);
    for (int i = 0; i < Frames; ++i) {
        QCOMPARE(received.at(i).type(), MessageType::Raise);
        QCOMPARE(received.at(i).ackid(), quint32(i));
        QVERIFY2(received.at(i).payload == TestUtil::pattern(Size, i), "the peer got other bytes");
    }
    QTRY_VERIFY(log.complete(base + Frames));
    QVERIFY(log.twice.isEmpty());
    QTRY_COMPARE(pool.available(), 2);
    QCOMPARE(socket.statistics().userSpaceCopies, quint64(0));
}

void tst_SendIds::poolBufferOutlivesItsSocket()
{
    // Destroyed with a zero-copy buffer in flight: the background closer
    // keeps the buffer until the kernel lets go, then the pool has it back.
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    if (!pair.a->isZeroCopySupported())
        QSKIP(qPrintable(QStringLiteral("zero-copy is not supported here: ") + pair.a->zeroCopyReason()));
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    pair.a->setZeroCopyThreshold(4096);
    BlightBufferPool pool(1, 1024 * 1024);
    QVERIFY(pair.a->sendBuffer(MessageType::Raise, 0, pool.acquire()) != 0);
    QVERIFY(pair.a->pendingBuffers() > 0);
    pair.a.reset();
    QCOMPARE(pool.available(), 0); // the heir holds it
    QTRY_COMPARE(pool.available(), 1);
    QTRY_COMPARE(pair.b->messagesReceived(), quint64(1));
}

void tst_SendIds::callerMemoryReleasedOnce_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<bool>("zeroCopy");
    QTest::newRow("unix, copy path") << QStringLiteral("unix") << false;
    QTest::newRow("tcp4, zero-copy") << QStringLiteral("tcp4") << true;
}

void tst_SendIds::callerMemoryReleasedOnce()
{
    QFETCH(QString, kind);
    QFETCH(bool, zeroCopy);
    TestUtil::Pair pair = TestUtil::makePair(kind);
    QVERIFY(pair.ok);
    BlightSocket &socket = *pair.a;
    if (zeroCopy) {
        if (!socket.isZeroCopySupported())
            QSKIP(qPrintable(QStringLiteral("zero-copy is not supported here: ") + socket.zeroCopyReason()));
        socket.setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
        socket.setZeroCopyThreshold(4096);
    } else {
        pair.b->setReadingPaused(true); // so that the socket must keep the bytes a while
    }
    const QByteArray memory = TestUtil::pattern(8 * 1024 * 1024, 9);
    int calls = 0;
    QThread *calledIn = nullptr;
    ReleaseLog log;
    log.attach(&socket);
    quint64 id = 0;
    {
        const BlightBuffer foreign = BlightBuffer::fromForeign(memory.constData(), memory.size(), [&] {
            ++calls;
            calledIn = QThread::currentThread();
        });
        id = socket.sendBuffer(MessageType::Raise, 0, foreign);
        QVERIFY(id != 0);
    }
    QCOMPARE(calls, 0); // the socket still needs the bytes
    if (!zeroCopy)
        pair.b->setReadingPaused(false);
    QTRY_COMPARE(calls, 1);
    QCOMPARE(calledIn, socket.thread());
    QTRY_VERIFY(log.ids.count(id) == 1);
    QTRY_COMPARE(pair.b->messagesReceived(), quint64(1));
    QCOMPARE(calls, 1);
    QCOMPARE(socket.statistics().userSpaceCopies, quint64(0));
}

void tst_SendIds::producerInAnotherThread()
{
    // The producer's thread owns the pool, acquires and fills; the socket's
    // thread sends (a queued signal) and drops the buffers as sends are
    // released; bufferAvailable() wakes the producer in its own thread.
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    constexpr int Frames = 60;
    constexpr qsizetype Size = 256 * 1024;
    QThread producerThread;
    auto *producer = new FrameProducer;
    producer->moveToThread(&producerThread);
    std::atomic<BlightBufferPool *> pool{nullptr};
    int produced = 0; // the producer thread's
    QObject::connect(&producerThread, &QThread::started, producer, [&] {
        pool = new BlightBufferPool(3, Size, producer);
        const auto produce = [&] {
            // Done producing, it acquires nothing more: a buffer taken and
            // dropped here would make available() dip below 3 while the main
            // thread waits for it to be 3.
            while (produced < Frames) {
                BlightBuffer buffer = pool.load()->acquire();
                if (buffer.isNull())
                    return;
                std::memset(buffer.data(), produced % 251, size_t(Size));
                ++produced;
                Q_EMIT producer->frame(buffer);
            }
        };
        QObject::connect(pool.load(), &BlightBufferPool::bufferAvailable, producer, produce);
        produce();
    });
    QObject::connect(&producerThread, &QThread::finished, producer, &QObject::deleteLater);
    QObject::connect(producer, &FrameProducer::frame, pair.a.get(),
                     [&](const BlightBuffer &buffer) { QVERIFY(pair.a->sendBuffer(MessageType::Raise, 0, buffer)); });
    int verified = 0;
    QObject::connect(pair.b.get(), &BlightSocket::messageReceived, pair.b.get(), [&](const Message &message) {
        if (message.payload == QByteArray(Size, char(verified % 251)))
            ++verified;
    });
    producerThread.start();
    QTRY_COMPARE_WITH_TIMEOUT(verified, Frames, 10000);
    // Every buffer back before the producer's thread ends (its pool tells
    // that thread's loop about returns).
    QTRY_COMPARE(pool.load()->available(), 3);
    producerThread.quit();
    QVERIFY(producerThread.wait(5000));
    QCOMPARE(pair.a->statistics().userSpaceCopies, quint64(0));
}

QTEST_MAIN(tst_SendIds)
#include "tst_sendids.moc"
