// SPDX-License-Identifier: MIT
// Tests of SendQueue: staging, implicit sharing, filling an iovec for a budget, advancing by bytes sent.
#include "tst_sendqueue.h"

#include <fcntl.h>
#include <unistd.h>

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
    queue.appendMessageCopy(header.constData(), header.size(), payload, 1);
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

void tst_SendQueue::copyLargerThanStaging()
{
    // A raw copy larger than a staging array (a borrowed array queued while
    // connecting) gets an array of its own size; what follows goes on in a
    // fresh staging array.
    SendQueue queue;
    appendMessage(queue, 1, 10);
    QByteArray large(SendQueue::StagingCapacity * 4 + 3, Qt::Uninitialized);
    for (qsizetype i = 0; i < large.size(); ++i)
        large[i] = char(i * 7 + i / 251); // no period that a misplaced copy could hide in
    queue.appendCopy(large.constData(), large.size(), 2);
    appendMessage(queue, 3, 10);
    QCOMPARE(queue.pieceCount(), 3);
    QCOMPARE(queue.messageCount(), quint64(3));
    const Drained drained = drain(queue);
    QCOMPARE(drained.bytes, headerFor(1) + payloadFor(1, 10) + large + headerFor(3) + payloadFor(3, 10));
    QCOMPARE(drained.messages, quint64(3));
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
    QCOMPARE(held[0].array.constData(), header.constData());
    QCOMPARE(held[1].array.constData(), payload.constData());
    QCOMPARE(queue.advance(batch.bytes), quint64(1));
    QVERIFY(queue.isEmpty());
    QVERIFY(!payload.isDetached());
    QCOMPARE(held[1].array, payloadFor(1, 40000));
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

QTEST_APPLESS_MAIN(tst_SendQueue)

void tst_SendQueue::descriptorStartsItsOwnCall()
{
    // A message carrying a descriptor starts a sendmsg() of its own; what
    // comes after it may join that call.
    SendQueue queue;
    appendMessage(queue, 0, 10);
    const int descriptor = ::dup(STDIN_FILENO);
    QVERIFY(descriptor >= 0);
    const QByteArray carrier = headerFor(1);
    queue.appendWithDescriptor(carrier.constData(), carrier.size(), OwnedFd(descriptor), SendQueue::NoId);
    appendMessage(queue, 2, 10);
    QCOMPARE(queue.messageCount(), quint64(3));

    iovec iov[MaxIov];
    SendQueue::Batch batch = queue.fill(iov, MaxIov, false, NoBudget, nullptr);
    QCOMPARE(batch.descriptor, -1);
    QCOMPARE(batch.bytes, qsizetype(TestHeaderSize + 10)); // stops in front of the carrier
    QCOMPARE(queue.advance(batch.bytes), quint64(1));

    batch = queue.fill(iov, MaxIov, false, NoBudget, nullptr);
    QCOMPARE(batch.descriptor, descriptor);
    QCOMPARE(batch.bytes, qsizetype(2 * TestHeaderSize + 10));
    QCOMPARE(QByteArray(static_cast<const char *>(iov[0].iov_base), int(iov[0].iov_len)), carrier);
    // The kernel took 5 bytes, and the descriptor with the first of them.
    queue.descriptorSent();
    QVERIFY(::fcntl(descriptor, F_GETFD) == -1); // closed by the queue
    QCOMPARE(queue.advance(5), quint64(0));
    batch = queue.fill(iov, MaxIov, false, NoBudget, nullptr);
    QCOMPARE(batch.descriptor, -1); // the rest goes without it
    QCOMPARE(queue.advance(batch.bytes), quint64(2));
    QVERIFY(queue.isEmpty());
}

void tst_SendQueue::droppedDescriptorIsClosed()
{
    SendQueue queue;
    const int descriptor = ::dup(STDIN_FILENO);
    QVERIFY(descriptor >= 0);
    const QByteArray carrier = headerFor(1);
    queue.appendWithDescriptor(carrier.constData(), carrier.size(), OwnedFd(descriptor), SendQueue::NoId);
    QVERIFY(::fcntl(descriptor, F_GETFD) != -1);
    queue.clear();
    QVERIFY(::fcntl(descriptor, F_GETFD) == -1);
}
