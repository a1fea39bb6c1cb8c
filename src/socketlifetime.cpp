// SPDX-License-Identifier: MIT
// The engine's lifetime: entry-point guards, detaching from a destroyed
// public object, the heir that keeps zero-copy buffers after destruction,
// thread moves, and the engine's own events and timers.
#include "blightsocket_p.h"
#include "logging_p.h"
#include "sharedframe_p.h"
#include "socketutil_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QMetaMethod>
#include <QtCore/QThread>
#include <QtCore/QTimerEvent>

#include <unistd.h>

namespace Blight {

namespace {
const QEvent::Type EndOfTurnEvent = QEvent::Type(QEvent::registerEventType());
const QEvent::Type ResumeReadingEvent = QEvent::Type(QEvent::registerEventType());
} // namespace

BlightSocketPrivate::BlightSocketPrivate(BlightSocket *q, BlightSocket::Mode socketMode)
    : QObject(q)
    , q_ptr(q)
    , mode(socketMode)
{
}

BlightSocketPrivate::~BlightSocketPrivate()
{
    closeUring(); // before the clock forgets this engine: it may schedule a release
    TurnClock::cancel(this);
    if (connectingFd >= 0)
        ::close(connectingFd);
    if (releaseChannel) {
        releaseChannel->close();
        releaseChannel->deref();
    }
    closeDescriptors();
}

void BlightSocketPrivate::detach()
{
    // From here on nothing is emitted: the public object is being destroyed.
    q_ptr = nullptr;
    setParent(nullptr);
    replies.clear(); // children of the public object, destroyed with it
    cancelAttempt();
    // Like Qt's sockets, destruction drops what was not handed to the kernel.
    dropQueue();
    stats.queuedBytes = 0;
    if (busyDepth > 0)
        detachPending = true; // frames of this engine are still on the stack
    else
        finishDetach();
}

void BlightSocketPrivate::finishDetach()
{
    detachPending = false;
    TurnClock::cancel(this);
    flushScheduled = false;
    releaseScheduled = false;
    turnEndPending = false;
    probeTimer.stop();
    noBuffersTimer.stop();
    QCoreApplication *app = QCoreApplication::instance();
    const bool lingers = fd >= 0 && !tracker.isEmpty() && !tornDown && app && !QCoreApplication::closingDown()
        && thread() == QThread::currentThread();
    if (lingers) {
        // Buffers are still pinned by the kernel: this engine becomes the heir
        // that finishes the close without blocking, then deletes itself. A
        // worker thread may end right after this, so the heir lives in the
        // application's thread, whose event loop outlives it.
        lingerTimer.stop();
        closing = false;
        heir = true;
        if (thread() != app->thread())
            moveToThread(app->thread());
        QMetaObject::invokeMethod(
            this,
            [this] {
                Busy busy(this);
                beginClose(true);
            },
            Qt::QueuedConnection);
        return;
    }
    // Nothing in flight (or the application is ending): close now, quietly.
    if (fd >= 0) {
        if (!tracker.isEmpty() && !tornDown && SocketUtil::isTcp(kind)) {
            // Disconnecting empties the send queue while the descriptor stays
            // open, and the kernel then reports the outstanding ranges.
            sockaddr unspecified{};
            unspecified.sa_family = AF_UNSPEC;
            ::connect(fd, &unspecified, sizeof(unspecified));
            drainErrorQueue();
        }
        tornDown = true;
        closing = true;
        finalize();
    }
    delete this;
}

bool BlightSocketPrivate::event(QEvent *e)
{
    if (e->type() == ReleaseChannel::eventType()) {
        Busy busy(this);
        sendReleases();
        return true;
    }
    if (e->type() == EndOfTurnEvent) {
        Busy busy(this);
        endOfTurn();
        return true;
    }
    if (e->type() == ResumeReadingEvent) {
        Busy busy(this);
        resumeReading();
        return true;
    }
    if (e->type() == QEvent::ThreadChange) {
        // The turn clock is per thread: leave this one's and flush in the new
        // thread's first turn instead.
        TurnClock::cancel(this);
        coalescing.restart();
        streamHeldSince = 0;
        turnEndPending = flushScheduled || releaseScheduled || !queue.isEmpty();
        if (turnEndPending) {
            flushScheduled = flushScheduled || !queue.isEmpty();
            QCoreApplication::postEvent(this, new QEvent(EndOfTurnEvent));
        }
        // Fall through: QObject moves the timers.
    }
    return QObject::event(e);
}

void BlightSocketPrivate::timerEvent(QTimerEvent *e)
{
    Busy busy(this);
    const int id = e->timerId();
    if (id == probeTimer.timerId())
        onProbeTimer();
    else if (id == noBuffersTimer.timerId())
        retryAfterNoBuffers();
    else if (id == lingerTimer.timerId())
        onLingerTimeout();
    else if (id == drainTimer.timerId() && drainErrorQueue())
        maybeFinishClose();
}

void BlightSocketPrivate::scheduleFlush()
{
    if (coalescing.whenQueued() == CoalescingPolicy::When::Writable && writeNotifier
        && state == BlightSocket::State::Connected) {
        if (streamHeldSince != 0)
            return; // the notifier is on already
        // A streaming sender: flush when the socket reports itself writable,
        // after the next passes have added their messages too. The notifier
        // stays on while the stream goes on (each switch costs the dispatcher
        // a wake-up).
        if (streamHeldSince == 0)
            streamHeldSince = TurnClock::current();
        writeNotifier->setEnabled(true);
        return;
    }
    if (flushScheduled)
        return;
    flushScheduled = true;
    scheduleTurnEnd();
}

void BlightSocketPrivate::scheduleTurnEnd()
{
    if (std::exchange(turnEndPending, true))
        return;
    if (!TurnClock::schedule(this))
        QCoreApplication::postEvent(this, new QEvent(EndOfTurnEvent)); // no dispatcher yet
}

void BlightSocketPrivate::scheduleRelease()
{
    // Nothing to do for nobody: a socket whose releases no one listens to
    // pays one check per turn. A receiver connected later hears of every id
    // from the first on.
    static const QMetaMethod signal = QMetaMethod::fromSignal(&BlightSocket::sendsReleased);
    if (releaseScheduled || !q_ptr)
        return;
    if (!q_ptr->isSignalConnected(signal)) {
        // Unheard, the ledger still keeps what it would report: keep that
        // small (drops of datagrams far apart each add a range).
        if (ledger.droppedRanges() > 256) {
            QList<SendIdRange> unheard;
            ledger.collect(tracker, &unheard);
        }
        return;
    }
    releaseScheduled = true;
    scheduleTurnEnd();
}

bool BlightSocketPrivate::emitReleases()
{
    if (!q_ptr || !ledger.hasNews())
        return !gone();
    releasedSends.clear();
    if (ledger.collect(tracker, &releasedSends) == 0)
        return true;
    Q_EMIT q_ptr->sendsReleased(releasedSends);
    return !gone();
}

void BlightSocketPrivate::dropQueue()
{
    const SendQueue::Dropped dropped = queue.clear();
    if (dropped.lastId != 0) {
        ledger.droppedUpTo(dropped.lastId);
        scheduleRelease();
    }
}

void BlightSocketPrivate::resumeReadingLater()
{
    if (resumePosted)
        return;
    // Resumed from the event loop, not inside the call: the caller may be in
    // the middle of handling a message.
    resumePosted = true;
    QCoreApplication::postEvent(this, new QEvent(ResumeReadingEvent));
}

} // namespace Blight
