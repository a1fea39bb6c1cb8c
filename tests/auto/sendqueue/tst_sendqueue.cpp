// SPDX-License-Identifier: MIT
// Tests of SendQueue: staging, sharing, filling an iovec, advancing, ping answers, and a randomized comparison.
#include "sendqueue_p.h"

#include <QtCore/QList>
#include <QtCore/QRandomGenerator>
#include <QtTest/QTest>

#include <sys/uio.h>

using namespace Blight;

namespace {

constexpr int MaxIov = 64;
constexpr qsizetype NoBudget = std::numeric_limits<qsizetype>::max();
constexpr qsizetype TestHeaderSize = 8; // the queue does not care; the socket's header is another size

// An 8-byte header, distinct per \a id, so that misplaced bytes show.
QByteArray headerFor(int id)
{
    QByteArray header = QByteArray::number(id).rightJustified(7, '0', true);
    return QByteArrayLiteral("H") + header;
}

// A payload of \a size bytes, distinct per \a id.
QByteArray payloadFor(int id, qsizetype size)
{
    // Byte i is 'a' + (id * 7 + i) % 26: cut from one long cycle, a copy each time.
    static const QByteArray cycle = [] {
        QByteArray bytes(128 * 1024, Qt::Uninitialized);
        for (qsizetype i = 0; i < bytes.size(); ++i)
            bytes[i] = char('a' + i % 26);
        return bytes;
    }();
    Q_ASSERT(size <= cycle.size() - 26);
    return cycle.mid((id * 7) % 26, size);
}

// A 12-byte ping answer carrying \a ackid.
QByteArray ackFor(int ackid)
{
    return QByteArrayLiteral("ACK:") + QByteArray::number(ackid).rightJustified(8, '0', true);
}

QByteArray bytesOf(const iovec *iov, int count)
{
    QByteArray bytes;
    for (int i = 0; i < count; ++i)
        bytes.append(static_cast<const char *>(iov[i].iov_base), qsizetype(iov[i].iov_len));
    return bytes;
}

void appendMessage(SendQueue &queue, int id, qsizetype payloadSize)
{
    const QByteArray header = headerFor(id);
    const QByteArray payload = payloadFor(id, payloadSize);
    queue.appendMessageCopy(header.constData(), header.size(), payload);
}

// What the kernel would get if it took everything, batch after batch.
struct Drained
{
    QByteArray bytes;
    quint64 messages = 0;
    int batches = 0;
};

Drained drain(SendQueue &queue, bool zeroCopy = false)
{
    Drained drained;
    while (!queue.isEmpty() && drained.batches < 100000) {
        iovec iov[MaxIov];
        const SendQueue::Batch batch = queue.fill(iov, MaxIov, zeroCopy, NoBudget, nullptr);
        drained.bytes += bytesOf(iov, batch.count);
        drained.messages += queue.advance(batch.bytes);
        ++drained.batches;
    }
    return drained;
}

} // namespace

class tst_SendQueue : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void emptyQueue();
    void messagesMergeIntoStaging();
    void stagingCapacity_data();
    void stagingCapacity();
    void largeMessageCopyHasOwnPiece();
    void appendCopyInParts();
    void datagramNeverMerges();
    void appendSharedKeepsSharing();
    void appendSharedFromOffset();
    void fillBudget_data();
    void fillBudget();
    void fillMaxIov();
    void fillKindsNeverMix();
    void fillHeldBuffers();
    void fillDatagramOneAtATime();
    void advancePartialPieces();
    void advanceCompletedMessages_data();
    void advanceCompletedMessages();
    void stagingReusedAfterSend();
    void priorityAtFront_data();
    void priorityAtFront();
    void priorityAfterPartlySentFront();
    void priorityAfterHeaderAndPayload_data();
    void priorityAfterHeaderAndPayload();
    void priorityRewritten();
    void priorityRewrittenBehindStartedFront();
    void priorityAfterStartedOne();
    void priorityInDatagramMode();
    void dropFrontDatagram_data();
    void dropFrontDatagram();
    void makeFrontDatagramCopied();
    void clearReturnsDropped();
    void clearAfterPartlySentStaging();
    void clearForgetsMidMessage();
    void randomStream_data();
    void randomStream();
    void randomDatagrams_data();
    void randomDatagrams();
};

void tst_SendQueue::emptyQueue()
{
    SendQueue queue;
    QVERIFY(queue.isEmpty());
    QCOMPARE(queue.bytes(), qint64(0));
    QCOMPARE(queue.messageCount(), quint64(0));
    QCOMPARE(queue.pieceCount(), 0);
    iovec iov[MaxIov];
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, true, NoBudget, nullptr);
    QCOMPARE(batch.count, 0);
    QCOMPARE(batch.bytes, qsizetype(0));
    QVERIFY(!batch.zeroCopy);
    QVERIFY(!batch.cutByBudget);
    QCOMPARE(queue.advance(0), quint64(0));
    const SendQueue::Dropped dropped = queue.clear();
    QCOMPARE(dropped.messages, quint64(0));
    QCOMPARE(dropped.bytes, qint64(0));
}

void tst_SendQueue::messagesMergeIntoStaging()
{
    SendQueue queue;
    QByteArray expected;
    for (int id = 0; id < 5; ++id) {
        appendMessage(queue, id, 100 + id);
        expected += headerFor(id) + payloadFor(id, 100 + id);
    }
    QCOMPARE(queue.pieceCount(), 1);
    QVERIFY(queue.front().staging);
    QVERIFY(!queue.front().eligible);
    QCOMPARE(queue.front().messagesEnding, 5);
    QCOMPARE(queue.messageCount(), quint64(5));
    QCOMPARE(queue.bytes(), qint64(expected.size()));

    iovec iov[MaxIov];
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, true, NoBudget, nullptr);
    QCOMPARE(batch.count, 1);
    QVERIFY(!batch.zeroCopy);
    QCOMPARE(bytesOf(iov, batch.count), expected);
}

void tst_SendQueue::stagingCapacity_data()
{
    QTest::addColumn<qsizetype>("payloadSize");
    QTest::addColumn<int>("messages");

    QTest::addRow("empty-payloads") << qsizetype(0) << 10000;
    QTest::addRow("small") << qsizetype(100) << 1000;
    QTest::addRow("exact-fit") << SendQueue::StagingCapacity / 16 - TestHeaderSize << 40; // 16 per piece, exactly
    QTest::addRow("stage-limit") << SendQueue::StageLimit << 40;
    QTest::addRow("odd") << qsizetype(1237) << 200;
}

void tst_SendQueue::stagingCapacity()
{
    QFETCH(qsizetype, payloadSize);
    QFETCH(int, messages);

    // The expected layout: a message goes into the back staging piece while
    // it fits within StagingCapacity, else starts a new one.
    const qsizetype size = TestHeaderSize + payloadSize;
    int pieces = 0;
    qsizetype inBack = SendQueue::StagingCapacity;
    QList<int> messagesPerPiece;
    SendQueue queue;
    QByteArray expected;
    for (int id = 0; id < messages; ++id) {
        if (inBack + size > SendQueue::StagingCapacity) {
            ++pieces;
            inBack = 0;
            messagesPerPiece.append(0);
        }
        inBack += size;
        ++messagesPerPiece.last();
        appendMessage(queue, id, payloadSize);
        expected += headerFor(id) + payloadFor(id, payloadSize);
    }
    QCOMPARE(queue.pieceCount(), pieces);
    QCOMPARE(queue.bytes(), qint64(expected.size()));
    QCOMPARE(queue.messageCount(), quint64(messages));
    QCOMPARE(queue.front().messagesEnding, messagesPerPiece.first());
    QVERIFY(queue.front().bytes.size() <= SendQueue::StagingCapacity);

    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, expected);
    QCOMPARE(drained.messages, quint64(messages));
    QCOMPARE(queue.bytes(), qint64(0));
    QCOMPARE(queue.messageCount(), quint64(0));
}

void tst_SendQueue::largeMessageCopyHasOwnPiece()
{
    SendQueue queue;
    appendMessage(queue, 1, 10);
    const QByteArray header = headerFor(2);
    const QByteArray payload = payloadFor(2, SendQueue::StageLimit + 1);
    queue.appendMessageCopy(header.constData(), header.size(), payload);
    appendMessage(queue, 3, 10);
    // Staging, the large copy alone, a new staging piece after it.
    QCOMPARE(queue.pieceCount(), 3);
    QCOMPARE(queue.messageCount(), quint64(3));

    iovec iov[MaxIov];
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, false, NoBudget, nullptr);
    QCOMPARE(batch.count, 3);
    QCOMPARE(qsizetype(iov[1].iov_len), header.size() + payload.size());
    // A copy: the caller's array is not referenced.
    QVERIFY(static_cast<const char *>(iov[1].iov_base) + TestHeaderSize != payload.constData());
    QCOMPARE(bytesOf(iov, batch.count),
             headerFor(1) + payloadFor(1, 10) + header + payload + headerFor(3) + payloadFor(3, 10));
}

void tst_SendQueue::appendCopyInParts()
{
    SendQueue queue;
    const QByteArray header = headerFor(1);
    const QByteArray payload = payloadFor(1, 50);
    queue.appendCopy(header.constData(), header.size(), 0);
    QCOMPARE(queue.messageCount(), quint64(0));
    QVERIFY(!queue.front().boundaryAtEnd);
    queue.appendCopy(payload.constData(), payload.size(), 1);
    QCOMPARE(queue.messageCount(), quint64(1));
    QVERIFY(queue.front().boundaryAtEnd);
    queue.appendCopy("raw", 3, 1);
    QCOMPARE(queue.pieceCount(), 1);
    QCOMPARE(queue.messageCount(), quint64(2));
    QCOMPARE(queue.bytes(), qint64(header.size() + payload.size() + 3));

    // Only the header of the first message goes: nothing completes.
    QCOMPARE(queue.advance(TestHeaderSize), quint64(0));
    QCOMPARE(queue.messageCount(), quint64(2));
    // (Completions inside a staging piece: advanceCompletedMessages.)
    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, payload + QByteArray("raw"));
    QCOMPARE(drained.messages, quint64(2));
}

void tst_SendQueue::datagramNeverMerges()
{
    SendQueue queue;
    queue.setDatagram(true);
    QVERIFY(queue.isDatagram());
    appendMessage(queue, 1, 10);
    appendMessage(queue, 2, 20);
    queue.appendCopy("abc", 3, 1);
    queue.appendCopy("de", 2, 1);
    QCOMPARE(queue.pieceCount(), 4);
    QCOMPARE(queue.messageCount(), quint64(4));

    const QList<QByteArray> datagrams{headerFor(1) + payloadFor(1, 10), headerFor(2) + payloadFor(2, 20),
                                      QByteArray("abc"), QByteArray("de")};
    for (const QByteArray &datagram : datagrams) {
        iovec iov[MaxIov];
        const SendQueue::Batch batch = queue.fill(iov, MaxIov, false, NoBudget, nullptr);
        QCOMPARE(bytesOf(iov, batch.count), datagram);
        QCOMPARE(queue.advance(batch.bytes), quint64(1));
    }
    QVERIFY(queue.isEmpty());
}

void tst_SendQueue::appendSharedKeepsSharing()
{
    SendQueue queue;
    const QByteArray payload = payloadFor(1, 100000);
    queue.appendShared(payload, 0, true, 1);
    QCOMPARE(queue.front().bytes.constData(), payload.constData());
    QVERIFY(!payload.isDetached()); // shared with the queue, not copied
    QCOMPARE(queue.bytes(), qint64(payload.size()));
    QVERIFY(queue.front().eligible);

    iovec iov[MaxIov];
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, true, NoBudget, nullptr);
    QCOMPARE(batch.count, 1);
    QVERIFY(batch.zeroCopy);
    QCOMPARE(static_cast<const char *>(iov[0].iov_base), payload.constData());
    QCOMPARE(queue.advance(batch.bytes), quint64(1));
    QVERIFY(payload.isDetached()); // the queue let go
}

void tst_SendQueue::appendSharedFromOffset()
{
    SendQueue queue;
    const QByteArray payload = payloadFor(2, 1000);
    queue.appendShared(payload, 300, false, 1);
    QCOMPARE(queue.bytes(), qint64(700));
    QCOMPARE(queue.front().remaining(), qsizetype(700));
    iovec iov[MaxIov];
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, false, NoBudget, nullptr);
    QCOMPARE(static_cast<const char *>(iov[0].iov_base), payload.constData() + 300);
    QCOMPARE(bytesOf(iov, batch.count), payload.mid(300));
}

void tst_SendQueue::fillBudget_data()
{
    QTest::addColumn<QList<qsizetype>>("sizes");
    QTest::addColumn<qsizetype>("budget");
    QTest::addColumn<int>("count");
    QTest::addColumn<qsizetype>("bytes");
    QTest::addColumn<bool>("cut");

    const QList<qsizetype> three{1000, 2000, 3000};
    QTest::addRow("no-limit") << three << NoBudget << 3 << qsizetype(6000) << false;
    QTest::addRow("exactly-all") << three << qsizetype(6000) << 3 << qsizetype(6000) << false;
    QTest::addRow("inside-first") << three << qsizetype(1) << 1 << qsizetype(1) << true;
    QTest::addRow("inside-second") << three << qsizetype(1500) << 2 << qsizetype(1500) << true;
    QTest::addRow("at-boundary") << three << qsizetype(3000) << 2 << qsizetype(3000) << true;
    QTest::addRow("inside-last") << three << qsizetype(5999) << 3 << qsizetype(5999) << true;
    QTest::addRow("one-piece-at-budget") << QList<qsizetype>{4096} << qsizetype(4096) << 1 << qsizetype(4096) << false;
}

void tst_SendQueue::fillBudget()
{
    QFETCH(QList<qsizetype>, sizes);
    QFETCH(qsizetype, budget);
    QFETCH(int, count);
    QFETCH(qsizetype, bytes);
    QFETCH(bool, cut);

    SendQueue queue;
    QByteArray all;
    for (qsizetype i = 0; i < sizes.size(); ++i) {
        const QByteArray piece = payloadFor(int(i), sizes.at(i));
        queue.appendShared(piece, 0, true, 1);
        all += piece;
    }
    iovec iov[MaxIov];
    CompletionTracker::Buffers held;
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, true, budget, &held);
    QCOMPARE(batch.count, count);
    QCOMPARE(batch.bytes, bytes);
    QCOMPARE(batch.cutByBudget, cut);
    QVERIFY(batch.zeroCopy);
    QCOMPARE(held.size(), qsizetype(count));
    QCOMPARE(bytesOf(iov, batch.count), all.left(bytes));
}

void tst_SendQueue::fillMaxIov()
{
    SendQueue queue;
    for (int i = 0; i < 5; ++i)
        queue.appendShared(payloadFor(i, 10), 0, false, 1);
    iovec iov[3];
    const SendQueue::Batch batch = queue.fill(iov, 3, false, NoBudget, nullptr);
    QCOMPARE(batch.count, 3);
    QCOMPARE(batch.bytes, qsizetype(30));
    QVERIFY(!batch.cutByBudget);
    QCOMPARE(bytesOf(iov, 3), payloadFor(0, 10) + payloadFor(1, 10) + payloadFor(2, 10));
}

void tst_SendQueue::fillKindsNeverMix()
{
    // copied, eligible, eligible, copied
    SendQueue queue;
    const QList<QByteArray> pieces{payloadFor(0, 100), payloadFor(1, 20000), payloadFor(2, 30000), payloadFor(3, 50)};
    queue.appendShared(pieces[0], 0, false, 1);
    queue.appendShared(pieces[1], 0, true, 1);
    queue.appendShared(pieces[2], 0, true, 1);
    queue.appendShared(pieces[3], 0, false, 1);

    // Zero-copy off: eligible or not, everything is a copy, one batch.
    {
        iovec iov[MaxIov];
        CompletionTracker::Buffers held;
        const SendQueue::Batch batch = queue.fill(iov, MaxIov, false, NoBudget, &held);
        QCOMPARE(batch.count, 4);
        QVERIFY(!batch.zeroCopy);
        QVERIFY(held.isEmpty());
    }
    // Zero-copy on: the copied piece alone, then the two eligible ones, then the last.
    const QList<int> counts{1, 2, 1};
    const QList<bool> zeroCopy{false, true, false};
    int next = 0;
    for (qsizetype b = 0; b < counts.size(); ++b) {
        iovec iov[MaxIov];
        CompletionTracker::Buffers held;
        const SendQueue::Batch batch = queue.fill(iov, MaxIov, true, NoBudget, &held);
        QCOMPARE(batch.count, counts.at(b));
        QCOMPARE(batch.zeroCopy, zeroCopy.at(b));
        QCOMPARE(held.size(), qsizetype(zeroCopy.at(b) ? counts.at(b) : 0));
        QVERIFY(!batch.cutByBudget);
        QByteArray expected;
        for (int i = 0; i < batch.count; ++i)
            expected += pieces.at(next + i);
        QCOMPARE(bytesOf(iov, batch.count), expected);
        QCOMPARE(queue.advance(batch.bytes), quint64(batch.count));
        next += batch.count;
    }
    QVERIFY(queue.isEmpty());
}

void tst_SendQueue::fillHeldBuffers()
{
    SendQueue queue;
    const QByteArray header = headerFor(1);
    const QByteArray payload = payloadFor(1, 40000);
    queue.appendShared(header, 0, true, 0);
    queue.appendShared(payload, 0, true, 1);

    iovec iov[MaxIov];
    CompletionTracker::Buffers held;
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, true, NoBudget, &held);
    QVERIFY(batch.zeroCopy);
    QCOMPARE(held.size(), qsizetype(2));
    // The very arrays the iovec points into, kept alive after the queue lets go.
    QCOMPARE(held[0].constData(), header.constData());
    QCOMPARE(held[1].constData(), payload.constData());
    QCOMPARE(queue.advance(batch.bytes), quint64(1));
    QVERIFY(queue.isEmpty());
    QVERIFY(!payload.isDetached());
    QCOMPARE(held[1], payloadFor(1, 40000));
}

void tst_SendQueue::fillDatagramOneAtATime()
{
    SendQueue queue;
    queue.setDatagram(true);
    // A zero-copy datagram in two pieces (header, payload), then two copied ones.
    const QByteArray header = headerFor(1);
    const QByteArray payload = payloadFor(1, 30000);
    queue.appendShared(header, 0, true, 0);
    queue.appendShared(payload, 0, true, 1);
    appendMessage(queue, 2, 10);
    appendMessage(queue, 3, 10);
    QCOMPARE(queue.messageCount(), quint64(3));

    iovec iov[MaxIov];
    CompletionTracker::Buffers held;
    SendQueue::Batch batch = queue.fill(iov, MaxIov, true, NoBudget, &held);
    QCOMPARE(batch.count, 2);
    QVERIFY(batch.zeroCopy);
    QCOMPARE(held.size(), qsizetype(2));
    QCOMPARE(bytesOf(iov, batch.count), header + payload);
    QCOMPARE(queue.advance(batch.bytes), quint64(1));

    held.clear();
    batch = queue.fill(iov, MaxIov, true, NoBudget, &held);
    QCOMPARE(batch.count, 1);
    QVERIFY(!batch.zeroCopy);
    QVERIFY(held.isEmpty());
    QCOMPARE(bytesOf(iov, batch.count), headerFor(2) + payloadFor(2, 10));
    QCOMPARE(queue.advance(batch.bytes), quint64(1));
    QCOMPARE(queue.messageCount(), quint64(1));
}

void tst_SendQueue::advancePartialPieces()
{
    // msg1 shared, msg2 as staged header and shared payload, msg3 staged;
    // each advance ends inside a piece or at a piece's end.
    SendQueue queue;
    queue.appendShared(headerFor(1) + payloadFor(1, 2), 0, false, 1);
    const QByteArray header = headerFor(2);
    const QByteArray payload = payloadFor(2, 100);
    queue.appendCopy(header.constData(), header.size(), 0);
    queue.appendShared(payload, 0, false, 1);
    appendMessage(queue, 3, 2);
    QCOMPARE(queue.bytes(), qint64(10 + 8 + 100 + 10));
    QCOMPARE(queue.messageCount(), quint64(3));

    QCOMPARE(queue.advance(5), quint64(0));
    QCOMPARE(queue.bytes(), qint64(123));
    QCOMPARE(queue.advance(5), quint64(1)); // the end of msg1
    QCOMPARE(queue.messageCount(), quint64(2));
    QCOMPARE(queue.advance(8), quint64(0)); // msg2's header
    QCOMPARE(queue.advance(99), quint64(0));
    QCOMPARE(queue.messageCount(), quint64(2));
    QCOMPARE(queue.front().remaining(), qsizetype(1));
    QCOMPARE(queue.advance(11), quint64(2)); // msg2's last byte and all of msg3
    QVERIFY(queue.isEmpty());
    QCOMPARE(queue.bytes(), qint64(0));
    QCOMPARE(queue.messageCount(), quint64(0));
}

void tst_SendQueue::advanceCompletedMessages_data()
{
    QTest::addColumn<QList<qsizetype>>("steps");
    QTest::addColumn<QList<quint64>>("completed");

    // Ten messages of 10 bytes each (8 + 2), all in one staging piece: a
    // message is complete when its last byte is taken, wherever it sits.
    QTest::addRow("all-at-once") << QList<qsizetype>{100} << QList<quint64>{10};
    QTest::addRow("one-by-one") << QList<qsizetype>(10, 10) << QList<quint64>(10, 1);
    QTest::addRow("byte-by-byte-first") << QList<qsizetype>{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 90}
                                        << QList<quint64>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9};
    QTest::addRow("straddling") << QList<qsizetype>{15, 10, 10, 65} << QList<quint64>{1, 1, 1, 7};
    QTest::addRow("zero-steps") << QList<qsizetype>{0, 9, 0, 1, 0, 90} << QList<quint64>{0, 0, 0, 1, 0, 9};
}

void tst_SendQueue::advanceCompletedMessages()
{
    QFETCH(QList<qsizetype>, steps);
    QFETCH(QList<quint64>, completed);

    SendQueue queue;
    for (int id = 0; id < 10; ++id)
        appendMessage(queue, id, 2);
    quint64 left = 10;
    qint64 bytes = 100;
    for (qsizetype i = 0; i < steps.size(); ++i) {
        QCOMPARE(queue.advance(steps.at(i)), completed.at(i));
        left -= completed.at(i);
        bytes -= steps.at(i);
        QCOMPARE(queue.messageCount(), left);
        QCOMPARE(queue.bytes(), bytes);
    }
    QVERIFY(queue.isEmpty());
}

void tst_SendQueue::stagingReusedAfterSend()
{
    // A sent staging buffer is kept for the next messages: what comes out
    // must be the new messages, not the old ones.
    SendQueue queue;
    for (int round = 0; round < 4; ++round) {
        QByteArray expected;
        for (int id = 0; id < 20; ++id) {
            appendMessage(queue, round * 100 + id, 30 + round);
            expected += headerFor(round * 100 + id) + payloadFor(round * 100 + id, 30 + round);
        }
        const Drained drained = drain(queue);
        QCOMPARE(drained.bytes, expected);
        QCOMPARE(drained.messages, quint64(20));
    }
}

void tst_SendQueue::priorityAtFront_data()
{
    QTest::addColumn<bool>("staged");

    QTest::addRow("before-staging") << true;
    QTest::addRow("before-shared") << false;
}

void tst_SendQueue::priorityAtFront()
{
    QFETCH(bool, staged);

    SendQueue queue;
    QByteArray rest;
    for (int id = 0; id < 3; ++id) {
        const QByteArray message = headerFor(id) + payloadFor(id, staged ? 20 : 5000);
        if (staged)
            queue.appendCopy(message.constData(), message.size(), 1);
        else
            queue.appendShared(message, 0, false, 1);
        rest += message;
    }
    const qint64 before = queue.bytes();
    const QByteArray ack = ackFor(7);
    QVERIFY(queue.putPriority(ack.constData(), ack.size()));
    QCOMPARE(queue.bytes(), before + 12);
    QCOMPARE(queue.messageCount(), quint64(4));
    QVERIFY(queue.front().priority);

    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, ack + rest);
    QCOMPARE(drained.messages, quint64(4));
}

void tst_SendQueue::priorityAfterPartlySentFront()
{
    SendQueue queue;
    const QByteArray first = headerFor(1) + payloadFor(1, 100);
    const QByteArray second = headerFor(2) + payloadFor(2, 100);
    queue.appendShared(first, 0, false, 1);
    queue.appendShared(second, 0, false, 1);
    QCOMPARE(queue.advance(10), quint64(0));

    const QByteArray ack = ackFor(3);
    QVERIFY(queue.putPriority(ack.constData(), ack.size()));
    QCOMPARE(queue.messageCount(), quint64(3));
    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, first.mid(10) + ack + second);
    QCOMPARE(drained.messages, quint64(3));
}

void tst_SendQueue::priorityAfterHeaderAndPayload_data()
{
    QTest::addColumn<qsizetype>("sent");

    // The front is the header piece, partly sent; or the header piece went
    // whole and the front is the payload that continues the message.
    QTest::addRow("header-partly-sent") << qsizetype(3);
    QTest::addRow("header-sent") << TestHeaderSize;
    QTest::addRow("payload-partly-sent") << TestHeaderSize + 10;
}

void tst_SendQueue::priorityAfterHeaderAndPayload()
{
    QFETCH(qsizetype, sent);

    SendQueue queue;
    const QByteArray header = headerFor(1);
    const QByteArray payload = payloadFor(1, 20000);
    queue.appendCopy(header.constData(), header.size(), 0);
    queue.appendShared(payload, 0, true, 1);
    appendMessage(queue, 2, 10);
    QCOMPARE(queue.advance(sent), quint64(0));

    const QByteArray ack = ackFor(9);
    QVERIFY(queue.putPriority(ack.constData(), ack.size()));
    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, QByteArray(header + payload).mid(sent) + ack + headerFor(2) + payloadFor(2, 10));
    QCOMPARE(drained.messages, quint64(3));
}

void tst_SendQueue::priorityRewritten()
{
    SendQueue queue;
    appendMessage(queue, 1, 10);
    const QByteArray first = ackFor(1);
    const QByteArray second = ackFor(2);
    const QByteArray third = ackFor(3);
    QVERIFY(queue.putPriority(first.constData(), first.size()));
    const qint64 bytes = queue.bytes();
    // The first answer is still waiting whole: it carries the latest ackid instead.
    QVERIFY(!queue.putPriority(second.constData(), second.size()));
    QVERIFY(!queue.putPriority(third.constData(), third.size()));
    QCOMPARE(queue.bytes(), bytes);
    QCOMPARE(queue.messageCount(), quint64(2));
    QCOMPARE(queue.pieceCount(), 2);

    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, third + headerFor(1) + payloadFor(1, 10));
    QCOMPARE(drained.messages, quint64(2));
}

void tst_SendQueue::priorityRewrittenBehindStartedFront()
{
    SendQueue queue;
    const QByteArray message = headerFor(1) + payloadFor(1, 100);
    queue.appendShared(message, 0, false, 1);
    appendMessage(queue, 2, 10);
    queue.advance(50);
    const QByteArray first = ackFor(1);
    const QByteArray second = ackFor(2);
    QVERIFY(queue.putPriority(first.constData(), first.size()));
    // The front finishes; the answer, now at the front, has not started yet.
    QCOMPARE(queue.advance(message.size() - 50), quint64(1));
    QVERIFY(queue.front().priority);
    QVERIFY(!queue.putPriority(second.constData(), second.size()));
    QCOMPARE(queue.messageCount(), quint64(2));

    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, second + headerFor(2) + payloadFor(2, 10));
}

void tst_SendQueue::priorityAfterStartedOne()
{
    SendQueue queue;
    appendMessage(queue, 1, 10);
    const QByteArray first = ackFor(1);
    const QByteArray second = ackFor(2);
    QVERIFY(queue.putPriority(first.constData(), first.size()));
    QCOMPARE(queue.advance(5), quint64(0)); // the kernel took part of the answer
    QVERIFY(!queue.front().priority);
    // A new answer, after the one on the wire, ahead of the data.
    QVERIFY(queue.putPriority(second.constData(), second.size()));
    QCOMPARE(queue.messageCount(), quint64(3));

    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, first.mid(5) + second + headerFor(1) + payloadFor(1, 10));
    QCOMPARE(drained.messages, quint64(3));
}

void tst_SendQueue::priorityInDatagramMode()
{
    SendQueue queue;
    queue.setDatagram(true);
    appendMessage(queue, 1, 10);
    appendMessage(queue, 2, 10);
    const QByteArray ack = ackFor(4);
    QVERIFY(queue.putPriority(ack.constData(), ack.size()));

    iovec iov[MaxIov];
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, false, NoBudget, nullptr);
    QCOMPARE(bytesOf(iov, batch.count), ack); // a datagram of its own
    QCOMPARE(queue.advance(batch.bytes), quint64(1));
    QCOMPARE(queue.messageCount(), quint64(2));
}

void tst_SendQueue::dropFrontDatagram_data()
{
    QTest::addColumn<bool>("twoPieces");

    QTest::addRow("copied-one-piece") << false;
    QTest::addRow("zero-copy-header-and-payload") << true;
}

void tst_SendQueue::dropFrontDatagram()
{
    QFETCH(bool, twoPieces);

    SendQueue queue;
    queue.setDatagram(true);
    QCOMPARE(queue.dropFrontDatagram(), qint64(0)); // nothing to drop

    const QByteArray header = headerFor(1);
    const QByteArray payload = payloadFor(1, twoPieces ? 30000 : 100);
    if (twoPieces) {
        queue.appendShared(header, 0, true, 0);
        queue.appendShared(payload, 0, true, 1);
    } else {
        queue.appendMessageCopy(header.constData(), header.size(), payload);
    }
    appendMessage(queue, 2, 10);
    QCOMPARE(queue.messageCount(), quint64(2));

    // The kernel refused the front datagram: all of it goes, nothing of the next.
    QCOMPARE(queue.dropFrontDatagram(), qint64(header.size() + payload.size()));
    QCOMPARE(queue.messageCount(), quint64(1));
    QCOMPARE(queue.bytes(), qint64(18));
    iovec iov[MaxIov];
    const SendQueue::Batch batch = queue.fill(iov, MaxIov, true, NoBudget, nullptr);
    QCOMPARE(bytesOf(iov, batch.count), headerFor(2) + payloadFor(2, 10));
    QCOMPARE(queue.advance(batch.bytes), quint64(1));
    QVERIFY(queue.isEmpty());
}

void tst_SendQueue::makeFrontDatagramCopied()
{
    SendQueue queue;
    queue.setDatagram(true);
    const QList<QByteArray> headers{headerFor(1), headerFor(2)};
    const QList<QByteArray> payloads{payloadFor(1, 64000), payloadFor(2, 20000)};
    for (qsizetype i = 0; i < 2; ++i) {
        queue.appendShared(headers.at(i), 0, true, 0);
        queue.appendShared(payloads.at(i), 0, true, 1);
    }
    // The kernel refused the first one's size for zero-copy: it goes as a
    // copy, header and payload together; the next stays zero-copy.
    queue.makeFrontDatagramCopied();
    iovec iov[MaxIov];
    CompletionTracker::Buffers held;
    SendQueue::Batch batch = queue.fill(iov, MaxIov, true, NoBudget, &held);
    QVERIFY(!batch.zeroCopy);
    QCOMPARE(batch.count, 2);
    QVERIFY(held.isEmpty());
    QCOMPARE(bytesOf(iov, batch.count), headers.at(0) + payloads.at(0));
    QCOMPARE(queue.advance(batch.bytes), quint64(1));

    batch = queue.fill(iov, MaxIov, true, NoBudget, &held);
    QVERIFY(batch.zeroCopy);
    QCOMPARE(batch.count, 2);
    QCOMPARE(held.size(), qsizetype(2));
}

void tst_SendQueue::clearReturnsDropped()
{
    SendQueue queue;
    queue.appendShared(payloadFor(8, 100), 0, false, 1);
    for (int id = 0; id < 4; ++id)
        appendMessage(queue, id, 10); // 18 bytes each, one staging piece
    queue.appendShared(payloadFor(9, 1000), 0, true, 1);
    QCOMPARE(queue.advance(105), quint64(1)); // the first whole, the first staged one partly

    const SendQueue::Dropped dropped = queue.clear();
    QCOMPARE(dropped.messages, quint64(5)); // the partly sent one counts as undelivered
    QCOMPARE(dropped.bytes, qint64(4 * 18 - 5 + 1000));
    QVERIFY(queue.isEmpty());
    QCOMPARE(queue.bytes(), qint64(0));
    QCOMPARE(queue.messageCount(), quint64(0));

    // Usable again afterwards.
    appendMessage(queue, 5, 3);
    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, headerFor(5) + payloadFor(5, 3));
    QCOMPARE(drained.messages, quint64(1));
}

void tst_SendQueue::clearAfterPartlySentStaging()
{
    // close() reports what clear() dropped as undelivered: messages the
    // kernel took whole must not be among them.
    SendQueue queue;
    for (int id = 0; id < 4; ++id)
        appendMessage(queue, id, 10); // 18 bytes each, one staging piece
    queue.advance(40);                // two whole, the third partly
    QCOMPARE(queue.messageCount(), quint64(2));
    const SendQueue::Dropped dropped = queue.clear();
    QCOMPARE(dropped.messages, quint64(2));
    QCOMPARE(dropped.bytes, qint64(4 * 18 - 40));
}

void tst_SendQueue::clearForgetsMidMessage()
{
    SendQueue queue;
    const QByteArray header = headerFor(1);
    queue.appendShared(header, 0, false, 0);
    queue.appendShared(payloadFor(1, 5000), 0, false, 1);
    queue.advance(TestHeaderSize); // the front now continues a message
    queue.clear();

    // A new connection starts at a message boundary: the answer goes first.
    appendMessage(queue, 2, 10);
    const QByteArray ack = ackFor(1);
    QVERIFY(queue.putPriority(ack.constData(), ack.size()));
    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, ack + headerFor(2) + payloadFor(2, 10));
}

void tst_SendQueue::randomStream_data()
{
    QTest::addColumn<quint32>("seed");
    for (quint32 seed = 1; seed <= 12; ++seed)
        QTest::addRow("seed-%u", seed) << seed;
}

void tst_SendQueue::randomStream()
{
    QFETCH(quint32, seed);
    QRandomGenerator random(seed);

    // The reference: every byte queued, in order, and the offsets where
    // messages end. The queue must hand out the same bytes and count the
    // same completions for any appends, batches and partial sends.
    QByteArray reference;
    QList<qint64> messageEnds;
    qint64 sentBytes = 0;
    qsizetype nextEnd = 0; // index into messageEnds of the first message not completed

    SendQueue queue;
    int id = 0;
    quint64 completedTotal = 0;
    QString countMismatch; // the first step where the counts differed; checked last so the bytes are checked throughout
    for (int step = 0; step < 3000; ++step) {
        const int action = random.bounded(10);
        if (action < 5) {
            ++id;
            const QByteArray header = headerFor(id);
            const qsizetype size = random.bounded(3) == 0 ? random.bounded(30000) : random.bounded(300);
            const QByteArray payload = payloadFor(id, size);
            switch (random.bounded(5)) {
            case 0:
                queue.appendMessageCopy(header.constData(), header.size(), payload);
                break;
            case 1: // header staged, payload shared (zero-copy eligible or not)
                queue.appendCopy(header.constData(), header.size(), payload.isEmpty() ? 1 : 0);
                if (!payload.isEmpty())
                    queue.appendShared(payload, 0, random.bounded(2) == 0, 1);
                break;
            case 2: // an eligible header array and payload
                queue.appendShared(header, 0, true, payload.isEmpty() ? 1 : 0);
                if (!payload.isEmpty())
                    queue.appendShared(payload, 0, true, 1);
                break;
            case 3: // raw bytes, staged
                queue.appendCopy(header.constData(), header.size(), 0);
                queue.appendCopy(payload.constData(), payload.size(), 1);
                break;
            default: { // a shared array of which only the tail is queued
                const QByteArray whole = header + payload;
                const qsizetype skip = random.bounded(int(header.size()));
                queue.appendShared(whole, skip, false, 1);
                reference += whole.mid(skip);
                messageEnds.append(reference.size());
                continue;
            }
            }
            reference += header + payload;
            messageEnds.append(reference.size());
        } else {
            if (queue.isEmpty()) {
                QCOMPARE(qint64(reference.size()), sentBytes);
                continue;
            }
            const bool zeroCopy = random.bounded(2) == 0;
            const int maxIov = 1 + random.bounded(8);
            const qsizetype budget = random.bounded(4) == 0 ? 1 + random.bounded(40000) : NoBudget;
            iovec iov[8];
            CompletionTracker::Buffers held;
            const SendQueue::Batch batch = queue.fill(iov, maxIov, zeroCopy, budget, &held);
            QVERIFY(batch.count >= 1);
            QVERIFY(batch.count <= maxIov);
            QVERIFY(batch.bytes <= budget);
            QVERIFY(!batch.zeroCopy || zeroCopy);
            QCOMPARE(held.size(), qsizetype(batch.zeroCopy ? batch.count : 0));
            if (batch.cutByBudget)
                QCOMPARE(batch.bytes, budget);
            const QByteArray offered = bytesOf(iov, batch.count);
            QCOMPARE(offered.size(), batch.bytes);
            QVERIFY2(
                offered == reference.mid(sentBytes, batch.bytes),
                qPrintable(
                    QStringLiteral("seed %1 step %2: wrong bytes at offset %3").arg(seed).arg(step).arg(sentBytes)));

            // The kernel takes all, part or (rarely) nothing of the batch.
            const qsizetype taken = random.bounded(3) == 0 ? random.bounded(int(batch.bytes) + 1) : batch.bytes;
            quint64 expectedCompleted = 0;
            while (nextEnd < messageEnds.size() && messageEnds.at(nextEnd) <= sentBytes + taken) {
                ++expectedCompleted;
                ++nextEnd;
            }
            sentBytes += taken;
            const quint64 completed = queue.advance(taken);
            completedTotal += completed;
            if (completed != expectedCompleted && countMismatch.isEmpty()) {
                countMismatch = QStringLiteral("step %1: advance(%2) completed %3 messages, expected %4")
                                    .arg(step)
                                    .arg(taken)
                                    .arg(completed)
                                    .arg(expectedCompleted);
            }
        }
        QCOMPARE(queue.bytes(), qint64(reference.size()) - sentBytes);
        const quint64 expectedCount = quint64(messageEnds.size() - nextEnd);
        if (queue.messageCount() != expectedCount && countMismatch.isEmpty()) {
            countMismatch = QStringLiteral("step %1: messageCount() %2, expected %3")
                                .arg(step)
                                .arg(queue.messageCount())
                                .arg(expectedCount);
        }
    }
    const Drained drained = drain(queue, true);
    QCOMPARE(drained.bytes, reference.mid(sentBytes));
    QVERIFY(queue.isEmpty());
    QCOMPARE(queue.bytes(), qint64(0));
    QCOMPARE(queue.messageCount(), quint64(0));
    // Every message completes exactly once, in total.
    QCOMPARE(completedTotal + drained.messages, quint64(messageEnds.size()));
    QVERIFY2(countMismatch.isEmpty(), qPrintable(QStringLiteral("seed %1, %2").arg(seed).arg(countMismatch)));
}

void tst_SendQueue::randomDatagrams_data()
{
    QTest::addColumn<quint32>("seed");
    for (quint32 seed = 1; seed <= 6; ++seed)
        QTest::addRow("seed-%u", seed) << seed;
}

void tst_SendQueue::randomDatagrams()
{
    QFETCH(quint32, seed);
    QRandomGenerator random(seed);

    SendQueue queue;
    queue.setDatagram(true);
    QList<QByteArray> pending; // datagrams queued, in order
    int id = 0;
    for (int step = 0; step < 2000; ++step) {
        if (random.bounded(2) == 0) {
            ++id;
            const QByteArray header = headerFor(id);
            const QByteArray payload = payloadFor(id,
                                                  random.bounded(3) == 0 ? random.bounded(60000) : random.bounded(200));
            switch (random.bounded(3)) {
            case 0:
                queue.appendMessageCopy(header.constData(), header.size(), payload);
                break;
            case 1:
                queue.appendShared(header, 0, true, 0);
                queue.appendShared(payload, 0, true, 1);
                break;
            default:
                queue.appendCopy(header.constData(), header.size(), 0);
                queue.appendShared(payload, 0, false, 1);
                break;
            }
            pending.append(header + payload);
        } else if (!pending.isEmpty()) {
            iovec iov[MaxIov];
            const SendQueue::Batch batch = queue.fill(iov, MaxIov, random.bounded(2) == 0, NoBudget, nullptr);
            QVERIFY2(bytesOf(iov, batch.count) == pending.first(),
                     qPrintable(QStringLiteral("seed %1 step %2: not one whole datagram").arg(seed).arg(step)));
            QCOMPARE(queue.advance(batch.bytes), quint64(1));
            pending.removeFirst();
        }
        QCOMPARE(queue.messageCount(), quint64(pending.size()));
    }
}

QTEST_APPLESS_MAIN(tst_SendQueue)
#include "tst_sendqueue.moc"
