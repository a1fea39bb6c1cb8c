// SPDX-License-Identifier: MIT
// Tests of SendQueue's lane: the room openLane() gives, the messages it
// takes, and every other change of the queue closing it.
#include "tst_sendqueue.h"

#include <functional>

namespace {

constexpr qsizetype LaneHeaderSize = SendQueue::BlightHeaderSize;

// A 12-byte header, distinct per \a id.
QByteArray laneHeaderFor(int id)
{
    return QByteArrayLiteral("L") + QByteArray::number(id).rightJustified(LaneHeaderSize - 1, '0', true);
}

// A queue whose back is a staging array holding message 1 (id 1).
void startStaging(SendQueue &queue, qsizetype payloadSize, QByteArray *expected)
{
    const QByteArray header = laneHeaderFor(1);
    const QByteArray payload = payloadFor(1, payloadSize);
    queue.appendMessageCopy(header.constData(), header.size(), payload, 1);
    *expected = header + payload;
}

bool throughLane(SendQueue &queue, int id, qsizetype payloadSize, QByteArray *expected)
{
    const QByteArray header = laneHeaderFor(id);
    const QByteArray payload = payloadFor(id, payloadSize);
    if (!queue.appendThroughLane(header.constData(), payload, quint64(id)))
        return false;
    *expected += header + payload;
    return true;
}

} // namespace

void tst_SendQueue::laneClosedUntilOpened()
{
    SendQueue queue;
    QByteArray expected;
    QVERIFY(!throughLane(queue, 1, 36, &expected)); // nothing queued, no lane
    startStaging(queue, 36, &expected);
    QVERIFY(!throughLane(queue, 2, 36, &expected)); // queued, but never opened
    QCOMPARE(queue.messageCount(), quint64(1));
    QCOMPARE(queue.bytes(), qint64(expected.size()));
}

void tst_SendQueue::laneTakesMessagesInOrder()
{
    SendQueue queue;
    QByteArray expected;
    startStaging(queue, 36, &expected);
    queue.openLane(1024 * 1024);
    for (int id = 2; id <= 50; ++id)
        QVERIFY(throughLane(queue, id, 36 + id % 7, &expected));
    QCOMPARE(queue.pieceCount(), 1);
    QCOMPARE(queue.front().messagesEnding, 50);
    QCOMPARE(queue.messageCount(), quint64(50));
    QCOMPARE(queue.lastQueuedId(), quint64(50));
    QCOMPARE(queue.bytes(), qint64(expected.size()));
    QCOMPARE(queue.idAt(0), quint64(1));
    QCOMPARE(queue.idAt(qsizetype(expected.size()) - 1), quint64(50));
    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, expected);
    QCOMPARE(drained.messages, quint64(50));
    QCOMPARE(queue.lastEndedId(), quint64(50));
}

void tst_SendQueue::laneRoom_data()
{
    QTest::addColumn<qsizetype>("room");
    QTest::addColumn<int>("accepted");
    const qsizetype message = LaneHeaderSize + 36;
    // The socket's limit (flush threshold, queue limit) or the staging array's room.
    QTest::newRow("nothing") << qsizetype(0) << 0;
    QTest::newRow("less than one") << message - 1 << 0;
    QTest::newRow("exactly one") << message << 1;
    QTest::newRow("three and a bit") << 3 * message + 5 << 3;
    QTest::newRow("beyond the staging array")
        << qsizetype(10 * SendQueue::StagingCapacity) << int((SendQueue::StagingCapacity - message) / message);
}

void tst_SendQueue::laneRoom()
{
    QFETCH(qsizetype, room);
    QFETCH(int, accepted);
    SendQueue queue;
    QByteArray expected;
    startStaging(queue, 36, &expected);
    queue.openLane(room);
    int taken = 0;
    while (throughLane(queue, taken + 2, 36, &expected))
        ++taken;
    QCOMPARE(taken, accepted);
    QCOMPARE(queue.pieceCount(), 1);
    QCOMPARE(drain(queue).bytes, expected);
}

void tst_SendQueue::laneRefusesLargePayload()
{
    // Over LaneLimit a payload takes the full path, however wide the lane:
    // the lane copies without a call.
    SendQueue queue;
    QByteArray expected;
    startStaging(queue, 36, &expected);
    queue.openLane(1024 * 1024);
    QVERIFY(!throughLane(queue, 2, SendQueue::LaneLimit + 1, &expected));
    QVERIFY(!throughLane(queue, 2, SendQueue::StageLimit, &expected));
    QVERIFY(throughLane(queue, 2, SendQueue::LaneLimit, &expected));
    QCOMPARE(drain(queue).bytes, expected);
}

void tst_SendQueue::laneCopiesEverySize_data()
{
    // Each class of the lane's copy (none, bytes, 4, 8, 16, 32 bytes twice)
    // at its edges: a byte too many or too few shows in the stream.
    QTest::addColumn<qsizetype>("payloadSize");
    for (const qsizetype size : {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 36, 47, 63, 64})
        QTest::addRow("%lld bytes", qlonglong(size)) << size;
}

void tst_SendQueue::laneCopiesEverySize()
{
    QFETCH(qsizetype, payloadSize);
    SendQueue queue;
    QByteArray expected;
    startStaging(queue, 36, &expected);
    queue.openLane(1024 * 1024);
    // Three in a row: each copy starts where the one before ended.
    for (int id = 2; id <= 4; ++id)
        QVERIFY(throughLane(queue, id, payloadSize, &expected));
    QCOMPARE(queue.bytes(), qint64(expected.size()));
    QCOMPARE(queue.lastQueuedId(), quint64(4));
    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, expected);
    QCOMPARE(drained.messages, quint64(4));
}

void tst_SendQueue::laneNeedsStagingAtBack()
{
    SendQueue queue;
    QByteArray expected;
    startStaging(queue, 36, &expected);
    queue.appendShared(payloadFor(2, 8192), 0, false, 2); // a shared piece is the back now
    queue.openLane(1024 * 1024);
    QVERIFY(!throughLane(queue, 3, 36, &expected));

    SendQueue datagrams;
    datagrams.setDatagram(true);
    startStaging(datagrams, 36, &expected);
    datagrams.openLane(1024 * 1024);
    QVERIFY(!throughLane(datagrams, 2, 36, &expected)); // a datagram is never merged
}

void tst_SendQueue::laneClosedByChange_data()
{
    QTest::addColumn<std::function<void(SendQueue &)>>("change");
    const QByteArray header = laneHeaderFor(9);
    QTest::newRow("appendMessageCopy") << std::function<void(SendQueue &)>([header](SendQueue &queue) {
        queue.appendMessageCopy(header.constData(), header.size(), payloadFor(9, 36), 9);
    });
    QTest::newRow("appendCopy") << std::function<void(SendQueue &)>(
        [](SendQueue &queue) { queue.appendCopy("abcd", 4, SendQueue::NoId); });
    QTest::newRow("appendShared") << std::function<void(SendQueue &)>(
        [](SendQueue &queue) { queue.appendShared(payloadFor(9, 8192), 0, false, 9); });
    QTest::newRow("appendMarker") << std::function<void(SendQueue &)>([](SendQueue &queue) { queue.appendMarker(9); });
    QTest::newRow("putPriority") << std::function<void(SendQueue &)>([](SendQueue &queue) {
        const QByteArray ack = ackFor(9);
        queue.putPriority(ack.constData(), ack.size());
    });
    QTest::newRow("advance") << std::function<void(SendQueue &)>([](SendQueue &queue) { queue.advance(1); });
    QTest::newRow("continueMessage") << std::function<void(SendQueue &)>(
        [](SendQueue &queue) { queue.continueMessage(); });
    QTest::newRow("closeLane") << std::function<void(SendQueue &)>([](SendQueue &queue) { queue.closeLane(); });
    QTest::newRow("clear") << std::function<void(SendQueue &)>([](SendQueue &queue) { queue.clear(); });
}

void tst_SendQueue::laneClosedByChange()
{
    QFETCH(std::function<void(SendQueue &)>, change);
    SendQueue queue;
    QByteArray expected;
    startStaging(queue, 36, &expected);
    queue.openLane(1024 * 1024);
    change(queue);
    const qint64 bytes = queue.bytes();
    const quint64 messages = queue.messageCount();
    QVERIFY(!throughLane(queue, 10, 36, &expected));
    QCOMPARE(queue.bytes(), bytes);
    QCOMPARE(queue.messageCount(), messages);
}
