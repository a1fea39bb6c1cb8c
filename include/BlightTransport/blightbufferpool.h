// SPDX-License-Identifier: MIT
// BlightBufferPool: a fixed set of page-aligned frame buffers, allocated
// once, that come back by themselves when their sends are released.
#pragma once

#include <BlightTransport/blightbuffer.h>
#include <BlightTransport/blighttransport_global.h>

#include <QtCore/QObject>

#include <memory>

namespace Blight {

namespace Detail {
class PoolState;
} // namespace Detail

/*!
    \class Blight::BlightBufferAllocator
    \brief Where a BlightBufferPool gets its one region of memory.

    The default maps anonymous memory. Replace it to back a pool with other
    memory (a sealed memfd, a device region).
*/
class BLIGHTTRANSPORT_EXPORT BlightBufferAllocator
{
public:
    virtual ~BlightBufferAllocator();
    /*! Returns \a bytes (a multiple of the page size) of page-aligned,
        writable memory, or nullptr. Called once per pool. */
    virtual void *allocate(qsizetype bytes) = 0;
    /*! Gives back what allocate() returned, once the pool and every buffer
        of it are gone; may run in any thread that dropped the last buffer. */
    virtual void deallocate(void *memory, qsizetype bytes) = 0;
    /*! A read-only descriptor a peer process can map \a memory (an address
        allocate() returned) from, owned by the allocator and valid until
        deallocate(); -1 (the default) when the memory cannot be shared. The
        memory must then be a memfd sealed against shrinking and growing. */
    virtual int descriptor(const void *memory) const;
};

/*!
    \class Blight::BlightBufferPool
    \brief A fixed number of frame buffers of a fixed size, for sends that
    reuse their buffers instead of copying them.

    The buffers are allocated once, in one region; each payload starts on a
    page boundary with BlightBuffer::HeaderRoom bytes of header room in front.
    acquire() hands out a buffer that no send shares. Once sent (with
    BlightSocket::sendBuffer()) and dropped by the caller, it comes back to
    the pool when the last handle goes, which is when the socket's send was
    released: on the copy path when the kernel took the bytes, on the
    zero-copy path when the kernel's completion arrived. That goes through
    state the buffers share with the pool, not through a socket signal, so it
    works as well when the socket was destroyed meanwhile and its background
    closer held the buffer.

    The memory is one region of count() buffers. A region whose buffers a
    peer may still read after its connection ended is retired (see
    retiredRegions()) and replaced by a fresh one.

    acquire() and the statistics may be called from any thread; the signals
    are emitted in the pool's thread. A pool destroyed while buffers are out
    keeps its memory until the last of them is dropped.
*/
class BLIGHTTRANSPORT_EXPORT BlightBufferPool : public QObject
{
    Q_OBJECT
    Q_PROPERTY(int count READ count CONSTANT)
    Q_PROPERTY(qint64 bufferSize READ bufferSize CONSTANT)
    Q_PROPERTY(bool valid READ isValid CONSTANT)
    Q_PROPERTY(bool shared READ isShared CONSTANT)
    Q_PROPERTY(int retiredRegions READ retiredRegions NOTIFY availableChanged)
    Q_PROPERTY(int available READ available NOTIFY availableChanged)
    Q_PROPERTY(int inUse READ inUse NOTIFY availableChanged)
    Q_PROPERTY(int peakInUse READ peakInUse NOTIFY availableChanged)
    Q_PROPERTY(quint64 waitingAcquires READ waitingAcquires NOTIFY availableChanged)

public:
    /*! Where the memory comes from. SharedMemory: a sealed memfd, whose
        buffers a BlightSocket with sharedMemoryEnabled() sends to a peer
        that agreed as shared memory, without copying (docs/shared-memory.md). */
    enum class Backing { Anonymous, SharedMemory };
    Q_ENUM(Backing)

    /*! \a count buffers of \a bufferSize bytes each, from anonymous memory. */
    BlightBufferPool(int count, qsizetype bufferSize, QObject *parent = nullptr);
    /*! The same, from \a backing. */
    BlightBufferPool(int count, qsizetype bufferSize, Backing backing, QObject *parent = nullptr);
    /*! The same, from \a allocator. */
    BlightBufferPool(int count, qsizetype bufferSize, std::unique_ptr<BlightBufferAllocator> allocator,
                     QObject *parent = nullptr);
    ~BlightBufferPool() override;

    /*! False if the memory could not be allocated (then acquire() gives null). */
    bool isValid() const;
    int count() const;
    qint64 bufferSize() const;
    /*! A buffer no send or other handle shares, its size() set to
        bufferSize(); null when every buffer is out (counted in
        waitingAcquires(); bufferAvailable() follows a return). */
    BlightBuffer acquire();
    /*! Whether \a address lies inside this pool's memory (its current region). */
    bool contains(const void *address) const;
    /*! Whether the buffers can travel in shared memory (a memfd region). */
    bool isShared() const;
    /*!
        Regions retired so far: when a connection ends while a peer still
        holds frames of the pool, a live receiver may go on reading them, so
        the region they lie in is never handed out again; the pool serves
        later acquires from a fresh region of the same size.
    */
    int retiredRegions() const;

    int available() const;
    int inUse() const;
    int peakInUse() const;
    /*! acquire() calls that found every buffer out. */
    quint64 waitingAcquires() const;

Q_SIGNALS:
    /*! A buffer came back; emitted once per event-loop pass that saw returns. */
    void bufferAvailable();
    void availableChanged();

protected:
    bool event(QEvent *event) override;

private:
    Detail::PoolState *m_state;
};

} // namespace Blight
