// SPDX-License-Identifier: MIT
// SendLedger: ids, the copy-path watermark, zero-copy spans completing in and
// out of order, drops, and a randomized comparison with a per-id model.
#include "sendledger_p.h"

#include <QtCore/QRandomGenerator>
#include <QtTest/QTest>

#include <algorithm>
#include <map>
#include <vector>

using namespace Blight;

namespace {

// What collect() reported, per id: delivered or not; an id reported twice
// is an error recorded in \a twice.
struct Reports
{
    std::map<quint64, bool> ids;
    QList<quint64> twice;
    int notifications = 0;

    quint64 take(SendLedger &ledger, const CompletionTracker &tracker)
    {
        QList<SendIdRange> ranges;
        const quint64 count = ledger.collect(tracker, &ranges);
        quint64 listed = 0;
        for (const SendIdRange &range : std::as_const(ranges)) {
            for (quint64 id = range.first; id <= range.last; ++id) {
                if (!ids.emplace(id, range.delivered).second)
                    twice.append(id);
            }
            listed += range.count();
        }
        if (count != listed)
            twice.append(0); // the count disagrees with the ranges
        if (!ranges.isEmpty())
            ++notifications;
        return count;
    }
    bool has(quint64 id) const { return ids.count(id) > 0; }
};

quint32 addSpan(CompletionTracker &tracker, quint64 first, quint64 last)
{
    return tracker.add({}, 1, 0, first, last);
}

} // namespace

class tst_SendLedger : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void idsStartAtOneAndIncrease();
    void copyPathReleasesUpToWatermark();
    void nothingNewReportsNothing();
    void zeroCopySpanHoldsItsIds();
    void copySendsBetweenPendingSpansAreReleased();
    void outOfOrderCompletion_data();
    void outOfOrderCompletion();
    void spanSharedByTwoSendsWaitsForBoth();
    void droppedAreMarkedNotDelivered();
    void droppedWhilePendingWaitForTheKernel();
    void rangesAreMerged();
    void heldByPeerUntilReleased();
    void undeliveredAtPeerAmongDelivered();
    void randomizedAgainstModel_data();
    void randomizedAgainstModel();
};

void tst_SendLedger::idsStartAtOneAndIncrease()
{
    SendLedger ledger;
    QCOMPARE(ledger.lastId(), quint64(0));
    QCOMPARE(ledger.accept(), quint64(1));
    QCOMPARE(ledger.accept(), quint64(2));
    QCOMPARE(ledger.nextId(), quint64(3));
    QCOMPARE(ledger.lastId(), quint64(2));
}

void tst_SendLedger::copyPathReleasesUpToWatermark()
{
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    for (int i = 0; i < 5; ++i)
        ledger.accept();
    ledger.handedUpTo(3);
    QCOMPARE(reports.take(ledger, tracker), quint64(3));
    QVERIFY(reports.has(1) && reports.has(3) && !reports.has(4));
    ledger.handedUpTo(5);
    QCOMPARE(reports.take(ledger, tracker), quint64(2));
    QVERIFY(reports.twice.isEmpty());
    QCOMPARE(reports.ids.size(), size_t(5));
    QVERIFY(reports.ids.at(4) && reports.ids.at(5));
}

void tst_SendLedger::nothingNewReportsNothing()
{
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    QCOMPARE(reports.take(ledger, tracker), quint64(0));
    ledger.accept();
    ledger.handedUpTo(1);
    QVERIFY(ledger.hasNews());
    QCOMPARE(reports.take(ledger, tracker), quint64(1));
    QCOMPARE(reports.take(ledger, tracker), quint64(0));
    QCOMPARE(reports.notifications, 1);
}

void tst_SendLedger::zeroCopySpanHoldsItsIds()
{
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    for (int i = 0; i < 3; ++i)
        ledger.accept();
    // Ids 1..3 leave in one zero-copy send: handed, but the kernel holds them.
    const quint32 seq = addSpan(tracker, 1, 3);
    ledger.handedUpTo(3);
    QCOMPARE(reports.take(ledger, tracker), quint64(0));
    tracker.release(seq, seq, 0);
    QCOMPARE(reports.take(ledger, tracker), quint64(3));
    QVERIFY(reports.twice.isEmpty());
}

void tst_SendLedger::copySendsBetweenPendingSpansAreReleased()
{
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    for (int i = 0; i < 6; ++i)
        ledger.accept();
    // 1: frame (zero-copy), 2..3: small copied messages, 4: frame, 5..6 copied.
    addSpan(tracker, 1, 1);
    addSpan(tracker, 4, 4);
    ledger.handedUpTo(6);
    QCOMPARE(reports.take(ledger, tracker), quint64(4));
    QVERIFY(!reports.has(1) && reports.has(2) && reports.has(3) && !reports.has(4) && reports.has(5) && reports.has(6));
    tracker.release(0, 1, 0);
    QCOMPARE(reports.take(ledger, tracker), quint64(2));
    QCOMPARE(reports.ids.size(), size_t(6));
    QVERIFY(reports.twice.isEmpty());
}

void tst_SendLedger::outOfOrderCompletion_data()
{
    QTest::addColumn<QList<int>>("order"); // the kernel's release order of three sends
    QTest::newRow("in order") << QList<int>{0, 1, 2};
    QTest::newRow("last first") << QList<int>{2, 1, 0};
    QTest::newRow("middle first") << QList<int>{1, 0, 2};
    QTest::newRow("outer first") << QList<int>{0, 2, 1};
}

void tst_SendLedger::outOfOrderCompletion()
{
    QFETCH(QList<int>, order);
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    for (int i = 0; i < 3; ++i) {
        const quint64 id = ledger.accept();
        addSpan(tracker, id, id);
    }
    ledger.handedUpTo(3);
    QCOMPARE(reports.take(ledger, tracker), quint64(0));
    for (const int send : std::as_const(order)) {
        tracker.release(quint32(send), quint32(send), 0);
        QCOMPARE(reports.take(ledger, tracker), quint64(1)); // reported when released, not when in order
        QVERIFY2(reports.has(quint64(send) + 1), "the released id was not the one reported");
    }
    QCOMPARE(ledger.reportedUpTo(), quint64(3));
    QVERIFY(reports.twice.isEmpty());
}

void tst_SendLedger::spanSharedByTwoSendsWaitsForBoth()
{
    // A large message split over two zero-copy sends (a partial send, or the
    // pinned budget cutting it): its id is released only after both.
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    ledger.accept();
    ledger.accept();
    addSpan(tracker, 1, 2);
    addSpan(tracker, 2, 2);
    ledger.handedUpTo(2);
    tracker.release(1, 1, 0);
    QCOMPARE(reports.take(ledger, tracker), quint64(0));
    tracker.release(0, 0, 0);
    QCOMPARE(reports.take(ledger, tracker), quint64(2));
}

void tst_SendLedger::droppedAreMarkedNotDelivered()
{
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    for (int i = 0; i < 5; ++i)
        ledger.accept();
    ledger.handedUpTo(2);
    ledger.droppedUpTo(4); // 3 and 4 dropped (abort)
    ledger.handedUpTo(5);  // 5 sent after a reconnect
    QCOMPARE(reports.take(ledger, tracker), quint64(5));
    QVERIFY(reports.ids.at(1) && reports.ids.at(2));
    QVERIFY(!reports.ids.at(3) && !reports.ids.at(4));
    QVERIFY(reports.ids.at(5));
}

void tst_SendLedger::droppedWhilePendingWaitForTheKernel()
{
    // A datagram numbered by the kernel and then refused: dropped, but its
    // pages are the kernel's until the completion.
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    ledger.accept();
    addSpan(tracker, 1, 1);
    ledger.droppedUpTo(1);
    QCOMPARE(reports.take(ledger, tracker), quint64(0));
    tracker.release(0, 0, 0);
    QCOMPARE(reports.take(ledger, tracker), quint64(1));
    QCOMPARE(reports.ids.at(1), false);
}

void tst_SendLedger::rangesAreMerged()
{
    SendLedger ledger;
    CompletionTracker tracker;
    for (int i = 0; i < 1000; ++i)
        ledger.handedUpTo(ledger.accept());
    QList<SendIdRange> ranges;
    QCOMPARE(ledger.collect(tracker, &ranges), quint64(1000));
    QCOMPARE(ranges.size(), 1); // a million small messages cost one range per turn, not one per message
    QCOMPARE(ranges.constFirst(), (SendIdRange{1, 1000, true}));
}

void tst_SendLedger::heldByPeerUntilReleased()
{
    // A frame in shared memory: handed to the kernel, still held by the peer.
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    for (int i = 0; i < 4; ++i)
        ledger.accept();
    ledger.heldByPeer(2);
    ledger.heldByPeer(3);
    ledger.handedUpTo(4);
    QCOMPARE(reports.take(ledger, tracker), quint64(2)); // 1 and 4
    QVERIFY(reports.has(1) && reports.has(4) && !reports.has(2) && !reports.has(3));
    QVERIFY(ledger.releasedByPeer(3));
    QVERIFY(!ledger.releasedByPeer(3)); // not held any more
    QVERIFY(ledger.hasNews());
    QCOMPARE(reports.take(ledger, tracker), quint64(1));
    QVERIFY(reports.ids.at(3));
    QCOMPARE(ledger.reportedUpTo(), quint64(1));
    QVERIFY(ledger.releasedByPeer(2));
    QCOMPARE(reports.take(ledger, tracker), quint64(1));
    QCOMPARE(ledger.reportedUpTo(), quint64(4));
    QCOMPARE(ledger.peerHeld(), 0);
    QVERIFY(reports.twice.isEmpty());
}

void tst_SendLedger::undeliveredAtPeerAmongDelivered()
{
    // The connection ends with frames 2 and 4 out: those two are not
    // delivered, their neighbours are, and adjacent drops merge.
    SendLedger ledger;
    CompletionTracker tracker;
    Reports reports;
    for (int i = 0; i < 6; ++i)
        ledger.accept();
    for (quint64 id : {2, 3, 5})
        ledger.heldByPeer(id);
    ledger.handedUpTo(6);
    QVERIFY(ledger.releasedByPeer(5));
    reports.take(ledger, tracker);
    ledger.undeliveredAtPeer(3);
    ledger.undeliveredAtPeer(2);
    QCOMPARE(ledger.droppedRanges(), 1);
    QList<SendIdRange> ranges;
    QCOMPARE(ledger.collect(tracker, &ranges), quint64(2));
    QCOMPARE(ranges.size(), 1);
    QCOMPARE(ranges.first().first, quint64(2));
    QCOMPARE(ranges.first().last, quint64(3));
    QVERIFY(!ranges.first().delivered);
    QCOMPARE(ledger.reportedUpTo(), quint64(6));
    QCOMPARE(ledger.droppedRanges(), 0);
}

void tst_SendLedger::randomizedAgainstModel_data()
{
    QTest::addColumn<bool>("peerHolds");
    QTest::newRow("zero-copy spans") << false;
    QTest::newRow("zero-copy spans and frames the peer holds") << true;
}

void tst_SendLedger::randomizedAgainstModel()
{
    // The model: per id, whether it left the queue, whether dropped, the
    // zero-copy sends that carry it, and whether the peer holds it (a frame
    // in shared memory). Released = left, no carrier pending, not held.
    QFETCH(bool, peerHolds);
    QRandomGenerator random(20261202);
    for (int round = 0; round < 200; ++round) {
        SendLedger ledger;
        CompletionTracker tracker;
        Reports reports;
        std::map<quint64, bool> dropped;
        std::map<quint32, std::pair<quint64, quint64>> pendingSpans; // kernel seq -> ids
        std::vector<quint64> held;                                   // ids the peer holds, ascending
        quint64 handed = 0;
        for (int step = 0; step < 300; ++step) {
            switch (random.bounded(7)) {
            case 0:
            case 1: { // accept some and hand them over, maybe in zero-copy sends
                const int count = int(random.bounded(1, 5));
                const quint64 first = ledger.nextId();
                for (int i = 0; i < count; ++i) {
                    const quint64 id = ledger.accept();
                    if (peerHolds && random.bounded(3) == 0) {
                        ledger.heldByPeer(id);
                        held.push_back(id);
                    }
                }
                const quint64 last = ledger.lastId();
                // The send starts with the rest of a message an earlier send
                // left unfinished, and may itself end in the middle of one.
                const quint64 from = handed + 1;
                const bool partial = random.bounded(3) == 0;
                const quint64 to = partial ? last - 1 : last;
                Q_ASSERT(from <= first);
                if (random.bounded(2))
                    pendingSpans[addSpan(tracker, from, last)] = {from, last};
                if (to < from)
                    break;
                if (random.bounded(4) == 0) {
                    for (quint64 id = from; id <= to; ++id)
                        dropped[id] = true;
                    ledger.droppedUpTo(to);
                } else {
                    ledger.handedUpTo(to);
                }
                handed = to;
                break;
            }
            case 2:
            case 3: // the kernel completes one pending send, any of them
                if (!pendingSpans.empty()) {
                    auto it = pendingSpans.begin();
                    std::advance(it, random.bounded(int(pendingSpans.size())));
                    tracker.release(it->first, it->first, 0);
                    pendingSpans.erase(it);
                }
                break;
            case 4: { // the peer lets go of a frame it holds, or the connection ended
                const auto end = std::upper_bound(held.begin(), held.end(), handed);
                if (held.begin() == end)
                    break;
                const auto it = held.begin() + random.bounded(int(end - held.begin()));
                if (random.bounded(4) == 0) {
                    ledger.undeliveredAtPeer(*it);
                    dropped[*it] = true;
                } else {
                    QVERIFY(ledger.releasedByPeer(*it));
                }
                held.erase(it);
                break;
            }
            default: { // a turn ends
                reports.take(ledger, tracker);
                for (const auto &[id, delivered] : reports.ids) {
                    QVERIFY2(!std::binary_search(held.begin(), held.end(), id),
                             qPrintable(QStringLiteral("id %1 reported while the peer holds it").arg(id)));
                    const bool carried = std::any_of(pendingSpans.begin(), pendingSpans.end(), [id = id](auto &span) {
                        return id >= span.second.first && id <= span.second.second;
                    });
                    QVERIFY2(!carried, qPrintable(QStringLiteral("id %1 reported while the kernel holds it").arg(id)));
                    QVERIFY(id <= handed);
                    QCOMPARE(delivered, dropped.count(id) == 0);
                }
                break;
            }
            }
        }
        // Everything completes: every id is reported exactly once.
        ledger.handedUpTo(ledger.lastId());
        for (const auto &[seq, ids] : pendingSpans)
            tracker.release(seq, seq, 0);
        for (quint64 id : held)
            QVERIFY(ledger.releasedByPeer(id));
        reports.take(ledger, tracker);
        QVERIFY2(reports.twice.isEmpty(), "an id was reported twice");
        QCOMPARE(quint64(reports.ids.size()), ledger.lastId());
        QCOMPARE(ledger.reportedUpTo(), ledger.lastId());
    }
}

QTEST_APPLESS_MAIN(tst_SendLedger)
#include "tst_sendledger.moc"
