// SPDX-License-Identifier: MIT
// The error queue and zero-copy completions: draining it, releasing the
// tracker's buffers, feeding the zero-copy policy, probes and the ENOBUFS
// retry.
#include "blightsocket_p.h"
#include "errorqueue_p.h"
#include "logging_p.h"
#include "socketutil_p.h"
#include "syscalls_p.h"

#include <poll.h>

namespace Blight {

using namespace SocketUtil;

void BlightSocketPrivate::onErrorQueue()
{
    if (fd < 0)
        return;
    bool any = false;
    if (!drainErrorQueue(&any) || any)
        return;
    // POLLERR without a queued entry: a pending socket error.
    int soError = 0;
    socklen_t length = sizeof(soError);
    if (Sys::getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length) != 0)
        return;
    if (soError == 0) {
        onHangUp();
        return;
    }
    if (datagram) {
        warn(QStringLiteral("socket error on %1: %2").arg(endpointText, errnoText(soError)));
        return;
    }
    failErrno(soError, QStringLiteral("on the socket"));
}

void BlightSocketPrivate::onHangUp()
{
    // Qt's UNIX dispatcher wakes an Exception notifier on POLLHUP too, again
    // and again while the dead connection stays open. Nothing was queued, no
    // error is pending: look whether that is what woke us.
    pollfd poll{fd, POLLIN, 0};
    if (::poll(&poll, 1, 0) != 1 || !(poll.revents & POLLHUP))
        return;
    if (closing) {
        // Nothing more can reach the peer.
        if (!queue.isEmpty())
            fail(BlightSocket::Error::RemoteClosed,
                 QStringLiteral("%1: peer closed the connection before close() delivered everything")
                     .arg(endpointText));
        else
            teardown();
        return;
    }
    // Reading (perhaps paused) will see the end; until then completions are
    // drained by a timer instead of a notifier that would spin.
    if (errorNotifier)
        errorNotifier->setEnabled(false);
    drainTimer.start(10, this);
}

bool BlightSocketPrivate::drainErrorQueue(bool *sawAny, bool followUp)
{
    if (fd < 0)
        return !gone();
    ErrorQueue::Events events;
    const ErrorQueue::DrainResult result = ErrorQueue::drain(fd, [&events](const ErrorQueueEvent &event) {
        events.append(event);
    });
    stats.errorQueueCalls += quint64(result.calls);
    if (sawAny)
        *sawAny = !events.isEmpty();
    if (events.isEmpty())
        return !gone();
    for (const ErrorQueueEvent &event : std::as_const(events)) {
        const bool alive = event.kind == ErrorQueueEvent::Kind::ZeroCopyRange
            ? handleCompletion(event.lo, event.hi, event.copied)
            : warn(QStringLiteral("%1: queued error %2").arg(endpointText, event.describe()));
        if (!alive)
            return false;
    }
    if (!followUp)
        return true;
    return afterCompletions();
}

bool BlightSocketPrivate::afterCompletions()
{
    if (zeroCopy.budgetFreed() && !applyZeroCopyChange())
        return false;
    noBuffersTimer.stop(); // completions retry the send
    if (!flushQueue())
        return false;
    if (closing)
        maybeFinishClose();
    return emitStatistics();
}

bool BlightSocketPrivate::handleCompletion(quint32 lo, quint32 hi, bool copied)
{
    ++stats.completions;
    if (copied)
        ++stats.copiedCompletions;
    const CompletionTracker::Release released = tracker.release(lo, hi, monotonicNs());
    if (released.sends > 0)
        scheduleRelease();
    stats.releasedBuffers += released.sends;
    qCDebug(lcZeroCopy) << endpointText << "released" << lo << hi << "copied" << copied << released.sends;
    if (const int delay = zeroCopy.onCompletion(copied, released.sends, hi); delay > 0) {
        ++stats.backOffs;
        probeTimer.start(delay, this);
    }
    if (!applyZeroCopyChange())
        return false;
    if (q_ptr)
        Q_EMIT q_ptr->completionReceived(lo, hi, copied);
    if (gone())
        return false;
    if (q_ptr)
        Q_EMIT q_ptr->buffersReleased(lo, hi);
    return !gone();
}

bool BlightSocketPrivate::applyZeroCopyChange()
{
    if (zeroCopy.takeChange()) {
        qCInfo(lcZeroCopy, "%s: %s", qPrintable(endpointText), qPrintable(zeroCopy.reason()));
        if (q_ptr)
            Q_EMIT q_ptr->zeroCopyStateChanged();
    }
    return !gone();
}

void BlightSocketPrivate::onProbeTimer()
{
    probeTimer.stop();
    zeroCopy.probe(tracker.nextId());
    applyZeroCopyChange();
}

void BlightSocketPrivate::retryAfterNoBuffers()
{
    noBuffersTimer.stop();
    if (!uring && !tracker.isEmpty() && !drainErrorQueue())
        return;
    if (flushQueue())
        emitStatistics();
}

} // namespace Blight
