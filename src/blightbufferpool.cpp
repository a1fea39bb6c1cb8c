// SPDX-License-Identifier: MIT
// BlightBufferPool: one region, fixed slots, and the state that the pool and
// its buffers share, so that a buffer comes back wherever its last handle is
// dropped (see blightbufferpool.h).
#include <BlightTransport/blightbufferpool.h>

#include "blightbuffer_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QEvent>
#include <QtCore/QMutex>
#include <QtCore/QPointer>

#include <vector>

#include <sys/mman.h>

namespace Blight {

namespace {

const QEvent::Type ReturnedEvent = QEvent::Type(QEvent::registerEventType());

class AnonymousAllocator final : public BlightBufferAllocator
{
public:
    void *allocate(qsizetype bytes) override
    {
        void *memory = ::mmap(nullptr, size_t(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        return memory == MAP_FAILED ? nullptr : memory;
    }
    void deallocate(void *memory, qsizetype bytes) override { ::munmap(memory, size_t(bytes)); }
};

} // namespace

BlightBufferAllocator::~BlightBufferAllocator() = default;

namespace Detail {

class PoolState;

struct PoolSlot final : BufferBlock
{
    PoolState *state = nullptr;
    int index = 0;
    void recycle() override;
};

/*!
    Shared by the pool object and every buffer that is out: freed by whichever
    of them goes last. The mutex guards the free list and the statistics;
    the pool pointer is cleared by the pool's destructor under it.
*/
class PoolState
{
public:
    PoolState(int buffers, qsizetype size, std::unique_ptr<BlightBufferAllocator> memory)
        : allocator(std::move(memory))
        , count(qMax(buffers, 0))
        , bufferSize(qMax<qsizetype>(size, 0))
    {
        // Each slot: one page of which the last HeaderRoom bytes are the
        // header room, then the payload from a page boundary.
        const qsizetype page = pageSize();
        stride = page + roundUpToPage(bufferSize);
        regionSize = stride * count;
        if (count == 0 || !allocator)
            return;
        region = static_cast<char *>(allocator->allocate(regionSize));
        if (!region)
            return;
        slots = std::vector<PoolSlot>(size_t(count));
        freeList.reserve(size_t(count));
        for (int i = count - 1; i >= 0; --i) {
            PoolSlot &slot = slots[size_t(i)];
            slot.state = this;
            slot.index = i;
            slot.payload = region + stride * i + page;
            slot.capacity = bufferSize;
            slot.headerRoom = BlightBuffer::HeaderRoom;
            slot.pooled = true;
            freeList.push_back(i);
        }
    }
    ~PoolState()
    {
        if (region)
            allocator->deallocate(region, regionSize);
    }

    void deref()
    {
        if (!ref.deref())
            delete this;
    }

    void giveBack(int index)
    {
        {
            QMutexLocker locker(&mutex);
            freeList.push_back(index);
            // Told from the pool's own thread: the return may happen deep
            // inside a socket's send path.
            if (pool && !returnPosted) {
                returnPosted = true;
                QCoreApplication::postEvent(pool, new QEvent(ReturnedEvent));
            }
        }
        deref();
    }

    QMutex mutex;
    QAtomicInt ref{1}; // the pool object, plus one per buffer that is out
    std::unique_ptr<BlightBufferAllocator> allocator;
    const int count;
    const qsizetype bufferSize;
    qsizetype stride = 0;
    qsizetype regionSize = 0;
    char *region = nullptr;
    std::vector<PoolSlot> slots;
    std::vector<int> freeList;
    BlightBufferPool *pool = nullptr;
    bool returnPosted = false;
    int peakInUse = 0;
    quint64 waitingAcquires = 0;
};

void PoolSlot::recycle()
{
    state->giveBack(index);
}

} // namespace Detail

using Detail::PoolState;

BlightBufferPool::BlightBufferPool(int count, qsizetype bufferSize, QObject *parent)
    : BlightBufferPool(count, bufferSize, std::make_unique<AnonymousAllocator>(), parent)
{
}

BlightBufferPool::BlightBufferPool(int count, qsizetype bufferSize, std::unique_ptr<BlightBufferAllocator> allocator,
                                   QObject *parent)
    : QObject(parent)
    , m_state(new PoolState(count, bufferSize, std::move(allocator)))
{
    m_state->pool = this;
}

BlightBufferPool::~BlightBufferPool()
{
    {
        QMutexLocker locker(&m_state->mutex);
        m_state->pool = nullptr; // ~QObject removes an event already posted
    }
    m_state->deref();
}

bool BlightBufferPool::isValid() const
{
    return m_state->region != nullptr;
}

int BlightBufferPool::count() const
{
    return isValid() ? m_state->count : 0;
}

qint64 BlightBufferPool::bufferSize() const
{
    return m_state->bufferSize;
}

BlightBuffer BlightBufferPool::acquire()
{
    QMutexLocker locker(&m_state->mutex);
    if (m_state->freeList.empty()) {
        if (isValid())
            ++m_state->waitingAcquires;
        return {};
    }
    const int index = m_state->freeList.back();
    m_state->freeList.pop_back();
    m_state->peakInUse = qMax(m_state->peakInUse, m_state->count - int(m_state->freeList.size()));
    m_state->ref.ref();
    Detail::PoolSlot &slot = m_state->slots[size_t(index)];
    slot.ref.storeRelaxed(1);
    slot.size = m_state->bufferSize;
    return Detail::BufferAccess::adopt(&slot);
}

bool BlightBufferPool::contains(const void *address) const
{
    const char *at = static_cast<const char *>(address);
    return m_state->region && at >= m_state->region && at < m_state->region + m_state->regionSize;
}

int BlightBufferPool::available() const
{
    QMutexLocker locker(&m_state->mutex);
    return int(m_state->freeList.size());
}

int BlightBufferPool::inUse() const
{
    QMutexLocker locker(&m_state->mutex);
    return count() - int(m_state->freeList.size());
}

int BlightBufferPool::peakInUse() const
{
    QMutexLocker locker(&m_state->mutex);
    return m_state->peakInUse;
}

quint64 BlightBufferPool::waitingAcquires() const
{
    QMutexLocker locker(&m_state->mutex);
    return m_state->waitingAcquires;
}

bool BlightBufferPool::event(QEvent *event)
{
    if (event->type() != ReturnedEvent)
        return QObject::event(event);
    {
        QMutexLocker locker(&m_state->mutex);
        m_state->returnPosted = false;
    }
    const QPointer<BlightBufferPool> self(this); // a slot may delete the pool
    Q_EMIT availableChanged();
    if (self)
        Q_EMIT bufferAvailable();
    return true;
}

} // namespace Blight
