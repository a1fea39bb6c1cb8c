// SPDX-License-Identifier: MIT
// Tests of CoalescingPolicy: which message leaves inside the call and when the others follow.
#include "coalescingpolicy_p.h"

#include <QtCore/QList>
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

// One message accepted in \a turn, with an empty queue and a writable socket.
bool lone(CoalescingPolicy &policy, quint64 turn)
{
    return policy.sendsImmediately(turn, true, true);
}

// \a count messages in \a turn, as a sender in a loop would: the first may
// leave inside the call, the rest are queued behind it.
QList<bool> burst(CoalescingPolicy &policy, quint64 turn, int count)
{
    QList<bool> immediate;
    for (int i = 0; i < count; ++i) {
        const bool queueEmpty = !immediate.contains(false); // a message that left queued nothing
        immediate.append(policy.sendsImmediately(turn, queueEmpty, true));
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
    void oneMessagePerTurnStaysImmediate();
    void streamingSender_data();
    void streamingSender();
    void streamEnds();
    void loneMessageAfterIdleTurns();
    void notImmediate_data();
    void notImmediate();
    void notImmediateStillCounts();
    void flushesNow_data();
    void flushesNow();
    void flushThresholdIsAtLeastOne_data();
    void flushThresholdIsAtLeastOne();
    void restartForgetsTurns();
    void restartForgetsStreaming();
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

void tst_CoalescingPolicy::oneMessagePerTurnStaysImmediate()
{
    // A request/reply peer: one message per turn never waits.
    CoalescingPolicy policy;
    for (quint64 turn = 1; turn <= 20; ++turn) {
        QVERIFY2(lone(policy, turn), qPrintable(QStringLiteral("turn %1").arg(turn)));
        QCOMPARE(policy.whenQueued(), When::EndOfTurn);
    }
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
    QVERIFY(!lone(policy, 2)); // still streaming: 5 messages in turn 1
    QCOMPARE(policy.whenQueued(), When::Writable);
    // Turn 2 had one message: turn 3's first message leaves at once again.
    QVERIFY(lone(policy, 3));
    QCOMPARE(policy.whenQueued(), When::EndOfTurn);
}

void tst_CoalescingPolicy::loneMessageAfterIdleTurns()
{
    // A burst, then a long quiet time (many turns without a message), then
    // one message: the turn before it was idle, the sender is not streaming,
    // and the message must not wait for a writable notification.
    CoalescingPolicy policy;
    burst(policy, 1, 5);
    QVERIFY(lone(policy, 1000));
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
    QCOMPARE(policy.sendsImmediately(5, queueEmpty, writable), immediate);
}

void tst_CoalescingPolicy::notImmediateStillCounts()
{
    // Messages that could not leave count for the turn all the same: two of
    // them make the sender a streaming one in the next turn.
    CoalescingPolicy policy;
    QVERIFY(!policy.sendsImmediately(1, false, true));
    QVERIFY(!policy.sendsImmediately(1, false, true));
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

QTEST_APPLESS_MAIN(tst_CoalescingPolicy)
#include "tst_coalescingpolicy.moc"
