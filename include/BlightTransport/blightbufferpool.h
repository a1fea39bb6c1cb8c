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
    Q_PROPERTY(int available READ available NOTIFY availableChanged)
    Q_PROPERTY(int inUse READ inUse NOTIFY availableChanged)
    Q_PROPERTY(int peakInUse READ peakInUse NOTIFY availableChanged)
    Q_PROPERTY(quint64 waitingAcquires READ waitingAcquires NOTIFY availableChanged)

public:
    /*! \a count buffers of \a bufferSize bytes each, from anonymous memory. */
    BlightBufferPool(int count, qsizetype bufferSize, QObject *parent = nullptr);
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
    /*! Whether \a address lies inside this pool's memory. */
    bool contains(const void *address) const;

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
