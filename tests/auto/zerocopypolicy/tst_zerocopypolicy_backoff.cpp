// SPDX-License-Identifier: MIT
// Tests of ZeroCopyPolicy: the COPIED back-off, its probes and delays, and mode On.
#include "tst_zerocopypolicy.h"

void tst_ZeroCopyPolicy::autoBacksOff_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("interval");
    QTest::addColumn<bool>("inBudget");

    QTest::addRow("default") << 3 << 1000 << false;
    QTest::addRow("one") << 1 << 250 << false;
    QTest::addRow("ten") << 10 << 5 << false;
    QTest::addRow("while-budget") << 3 << 1000 << true;
}

void tst_ZeroCopyPolicy::autoBacksOff()
{
    QFETCH(int, count);
    QFETCH(int, interval);
    QFETCH(bool, inBudget);

    ZeroCopyPolicy policy = activePolicy();
    policy.setCopiedBackOffCount(count);
    policy.setBackOffInterval(interval);
    QCOMPARE(policy.copiedBackOffCount(), count);
    QCOMPARE(policy.backOffInterval(), interval);
    if (inBudget)
        policy.waitForCompletions(10, 1);
    policy.takeChange();

    quint32 hi = 0;
    for (int i = 1; i < count; ++i) {
        QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
        QVERIFY(policy.state() != State::BackedOff);
        QVERIFY(!policy.takeChange());
    }
    QCOMPARE(policy.onCompletion(true, 1, hi++), interval);
    QCOMPARE(policy.state(), State::BackedOff);
    QCOMPARE(policy.currentBackOff(), interval);
    QVERIFY(!policy.isActive());
    QVERIFY(policy.takeChange());
    QVERIFY2(policy.reason().contains(QString::number(interval) + QStringLiteral(" ms")), qPrintable(policy.reason()));
    QVERIFY2(policy.reason().contains(QStringLiteral("copy path")), qPrintable(policy.reason()));
    // More copies of sends still in flight change nothing: no probe is running.
    QCOMPARE(policy.onCompletion(true, 5, hi += 5), 0);
    QCOMPARE(policy.state(), State::BackedOff);
}

void tst_ZeroCopyPolicy::notCopiedResetsCount()
{
    ZeroCopyPolicy policy = activePolicy();
    quint32 hi = 0;
    for (int round = 0; round < 5; ++round) {
        QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
        QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
        QCOMPARE(policy.onCompletion(false, 1, hi++), 0); // "in a row" starts over
    }
    QCOMPARE(policy.state(), State::Active);
    // A range of several sends counts each of them.
    QCOMPARE(policy.onCompletion(true, 3, hi += 3), 1000);
}

void tst_ZeroCopyPolicy::emptyRangeCountsAsOne()
{
    ZeroCopyPolicy policy = activePolicy();
    policy.setCopiedBackOffCount(2);
    QCOMPARE(policy.onCompletion(true, 0, 0), 0);
    QCOMPARE(policy.onCompletion(true, 0, 1), 1000);
}

void tst_ZeroCopyPolicy::backOffDoubles_data()
{
    QTest::addColumn<int>("interval");
    QTest::addColumn<QList<int>>("delays");

    QTest::addRow("default") << 1000 << QList<int>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000};
    QTest::addRow("odd") << 7000 << QList<int>{7000, 14000, 28000, 56000, 60000, 60000};
    QTest::addRow("just-below-cap") << 59999 << QList<int>{59999, 60000, 60000};
    QTest::addRow("one") << 1 << QList<int>{1, 2, 4, 8, 16};
}

void tst_ZeroCopyPolicy::backOffDoubles()
{
    QFETCH(int, interval);
    QFETCH(QList<int>, delays);

    ZeroCopyPolicy policy = activePolicy();
    policy.setBackOffInterval(interval);
    quint32 hi = 0;
    QCOMPARE(copyUntilBackOff(policy, &hi), delays.first());
    for (qsizetype i = 1; i < delays.size(); ++i) {
        // The timer ran out: one probe, and the kernel copied it too.
        policy.probe(hi);
        QCOMPARE(policy.state(), State::Active);
        QVERIFY(policy.isProbing());
        QVERIFY(policy.isActive());
        QVERIFY2(policy.reason().contains(QStringLiteral("probing")), qPrintable(policy.reason()));
        QCOMPARE(policy.onCompletion(true, 1, hi++), delays.at(i));
        QCOMPARE(policy.state(), State::BackedOff);
        QVERIFY(!policy.isProbing());
        QCOMPARE(policy.currentBackOff(), delays.at(i));
        QVERIFY2(policy.reason().contains(QStringLiteral("probe")), qPrintable(policy.reason()));
    }
}

void tst_ZeroCopyPolicy::probeNotCopiedResetsDelay()
{
    ZeroCopyPolicy policy = activePolicy();
    quint32 hi = 0;
    QCOMPARE(copyUntilBackOff(policy, &hi), 1000);
    policy.probe(hi);
    QCOMPARE(policy.onCompletion(true, 1, hi++), 2000);
    policy.probe(hi);
    policy.takeChange();

    // The probe went zero-copy for real: the state stays Active, the reason
    // says so, and the next back-off starts from the interval again.
    QCOMPARE(policy.onCompletion(false, 1, hi++), 0);
    QCOMPARE(policy.state(), State::Active);
    QVERIFY(!policy.isProbing());
    QCOMPARE(policy.currentBackOff(), 0);
    QVERIFY(policy.takeChange());
    QVERIFY2(policy.reason().contains(QStringLiteral("works again")), qPrintable(policy.reason()));
    QCOMPARE(copyUntilBackOff(policy, &hi), 1000);
    QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
}

void tst_ZeroCopyPolicy::probeOnlyFromBackedOff()
{
    ZeroCopyPolicy policy = activePolicy();
    policy.probe(5); // a stale timer: nothing to probe
    QVERIFY(!policy.isProbing());
    QCOMPARE(policy.state(), State::Active);
    QVERIFY(!policy.takeChange());

    ZeroCopyPolicy off = activePolicy(Mode::Off);
    off.probe(5);
    QCOMPARE(off.state(), State::Disabled);
    QVERIFY(!off.isProbing());
}

void tst_ZeroCopyPolicy::rangeBeforeProbe_data()
{
    QTest::addColumn<quint32>("probeStart");
    QTest::addColumn<quint32>("oldHi");
    QTest::addColumn<quint32>("probeHi");

    QTest::addRow("plain") << quint32(100) << quint32(99) << quint32(100);
    QTest::addRow("far-before") << quint32(100000) << quint32(3) << quint32(100005);
    QTest::addRow("wrap-probe-at-max") << quint32(0xffffffffu) << quint32(0xfffffffeu) << quint32(0xffffffffu);
    QTest::addRow("wrap-probe-hi-after-wrap") << quint32(0xfffffff0u) << quint32(0xffffffe0u) << quint32(3);
    QTest::addRow("wrap-old-before-zero") << quint32(5) << quint32(0xfffffffbu) << quint32(5);
    QTest::addRow("probe-at-zero") << quint32(0) << quint32(0xffffffffu) << quint32(0);
}

void tst_ZeroCopyPolicy::rangeBeforeProbe()
{
    QFETCH(quint32, probeStart);
    QFETCH(quint32, oldHi);
    QFETCH(quint32, probeHi);

    ZeroCopyPolicy policy = activePolicy();
    quint32 hi = 0;
    QCOMPARE(copyUntilBackOff(policy, &hi), 1000);
    policy.probe(probeStart);
    policy.takeChange();

    // Copied sends made before the probe (still in flight when it began) say
    // nothing about it: still probing, still Active.
    QCOMPARE(policy.onCompletion(true, 4, oldHi), 0);
    QCOMPARE(policy.state(), State::Active);
    QVERIFY(policy.isProbing());
    QVERIFY(!policy.takeChange());
    // The probe's own range does.
    QCOMPARE(policy.onCompletion(true, 1, probeHi), 2000);
    QCOMPARE(policy.state(), State::BackedOff);
}

void tst_ZeroCopyPolicy::modeOnNeverBacksOff()
{
    ZeroCopyPolicy policy = activePolicy(Mode::On);
    quint32 hi = 0;
    QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
    QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
    QVERIFY(!policy.takeChange());
    QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
    QCOMPARE(policy.state(), State::Active);
    QVERIFY(policy.takeChange());
    QVERIFY2(policy.reason().contains(QStringLiteral("kernel copies")), qPrintable(policy.reason()));
    for (int i = 0; i < 100; ++i)
        QCOMPARE(policy.onCompletion(true, 1000, hi += 1000), 0);
    QCOMPARE(policy.state(), State::Active);
    QVERIFY(policy.isActive());
    QCOMPARE(policy.currentBackOff(), 0);
    QVERIFY(!policy.takeChange()); // the same reason again is no change
}

void tst_ZeroCopyPolicy::modeOnReasonFollowsKernel()
{
    // Forced on, the kernel copied for a while (a route through loopback),
    // then zero-copy works again: the reason must not keep saying it copies.
    ZeroCopyPolicy policy = activePolicy(Mode::On);
    quint32 hi = 0;
    for (int i = 0; i < 3; ++i)
        policy.onCompletion(true, 1, hi++);
    QVERIFY(policy.reason().contains(QStringLiteral("kernel copies")));
    policy.takeChange();
    for (int i = 0; i < 3; ++i)
        policy.onCompletion(false, 1, hi++);
    QCOMPARE(policy.state(), State::Active);
    QVERIFY2(!policy.reason().contains(QStringLiteral("kernel copies")), qPrintable(policy.reason()));
    QVERIFY(policy.takeChange());
}

void tst_ZeroCopyPolicy::modeOffIgnoresCompletions()
{
    // Completions of sends made before the switch still arrive.
    ZeroCopyPolicy policy = activePolicy(Mode::Off);
    quint32 hi = 0;
    for (int i = 0; i < 10; ++i)
        QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
    QCOMPARE(policy.state(), State::Disabled);
    QVERIFY(!policy.takeChange());
}

void tst_ZeroCopyPolicy::saturatingCopiedCount()
{
    // A huge range (a bogus or wrapped one) must not wrap the count of copies
    // in a row: it is capped, and shows as such in the reason.
    ZeroCopyPolicy policy = activePolicy();
    QCOMPARE(policy.onCompletion(true, 0xffffffffu, 10), 1000);
    QVERIFY2(policy.reason().contains(QStringLiteral("1048576 zero-copy sends in a row")), qPrintable(policy.reason()));

    // While a probe runs, copied ranges from before it keep adding up without
    // counting for it; many huge ones must still not wrap.
    policy.probe(100);
    for (int i = 0; i < 5000; ++i)
        QCOMPARE(policy.onCompletion(true, 0xffffffffu, 50), 0);
    QVERIFY(policy.isProbing());
    QCOMPARE(policy.onCompletion(true, 1, 100), 2000);
    QVERIFY2(policy.reason().contains(QStringLiteral("1048576 zero-copy sends in a row")), qPrintable(policy.reason()));
}
