// SPDX-License-Identifier: MIT
// Tests of the zero-copy pending map (CompletionTracker) and the release-latency
// histogram, with synthetic ranges: no sockets, no event loop.
#include "completiontracker_p.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QRandomGenerator>
#include <QtTest/QTest>

#include <algorithm>
#include <climits>

using namespace Blight;

namespace {

struct Range
{
    quint32 lo = 0;
    quint32 hi = 0;
    quint32 sends = 0;   //!< expected Release::sends
    quint64 ignored = 0; //!< expected Release::ignored
};
using Ranges = QList<Range>;
using Ids = QList<quint32>;

// Bytes of the send with counter value \a id: distinct per id so that a wrong
// release shows up in the byte counts.
qint64 bytesOf(quint32 id)
{
    return 100 + qint64(id % 1000);
}

CompletionTracker::Buffers buffersOf(const QByteArray &bytes)
{
    CompletionTracker::Buffers buffers;
    buffers.append(HeldBytes{bytes, {}});
    return buffers;
}

} // namespace

Q_DECLARE_METATYPE(Ranges)

class tst_CompletionTracker : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void release_data();
    void release();
    void inOrderIsFrontPop();
    void bogusFullRangeIsBounded_data();
    void bogusFullRangeIsBounded();
    void rollbackAfterFailedSend();
    void setLastBytesOnPartialSend();
    void nothingFreedEarly();
    void outOfOrderFreesAtOnce();
    void partialSendSpansSeveralIds_data();
    void partialSendSpansSeveralIds();
    void takeAll();
    void peakAndPendingBytes();
    void latencyOfReleases();
    void histogramPercentiles_data();
    void histogramPercentiles();
    void histogramEdges();
};

void tst_CompletionTracker::release_data()
{
    QTest::addColumn<quint32>("firstId");
    QTest::addColumn<int>("adds");
    QTest::addColumn<Ranges>("ranges");
    QTest::addColumn<Ids>("stillPending");

    const quint32 M = UINT32_MAX;
    QTest::addRow("in-order-one-by-one") << 0u << 4 << Ranges{{0, 0, 1, 0}, {1, 1, 1, 0}, {2, 2, 1, 0}, {3, 3, 1, 0}}
                                         << Ids{};
    QTest::addRow("in-order-coalesced") << 0u << 4 << Ranges{{0, 3, 4, 0}} << Ids{};
    QTest::addRow("in-order-partial") << 0u << 5 << Ranges{{0, 2, 3, 0}} << Ids{3, 4};
    QTest::addRow("out-of-order") << 0u << 4 << Ranges{{2, 3, 2, 0}, {0, 0, 1, 0}} << Ids{1};
    QTest::addRow("out-of-order-then-fill")
        << 0u << 4 << Ranges{{3, 3, 1, 0}, {1, 1, 1, 0}, {0, 0, 1, 0}, {2, 2, 1, 0}} << Ids{};
    QTest::addRow("reverse") << 10u << 5 << Ranges{{14, 14, 1, 0}, {13, 13, 1, 0}, {12, 12, 1, 0}, {11, 11, 1, 0}}
                             << Ids{10};
    QTest::addRow("overlapping") << 0u << 4 << Ranges{{0, 2, 3, 0}, {1, 3, 1, 2}} << Ids{};
    QTest::addRow("overlapping-inside-window") << 0u << 6 << Ranges{{2, 3, 2, 0}, {1, 4, 2, 2}} << Ids{0, 5};
    QTest::addRow("repeated") << 0u << 3 << Ranges{{1, 1, 1, 0}, {1, 1, 0, 1}, {1, 1, 0, 1}} << Ids{0, 2};
    QTest::addRow("repeated-after-front-moved")
        << 0u << 3 << Ranges{{0, 1, 2, 0}, {0, 1, 0, 2}, {0, 0, 0, 1}} << Ids{2};
    QTest::addRow("unknown-future") << 0u << 3 << Ranges{{10, 12, 0, 3}} << Ids{0, 1, 2};
    QTest::addRow("partly-future") << 0u << 3 << Ranges{{1, 5, 2, 3}} << Ids{0};
    QTest::addRow("partly-before-front") << 5u << 3 << Ranges{{3, 5, 1, 2}} << Ids{6, 7};
    QTest::addRow("nothing-pending") << 0u << 0 << Ranges{{0, 0, 0, 1}, {5, 9, 0, 5}} << Ids{};

    // The counter wraps past 2^32: ids M-3, M-2, M-1, M, 0, 1, 2, 3.
    QTest::addRow("wrap-range-across-zero") << M - 3 << 8 << Ranges{{M - 3, M - 2, 2, 0}, {M - 1, 2, 5, 0}} << Ids{3};
    QTest::addRow("wrap-in-order-single")
        << M - 3 << 8 << Ranges{{M - 3, M - 3, 1, 0}, {M - 2, M - 2, 1, 0}, {M - 1, M - 1, 1, 0}, {M, M, 1, 0},
                                {0, 0, 1, 0},         {1, 1, 1, 0},         {2, 2, 1, 0},         {3, 3, 1, 0}}
        << Ids{};
    QTest::addRow("wrap-out-of-order") << M - 3 << 8 << Ranges{{0, 3, 4, 0}, {M - 3, M, 4, 0}} << Ids{};
    QTest::addRow("wrap-out-of-order-across")
        << M - 3 << 8 << Ranges{{M, 1, 3, 0}, {M - 3, M - 3, 1, 0}} << Ids{M - 2, M - 1, 2, 3};
    QTest::addRow("wrap-overlap") << M - 3 << 8 << Ranges{{M - 1, 1, 4, 0}, {M - 3, 0, 2, 3}, {1, 3, 2, 1}} << Ids{};
    QTest::addRow("wrap-whole-window") << M - 3 << 8 << Ranges{{M - 3, 3, 8, 0}} << Ids{};
    QTest::addRow("wrap-first-id-max") << M << 3 << Ranges{{M, 1, 3, 0}} << Ids{};

    // A bogus range of all 2^32 values releases what is pending, ignores the rest.
    QTest::addRow("bogus-full-range") << 5u << 3 << Ranges{{0, M, 3, (quint64(1) << 32) - 3}} << Ids{};
    QTest::addRow("bogus-full-range-wrapped") << M - 1 << 4 << Ranges{{0, M, 4, (quint64(1) << 32) - 4}} << Ids{};
    QTest::addRow("bogus-full-range-after-some")
        << 0u << 6 << Ranges{{1, 1, 1, 0}, {0, M, 5, (quint64(1) << 32) - 5}} << Ids{};
    // A range that starts inside the window and wraps all the way round to
    // cover its front: [5, 2] holds 5..M and 0..2, so 5..9 and 0..2 go.
    QTest::addRow("wrapping-range-covers-front")
        << 0u << 10 << Ranges{{5, 2, 8, (quint64(1) << 32) - 2 - 8}} << Ids{3, 4};
}

void tst_CompletionTracker::release()
{
    QFETCH(quint32, firstId);
    QFETCH(int, adds);
    QFETCH(Ranges, ranges);
    QFETCH(Ids, stillPending);

    CompletionTracker tracker(firstId);
    QCOMPARE(tracker.nextId(), firstId);
    // One QByteArray per send; the test keeps a reference to each so that it
    // can see (isDetached) which ones the tracker still holds.
    QList<QByteArray> kept;
    QList<quint32> ids;
    qint64 totalBytes = 0;
    for (int i = 0; i < adds; ++i) {
        const quint32 expectedId = firstId + quint32(i);
        QByteArray bytes(16, char('a' + i % 26));
        kept.append(bytes);
        const quint32 id = tracker.add(buffersOf(bytes), bytesOf(expectedId), 0);
        QCOMPARE(id, expectedId);
        ids.append(id);
        totalBytes += bytesOf(id);
    }
    QCOMPARE(tracker.pendingCount(), qint64(adds));
    QCOMPARE(tracker.pendingBytes(), totalBytes);
    QCOMPARE(tracker.nextId(), firstId + quint32(adds));

    QSet<quint32> released;
    for (qsizetype step = 0; step < ranges.size(); ++step) {
        const Range &range = ranges.at(step);
        // The ids of this range that are still pending: count them the slow way.
        qint64 expectedBytes = 0;
        for (const quint32 id : std::as_const(ids)) {
            const bool inRange = quint32(id - range.lo) <= quint32(range.hi - range.lo);
            if (inRange && !released.contains(id))
                expectedBytes += bytesOf(id);
        }
        const CompletionTracker::Release result = tracker.release(range.lo, range.hi, 0);
        const QByteArray where = "range " + QByteArray::number(step) + " [" + QByteArray::number(range.lo) + ", "
            + QByteArray::number(range.hi) + "]";
        QVERIFY2(result.sends == range.sends,
                 qPrintable(QStringLiteral("%1: released %2 sends, expected %3")
                                .arg(QString::fromLatin1(where))
                                .arg(result.sends)
                                .arg(range.sends)));
        QVERIFY2(result.ignored == range.ignored,
                 qPrintable(QStringLiteral("%1: ignored %2, expected %3")
                                .arg(QString::fromLatin1(where))
                                .arg(result.ignored)
                                .arg(range.ignored)));
        QVERIFY2(result.bytes == expectedBytes,
                 qPrintable(QStringLiteral("%1: released %2 bytes, expected %3")
                                .arg(QString::fromLatin1(where))
                                .arg(result.bytes)
                                .arg(expectedBytes)));
        for (const quint32 id : std::as_const(ids)) {
            if (quint32(id - range.lo) <= quint32(range.hi - range.lo))
                released.insert(id);
        }
    }

    // Exactly the expected ids are pending, and exactly their buffers are held.
    qint64 pendingBytes = 0;
    for (int i = 0; i < adds; ++i) {
        const bool pending = stillPending.contains(ids.at(i));
        if (pending)
            pendingBytes += bytesOf(ids.at(i));
        QVERIFY2(kept.at(i).isDetached() != pending,
                 qPrintable(QStringLiteral("id %1: %2")
                                .arg(ids.at(i))
                                .arg(pending ? QStringLiteral("buffer freed while pending")
                                             : QStringLiteral("buffer still held after release"))));
    }
    QCOMPARE(tracker.pendingCount(), qint64(stillPending.size()));
    QCOMPARE(tracker.pendingBytes(), pendingBytes);
    QCOMPARE(tracker.isEmpty(), stillPending.isEmpty());
    QCOMPARE(tracker.releasedCount(), quint64(adds - stillPending.size()));
    QCOMPARE(tracker.releasedBytes(), quint64(totalBytes - pendingBytes));
    QCOMPARE(tracker.peakPendingBytes(), totalBytes);
    QCOMPARE(tracker.nextId(), firstId + quint32(adds));

    // Releasing everything that is left, one id at a time, empties it.
    for (const quint32 id : std::as_const(stillPending)) {
        const CompletionTracker::Release result = tracker.release(id, id, 0);
        QCOMPARE(result.sends, 1u);
        QCOMPARE(result.bytes, bytesOf(id));
    }
    QVERIFY(tracker.isEmpty());
    QCOMPARE(tracker.pendingBytes(), qint64(0));
    for (const QByteArray &bytes : std::as_const(kept))
        QVERIFY(bytes.isDetached());
}

void tst_CompletionTracker::inOrderIsFrontPop()
{
    // A long in-order run keeps working well past the first wrap.
    CompletionTracker tracker(UINT32_MAX - 1000);
    const QByteArray bytes(64, 'x');
    for (int i = 0; i < 5000; ++i) {
        const quint32 id = tracker.add(buffersOf(bytes), 64, i);
        QCOMPARE(id, quint32(UINT32_MAX - 1000 + quint32(i)));
        if (i % 3 == 2) {
            const CompletionTracker::Release result = tracker.release(id - 2, id, i + 1);
            QCOMPARE(result.sends, 3u);
            QCOMPARE(result.ignored, quint64(0));
            QVERIFY(tracker.isEmpty());
        }
    }
    QCOMPARE(tracker.pendingCount(), qint64(5000 % 3));
    QCOMPARE(tracker.releasedCount(), quint64(5000 / 3 * 3));
}

void tst_CompletionTracker::bogusFullRangeIsBounded_data()
{
    QTest::addColumn<quint32>("firstId");
    QTest::addColumn<quint32>("lo");
    QTest::addColumn<quint32>("hi");

    QTest::addRow("zero-to-max") << 0u << 0u << UINT32_MAX;
    QTest::addRow("zero-to-max-window-wraps") << UINT32_MAX - 3 << 0u << UINT32_MAX;
    QTest::addRow("one-to-zero") << 100u << 1u << 0u;
    // [1, 0] is also all 2^32 values; it starts inside the window, one past its front.
    QTest::addRow("one-to-zero-window-at-zero") << 0u << 1u << 0u;
    QTest::addRow("max-to-max-minus-1") << 7u << UINT32_MAX << UINT32_MAX - 1;
}

void tst_CompletionTracker::bogusFullRangeIsBounded()
{
    QFETCH(quint32, firstId);
    QFETCH(quint32, lo);
    QFETCH(quint32, hi);

    CompletionTracker tracker(firstId);
    QList<QByteArray> kept;
    for (int i = 0; i < 8; ++i) {
        kept.append(QByteArray(8, 'b'));
        tracker.add(buffersOf(kept.last()), 8, 0);
    }
    QElapsedTimer timer;
    timer.start();
    const CompletionTracker::Release result = tracker.release(lo, hi, 0);
    // Walking 2^32 values takes seconds; the pending window takes microseconds.
    QVERIFY2(timer.elapsed() < 500, qPrintable(QStringLiteral("release took %1 ms").arg(timer.elapsed())));
    QCOMPARE(result.sends, 8u);
    QCOMPARE(result.bytes, qint64(64));
    QCOMPARE(result.ignored, (quint64(1) << 32) - 8);
    QVERIFY(tracker.isEmpty());
    for (const QByteArray &bytes : std::as_const(kept))
        QVERIFY(bytes.isDetached());

    // The tracker keeps numbering where it was.
    QCOMPARE(tracker.add(buffersOf(QByteArray(4, 'c')), 4, 0), firstId + 8);
}

void tst_CompletionTracker::rollbackAfterFailedSend()
{
    CompletionTracker tracker(UINT32_MAX);
    const QByteArray first(100, '1');
    QCOMPARE(tracker.add(buffersOf(first), 100, 0), UINT32_MAX);

    QByteArray failed(300, 'f');
    QCOMPARE(tracker.add(buffersOf(failed), 300, 0), 0u);
    QCOMPARE(tracker.pendingCount(), qint64(2));
    QCOMPARE(tracker.pendingBytes(), qint64(400));
    QVERIFY(!failed.isDetached());
    tracker.rollbackLast(); // sendmsg() sent nothing: the kernel took no value
    QVERIFY2(failed.isDetached(), "rolled-back buffer still held");
    QCOMPARE(tracker.pendingCount(), qint64(1));
    QCOMPARE(tracker.pendingBytes(), qint64(100));
    QCOMPARE(tracker.nextId(), 0u);

    const QByteArray retried(200, 'r');
    QCOMPARE(tracker.add(buffersOf(retried), 200, 0), 0u);
    const CompletionTracker::Release result = tracker.release(0, 0, 0);
    QCOMPARE(result.sends, 1u);
    QCOMPARE(result.bytes, qint64(200));
    QCOMPARE(tracker.pendingCount(), qint64(1));
    QCOMPARE(tracker.release(UINT32_MAX, UINT32_MAX, 0).bytes, qint64(100));
    QVERIFY(tracker.isEmpty());
    QCOMPARE(tracker.releasedBytes(), quint64(300));
}

void tst_CompletionTracker::setLastBytesOnPartialSend()
{
    CompletionTracker tracker;
    tracker.add(buffersOf(QByteArray(1000, 'a')), 1000, 0);
    tracker.add(buffersOf(QByteArray(1000, 'b')), 1000, 0);
    QCOMPARE(tracker.pendingBytes(), qint64(2000));
    tracker.setLastBytes(400); // only 400 of 1000 went out
    QCOMPARE(tracker.pendingBytes(), qint64(1400));

    QCOMPARE(tracker.release(1, 1, 0).bytes, qint64(400));
    QCOMPARE(tracker.pendingBytes(), qint64(1000));
    QCOMPARE(tracker.release(0, 0, 0).bytes, qint64(1000));
    QCOMPARE(tracker.releasedBytes(), quint64(1400));
    QCOMPARE(tracker.pendingBytes(), qint64(0));
}

void tst_CompletionTracker::nothingFreedEarly()
{
    CompletionTracker tracker(UINT32_MAX - 1);
    const qsizetype size = 256 * 1024;
    QList<QByteArray> watch; // second references the test keeps
    QList<const char *> where;
    for (int i = 0; i < 4; ++i) {
        QByteArray caller(size, char('A' + i));
        watch.append(caller);
        where.append(caller.constData());
        tracker.add(buffersOf(caller), size, 0);
        caller = QByteArray(); // the caller drops its copy after sending
    }
    auto intact = [&](int i) {
        const QByteArray &bytes = watch.at(i);
        return bytes.constData() == where.at(i) && bytes.size() == size && bytes.count(char('A' + i)) == size;
    };
    for (int i = 0; i < 4; ++i) {
        QVERIFY2(!watch.at(i).isDetached(), "tracker did not keep a reference");
        QVERIFY(intact(i));
    }

    // Ids are UINT32_MAX-1, UINT32_MAX, 0, 1. Release them one by one, out of
    // order: each buffer is let go exactly when its own id is released.
    const quint32 order[] = {0, UINT32_MAX - 1, 1, UINT32_MAX};
    QSet<int> gone;
    for (const quint32 id : order) {
        const int index = int(quint32(id - (UINT32_MAX - 1)));
        QVERIFY(!watch.at(index).isDetached());
        QCOMPARE(tracker.release(id, id, 0).sends, 1u);
        gone.insert(index);
        for (int i = 0; i < 4; ++i) {
            QVERIFY2(watch.at(i).isDetached() == gone.contains(i),
                     qPrintable(QStringLiteral("after releasing %1, buffer %2 is %3")
                                    .arg(id)
                                    .arg(i)
                                    .arg(watch.at(i).isDetached() ? QStringLiteral("no longer held")
                                                                  : QStringLiteral("still held"))));
            QVERIFY2(intact(i), "bytes changed under the tracker");
        }
    }
    QVERIFY(tracker.isEmpty());
}

void tst_CompletionTracker::outOfOrderFreesAtOnce()
{
    // An out-of-order range drops its buffer at once, while older ids keep theirs.
    CompletionTracker tracker;
    QByteArray a(32, 'a'), b(32, 'b'), c(32, 'c');
    tracker.add(buffersOf(a), 32, 0);
    tracker.add(buffersOf(b), 32, 0);
    tracker.add(buffersOf(c), 32, 0);
    QCOMPARE(tracker.release(2, 2, 0).sends, 1u);
    QVERIFY2(c.isDetached(), "buffer of an out-of-order release still held");
    QVERIFY(!a.isDetached());
    QVERIFY(!b.isDetached());
    QCOMPARE(tracker.pendingCount(), qint64(2));
    QCOMPARE(tracker.pendingBytes(), qint64(64));
    QCOMPARE(tracker.release(2, 2, 0).ignored, quint64(1)); // and not again
    QCOMPARE(tracker.pendingCount(), qint64(2));
}

void tst_CompletionTracker::partialSendSpansSeveralIds_data()
{
    QTest::addColumn<bool>("reverse");
    QTest::addRow("released-in-order") << false;
    QTest::addRow("released-in-reverse") << true;
}

void tst_CompletionTracker::partialSendSpansSeveralIds()
{
    QFETCH(bool, reverse);
    // One payload went out in three sendmsg calls (a stream socket took it in
    // parts): every counter value holds the array, and the header lives with
    // the first one.
    CompletionTracker tracker(UINT32_MAX - 1);
    QByteArray payload(100000, 'p');
    QByteArray header(12, 'h');
    const QByteArray watchPayload = payload;
    const QByteArray watchHeader = header;
    const char *payloadData = payload.constData();

    CompletionTracker::Buffers first;
    first.append(HeldBytes{header, {}});
    first.append(HeldBytes{payload, {}});
    const quint32 id0 = tracker.add(first, 40012, 0);
    const quint32 id1 = tracker.add(buffersOf(payload), 30000, 0);
    const quint32 id2 = tracker.add(buffersOf(payload), 100000, 0);
    tracker.setLastBytes(30000);
    QCOMPARE(tracker.pendingBytes(), qint64(100012));
    first.clear();
    payload = QByteArray();
    header = QByteArray();
    QCOMPARE(id1, UINT32_MAX);
    QCOMPARE(id2, 0u);

    const quint32 order[] = {reverse ? id2 : id0, id1, reverse ? id0 : id2};
    bool headerReleased = false;
    for (int step = 0; step < 3; ++step) {
        QVERIFY2(!watchPayload.isDetached(), qPrintable(QStringLiteral("payload freed before step %1").arg(step)));
        QCOMPARE(watchPayload.constData(), payloadData);
        QCOMPARE(tracker.release(order[step], order[step], 0).sends, 1u);
        headerReleased = headerReleased || order[step] == id0;
        QVERIFY2(watchHeader.isDetached() == headerReleased,
                 qPrintable(QStringLiteral("step %1: header %2")
                                .arg(step)
                                .arg(headerReleased ? QStringLiteral("still held after its id was released")
                                                    : QStringLiteral("freed before its id was released"))));
    }
    QVERIFY2(watchPayload.isDetached(), "payload still held after every id was released");
    QVERIFY(watchPayload.count('p') == 100000);
    QCOMPARE(tracker.releasedBytes(), quint64(100012));
}

void tst_CompletionTracker::takeAll()
{
    CompletionTracker tracker(UINT32_MAX);
    QByteArray a(10, 'a'), b(20, 'b'), c(30, 'c');
    tracker.add(buffersOf(a), 10, 0);
    tracker.add(buffersOf(b), 20, 0);
    tracker.add(buffersOf(c), 30, 0);
    QCOMPARE(tracker.release(0, 0, 0).sends, 1u); // b goes out of order
    QVERIFY(b.isDetached());

    CompletionTracker::Buffers all = tracker.takeAll();
    QCOMPARE(all.size(), 2);
    const auto holds = [&all](const QByteArray &bytes) {
        return std::any_of(all.cbegin(), all.cend(),
                           [&bytes](const HeldBytes &held) { return held.array.constData() == bytes.constData(); });
    };
    QVERIFY(holds(a));
    QVERIFY(holds(c));
    QVERIFY(tracker.isEmpty());
    QCOMPARE(tracker.pendingCount(), qint64(0));
    QCOMPARE(tracker.pendingBytes(), qint64(0));
    QVERIFY2(!a.isDetached() && !c.isDetached(), "takeAll() dropped buffers instead of handing them back");
    all.clear();
    QVERIFY(a.isDetached());
    QVERIFY(c.isDetached());

    // Late completions for the taken ids are ignored; numbering continues.
    const CompletionTracker::Release late = tracker.release(UINT32_MAX, 1, 0);
    QCOMPARE(late.sends, 0u);
    QCOMPARE(late.ignored, quint64(3));
    QCOMPARE(tracker.nextId(), 2u);
    QCOMPARE(tracker.add(buffersOf(a), 10, 0), 2u);
    QCOMPARE(tracker.release(2, 2, 0).sends, 1u);
    QVERIFY(tracker.isEmpty());
    QVERIFY(tracker.takeAll().isEmpty());
}

void tst_CompletionTracker::peakAndPendingBytes()
{
    CompletionTracker tracker;
    tracker.add(buffersOf(QByteArray(1, 'x')), 100, 0);
    tracker.add(buffersOf(QByteArray(1, 'x')), 200, 0);
    tracker.add(buffersOf(QByteArray(1, 'x')), 300, 0);
    QCOMPARE(tracker.pendingBytes(), qint64(600));
    QCOMPARE(tracker.peakPendingBytes(), qint64(600));
    tracker.release(1, 1, 0);
    QCOMPARE(tracker.pendingBytes(), qint64(400));
    QCOMPARE(tracker.peakPendingBytes(), qint64(600));
    tracker.add(buffersOf(QByteArray(1, 'x')), 150, 0);
    QCOMPARE(tracker.pendingBytes(), qint64(550));
    QCOMPARE(tracker.peakPendingBytes(), qint64(600));
    tracker.add(buffersOf(QByteArray(1, 'x')), 100, 0);
    QCOMPARE(tracker.pendingBytes(), qint64(650));
    QCOMPARE(tracker.peakPendingBytes(), qint64(650));
    tracker.release(0, 4, 0);
    QCOMPARE(tracker.pendingBytes(), qint64(0));
    QCOMPARE(tracker.pendingCount(), qint64(0));
    QCOMPARE(tracker.peakPendingBytes(), qint64(650));
    QCOMPARE(tracker.releasedCount(), quint64(5));
    QCOMPARE(tracker.releasedBytes(), quint64(850));
}

void tst_CompletionTracker::latencyOfReleases()
{
    CompletionTracker tracker;
    tracker.add(buffersOf(QByteArray(1, 'x')), 1, 1000);
    tracker.add(buffersOf(QByteArray(1, 'x')), 1, 2000);
    tracker.add(buffersOf(QByteArray(1, 'x')), 1, 3000);
    tracker.release(0, 1, 1000 + 5000);  // 5000 and 4000 ns
    tracker.release(2, 2, 3000 + 80000); // 80000 ns
    const LatencyHistogram &latency = tracker.latency();
    QCOMPARE(latency.count(), quint64(3));
    QCOMPARE(latency.max(), qint64(80000));
    const qint64 median = latency.percentile(0.5);
    QVERIFY2(median >= 5000 && median <= 5000 * 9 / 8, qPrintable(QString::number(median)));
    // A repeated range adds no samples.
    tracker.release(0, 2, 100000);
    QCOMPARE(latency.count(), quint64(3));
}

void tst_CompletionTracker::histogramPercentiles_data()
{
    QTest::addColumn<QList<qint64>>("samples");

    QList<qint64> uniform;
    for (qint64 v = 1; v <= 1000; ++v)
        uniform.append(v);
    QTest::addRow("uniform-1-1000") << uniform;

    QList<qint64> micro;
    for (qint64 v = 0; v < 2000; ++v)
        micro.append(10000 + v * 37);
    QTest::addRow("microseconds") << micro;

    QList<qint64> bimodal;
    for (int i = 0; i < 900; ++i)
        bimodal.append(20000 + i);
    for (int i = 0; i < 100; ++i)
        bimodal.append(5000000 + i * 1000);
    QTest::addRow("bimodal-tail") << bimodal;

    QList<qint64> randomLarge;
    QRandomGenerator rng(17);
    for (int i = 0; i < 5000; ++i)
        randomLarge.append(qint64(rng.bounded(1u << 30)) * 8 + 1);
    QTest::addRow("random-up-to-8s") << randomLarge;

    QTest::addRow("small-exact") << QList<qint64>{0, 1, 2, 3, 4, 5, 6, 7};
    QTest::addRow("single") << QList<qint64>{123456};
}

void tst_CompletionTracker::histogramPercentiles()
{
    QFETCH(QList<qint64>, samples);
    LatencyHistogram histogram;
    QCOMPARE(histogram.percentile(0.5), qint64(0));
    QList<qint64> shuffled = samples;
    std::shuffle(shuffled.begin(), shuffled.end(), *QRandomGenerator::global());
    for (const qint64 value : std::as_const(shuffled))
        histogram.record(value);
    QCOMPARE(histogram.count(), quint64(samples.size()));

    QList<qint64> sorted = samples;
    std::sort(sorted.begin(), sorted.end());
    QCOMPARE(histogram.max(), sorted.last());
    for (const double fraction : {0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
        const qint64 truth = sorted.at(qsizetype(fraction * double(sorted.size() - 1)));
        const qint64 got = histogram.percentile(fraction);
        const double error = truth == 0 ? double(got) : std::abs(double(got - truth)) / double(truth);
        QVERIFY2(error <= 0.125,
                 qPrintable(QStringLiteral("p%1: %2, true value %3").arg(fraction * 100).arg(got).arg(truth)));
    }
    histogram.reset();
    QCOMPARE(histogram.count(), quint64(0));
    QCOMPARE(histogram.max(), qint64(0));
    QCOMPARE(histogram.percentile(0.99), qint64(0));
}

void tst_CompletionTracker::histogramEdges()
{
    LatencyHistogram histogram;
    histogram.record(-50); // a clock step backwards counts as 0
    QCOMPARE(histogram.count(), quint64(1));
    QCOMPARE(histogram.max(), qint64(0));
    QCOMPARE(histogram.percentile(1.0), qint64(0));
    histogram.record(LLONG_MAX);
    QCOMPARE(histogram.max(), LLONG_MAX);
    QCOMPARE(histogram.percentile(1.0), LLONG_MAX);
    QCOMPARE(histogram.percentile(0.0), qint64(0));
}

QTEST_GUILESS_MAIN(tst_CompletionTracker)
#include "tst_completiontracker.moc"
