// SPDX-License-Identifier: MIT
// Event-loop turns, per thread, and the sockets to flush at the end of one.
#pragma once

#include <QtCore/QtGlobal>

namespace Blight {

/*! Something to run at the end of the current event-loop turn of its thread. */
class TurnListener
{
public:
    virtual void endOfTurn() = 0;

protected:
    ~TurnListener() = default;
};

/*!
    The thread's event dispatcher announces the edges of each pass with
    aboutToBlock() and awake(); at every edge the turn number moves on and the
    listeners scheduled during the pass run. No event is posted, so ending a
    turn costs no system call. An edge of a nested event loop that a listener
    runs also runs the listeners of the outer edge not reached yet. Everything
    here is per thread: a listener must cancel() in the thread it scheduled in
    (before it moves to another).
*/
namespace TurnClock {

namespace Detail {
// What every send reads: trivially initialised, so that reading it needs no
// thread-local init guard. Initial-exec: an offset from the thread pointer,
// not a __tls_get_addr() call per read; 16 bytes of the static TLS surplus
// that glibc keeps for libraries loaded later (the plugin's case).
struct Hot
{
    quint64 turn = 1;
    bool hooked = false; // cleared when the thread's dispatcher goes
};
extern constinit thread_local Hot hot __attribute__((tls_model("initial-exec")));
quint64 hookAndRead();
} // namespace Detail

/*! The current turn of this thread (never 0). */
inline quint64 current()
{
    if (Q_LIKELY(Detail::hot.hooked))
        return Detail::hot.turn;
    return Detail::hookAndRead();
}
/*! Runs \a listener at the end of this thread's turn. Returns false when the
    thread has no event dispatcher yet (then nothing was scheduled). */
bool schedule(TurnListener *listener);
/*! Forgets \a listener, also inside a flush that is running. */
void cancel(TurnListener *listener);

} // namespace TurnClock
} // namespace Blight
