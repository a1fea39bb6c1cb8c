// SPDX-License-Identifier: MIT
// BlightBuffer: a refcounted handle to bytes a send can hold without copying
// (a pool buffer, a page-aligned heap buffer, or memory the caller owns).
#pragma once

#include <BlightTransport/blighttransport_global.h>

#include <QtCore/QByteArray>
#include <QtCore/QMetaType>

#include <functional>

namespace Blight {

namespace Detail {
struct BufferBlock;
struct BufferAccess;
} // namespace Detail

/*!
    \class Blight::BlightBuffer
    \brief A refcounted, cheap-to-copy handle to the bytes of one frame.

    A QByteArray cannot be page-aligned, wrap shared memory or call a
    release function through Qt's public API, so frames that should leave
    without a copy travel as BlightBuffer: from a BlightBufferPool, from
    allocate(), or wrapping memory the caller owns (fromForeign()). Send one
    with BlightSocket::sendBuffer(); the socket keeps a handle until the
    kernel (or, on the copy path, its send queue) no longer needs the bytes,
    and a pool buffer then goes back to its pool by itself.

    Handles share their bytes. data() gives a writable pointer while this
    handle is the only one; if another handle shares the bytes (a send still
    holds them), data() first copies them into a buffer of this handle's own,
    like QByteArray does, and logs a warning, because that copy is the one a
    frame ring exists to avoid: check isDetached(), or acquire a fresh
    buffer, before writing. constData() and toByteArray() never copy.

    Pool and allocate() buffers have headerRoom() bytes in front of the
    payload, so that a message header and its payload can leave as one
    contiguous region; the payload starts on a page boundary.

    The handle is thread-safe in the way QByteArray is: copies may be used
    and dropped in different threads; one handle must not be used from two
    threads at once. The type is a registered metatype, so it crosses threads
    through queued connections.
*/
class BLIGHTTRANSPORT_EXPORT BlightBuffer
{
public:
    /*! Bytes reserved in front of the payload of pool and allocate() buffers. */
    static constexpr qsizetype HeaderRoom = 64;

    BlightBuffer() noexcept = default;
    BlightBuffer(const BlightBuffer &other) noexcept;
    BlightBuffer(BlightBuffer &&other) noexcept
        : d(std::exchange(other.d, nullptr))
    {
    }
    BlightBuffer &operator=(const BlightBuffer &other) noexcept;
    BlightBuffer &operator=(BlightBuffer &&other) noexcept
    {
        BlightBuffer moved(std::move(other));
        swap(moved);
        return *this;
    }
    ~BlightBuffer();
    void swap(BlightBuffer &other) noexcept { std::swap(d, other.d); }

    /*! A page-aligned buffer of \a capacity bytes outside any pool, with
        header room; null if the memory could not be had. */
    static BlightBuffer allocate(qsizetype capacity);
    /*!
        Wraps \a size bytes at \a data that the caller owns (a mapping, a
        pinned region). The bytes are read-only through the handle. \a release
        is called exactly once, when the last handle is dropped, in the thread
        that drops it: for a buffer whose last holder is a socket, that is the
        socket's thread, after the kernel let go of the bytes. A send may take
        this memory zero-copy.
    */
    static BlightBuffer fromForeign(const char *data, qsizetype size, std::function<void()> release);

    bool isNull() const noexcept { return d == nullptr; }
    /*! The payload size: what a send sends. */
    qsizetype size() const noexcept;
    qsizetype capacity() const noexcept;
    /*! Sets the payload size (0..capacity()); sends already made keep theirs. */
    void setSize(qsizetype size);
    qsizetype headerRoom() const noexcept;
    /*! False for foreign memory. */
    bool isWritable() const noexcept;
    /*! True when no other handle shares the bytes. */
    bool isDetached() const noexcept;
    /*! Whether the bytes are in a BlightBufferPool (a detaching copy is not). */
    bool isPooled() const noexcept;
    /*! Whether the bytes are in shared memory: a buffer of a
        BlightBufferPool::Backing::SharedMemory pool, or a frame received in
        shared memory (BlightSocket::bufferReceived()). */
    bool isShared() const noexcept;

    const char *constData() const noexcept;
    const char *data() const noexcept { return constData(); }
    /*! Writable payload; detaches (copies, with a warning) when shared or
        foreign. Null for a null buffer. */
    char *data();
    /*! A read-only QByteArray over the payload, without copying. It does not
        keep the bytes alive: use it only while this handle lives. (Sending it
        with sendMessage() copies it, as for any QByteArray::fromRawData().) */
    QByteArray toByteArray() const;

private:
    friend struct Detail::BufferAccess;
    explicit BlightBuffer(Detail::BufferBlock *block) noexcept
        : d(block)
    {
    }
    Detail::BufferBlock *d = nullptr;
};

} // namespace Blight

Q_DECLARE_METATYPE(Blight::BlightBuffer)
