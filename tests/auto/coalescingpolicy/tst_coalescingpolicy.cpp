// SPDX-License-Identifier: MIT
// Tests of CoalescingPolicy: which message leaves inside the call and when the others follow.
#include "coalescingpolicy_p.h"

#include <QtCore/QList>
#include <functional>
#include <QtTest/QTest>

using namespace Blight;
using When = CoalescingPolicy::When;

namespace QTest {
template<> char *toString(const When &when)
{
    switch (when) {
    case When::Now:
        return qstrdup("Now");
    case When::EndOfTurn:
        return qstrdup("EndOfTurn");
    case When::Writable:
        return qstrdup("Writable");
    }
    return qstrdup("invalid");
}
} // namespace QTest

namespace {

// A fake monotonic clock: a pass of a busy loop takes a few microseconds.
qint64 fakeNow = 0;
constexpr qint64 BusyPassNs = 5000;
qint64 now()
{
    return fakeNow;
}

// One message accepted in \a turn, with an empty queue and a writable socket,
// one busy pass after the previous call.
bool lone(CoalescingPolicy &policy, quint64 turn)
{
    fakeNow += BusyPassNs;
    return policy.sendsImmediately(turn, true, true, now);
}

// \a count messages in \a turn, as a sender in a loop would: the first may
// leave inside the call, the rest are queued behind it.
QList<bool> burst(CoalescingPolicy &policy, quint64 turn, int count)
{
    fakeNow += BusyPassNs;
    QList<bool> immediate;
    for (int i = 0; i < count; ++i) {
        const bool queueEmpty = !immediate.contains(false); // a message that left queued nothing
        immediate.append(policy.sendsImmediately(turn, queueEmpty, true, now));
    }
    return immediate;
}

} // namespace

class tst_CoalescingPolicy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void firstOfTurnIsImmediate();
    void laterInTurnAreNot();
    void requestReplyStaysImmediate();
    void streamOfLoneMessagesIsHeld();
    void replyEndsStream();
    void readInTurnEndsHold();
    void idlePause_data();
    void idlePause();
    void releasesHeldStream_data();
    void releasesHeldStream();
    void streamingSender_data();
    void streamingSender();
    void streamEnds();
    void notImmediate_data();
    void notImmediate();
    void notImmediateStillCounts();
    void flushesNow_data();
    void flushesNow();
    void flushThresholdIsAtLeastOne_data();
    void flushThresholdIsAtLeastOne();
    void restartForgetsTurns();
    void restartForgetsStreaming();
    void joinsQueuedTurn_data();
    void joinsQueuedTurn();
};

void tst_CoalescingPolicy::firstOfTurnIsImmediate()
{
    CoalescingPolicy policy;
    QVERIFY(lone(policy, 1));
    CoalescingPolicy other;
    // Turn numbers are arbitrary (the clock starts at 1 and never is 0).
    QVERIFY(lone(other, 123456789));
}

void tst_CoalescingPolicy::laterInTurnAreNot()
{
    CoalescingPolicy policy;
    QVERIFY(lone(policy, 7));
    QVERIFY(!lone(policy, 7));
    QVERIFY(!lone(policy, 7));
    // A message that did not leave waits for the end of the turn: the sender
    // did not stream in the turn before.
    QCOMPARE(policy.whenQueued(), When::EndOfTurn);
}

void tst_CoalescingPolicy::requestReplyStaysImmediate()
{
    // A request/reply peer reads between its sends: every message answers
    // something and leaves inside the call, pass after pass.
    CoalescingPolicy policy;
    for (quint64 turn = 1; turn <= 20; ++turn) {
        QVERIFY2(lone(policy, turn), qPrintable(QStringLiteral("turn %1").arg(turn)));
        QCOMPARE(policy.whenQueued(), When::EndOfTurn);
        policy.noteRead();
    }
}

void tst_CoalescingPolicy::streamOfLoneMessagesIsHeld()
{
    // One message per pass with nothing read between: a stream. Only its
    // first message leaves inside the call; the others wait for the socket to
    // be writable, so that several passes leave in one send.
    CoalescingPolicy policy;
    QVERIFY(lone(policy, 1));
    for (quint64 turn = 3; turn <= 21; turn += 2) {
        QVERIFY2(!lone(policy, turn), qPrintable(QStringLiteral("turn %1").arg(turn)));
        QCOMPARE(policy.whenQueued(), When::Writable);
        QVERIFY(policy.isStreaming());
    }
}

void tst_CoalescingPolicy::replyEndsStream()
{
    CoalescingPolicy policy;
    QVERIFY(lone(policy, 1));
    QVERIFY(!lone(policy, 2)); // streaming
    policy.noteRead();
    // The next pass after a read: a reply, at once.
    QVERIFY(lone(policy, 3));
    QCOMPARE(policy.whenQueued(), When::EndOfTurn);
}

void tst_CoalescingPolicy::readInTurnEndsHold()
{
    // A read in the middle of a held turn: what follows answers it, so the
    // queue leaves at the end of this turn, not after more passes.
    CoalescingPolicy policy;
    QVERIFY(lone(policy, 1));
    QVERIFY(!lone(policy, 2));
    QCOMPARE(policy.whenQueued(), When::Writable);
    policy.noteRead();
    QVERIFY(!policy.sendsImmediately(2, false, true, now)); // queued behind the held one
    QCOMPARE(policy.whenQueued(), When::EndOfTurn);
    QVERIFY(policy.releasesHeldStream(2, 2));
}

void tst_CoalescingPolicy::idlePause_data()
{
    QTest::addColumn<quint64>("turnGap");
    QTest::addColumn<qint64>("pauseNs");
    QTest::addColumn<bool>("immediate");

    // A loop that blocked in poll() is two turns on however long it slept:
    // the time since the last message tells a timer's tick from a stream.
    QTest::addRow("next-pass-busy") << quint64(2) << BusyPassNs << false;
    QTest::addRow("next-pass-just-under") << quint64(2) << CoalescingPolicy::IdlePauseNs - 1 << false;
    QTest::addRow("next-pass-idle") << quint64(2) << CoalescingPolicy::IdlePauseNs << true;
    QTest::addRow("next-pass-60hz-tick") << quint64(2) << qint64(16666667) << true;
    QTest::addRow("next-turn-busy") << quint64(1) << BusyPassNs << false;
    QTest::addRow("passes-skipped") << quint64(3) << BusyPassNs << true;
    QTest::addRow("long-ago") << quint64(1000) << BusyPassNs << true;
}

void tst_CoalescingPolicy::idlePause()
{
    QFETCH(quint64, turnGap);
    QFETCH(qint64, pauseNs);
    QFETCH(bool, immediate);

    CoalescingPolicy policy;
    QVERIFY(lone(policy, 10));
    fakeNow += pauseNs - BusyPassNs; // lone() adds a busy pass
    QCOMPARE(lone(policy, 10 + turnGap), immediate);
    QCOMPARE(policy.whenQueued(), immediate ? When::EndOfTurn : When::Writable);
}

void tst_CoalescingPolicy::releasesHeldStream_data()
{
    QTest::addColumn<quint64>("heldSince");
    QTest::addColumn<quint64>("turn");
    QTest::addColumn<bool>("releases");

    const quint64 hold = CoalescingPolicy::StreamHoldTurns;
    QTest::addRow("same-turn") << quint64(100) << quint64(100) << false;
    QTest::addRow("one-short") << quint64(100) << 100 + hold - 1 << false;
    QTest::addRow("held-long-enough") << quint64(100) << 100 + hold << true;
    QTest::addRow("held-longer") << quint64(100) << 100 + hold + 50 << true;
}

void tst_CoalescingPolicy::releasesHeldStream()
{
    QFETCH(quint64, heldSince);
    QFETCH(quint64, turn);
    QFETCH(bool, releases);

    CoalescingPolicy policy;
    burst(policy, heldSince - 1, 3);
    QVERIFY(!lone(policy, heldSince));
    QVERIFY(policy.isStreaming());
    QCOMPARE(policy.releasesHeldStream(turn, heldSince), releases);
    // No longer a stream (a read came in): the queue leaves at the next chance.
    policy.noteRead();
    QVERIFY(!policy.sendsImmediately(heldSince, false, true, now));
    QVERIFY(policy.releasesHeldStream(heldSince, heldSince));
}

void tst_CoalescingPolicy::streamingSender_data()
{
    QTest::addColumn<int>("burstSize");
    QTest::addColumn<quint64>("gap");

    // The clock moves at both edges of a pass (awake and aboutToBlock), so the
    // next pass of a loop that blocked is two turns later, of one that did not
    // one turn later.
    QTest::addRow("two-next-turn") << 2 << quint64(1);
    QTest::addRow("two-next-pass") << 2 << quint64(2);
    QTest::addRow("hundred-next-turn") << 100 << quint64(1);
    QTest::addRow("hundred-next-pass") << 100 << quint64(2);
}

void tst_CoalescingPolicy::streamingSender()
{
    QFETCH(int, burstSize);
    QFETCH(quint64, gap);

    CoalescingPolicy policy;
    const QList<bool> first = burst(policy, 10, burstSize);
    QCOMPARE(first.count(true), 1);
    QVERIFY(first.first());

    // More than one message in the previous turn: the sender streams, so even
    // the first message of this turn waits, for the socket to be writable.
    QVERIFY(!lone(policy, 10 + gap));
    QCOMPARE(policy.whenQueued(), When::Writable);
    QVERIFY(!lone(policy, 10 + gap));
    QCOMPARE(policy.whenQueued(), When::Writable);
}

void tst_CoalescingPolicy::streamEnds()
{
    CoalescingPolicy policy;
    burst(policy, 1, 5);
    QVERIFY(!lone(policy, 2)); // still streaming
    QCOMPARE(policy.whenQueued(), When::Writable);
    // A pass without a message: the next one starts afresh.
    QVERIFY(lone(policy, 5));
    QCOMPARE(policy.whenQueued(), When::EndOfTurn);
}

void tst_CoalescingPolicy::notImmediate_data()
{
    QTest::addColumn<bool>("queueEmpty");
    QTest::addColumn<bool>("writable");
    QTest::addColumn<bool>("immediate");

    QTest::addRow("empty-writable") << true << true << true;
    QTest::addRow("queued-writable") << false << true << false;
    QTest::addRow("empty-blocked") << true << false << false;
    QTest::addRow("queued-blocked") << false << false << false;
}

void tst_CoalescingPolicy::notImmediate()
{
    QFETCH(bool, queueEmpty);
    QFETCH(bool, writable);
    QFETCH(bool, immediate);

    CoalescingPolicy policy;
    QCOMPARE(policy.sendsImmediately(5, queueEmpty, writable, now), immediate);
}

void tst_CoalescingPolicy::notImmediateStillCounts()
{
    // Messages that could not leave count for the turn all the same: two of
    // them make the sender a streaming one in the next turn.
    CoalescingPolicy policy;
    QVERIFY(!policy.sendsImmediately(1, false, true, now));
    QVERIFY(!policy.sendsImmediately(1, false, true, now));
    QVERIFY(!lone(policy, 2));
    QCOMPARE(policy.whenQueued(), When::Writable);
}

void tst_CoalescingPolicy::flushesNow_data()
{
    QTest::addColumn<qint64>("threshold");
    QTest::addColumn<qint64>("queuedBytes");
    QTest::addColumn<int>("queuedPieces");
    QTest::addColumn<int>("maxPieces");
    QTest::addColumn<bool>("flush");

    QTest::addRow("below-both") << qint64(65536) << qint64(65535) << 63 << 64 << false;
    QTest::addRow("bytes-at-threshold") << qint64(65536) << qint64(65536) << 1 << 64 << true;
    QTest::addRow("bytes-over-threshold") << qint64(65536) << qint64(1 << 30) << 1 << 64 << true;
    QTest::addRow("pieces-at-limit") << qint64(65536) << qint64(100) << 64 << 64 << true;
    QTest::addRow("pieces-over-limit") << qint64(65536) << qint64(100) << 65 << 64 << true;
    QTest::addRow("small-threshold") << qint64(10) << qint64(10) << 1 << 64 << true;
    QTest::addRow("small-threshold-below") << qint64(10) << qint64(9) << 1 << 64 << false;
    QTest::addRow("nothing-queued") << qint64(1) << qint64(0) << 0 << 64 << false;
}

void tst_CoalescingPolicy::flushesNow()
{
    QFETCH(qint64, threshold);
    QFETCH(qint64, queuedBytes);
    QFETCH(int, queuedPieces);
    QFETCH(int, maxPieces);
    QFETCH(bool, flush);

    CoalescingPolicy policy;
    policy.setFlushThreshold(threshold);
    QCOMPARE(policy.flushThreshold(), threshold);
    QCOMPARE(policy.flushesNow(queuedBytes, queuedPieces, maxPieces), flush);
}

void tst_CoalescingPolicy::flushThresholdIsAtLeastOne_data()
{
    QTest::addColumn<qint64>("requested");
    QTest::addColumn<qint64>("threshold");

    QTest::addRow("zero") << qint64(0) << qint64(1);
    QTest::addRow("negative") << qint64(-100) << qint64(1);
    QTest::addRow("one") << qint64(1) << qint64(1);
    QTest::addRow("large") << (qint64(1) << 40) << (qint64(1) << 40);
}

void tst_CoalescingPolicy::flushThresholdIsAtLeastOne()
{
    QFETCH(qint64, requested);
    QFETCH(qint64, threshold);

    CoalescingPolicy policy;
    QCOMPARE(policy.flushThreshold(), qint64(64 * 1024)); // the default
    policy.setFlushThreshold(requested);
    QCOMPARE(policy.flushThreshold(), threshold);
}

void tst_CoalescingPolicy::restartForgetsTurns()
{
    CoalescingPolicy policy;
    QVERIFY(lone(policy, 4));
    QVERIFY(!lone(policy, 4));
    // A new connection in the same turn: its first message leaves at once.
    policy.restart();
    QVERIFY(lone(policy, 4));
    QVERIFY(!lone(policy, 4));
}

void tst_CoalescingPolicy::restartForgetsStreaming()
{
    CoalescingPolicy policy;
    burst(policy, 1, 10);
    policy.restart();
    QCOMPARE(policy.whenQueued(), When::EndOfTurn);
    QVERIFY(lone(policy, 2));
    QCOMPARE(policy.whenQueued(), When::EndOfTurn);
}

void tst_CoalescingPolicy::joinsQueuedTurn_data()
{
    // What happens after a message of turn 5 was queued (noteQueued(5)),
    // and whether a message in turn `asked` then just joins it.
    QTest::addColumn<std::function<void(CoalescingPolicy &)>>("after");
    QTest::addColumn<quint64>("asked");
    QTest::addColumn<bool>("joins");
    using After = std::function<void(CoalescingPolicy &)>;
    const After nothing = [](CoalescingPolicy &) {};
    QTest::newRow("same turn") << nothing << quint64(5) << true;
    QTest::newRow("next turn") << nothing << quint64(6) << false;
    QTest::newRow("a read: a reply follows") << After([](CoalescingPolicy &p) { p.noteRead(); }) << quint64(5) << false;
    QTest::newRow("restart (another thread's clock)")
        << After([](CoalescingPolicy &p) { p.restart(); }) << quint64(5) << false;
    // A message counted but not (yet) queued: the socket did not say so.
    QTest::newRow("counted, not noted") << After([](CoalescingPolicy &p) { p.sendsImmediately(5, false, true, now); })
                                        << quint64(5) << false;
    QTest::newRow("counted and noted") << After([](CoalescingPolicy &p) {
        p.sendsImmediately(5, false, true, now);
        p.noteQueued(5);
    }) << quint64(5) << true;
}

void tst_CoalescingPolicy::joinsQueuedTurn()
{
    QFETCH(std::function<void(CoalescingPolicy &)>, after);
    QFETCH(quint64, asked);
    QFETCH(bool, joins);

    CoalescingPolicy policy;
    QVERIFY(!policy.joinsQueuedTurn(5)); // nothing queued yet
    QVERIFY(lone(policy, 5));            // the first leaves in the call
    QVERIFY(!policy.joinsQueuedTurn(5)); // it was not queued
    QVERIFY(!lone(policy, 5));
    policy.noteQueued(5);
    after(policy);
    QCOMPARE(policy.joinsQueuedTurn(asked), joins);
    if (joins) {
        // Skipping the policy changes nothing it decides later: a joined
        // message would have been queued, and the turn's messages still
        // wait for the end of the turn.
        QVERIFY(!policy.sendsImmediately(asked, false, true, now));
        QCOMPARE(policy.whenQueued(), When::EndOfTurn);
    }
}

QTEST_APPLESS_MAIN(tst_CoalescingPolicy)
#include "tst_coalescingpolicy.moc"
