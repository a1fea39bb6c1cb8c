// SPDX-License-Identifier: MIT
// BlightBuffer handles, heap buffers and foreign memory (see blightbuffer.h).
#include "blightbuffer_p.h"
#include "logging_p.h"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace Blight {

using Detail::BufferBlock;

qsizetype Detail::pageSize()
{
    static const qsizetype size = qsizetype(::sysconf(_SC_PAGESIZE));
    return size;
}

qsizetype Detail::roundUpToPage(qsizetype bytes)
{
    const qsizetype page = pageSize();
    return (bytes + page - 1) / page * page;
}

namespace {

using Detail::pageSize;
using Detail::roundUpToPage;

// Header room and payload in one allocation: the payload starts one page in,
// so that it is page-aligned with the room right in front of it.
struct HeapBlock final : BufferBlock
{
    void recycle() override
    {
        std::free(payload - pageSize());
        delete this;
    }
};

struct ForeignBlock final : BufferBlock
{
    std::function<void()> release;
    void recycle() override
    {
        const std::function<void()> call = std::move(release);
        delete this;
        if (call)
            call();
    }
};

} // namespace

BlightBuffer BlightBuffer::allocate(qsizetype capacity)
{
    if (capacity < 0)
        return {};
    const qsizetype page = pageSize();
    void *memory = std::aligned_alloc(size_t(page), size_t(page + roundUpToPage(qMax<qsizetype>(capacity, 1))));
    if (!memory)
        return {};
    auto *block = new HeapBlock;
    block->payload = static_cast<char *>(memory) + page;
    block->size = capacity;
    block->capacity = capacity;
    block->headerRoom = HeaderRoom;
    return BlightBuffer(block);
}

BlightBuffer BlightBuffer::fromForeign(const char *data, qsizetype size, std::function<void()> release)
{
    auto *block = new ForeignBlock;
    block->payload = const_cast<char *>(data); // never written: writable is false
    block->size = size < 0 ? 0 : size;
    block->capacity = block->size;
    block->writable = false;
    block->release = std::move(release);
    return BlightBuffer(block);
}

BlightBuffer::BlightBuffer(const BlightBuffer &other) noexcept
    : d(other.d)
{
    if (d)
        d->ref.ref();
}

BlightBuffer &BlightBuffer::operator=(const BlightBuffer &other) noexcept
{
    BlightBuffer copy(other);
    swap(copy);
    return *this;
}

BlightBuffer::~BlightBuffer()
{
    if (d && !d->ref.deref())
        d->recycle();
}

qsizetype BlightBuffer::size() const noexcept
{
    return d ? d->size : 0;
}

qsizetype BlightBuffer::capacity() const noexcept
{
    return d ? d->capacity : 0;
}

void BlightBuffer::setSize(qsizetype size)
{
    if (d)
        d->size = qBound<qsizetype>(0, size, d->capacity);
}

qsizetype BlightBuffer::headerRoom() const noexcept
{
    return d ? d->headerRoom : 0;
}

bool BlightBuffer::isWritable() const noexcept
{
    return d && d->writable;
}

bool BlightBuffer::isDetached() const noexcept
{
    return d && d->ref.loadAcquire() == 1;
}

bool BlightBuffer::isShared() const noexcept
{
    return d && d->shared;
}

bool BlightBuffer::isPooled() const noexcept
{
    return d && d->pooled;
}

const char *BlightBuffer::constData() const noexcept
{
    return d ? d->payload : nullptr;
}

char *BlightBuffer::data()
{
    if (!d)
        return nullptr;
    if (d->writable && isDetached())
        return d->payload;
    // Another handle (a send in flight) shares the bytes, or they are not
    // ours to write: copy, as QByteArray would, but not silently.
    qCWarning(lcBuffer, "writing into a buffer that %s: copying %lld bytes",
              d->writable ? "a send or another handle still holds" : "wraps foreign memory", qlonglong(d->size));
    BlightBuffer copy = allocate(d->capacity);
    if (copy.isNull())
        return nullptr;
    std::memcpy(copy.d->payload, d->payload, size_t(d->size));
    copy.d->size = d->size;
    swap(copy);
    return d->payload;
}

QByteArray BlightBuffer::toByteArray() const
{
    return d ? QByteArray::fromRawData(d->payload, d->size) : QByteArray();
}

} // namespace Blight
