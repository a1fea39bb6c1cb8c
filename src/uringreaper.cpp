// SPDX-License-Identifier: MIT
// The reaper: drains an orphaned ring until its sends are complete, then frees it.
#include "uringreaper_p.h"

#include "logging_p.h"

#include <QtCore/QSocketNotifier>
#include <QtCore/QThread>
#include <QtCore/QTimerEvent>

#include <atomic>

namespace Blight {

namespace {
std::atomic<int> s_live{0};
}

void UringReaper::adopt(std::unique_ptr<UringRing> ring, int timeoutMs)
{
    if (!ring || ring->outstanding() == 0)
        return; // nothing in flight: the ring goes now
    new UringReaper(std::move(ring), timeoutMs);
}

int UringReaper::liveCount()
{
    return s_live.load();
}

UringReaper::UringReaper(std::unique_ptr<UringRing> ring, int timeoutMs)
    : m_ring(std::move(ring))
{
    ++s_live;
    qCDebug(lcZeroCopy, "io_uring: reaping a ring with %lld sends in flight", qint64(m_ring->outstanding()));
    m_notifier = new QSocketNotifier(m_ring->eventFd(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &UringReaper::onEventFd);
    m_timeout.start(timeoutMs, this);
    // Without its thread's event loop nothing would drain the ring: the
    // thread's end is the last moment to free it. Runs in that thread; a
    // deleteLater() still posted is dropped by the destructor.
    connect(
        QThread::currentThread(), &QThread::finished, this, [this] { delete this; }, Qt::DirectConnection);
}

UringReaper::~UringReaper()
{
    // The notifier goes before the ring closes its eventfd.
    delete m_notifier;
    --s_live;
}

void UringReaper::onEventFd()
{
    QList<UringCompletion> ignored;
    if (m_ring->queuedCount() > 0)
        m_ring->submit();
    m_ring->drain(&ignored);
    if (m_ring->outstanding() == 0) {
        m_notifier->setEnabled(false);
        m_timeout.stop();
        deleteLater();
    }
}

void UringReaper::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timeout.timerId())
        return QObject::timerEvent(event);
    m_timeout.stop();
    m_notifier->setEnabled(false);
    qCWarning(lcZeroCopy, "io_uring: reap timeout: freeing a ring with %lld sends still in flight",
              qint64(m_ring->outstanding()));
    deleteLater();
}

} // namespace Blight
