// SPDX-License-Identifier: MIT
// Event-loop turns, per thread (see turnclock_p.h).
#include "turnclock_p.h"

#include <QtCore/QAbstractEventDispatcher>
#include <QtCore/QPointer>

#include <algorithm>
#include <vector>

namespace Blight::TurnClock {

constinit thread_local Detail::Hot Detail::hot;

namespace {

using Detail::hot;

struct Clock
{
    QPointer<QAbstractEventDispatcher> dispatcher;
    std::vector<TurnListener *> pending;
    // Batches being flushed; more than one when a listener runs a nested loop.
    std::vector<std::vector<TurnListener *> *> flushing;
    // Emptied batches kept with their capacity: a turn costs no allocation.
    std::vector<std::vector<TurnListener *>> spares;
};
thread_local Clock clock;

void runBatch(std::vector<TurnListener *> &batch)
{
    // A listener destroyed by another one in this loop clears its own slot,
    // and one run by a nested edge (below) is cleared before it runs.
    for (TurnListener *&slot : batch) {
        if (TurnListener *listener = std::exchange(slot, nullptr))
            listener->endOfTurn();
    }
}

void onTurnEdge()
{
    ++hot.turn;
    // An edge inside a listener, whose slot runs a nested event loop (a
    // dialog, a blocking call with a local loop): the listeners its edge has
    // not reached yet run here, instead of waiting for that loop to end.
    // By index: a listener's nested edge pushes and pops batches.
    for (size_t i = 0; i < clock.flushing.size(); ++i)
        runBatch(*clock.flushing[i]);
    if (clock.pending.empty())
        return;
    std::vector<TurnListener *> batch;
    if (!clock.spares.empty()) {
        batch = std::move(clock.spares.back());
        clock.spares.pop_back();
    }
    batch.swap(clock.pending);
    clock.flushing.push_back(&batch);
    runBatch(batch);
    clock.flushing.pop_back();
    batch.clear();
    clock.spares.push_back(std::move(batch));
    // A listener that scheduled work (a slot on sendsReleased that sent more)
    // must not wait for whatever wakes the loop next: this edge may be the
    // last one before the loop blocks, so make its poll return and the next
    // edge run that work.
    if (!clock.pending.empty() && clock.dispatcher)
        clock.dispatcher->wakeUp();
}

bool hook()
{
    if (Q_LIKELY(hot.hooked))
        return true;
    QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance();
    if (!dispatcher)
        return false;
    clock.dispatcher = dispatcher;
    hot.hooked = true;
    QObject::connect(dispatcher, &QAbstractEventDispatcher::aboutToBlock, dispatcher, onTurnEdge, Qt::DirectConnection);
    QObject::connect(dispatcher, &QAbstractEventDispatcher::awake, dispatcher, onTurnEdge, Qt::DirectConnection);
    // A thread's dispatcher is destroyed in that thread (a new application
    // object may bring another): hook that one when it comes.
    QObject::connect(dispatcher, &QObject::destroyed, [] { hot.hooked = false; });
    return true;
}

} // namespace

quint64 Detail::hookAndRead()
{
    hook();
    return hot.turn;
}

bool schedule(TurnListener *listener)
{
    if (!hook())
        return false;
    clock.pending.push_back(listener);
    return true;
}

void cancel(TurnListener *listener)
{
    std::erase(clock.pending, listener);
    for (std::vector<TurnListener *> *batch : clock.flushing)
        std::replace(batch->begin(), batch->end(), listener, static_cast<TurnListener *>(nullptr));
}

} // namespace Blight::TurnClock
