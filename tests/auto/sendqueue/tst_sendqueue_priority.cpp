// SPDX-License-Identifier: MIT
// Tests of SendQueue: ping answers at the next message boundary, refused datagrams, clear().
#include "tst_sendqueue.h"

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
        queue.appendMessageCopy(header.constData(), header.size(), payload, 1);
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
