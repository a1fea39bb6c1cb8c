// SPDX-License-Identifier: MIT
// The block behind a BlightBuffer handle, the pool's shared state, and a
// send's hold on a buffer (which may claim its header room).
#pragma once

#include <BlightTransport/blightbuffer.h>

#include <QtCore/QAtomicInt>

#include <memory>

namespace Blight::Detail {

/*! One buffer's bytes and count of handles; what happens to the bytes when
    the last handle goes depends on where they came from. */
struct BufferBlock
{
    virtual ~BufferBlock() = default;
    /*! The last handle is gone. */
    virtual void recycle() = 0;
    /*! A peer may still read these bytes after the connection that sent
        them ended: never hand them (and the rest of their region) out again.
        Only a shared pool's buffers act on it. */
    virtual void retireRegion() { }
    /*! Keeps the memory of this buffer's whole region mapped while the
        result lives (a ring's registration of it); null when the bytes
        are not a pool's. */
    virtual std::shared_ptr<const void> keepRegionAlive() { return {}; }

    QAtomicInt ref{1};
    // Holds of sends that wrote their header into the header room; while
    // any is alive, no other send may write there.
    QAtomicInt headerHolds{0};
    char *payload = nullptr;
    qsizetype size = 0;
    qsizetype capacity = 0;
    qsizetype headerRoom = 0;
    bool writable = true;
    bool pooled = false;
    // Shared memory: the region the bytes lie in (a sealed memfd), where
    // a peer can map it from. regionDescriptor is a read-only descriptor of
    // it owned by the region, -1 when the bytes cannot be shared.
    bool shared = false; // a shared pool's buffer, or a frame received in shared memory
    int regionDescriptor = -1;
    quint64 regionSerial = 0; // unique in the process
    const char *regionBase = nullptr;
    qsizetype regionSize = 0;
};

/*! The page size, and \a bytes rounded up to it: buffers start their
    payload on a page boundary, with the header room in the page before. */
qsizetype pageSize();
qsizetype roundUpToPage(qsizetype bytes);

struct BufferAccess
{
    static BufferBlock *block(const BlightBuffer &buffer) { return buffer.d; }
    static BlightBuffer adopt(BufferBlock *block) { return BlightBuffer(block); }
};

} // namespace Blight::Detail

namespace Blight {

/*!
    What a queued or in-flight send keeps of a BlightBuffer. A send that
    wrote its message header into the buffer's header room claims it, and
    every copy of that hold keeps the claim until the last one is dropped.
*/
class BufferHold
{
public:
    BufferHold() = default;
    explicit BufferHold(const BlightBuffer &buffer, bool claimedHeader = false)
        : m_buffer(buffer)
        , m_claim(claimedHeader)
    {
    }
    BufferHold(const BufferHold &other)
        : m_buffer(other.m_buffer)
        , m_claim(other.m_claim)
    {
        if (m_claim)
            Detail::BufferAccess::block(m_buffer)->headerHolds.ref();
    }
    BufferHold(BufferHold &&other) noexcept
        : m_buffer(std::move(other.m_buffer))
        , m_claim(std::exchange(other.m_claim, false))
    {
    }
    BufferHold &operator=(BufferHold other) noexcept
    {
        m_buffer.swap(other.m_buffer);
        std::swap(m_claim, other.m_claim);
        return *this;
    }
    ~BufferHold()
    {
        if (m_claim)
            Detail::BufferAccess::block(m_buffer)->headerHolds.deref();
    }

    /*! Claims the header room of \a buffer for one send; false if another
        send holds it (then the header travels in a piece of its own). */
    static bool claimHeader(const BlightBuffer &buffer)
    {
        Detail::BufferBlock *block = Detail::BufferAccess::block(buffer);
        return block && block->headerRoom > 0 && block->headerHolds.testAndSetAcquire(0, 1);
    }

    const BlightBuffer &buffer() const { return m_buffer; }
    bool isNull() const { return m_buffer.isNull(); }

private:
    BlightBuffer m_buffer;
    bool m_claim = false;
};

} // namespace Blight
