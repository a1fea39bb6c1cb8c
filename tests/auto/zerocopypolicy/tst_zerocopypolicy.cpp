// SPDX-License-Identifier: MIT
// Tests of ZeroCopyPolicy: detection, modes, the pinned budget, limits, change reports and the ENOBUFS delay.
#include "tst_zerocopypolicy.h"

#include <cerrno>
#include <cstring>

void tst_ZeroCopyPolicy::initialState()
{
    ZeroCopyPolicy policy;
    QCOMPARE(policy.state(), State::Unsupported);
    QCOMPARE(policy.mode(), Mode::Auto);
    QCOMPARE(policy.reason(), QStringLiteral("not connected"));
    QVERIFY(!policy.isSupported());
    QVERIFY(!policy.isActive());
    QVERIFY(!policy.isEligible(1 << 30));
    QVERIFY(!policy.takeChange());
}

void tst_ZeroCopyPolicy::detect_data()
{
    QTest::addColumn<bool>("inet");
    QTest::addColumn<int>("soZeroCopyError");
    QTest::addColumn<int>("mode");
    QTest::addColumn<int>("state");
    QTest::addColumn<bool>("supported");
    QTest::addColumn<QString>("reasonPart");

    const QString unixText = QStringLiteral("AF_UNIX");
    const QString refused = QStringLiteral("refused SO_ZEROCOPY");
    QTest::addRow("unix-auto") << false << 0 << int(Mode::Auto) << int(State::Unsupported) << false << unixText;
    QTest::addRow("unix-on") << false << 0 << int(Mode::On) << int(State::Unsupported) << false << unixText;
    QTest::addRow("unix-off") << false << 0 << int(Mode::Off) << int(State::Unsupported) << false << unixText;
    QTest::addRow("refused-enoprotoopt") << true << int(ENOPROTOOPT) << int(Mode::Auto) << int(State::Unsupported)
                                         << false << QString::fromLocal8Bit(std::strerror(ENOPROTOOPT));
    QTest::addRow("refused-eperm") << true << int(EPERM) << int(Mode::On) << int(State::Unsupported) << false
                                   << refused;
    QTest::addRow("inet-off") << true << 0 << int(Mode::Off) << int(State::Disabled) << true
                              << QStringLiteral("switched off");
    QTest::addRow("inet-auto") << true << 0 << int(Mode::Auto) << int(State::Active) << true
                               << QStringLiteral("go zero-copy");
    QTest::addRow("inet-on") << true << 0 << int(Mode::On) << int(State::Active) << true
                             << QStringLiteral("go zero-copy");
}

void tst_ZeroCopyPolicy::detect()
{
    QFETCH(bool, inet);
    QFETCH(int, soZeroCopyError);
    QFETCH(int, mode);
    QFETCH(int, state);
    QFETCH(bool, supported);
    QFETCH(QString, reasonPart);

    ZeroCopyPolicy policy;
    policy.setMode(Mode(mode));
    policy.detect(inet, soZeroCopyError);
    QCOMPARE(policy.state(), State(state));
    QCOMPARE(policy.isSupported(), supported);
    QCOMPARE(policy.mode(), Mode(mode));
    QVERIFY2(policy.reason().contains(reasonPart), qPrintable(policy.reason()));
    // A new socket always reports its state, even the one it had before.
    QVERIFY(policy.takeChange());
    QVERIFY(!policy.takeChange());
    policy.detect(inet, soZeroCopyError);
    QVERIFY(policy.takeChange());
}

void tst_ZeroCopyPolicy::detectUsesModeSetBefore()
{
    ZeroCopyPolicy policy;
    policy.setMode(Mode::Off);
    QCOMPARE(policy.state(), State::Unsupported); // nothing to switch off yet
    QVERIFY(!policy.takeChange());
    policy.detect(true, 0);
    QCOMPARE(policy.state(), State::Disabled);
    policy.setMode(Mode::Auto);
    QCOMPARE(policy.state(), State::Active);
}

void tst_ZeroCopyPolicy::setModeTransitions_data()
{
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("to");
    QTest::addColumn<int>("state");
    QTest::addColumn<bool>("changed");

    QTest::addRow("auto-to-off") << int(Mode::Auto) << int(Mode::Off) << int(State::Disabled) << true;
    QTest::addRow("on-to-off") << int(Mode::On) << int(Mode::Off) << int(State::Disabled) << true;
    QTest::addRow("off-to-auto") << int(Mode::Off) << int(Mode::Auto) << int(State::Active) << true;
    QTest::addRow("off-to-on") << int(Mode::Off) << int(Mode::On) << int(State::Active) << true;
    // Active either way, with the same reason: nothing to report.
    QTest::addRow("auto-to-on") << int(Mode::Auto) << int(Mode::On) << int(State::Active) << false;
    QTest::addRow("auto-to-auto") << int(Mode::Auto) << int(Mode::Auto) << int(State::Active) << false;
    QTest::addRow("off-to-off") << int(Mode::Off) << int(Mode::Off) << int(State::Disabled) << false;
}

void tst_ZeroCopyPolicy::setModeTransitions()
{
    QFETCH(int, from);
    QFETCH(int, to);
    QFETCH(int, state);
    QFETCH(bool, changed);

    ZeroCopyPolicy policy = activePolicy(Mode(from));
    policy.setMode(Mode(to));
    QCOMPARE(policy.mode(), Mode(to));
    QCOMPARE(policy.state(), State(state));
    QCOMPARE(policy.takeChange(), changed);
}

void tst_ZeroCopyPolicy::setModeWhileUnsupported()
{
    ZeroCopyPolicy policy;
    policy.detect(false, 0);
    policy.takeChange();
    const QString reason = policy.reason();
    policy.setMode(Mode::Off);
    policy.setMode(Mode::On);
    QCOMPARE(policy.mode(), Mode::On);
    QCOMPARE(policy.state(), State::Unsupported);
    QCOMPARE(policy.reason(), reason);
    QVERIFY(!policy.takeChange());
    QVERIFY(!policy.isActive());
}

void tst_ZeroCopyPolicy::setModeLeavesBackOff()
{
    ZeroCopyPolicy policy = activePolicy();
    quint32 hi = 0;
    QCOMPARE(copyUntilBackOff(policy, &hi), 1000);
    QCOMPARE(policy.state(), State::BackedOff);
    policy.takeChange();

    policy.setMode(Mode::Auto);
    QCOMPARE(policy.state(), State::Active);
    QVERIFY(policy.takeChange());
    QCOMPARE(policy.currentBackOff(), 0);
    QVERIFY(!policy.isProbing());
    // The back-off starts over: the first delay is the interval again, after
    // copiedBackOffCount more copies.
    QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
    QCOMPARE(policy.onCompletion(true, 1, hi++), 0);
    QCOMPARE(policy.onCompletion(true, 1, hi++), 1000);
}

void tst_ZeroCopyPolicy::isActive_data()
{
    QTest::addColumn<int>("mode");
    QTest::addColumn<bool>("backOff");
    QTest::addColumn<bool>("budget");
    QTest::addColumn<bool>("active");

    QTest::addRow("auto") << int(Mode::Auto) << false << false << true;
    QTest::addRow("auto-budget") << int(Mode::Auto) << false << true << true;
    QTest::addRow("auto-backed-off") << int(Mode::Auto) << true << false << false;
    QTest::addRow("on") << int(Mode::On) << false << false << true;
    QTest::addRow("on-budget") << int(Mode::On) << false << true << true;
    QTest::addRow("on-after-copies") << int(Mode::On) << true << false << true;
    QTest::addRow("off") << int(Mode::Off) << false << false << false;
}

void tst_ZeroCopyPolicy::isActive()
{
    QFETCH(int, mode);
    QFETCH(bool, backOff);
    QFETCH(bool, budget);
    QFETCH(bool, active);

    ZeroCopyPolicy policy = activePolicy(Mode(mode));
    if (backOff) {
        quint32 hi = 0;
        for (int i = 0; i < 10; ++i)
            policy.onCompletion(true, 1, hi++);
    }
    if (budget)
        policy.waitForCompletions(1000, 5);
    QCOMPARE(policy.isActive(), active);
}

void tst_ZeroCopyPolicy::eligibility()
{
    ZeroCopyPolicy policy = activePolicy();
    QCOMPARE(policy.threshold(), qint64(16 * 1024));
    QVERIFY(!policy.isEligible(16 * 1024 - 1));
    QVERIFY(policy.isEligible(16 * 1024));
    policy.setThreshold(100);
    QVERIFY(!policy.isEligible(99));
    QVERIFY(policy.isEligible(100));

    ZeroCopyPolicy unixPolicy;
    unixPolicy.detect(false, 0);
    QVERIFY(!unixPolicy.isEligible(1 << 20));
}

void tst_ZeroCopyPolicy::thresholdInReason()
{
    ZeroCopyPolicy policy = activePolicy();
    QVERIFY2(policy.reason().contains(QStringLiteral("16384")), qPrintable(policy.reason()));
    policy.setThreshold(5000);
    QVERIFY2(policy.reason().contains(QStringLiteral("5000")), qPrintable(policy.reason()));
    QVERIFY(policy.takeChange());
    policy.setThreshold(5000);
    QVERIFY(!policy.takeChange());
}

void tst_ZeroCopyPolicy::budget()
{
    ZeroCopyPolicy policy = activePolicy();
    QVERIFY(!policy.isWaitingForCompletions());

    policy.waitForCompletions(123456, 7);
    QCOMPARE(policy.state(), State::Budget);
    QVERIFY(policy.isWaitingForCompletions());
    QVERIFY2(policy.reason().contains(QStringLiteral("123456")), qPrintable(policy.reason()));
    QVERIFY2(policy.reason().contains(QStringLiteral("7 sends")), qPrintable(policy.reason()));
    QVERIFY(policy.takeChange());

    QVERIFY(policy.budgetFreed());
    QCOMPARE(policy.state(), State::Active);
    QVERIFY(!policy.isWaitingForCompletions());
    QVERIFY(policy.reason().contains(QStringLiteral("go zero-copy")));
    QVERIFY(policy.takeChange());
    QVERIFY(!policy.budgetFreed());
    QVERIFY(!policy.takeChange());
}

void tst_ZeroCopyPolicy::budgetWhileNotActive()
{
    // Backed off, the socket may still wait for completions of earlier sends;
    // the state stays what it is.
    ZeroCopyPolicy policy = activePolicy();
    quint32 hi = 0;
    QVERIFY(copyUntilBackOff(policy, &hi) > 0);
    policy.takeChange();
    policy.waitForCompletions(100, 1);
    QCOMPARE(policy.state(), State::BackedOff);
    QVERIFY(policy.isWaitingForCompletions());
    QVERIFY(!policy.takeChange());
    QVERIFY(policy.budgetFreed());
    QCOMPARE(policy.state(), State::BackedOff);
    QVERIFY(!policy.takeChange());
}

void tst_ZeroCopyPolicy::budgetFreedWithoutWaiting()
{
    ZeroCopyPolicy policy = activePolicy();
    QVERIFY(!policy.budgetFreed());
    QCOMPARE(policy.state(), State::Active);
    QVERIFY(!policy.takeChange());
}

void tst_ZeroCopyPolicy::takeChange()
{
    ZeroCopyPolicy policy;
    QVERIFY(!policy.takeChange());
    policy.detect(true, 0);
    QVERIFY(policy.takeChange());
    QVERIFY(!policy.takeChange());

    // Calls that change neither state nor reason.
    policy.setMode(Mode::Auto);
    policy.setPendingBytesLimit(1000);
    policy.setPendingBuffersLimit(3);
    policy.setDefaultLimits(5000, 9);
    policy.setCopiedBackOffCount(4);
    policy.setBackOffInterval(10);
    policy.onCompletion(false, 1, 0);
    policy.onCompletion(true, 1, 1);
    policy.budgetFreed();
    policy.noBuffersDelay();
    policy.resetNoBuffersDelay();
    QVERIFY(!policy.takeChange());

    // Each call that changes one of them.
    policy.setMode(Mode::Off); // state
    QVERIFY(policy.takeChange());
    policy.setMode(Mode::On); // state
    QVERIFY(policy.takeChange());
    policy.setThreshold(1234); // reason only
    QVERIFY(policy.takeChange());
    policy.waitForCompletions(1, 1); // state
    QVERIFY(policy.takeChange());
    policy.waitForCompletions(2, 2); // not Active any more: no change
    QVERIFY(!policy.takeChange());
    policy.budgetFreed(); // state
    QVERIFY(policy.takeChange());
    policy.restart(); // state and reason
    QVERIFY(policy.takeChange());
    policy.restart(); // already so
    QVERIFY(!policy.takeChange());
}

void tst_ZeroCopyPolicy::userLimitsSurvive()
{
    ZeroCopyPolicy policy;
    QCOMPARE(policy.pendingBytesLimit(), qint64(64 * 1024 * 1024));
    QCOMPARE(policy.pendingBuffersLimit(), 20);

    // Defaults for a socket: both follow the detection while the user set none.
    policy.setDefaultLimits(6 * 1024 * 1024, 20);
    QCOMPARE(policy.pendingBytesLimit(), qint64(6 * 1024 * 1024));
    QCOMPARE(policy.pendingBuffersLimit(), 20);

    policy.setPendingBytesLimit(300000);
    policy.setDefaultLimits(1000, 30);
    QCOMPARE(policy.pendingBytesLimit(), qint64(300000));
    QCOMPARE(policy.pendingBuffersLimit(), 30);

    policy.setPendingBuffersLimit(7);
    policy.restart();
    policy.detect(true, 0);
    policy.setDefaultLimits(2000, 40);
    QCOMPARE(policy.pendingBytesLimit(), qint64(300000));
    QCOMPARE(policy.pendingBuffersLimit(), 7);

    // The threshold and back-off settings are the user's too.
    policy.setThreshold(777);
    policy.setCopiedBackOffCount(5);
    policy.setBackOffInterval(250);
    policy.setMode(Mode::On);
    policy.restart();
    policy.detect(true, 0);
    QCOMPARE(policy.threshold(), qint64(777));
    QCOMPARE(policy.copiedBackOffCount(), 5);
    QCOMPARE(policy.backOffInterval(), 250);
    QCOMPARE(policy.mode(), Mode::On);
}

void tst_ZeroCopyPolicy::limitsAtLeastOne()
{
    ZeroCopyPolicy policy;
    policy.setDefaultLimits(0, 0);
    QCOMPARE(policy.pendingBytesLimit(), qint64(1));
    QCOMPARE(policy.pendingBuffersLimit(), 1);
    policy.setPendingBytesLimit(-5);
    policy.setPendingBuffersLimit(-5);
    QCOMPARE(policy.pendingBytesLimit(), qint64(1));
    QCOMPARE(policy.pendingBuffersLimit(), 1);
}

void tst_ZeroCopyPolicy::mustWait_data()
{
    QTest::addColumn<qint64>("pendingBytes");
    QTest::addColumn<qint64>("pendingSends");
    QTest::addColumn<bool>("wait");

    // Limits: 1000 bytes, 4 sends.
    QTest::addRow("nothing-pending") << qint64(0) << qint64(0) << false;
    QTest::addRow("nothing-pending-huge-bytes") << qint64(5000) << qint64(0) << false;
    QTest::addRow("below-both") << qint64(999) << qint64(3) << false;
    QTest::addRow("bytes-reached") << qint64(1000) << qint64(1) << true;
    QTest::addRow("bytes-over") << qint64(50000) << qint64(1) << true;
    QTest::addRow("sends-reached") << qint64(10) << qint64(4) << true;
    QTest::addRow("sends-over") << qint64(10) << qint64(40) << true;
}

void tst_ZeroCopyPolicy::mustWait()
{
    QFETCH(qint64, pendingBytes);
    QFETCH(qint64, pendingSends);
    QFETCH(bool, wait);

    ZeroCopyPolicy policy = activePolicy();
    policy.setPendingBytesLimit(1000);
    policy.setPendingBuffersLimit(4);
    QCOMPARE(policy.mustWait(pendingBytes, pendingSends), wait);
}

void tst_ZeroCopyPolicy::budgetLeft_data()
{
    QTest::addColumn<qint64>("pendingBytes");
    QTest::addColumn<qint64>("left");

    QTest::addRow("none-pinned") << qint64(0) << qint64(1000);
    QTest::addRow("some-pinned") << qint64(400) << qint64(600);
    QTest::addRow("one-left") << qint64(999) << qint64(1);
    // Never 0: a batch always carries at least one byte.
    QTest::addRow("exhausted") << qint64(1000) << qint64(1);
    QTest::addRow("over") << qint64(5000) << qint64(1);
}

void tst_ZeroCopyPolicy::budgetLeft()
{
    QFETCH(qint64, pendingBytes);
    QFETCH(qint64, left);

    ZeroCopyPolicy policy;
    policy.setPendingBytesLimit(1000);
    QCOMPARE(policy.budgetLeft(pendingBytes), left);
}

void tst_ZeroCopyPolicy::noBuffersDelay()
{
    ZeroCopyPolicy policy = activePolicy();
    const QList<int> expected{1, 2, 4, 8, 16, 32, 64, 64, 64};
    QCOMPARE(expected.at(6), ZeroCopyPolicy::MaxNoBuffersDelayMs);
    for (int delay : expected)
        QCOMPARE(policy.noBuffersDelay(), delay);
    policy.resetNoBuffersDelay();
    QCOMPARE(policy.noBuffersDelay(), 1);
    QCOMPARE(policy.noBuffersDelay(), 2);
    QCOMPARE(policy.noBuffersDelay(), 4);
    policy.restart();
    QCOMPARE(policy.noBuffersDelay(), 1);
}

void tst_ZeroCopyPolicy::restartClearsConnectionState()
{
    ZeroCopyPolicy policy = activePolicy();
    quint32 hi = 0;
    QCOMPARE(copyUntilBackOff(policy, &hi), 1000);
    policy.probe(hi);
    QCOMPARE(policy.onCompletion(true, 1, hi++), 2000);
    policy.probe(hi);
    policy.waitForCompletions(10, 1);
    policy.noBuffersDelay();
    policy.takeChange();

    policy.restart();
    QCOMPARE(policy.state(), State::Unsupported);
    QCOMPARE(policy.reason(), QStringLiteral("not connected"));
    QVERIFY(!policy.isSupported());
    QVERIFY(!policy.isProbing());
    QVERIFY(!policy.isWaitingForCompletions());
    QCOMPARE(policy.currentBackOff(), 0);
    QVERIFY(policy.takeChange());

    // The next connection starts clean: a fresh count, the interval as first delay.
    policy.detect(true, 0);
    QCOMPARE(policy.state(), State::Active);
    QCOMPARE(policy.onCompletion(true, 1, 0), 0);
    QCOMPARE(policy.onCompletion(true, 1, 1), 0);
    QCOMPARE(policy.onCompletion(true, 1, 2), 1000);
}

void tst_ZeroCopyPolicy::settersClamp()
{
    ZeroCopyPolicy policy;
    policy.setThreshold(0);
    QCOMPARE(policy.threshold(), qint64(1));
    policy.setCopiedBackOffCount(0);
    QCOMPARE(policy.copiedBackOffCount(), 1);
    policy.setCopiedBackOffCount(-3);
    QCOMPARE(policy.copiedBackOffCount(), 1);
    policy.setBackOffInterval(0);
    QCOMPARE(policy.backOffInterval(), 1);
    policy.setBackOffInterval(-10);
    QCOMPARE(policy.backOffInterval(), 1);
}

QTEST_APPLESS_MAIN(tst_ZeroCopyPolicy)
