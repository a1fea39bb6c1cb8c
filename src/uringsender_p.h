// SPDX-License-Identifier: MIT
// The io_uring SEND_ZC sender of one thread-owner object: its ring's
// completions come into the event loop through an eventfd notifier.
#pragma once

#include "uringring_p.h"

#include <QtCore/QObject>

#include <memory>

QT_BEGIN_NAMESPACE
class QSocketNotifier;
QT_END_NAMESPACE

namespace Blight {

/*!
    Queues SEND_ZC requests (plain or from a registered buffer) into a batch
    and submits the batch with one io_uring_enter; the completions come back
    through completionsReady() from the event loop of the owner's thread.

    Back-pressure: queue() answers Full when the submission queue has no
    free entry; nothing is dropped, the caller submits and tries again
    later (after completionsReady(), for example). A CQ overflow is flushed
    by the drain. A TCP send that finds the socket buffer full waits in the
    kernel (io_uring polls the socket) instead of failing with EAGAIN; once
    part of it went, it completes short unless MSG_WAITALL is set.

    Lifetime: the ring and everything the sends hold (UringSend::hold, the
    keep-alive of the registered buffers) outlive their completions. If the
    sender is destroyed with sends in flight, it submits what was queued and
    hands its ring to a UringReaper, which keeps draining it in the same
    thread until every send's last completion is in, or the reap timeout
    runs out, and then frees it.
*/
class UringSender : public QObject
{
    Q_OBJECT
public:
    static constexpr unsigned DefaultSqEntries = 64;
    static constexpr int DefaultReapTimeoutMs = 10000;

    explicit UringSender(QObject *parent = nullptr);
    ~UringSender() override;

    /*! Sets up the ring: \a sqEntries submission entries and \a cqEntries
        completion entries (0: four per submission entry). */
    bool init(unsigned sqEntries = DefaultSqEntries, unsigned cqEntries = 0);
    bool isValid() const { return bool(m_ring); }
    QString errorString() const { return m_error; }

    unsigned sqEntries() const;
    unsigned cqEntries() const;
    int eventFd() const;

    /*! Registers what fits of \a regions as fixed buffers 0..n-1 (once). */
    UringRegistration registerBuffers(const QList<UringRegion> &regions, std::shared_ptr<const void> keepAlive = {});
    int registeredCount() const;

    UringRing::QueueResult queue(UringSend send);
    /*! Submits the batch with one io_uring_enter: entries taken, or -errno. */
    int submit();
    unsigned queuedCount() const;
    unsigned sqSpaceLeft() const;
    /*! Sends whose last completion has not come in yet. */
    qsizetype outstanding() const;
    quint64 overflowFlushes() const;

    /*! How long a reaper keeps a destroyed sender's ring for its completions. */
    int reapTimeout() const { return m_reapTimeoutMs; }
    void setReapTimeout(int msecs) { m_reapTimeoutMs = qMax(msecs, 0); }

    /*! Drains the completion queue now (the notifier does this by itself). */
    void drain();

Q_SIGNALS:
    /*! Completions came in, in the order the kernel posted them. A slot may
        delete the sender. */
    void completionsReady(const QList<Blight::UringCompletion> &records);

private:
    void onEventFd();

    std::unique_ptr<UringRing> m_ring;
    QSocketNotifier *m_notifier = nullptr;
    QString m_error;
    int m_reapTimeoutMs = DefaultReapTimeoutMs;
};

} // namespace Blight
