// SPDX-License-Identifier: MIT
// Errors, warnings, close and teardown: a graceful close delivers what was
// accepted within lingerTime or says what it could not; a teardown makes the
// kernel drop queued data before the buffers are let go; nothing the kernel
// still holds is ever freed.
#include "blightsocket_p.h"
#include "logging_p.h"
#include "socketregistry_p.h"
#include "socketutil_p.h"

#include <unistd.h>

namespace Blight {

using namespace SocketUtil;

bool BlightSocketPrivate::warn(const QString &message)
{
    ++stats.errors;
    qCInfo(lcSocket, "%s", qPrintable(message));
    if (q_ptr)
        Q_EMIT q_ptr->warning(message);
    return !gone();
}

bool BlightSocketPrivate::reportError(BlightSocket::Error newError, const QString &reason)
{
    error = newError;
    errorString = reason;
    ++stats.errors;
    // Reported by signal: the log keeps it at info level.
    qCInfo(lcSocket, "%s", qPrintable(reason));
    if (q_ptr)
        Q_EMIT q_ptr->errorOccurred(newError, reason);
    return !gone();
}

bool BlightSocketPrivate::becomeUnconnected()
{
    if (!setState(BlightSocket::State::Unconnected))
        return false;
    if (q_ptr)
        Q_EMIT q_ptr->disconnected();
    return !gone();
}

void BlightSocketPrivate::failErrno(int errorNumber, const QString &during)
{
    const ErrnoMeaning meaning = meaningOf(errorNumber);
    fail(meaning.error, QStringLiteral("%1 %2: %3").arg(endpointText, during, meaning.what));
}

void BlightSocketPrivate::fail(BlightSocket::Error newError, const QString &reason)
{
    if (failed)
        return;
    failed = true;
    cancelAttempt();
    if (!reportError(newError, reason))
        return;
    if (fd < 0) {
        // Never connected: nothing to drain.
        if (finishReplies(reason))
            becomeUnconnected();
        return;
    }
    beginClose(false);
}

void BlightSocketPrivate::beginClose(bool graceful)
{
    // A graceful close can be made abrupt (abort(), an error), never the reverse.
    if (closing && graceful)
        return;
    if (!std::exchange(closing, true)) {
        if (!setState(BlightSocket::State::Closing) && !heir)
            return;
        // Reading stops, except for the releases of frames the peer holds.
        if (readNotifier && !awaitingReleases())
            readNotifier->setEnabled(false);
        probeTimer.stop();
    }
    if (!graceful) {
        dropQueue(); // abort() and errors drop what was not sent, as Qt's sockets do
        teardown();
        return;
    }
    if (!queue.isEmpty() || !tracker.isEmpty() || awaitingReleases())
        lingerTimer.start(lingerTime, this);
    if (flushQueue())
        maybeFinishClose();
}

void BlightSocketPrivate::onLingerTimeout()
{
    lingerTimer.stop();
    if (tornDown) {
        finalize(); // the kernel never reported the rest: keep those buffers
        return;
    }
    // A graceful close ran out of time: say what was not delivered.
    const quint64 unsent = queue.messageCount();
    const qint64 unsentBytes = queue.bytes();
    const bool dropsInFlight = isTcp(kind) && !tracker.isEmpty();
    if (unsent > 0 || dropsInFlight) {
        QString reason = QStringLiteral("%1: close() could not deliver everything within %2 ms: %3 messages (%4 bytes) "
                                        "were not sent")
                             .arg(endpointText)
                             .arg(lingerTime)
                             .arg(unsent)
                             .arg(unsentBytes);
        if (dropsInFlight) {
            reason += QStringLiteral(", and %1 zero-copy sends (%2 bytes) were not acknowledged by the peer")
                          .arg(tracker.pendingCount())
                          .arg(tracker.pendingBytes());
        }
        if (!reportError(BlightSocket::Error::Undelivered, reason) && !heir)
            return;
    }
    qCInfo(lcZeroCopy, "%s: linger time over with %lld zero-copy sends pending: tearing down", qPrintable(endpointText),
           tracker.pendingCount());
    teardown();
}

void BlightSocketPrivate::maybeFinishClose()
{
    if (!closing || fd < 0)
        return;
    if (tracker.isEmpty() && !awaitingReleases() && (tornDown || queue.isEmpty()))
        finalize();
}

void BlightSocketPrivate::teardown()
{
    if (tornDown || fd < 0)
        return;
    tornDown = true;
    dropQueue();
    if (tracker.isEmpty()) {
        finalize();
        return;
    }
    if (isTcp(kind)) {
        // Disconnecting empties the send queue while the descriptor stays
        // open, and the kernel then reports the outstanding ranges. The
        // socket reports POLLHUP from then on, which would wake every
        // notifier again and again: a short timer drains what is left.
        for (QSocketNotifier *notifier : {readNotifier, writeNotifier, errorNotifier}) {
            if (notifier)
                notifier->setEnabled(false);
        }
        sockaddr unspecified{};
        unspecified.sa_family = AF_UNSPEC;
        ::connect(fd, &unspecified, sizeof(unspecified));
        if (!drainErrorQueue(nullptr, false))
            return;
        if (tracker.isEmpty()) {
            finalize();
            return;
        }
        drainTimer.start(10, this);
    }
    lingerTimer.start(qMin(lingerTime, 1000), this);
}

void BlightSocketPrivate::finalize()
{
    if (fd < 0)
        return;
    lingerTimer.stop();
    probeTimer.stop();
    noBuffersTimer.stop();
    drainTimer.stop();
    for (QSocketNotifier **notifier : {&readNotifier, &writeNotifier, &errorNotifier}) {
        if (*notifier) {
            (*notifier)->setEnabled(false);
            (*notifier)->deleteLater(); // its own signal may be running
            *notifier = nullptr;
        }
    }
    closeUring(); // its ring keeps what it sent until the kernel lets go
    if (!tracker.isEmpty()) {
        const qint64 bytes = tracker.pendingBytes();
        const qint64 sends = tracker.pendingCount();
        SocketRegistry::keepForever(tracker.takeAll(), bytes);
        scheduleRelease(); // their ids: the connection and its data are gone
        qCWarning(lcZeroCopy,
                  "%s: the kernel did not release %lld zero-copy sends (%lld bytes) before the "
                  "connection ended; their buffers are kept until the process exits",
                  qPrintable(endpointText), sends, bytes);
    }
    if (ownsFd) {
        discardUnread();
        ::close(fd);
    }
    SocketRegistry::release(std::exchange(claimedInode, 0));
    fd = -1;
    dropQueue();
    endSharedMemory(); // after the queue: frames still queued were dropped with it
    closing = false;
    if (heir) {
        deleteLater();
        return;
    }
    // Every send is settled now: say so before disconnected().
    if (std::exchange(releaseScheduled, false) && !emitReleases())
        return;
    if (finishReplies(errorString.isEmpty() ? QStringLiteral("connection closed") : errorString) && becomeUnconnected())
        emitStatistics();
}

bool BlightSocketPrivate::finishReplies(const QString &reason)
{
    const auto pending = std::exchange(replies, {});
    for (const QPointer<BlightReply> &reply : pending) {
        if (reply)
            reply->finish(false, QByteArray(), reason);
        if (gone())
            return false;
    }
    return true;
}

bool BlightSocketPrivate::emitStatistics()
{
    stats.queuedBytes = queue.bytes();
    stats.pendingBuffers = tracker.pendingCount();
    stats.pendingBytes = tracker.pendingBytes();
    stats.peakPendingBytes = tracker.peakPendingBytes();
    stats.mappedBytes = shm.mappedBytes();
    stats.mappedPools = shm.mappedPools();
    if (q_ptr)
        Q_EMIT q_ptr->statisticsChanged();
    return !gone();
}

} // namespace Blight
