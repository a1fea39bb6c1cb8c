// SPDX-License-Identifier: MIT
// Tests of the turn clock: the turn moves on with the loop, a listener runs
// once at the end of the turn, and a cancelled one not at all.
#include "turnclock_p.h"

#include <QtCore/QEventLoop>
#include <QtCore/QTimer>
#include <QtTest/QTest>

#include <functional>

using namespace Blight;

namespace {

struct Listener final : TurnListener
{
    int runs = 0;
    std::function<void()> then;
    void endOfTurn() override
    {
        ++runs;
        if (then)
            then();
    }
};

} // namespace

class tst_TurnClock : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void turnMovesOn();
    void listenerRunsOnce();
    void cancelledListenerDoesNotRun();
};

void tst_TurnClock::turnMovesOn()
{
    const quint64 before = TurnClock::current();
    QVERIFY(before != 0);
    QEventLoop loop;
    QTimer::singleShot(0, &loop, &QEventLoop::quit);
    loop.exec();
    QVERIFY(TurnClock::current() > before);
}

void tst_TurnClock::listenerRunsOnce()
{
    Listener listener;
    QVERIFY(TurnClock::schedule(&listener));
    QCOMPARE(listener.runs, 0); // not inside the call
    QEventLoop loop;
    QTimer::singleShot(0, &loop, &QEventLoop::quit);
    loop.exec();
    QCOMPARE(listener.runs, 1);
    QTimer::singleShot(0, &loop, &QEventLoop::quit);
    loop.exec();
    QCOMPARE(listener.runs, 1);
}

void tst_TurnClock::cancelledListenerDoesNotRun()
{
    Listener listener;
    QVERIFY(TurnClock::schedule(&listener));
    TurnClock::cancel(&listener);
    QEventLoop loop;
    QTimer::singleShot(0, &loop, &QEventLoop::quit);
    loop.exec();
    QCOMPARE(listener.runs, 0);
}

QTEST_GUILESS_MAIN(tst_TurnClock)
#include "tst_turnclock.moc"
