// SPDX-License-Identifier: MIT
// The io_uring sender: a ring per owner object, its eventfd notifier, and
// the hand-over to a reaper when it is destroyed with sends in flight.
#include "uringsender_p.h"

#include "uringreaper_p.h"

#include <QtCore/QSocketNotifier>

namespace Blight {

UringSender::UringSender(QObject *parent)
    : QObject(parent)
{
}

UringSender::~UringSender()
{
    if (!m_ring)
        return;
    delete m_notifier;
    m_notifier = nullptr;
    // What was queued was accepted by the caller: send it, then let the
    // reaper wait for the completions.
    if (m_ring->queuedCount() > 0)
        m_ring->submit();
    QList<UringCompletion> ignored;
    m_ring->drain(&ignored);
    UringReaper::adopt(std::move(m_ring), m_reapTimeoutMs);
}

bool UringSender::init(unsigned sqEntries, unsigned cqEntries)
{
    if (m_ring) {
        m_error = QStringLiteral("the ring is set up already");
        return false;
    }
    m_ring = UringRing::create(sqEntries, cqEntries ? cqEntries : 4 * sqEntries, &m_error);
    if (!m_ring)
        return false;
    m_notifier = new QSocketNotifier(m_ring->eventFd(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &UringSender::onEventFd);
    m_error.clear();
    return true;
}

unsigned UringSender::sqEntries() const
{
    return m_ring ? m_ring->sqEntries() : 0;
}

unsigned UringSender::cqEntries() const
{
    return m_ring ? m_ring->cqEntries() : 0;
}

int UringSender::eventFd() const
{
    return m_ring ? m_ring->eventFd() : -1;
}

UringRegistration UringSender::registerBuffers(const QList<UringRegion> &regions, std::shared_ptr<const void> keepAlive)
{
    if (!m_ring) {
        UringRegistration result;
        result.requested = int(regions.size());
        result.reason = QStringLiteral("no ring");
        return result;
    }
    return m_ring->registerBuffers(regions, std::move(keepAlive));
}

int UringSender::registeredCount() const
{
    return m_ring ? m_ring->registeredCount() : 0;
}

UringRing::QueueResult UringSender::queue(UringSend send)
{
    return m_ring ? m_ring->queue(std::move(send)) : UringRing::QueueResult::Invalid;
}

int UringSender::submit()
{
    return m_ring ? m_ring->submit() : -EBADF;
}

unsigned UringSender::queuedCount() const
{
    return m_ring ? m_ring->queuedCount() : 0;
}

unsigned UringSender::sqSpaceLeft() const
{
    return m_ring ? m_ring->sqSpaceLeft() : 0;
}

qsizetype UringSender::outstanding() const
{
    return m_ring ? m_ring->outstanding() : 0;
}

quint64 UringSender::overflowFlushes() const
{
    return m_ring ? m_ring->overflowFlushes() : 0;
}

void UringSender::drain()
{
    onEventFd();
}

void UringSender::onEventFd()
{
    if (!m_ring)
        return;
    QList<UringCompletion> records;
    m_ring->drain(&records);
    if (!records.isEmpty())
        Q_EMIT completionsReady(records); // may delete this: nothing after it
}

} // namespace Blight
