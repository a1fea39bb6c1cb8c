// SPDX-License-Identifier: MIT
// BlightBufferPool: one region, fixed slots, and the state that the pool and
// its buffers share, so that a buffer comes back wherever its last handle is
// dropped (see blightbufferpool.h).
#include <BlightTransport/blightbufferpool.h>

#include "blightbuffer_p.h"
#include "sharedmemoryallocator_p.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QEvent>
#include <QtCore/QMutex>
#include <QtCore/QPointer>

#include <algorithm>
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

int BlightBufferAllocator::descriptor(const void *) const
{
    return -1;
}

namespace Detail {

class PoolState;
struct PoolRegion;

struct PoolSlot final : BufferBlock
{
    PoolState *state = nullptr;
    PoolRegion *region = nullptr;
    int index = 0;
    void recycle() override;
    void retireRegion() override;
    std::shared_ptr<const void> keepRegionAlive() override;
};

/*! One allocation of count buffers. Retired: its buffers are not handed out
    again; it is freed once the last of them came back. */
struct PoolRegion
{
    char *base = nullptr;
    qsizetype size = 0;
    std::vector<PoolSlot> slots;
    std::vector<int> freeList;
    int out = 0;
    bool retired = false;
};

/*!
    Shared by the pool object and every buffer that is out: freed by whichever
    of them goes last. The mutex guards the regions, free lists and
    statistics; the pool pointer is cleared by the pool's destructor under it.
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
        stride = pageSize() + roundUpToPage(bufferSize);
        regionSize = stride * count;
        current = newRegion();
    }
    ~PoolState()
    {
        for (PoolRegion *region : regions)
            freeRegion(region);
    }

    PoolRegion *newRegion()
    {
        if (count == 0 || !allocator)
            return nullptr;
        auto *base = static_cast<char *>(allocator->allocate(regionSize));
        if (!base)
            return nullptr;
        auto *region = new PoolRegion;
        region->base = base;
        region->size = regionSize;
        region->slots = std::vector<PoolSlot>(size_t(count));
        region->freeList.reserve(size_t(count));
        const int descriptor = allocator->descriptor(base);
        const quint64 serial = nextSerial();
        for (int i = count - 1; i >= 0; --i) {
            PoolSlot &slot = region->slots[size_t(i)];
            slot.state = this;
            slot.region = region;
            slot.index = i;
            slot.payload = base + stride * i + pageSize();
            slot.capacity = bufferSize;
            slot.headerRoom = BlightBuffer::HeaderRoom;
            slot.pooled = true;
            slot.shared = descriptor >= 0;
            slot.regionDescriptor = descriptor;
            slot.regionSerial = serial;
            slot.regionBase = base;
            slot.regionSize = regionSize;
            region->freeList.push_back(i);
        }
        regions.push_back(region);
        return region;
    }

    void freeRegion(PoolRegion *region)
    {
        allocator->deallocate(region->base, region->size);
        delete region;
    }

    static quint64 nextSerial()
    {
        static QAtomicInteger<quint64> serials{0};
        return serials.fetchAndAddRelaxed(1) + 1;
    }

    void deref()
    {
        if (!ref.deref())
            delete this;
    }

    // Under the mutex: a return or a fresh region for a waiting acquire.
    void postReturn()
    {
        // Told from the pool's own thread: the return may happen deep
        // inside a socket's send path.
        if (pool && !returnPosted) {
            returnPosted = true;
            QCoreApplication::postEvent(pool, new QEvent(ReturnedEvent));
        }
    }

    void giveBack(PoolSlot *slot)
    {
        PoolRegion *emptied = nullptr;
        {
            QMutexLocker locker(&mutex);
            PoolRegion *region = slot->region;
            --region->out;
            if (!region->retired) {
                region->freeList.push_back(slot->index);
                postReturn();
            } else if (region->out == 0) {
                emptied = region;
                regions.erase(std::find(regions.begin(), regions.end(), region));
            }
        }
        if (emptied)
            freeRegion(emptied);
        deref();
    }

    void retire(PoolRegion *region)
    {
        PoolRegion *emptied = nullptr;
        {
            QMutexLocker locker(&mutex);
            if (region->retired)
                return;
            region->retired = true;
            ++retiredRegions;
            if (region == current) {
                current = newRegion();
                if (current)
                    postReturn();
            }
            if (region->out == 0) {
                emptied = region;
                regions.erase(std::find(regions.begin(), regions.end(), region));
            }
        }
        if (emptied)
            freeRegion(emptied);
    }

    QMutex mutex;
    QAtomicInt ref{1}; // the pool object, plus one per buffer that is out
    std::unique_ptr<BlightBufferAllocator> allocator;
    const int count;
    const qsizetype bufferSize;
    qsizetype stride = 0;
    qsizetype regionSize = 0;
    std::vector<PoolRegion *> regions; // the current one and retired ones with buffers out
    PoolRegion *current = nullptr;
    BlightBufferPool *pool = nullptr;
    bool returnPosted = false;
    int peakInUse = 0;
    int retiredRegions = 0;
    quint64 waitingAcquires = 0;
};

void PoolSlot::recycle()
{
    state->giveBack(this); // the state outlives every slot that is out: each holds a ref
}

void PoolSlot::retireRegion()
{
    state->retire(region);
}

std::shared_ptr<const void> PoolSlot::keepRegionAlive()
{
    // The pool's state frees its regions only when its last reference goes
    // (regions of an anonymous pool are never retired).
    state->ref.ref();
    return std::shared_ptr<const void>(state, [](const void *held) {
        const_cast<PoolState *>(static_cast<const PoolState *>(held))->deref();
    });
}

} // namespace Detail
using Detail::PoolState;

BlightBufferPool::BlightBufferPool(int count, qsizetype bufferSize, QObject *parent)
    : BlightBufferPool(count, bufferSize, std::make_unique<AnonymousAllocator>(), parent)
{
}

BlightBufferPool::BlightBufferPool(int count, qsizetype bufferSize, Backing backing, QObject *parent)
    : BlightBufferPool(count, bufferSize,
                       backing == Backing::SharedMemory ? makeSharedMemoryAllocator()
                                                        : std::make_unique<AnonymousAllocator>(),
                       parent)
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
    QMutexLocker locker(&m_state->mutex);
    return m_state->current != nullptr;
}

bool BlightBufferPool::isShared() const
{
    QMutexLocker locker(&m_state->mutex);
    return m_state->current && m_state->current->slots.front().shared;
}

int BlightBufferPool::retiredRegions() const
{
    QMutexLocker locker(&m_state->mutex);
    return m_state->retiredRegions;
}

int BlightBufferPool::count() const
{
    return isValid() ? m_state->count : 0;
}

namespace {
int freeCount(const Detail::PoolState *state)
{
    return state->current ? int(state->current->freeList.size()) : 0;
}
} // namespace

qint64 BlightBufferPool::bufferSize() const
{
    return m_state->bufferSize;
}

BlightBuffer BlightBufferPool::acquire()
{
    QMutexLocker locker(&m_state->mutex);
    Detail::PoolRegion *region = m_state->current;
    if (!region || region->freeList.empty()) {
        if (region)
            ++m_state->waitingAcquires;
        return {};
    }
    const int index = region->freeList.back();
    region->freeList.pop_back();
    ++region->out;
    m_state->peakInUse = qMax(m_state->peakInUse, m_state->count - int(region->freeList.size()));
    m_state->ref.ref();
    Detail::PoolSlot &slot = region->slots[size_t(index)];
    slot.ref.storeRelaxed(1);
    slot.size = m_state->bufferSize;
    return Detail::BufferAccess::adopt(&slot);
}

bool BlightBufferPool::contains(const void *address) const
{
    const char *at = static_cast<const char *>(address);
    QMutexLocker locker(&m_state->mutex);
    const Detail::PoolRegion *region = m_state->current;
    return region && at >= region->base && at < region->base + region->size;
}

int BlightBufferPool::available() const
{
    QMutexLocker locker(&m_state->mutex);
    return freeCount(m_state);
}

int BlightBufferPool::inUse() const
{
    QMutexLocker locker(&m_state->mutex);
    return m_state->current ? m_state->count - freeCount(m_state) : 0;
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
