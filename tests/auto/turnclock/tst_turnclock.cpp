// SPDX-License-Identifier: MIT
// Tests of the turn clock: the turn moves on with the loop, a listener runs
// once at the end of the turn, a cancelled one not at all, and a nested loop
// in a listener runs the others.
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
    void nestedLoopRunsTheRest();
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

void tst_TurnClock::nestedLoopRunsTheRest()
{
    // The first listener of a turn end runs a nested event loop (a slot that
    // opens a dialog): the second must not wait for that loop to end, and
    // runs once in all.
    Listener first;
    Listener second;
    int secondRunsInNested = -1;
    first.then = [&] {
        QEventLoop nested;
        QTimer::singleShot(0, &nested, &QEventLoop::quit);
        nested.exec();
        secondRunsInNested = second.runs;
    };
    QVERIFY(TurnClock::schedule(&first));
    QVERIFY(TurnClock::schedule(&second));
    QEventLoop loop;
    QTimer::singleShot(0, &loop, &QEventLoop::quit);
    loop.exec();
    QCOMPARE(first.runs, 1);
    QCOMPARE(secondRunsInNested, 1);
    QCOMPARE(second.runs, 1);
}

QTEST_GUILESS_MAIN(tst_TurnClock)
#include "tst_turnclock.moc"
