// SPDX-License-Identifier: MIT
// Tests of SendQueue: random appends, batches and partial sends against a byte-string reference.
#include "tst_sendqueue.h"

#include <QtCore/QRandomGenerator>

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
                queue.appendMessageCopy(header.constData(), header.size(), payload, 1);
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
                queue.appendMessageCopy(header.constData(), header.size(), payload, 1);
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
