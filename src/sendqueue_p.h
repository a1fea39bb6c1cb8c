// SPDX-License-Identifier: MIT
// The send queue: accepted bytes waiting for the kernel, as pieces in order.
// No I/O: it fills an iovec for a byte budget, advances by what the kernel
// took and says how many messages that completed.
#pragma once

#include "blightbuffer_p.h"
#include "completiontracker_p.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <cstring>
#include <deque>
#include <utility>
#include <vector>

struct iovec;

namespace Blight {

/*! A descriptor that closes itself (one a queued message carries to the peer). */
class OwnedFd
{
public:
    OwnedFd() = default;
    explicit OwnedFd(int fd)
        : m_fd(fd)
    {
    }
    OwnedFd(OwnedFd &&other) noexcept
        : m_fd(std::exchange(other.m_fd, -1))
    {
    }
    OwnedFd &operator=(OwnedFd &&other) noexcept
    {
        OwnedFd moved(std::move(other));
        std::swap(m_fd, moved.m_fd);
        return *this;
    }
    Q_DISABLE_COPY(OwnedFd)
    ~OwnedFd() { reset(); }
    int get() const { return m_fd; }
    void reset();

private:
    int m_fd = -1;
};

class SendQueue
{
public:
    /*! Payloads up to this size are copied into a staging buffer shared with
        their neighbours; larger ones are queued by reference. */
    static constexpr qsizetype StageLimit = 4096;
    static constexpr qsizetype StagingCapacity = 64 * 1024;
    /*! The header size every blight message has (the queue copies it faster). */
    static constexpr qsizetype BlightHeaderSize = 12;

    /*! One queued piece. Pieces of a message stay in order; a piece that may
        go zero-copy is never merged into a staging buffer. */
    struct Piece
    {
        QByteArray bytes; //!< the bytes, unless the piece is a buffer's
        BufferHold hold;  //!< a BlightBuffer's bytes: begin..begin+length
        const char *begin = nullptr;
        qsizetype length = 0;      //!< a buffer's bytes, or the bytes filled in a staging array
        qsizetype offset = 0;      //!< bytes of this piece already sent
        int messagesEnding = 0;    //!< messages whose last byte is in this piece
        bool eligible = false;     //!< may go with MSG_ZEROCOPY
        bool staging = false;      //!< an appendable staging buffer of small messages
        bool boundaryAtEnd = true; //!< the piece ends where a message ends
        bool priority = false;     //!< the answer to a ping, not yet rewritten
        OwnedFd descriptor;        //!< goes with SCM_RIGHTS on the sendmsg() this piece starts
        const char *data() const { return hold.isNull() ? bytes.constData() : begin; }
        qsizetype size() const { return hold.isNull() && !staging ? bytes.size() : length; }
        qsizetype remaining() const { return size() - offset; }
    };

    /*! What fill() put into the iovec. */
    struct Batch
    {
        int count = 0;            //!< iovec entries used
        qsizetype bytes = 0;      //!< bytes offered
        bool zeroCopy = false;    //!< the batch is eligible and zero-copy is on
        bool cutByBudget = false; //!< the byte budget, not the queue, ended it
        int descriptor = -1;      //!< to send with the batch (its first piece's)
    };

    /*! What clear() dropped. */
    struct Dropped
    {
        quint64 messages = 0; //!< messages not completely handed to the kernel
        qint64 bytes = 0;
        quint64 lastId = 0; //!< the highest send id dropped (0: none)
    };

    /*! In datagram mode every piece is one whole datagram, never merged. */
    void setDatagram(bool datagram)
    {
        closeLane();
        m_datagram = datagram;
    }
    bool isDatagram() const { return m_datagram; }

    bool isEmpty() const { return m_pieces.empty(); }
    qint64 bytes() const { return m_bytes; }
    int pieceCount() const { return m_pieceCount; }
    const Piece &front() const { return m_pieces.front(); }
    /*! Messages queued whose last byte the kernel has not taken yet. */
    quint64 messageCount() const { return quint64(m_ends.size() - m_endsHead); }

    /*! Send ids: every message or raw chunk appended ends with the send id
        given (NoId for a piece that does not end one); answers to pings
        carry none. */
    static constexpr quint64 NoId = 0;
    /*! The highest send id whose every byte left the queue (taken or dropped). */
    quint64 lastEndedId() const { return m_lastEndedId; }
    /*! The highest send id queued so far. */
    quint64 lastQueuedId() const { return m_lastQueuedId; }
    /*! The send id of the message that the byte \a offset bytes past the
        front belongs to (NoId for a ping answer or past the end). */
    quint64 idAt(qsizetype offset) const;

    /*! Queues \a bytes by reference (implicit sharing), from \a offset on. */
    void appendShared(const QByteArray &bytes, qsizetype offset, bool eligible, quint64 endsId);
    /*! Queues \a length bytes at \a begin, inside the buffer \a hold keeps. */
    void appendBuffer(const BufferHold &hold, const char *begin, qsizetype length, bool eligible, quint64 endsId);
    /*! Ends send \a id at the tail without bytes (an empty raw chunk). */
    void appendMarker(quint64 id)
    {
        closeLane();
        endMessage(id);
    }
    /*! Copies \a size bytes into the staging buffer at the back. */
    void appendCopy(const char *data, qsizetype size, quint64 endsId);
    /*!
        Queues a small message of \a size bytes that carries \a descriptor
        (the queue owns it): the peer receives a descriptor with the first
        byte of the sendmsg() that carried it, so this message always starts
        a call of its own (fill() ends a batch in front of it).
    */
    void appendWithDescriptor(const char *bytes, qsizetype size, OwnedFd descriptor, quint64 endsId);
    /*! The kernel took the front piece's descriptor (with its first byte). */
    void descriptorSent()
    {
        closeLane();
        m_pieces.front().descriptor.reset();
    }
    /*! Copies a whole small message (header and payload) into staging, or,
        in datagram mode, into a piece of its own. */
    Q_ALWAYS_INLINE void appendMessageCopy(const char *header, qsizetype headerSize, QByteArrayView payload, quint64 id)
    {
        // Inline for the common case, a small message behind others in a
        // staging array with room: two copies and an end.
        closeLane();
        const qsizetype size = headerSize + payload.size();
        if (Q_LIKELY(!m_datagram && payload.size() <= StageLimit && !m_pieces.empty() && m_pieces.back().staging
                     && m_pieces.back().length + size <= m_pieces.back().bytes.size())) {
            copyIntoStaging(m_pieces.back(), header, headerSize, payload, id);
            return;
        }
        appendMessageCopyToNewPiece(header, headerSize, payload, id);
    }

    /*!
        Puts the 12-byte answer to a ping at the next message boundary, ahead
        of the data still queued. If an earlier answer is still waiting whole,
        it is rewritten instead, so one answer carries the latest ackid.
        Returns false if it rewrote an existing answer.
    */
    bool putPriority(const char *message, qsizetype size);

    /*!
        Fills up to \a maxIov entries of \a iov from the front: pieces of one
        kind only (zero-copy eligible while \a zeroCopy, else copied), at most
        \a budget bytes, one datagram at most in datagram mode. The arrays of a
        zero-copy batch are added to \a held, which keeps them alive.
    */
    Batch fill(iovec *iov, int maxIov, bool zeroCopy, qsizetype budget, CompletionTracker::Buffers *held) const;

    /*! The kernel took \a bytes from the front; returns the messages completed. */
    quint64 advance(qsizetype bytes);
    /*! Drops the front datagram whole, all its pieces (the kernel refused it);
        returns its bytes. lastEndedId() then includes it. */
    qint64 dropFrontDatagram();
    /*! The front piece continues a message whose start already left (a lone
        message the kernel took only in part): no priority answer goes before it. */
    void continueMessage()
    {
        closeLane();
        m_frontStartsMidMessage = true;
    }
    /*! The front datagram may no longer go zero-copy (the kernel refused its size). */
    void makeFrontDatagramCopied();
    /*! Drops everything. */
    Dropped clear();

    /*!
        The lane: up to \a room more bytes of whole blight messages may go
        into the staging array at the back by appendThroughLane(), with no
        other check, until anything else changes the queue. The socket opens
        it when nothing but the staging array's room and \a room limits the
        next messages of its turn. No lane when the back is no staging array.
    */
    void openLane(qsizetype room);
    void closeLane() { m_laneRoom = 0; }
    /*! Payloads up to this go through the lane: a few moves, no call. */
    static constexpr qsizetype LaneLimit = 64;
    /*! Appends a blight message (12-byte header) through the lane; false,
        with nothing appended, if the lane is closed or too narrow for it or
        its payload is over LaneLimit. Makes no call (openLane() made room
        for the ends), so the socket's path through it stays short. */
    Q_ALWAYS_INLINE bool appendThroughLane(const char *header, QByteArrayView payload, quint64 id)
    {
        const qsizetype size = BlightHeaderSize + payload.size();
        if (size > m_laneRoom || payload.size() > LaneLimit || m_ends.size() == m_ends.capacity())
            return false;
        m_laneRoom -= size;
        // Not copyIntoStaging(): it takes its cursor from the piece (a detach
        // check) and counts after its copies; sharing one helper with it
        // cost this path two more saved registers, about three instructions
        // per message (callgrind, burst 16).
        m_bytes += size;
        endMessage(id); // before the copies, which may alias anything: the capacity check still holds
        char *out = std::exchange(m_laneOut, m_laneOut + size);
        std::memcpy(out, header, BlightHeaderSize);
        copyPayload(out + BlightHeaderSize, payload.data(), payload.size());
        Piece &piece = m_pieces.back();
        piece.length += size;
        piece.messagesEnding += 1;
        piece.boundaryAtEnd = true;
        return true;
    }

private:
    Piece &stagingBack(qsizetype room);
    void appendMessageCopyToNewPiece(const char *header, qsizetype headerSize, QByteArrayView payload, quint64 id);
    /*! Copies a whole message to the end of the staging \a piece, which has room for it. */
    Q_ALWAYS_INLINE void copyIntoStaging(Piece &piece, const char *header, qsizetype headerSize, QByteArrayView payload,
                                         quint64 id)
    {
        char *out = piece.bytes.data() + piece.length;
        if (headerSize == BlightHeaderSize)
            std::memcpy(out, header, BlightHeaderSize); // a few moves, not a call
        else
            std::memcpy(out, header, size_t(headerSize));
        copyPayload(out + headerSize, payload.data(), payload.size());
        const qsizetype size = headerSize + payload.size();
        piece.length += size;
        piece.messagesEnding += 1;
        piece.boundaryAtEnd = true;
        m_bytes += size;
        endMessage(id);
    }
    /*! memcpy() without the call up to LaneLimit bytes (most payloads):
        two fixed-size moves that overlap in the middle. */
    static Q_ALWAYS_INLINE void copyPayload(char *out, const char *in, qsizetype n)
    {
        static_assert(LaneLimit == 64, "the moves below cover up to 64 bytes");
        if (n <= 0)
            return;
        if (n > LaneLimit) {
            std::memcpy(out, in, size_t(n));
        } else if (n >= 32) {
            std::memcpy(out, in, 32);
            std::memcpy(out + n - 32, in + n - 32, 32);
        } else if (n >= 16) {
            std::memcpy(out, in, 16);
            std::memcpy(out + n - 16, in + n - 16, 16);
        } else if (n >= 8) {
            std::memcpy(out, in, 8);
            std::memcpy(out + n - 8, in + n - 8, 8);
        } else if (n >= 4) {
            std::memcpy(out, in, 4);
            std::memcpy(out + n - 4, in + n - 4, 4);
        } else {
            out[0] = in[0];
            out[n / 2] = in[n / 2];
            out[n - 1] = in[n - 1];
        }
    }
    void push(Piece piece, quint64 endsId);
    Q_ALWAYS_INLINE void endMessage(quint64 id)
    {
        // A piece ends at most one message unless it is staging, where each end
        // is recorded as it is appended; either way the end is the current tail.
        m_ends.push_back({m_sent + quint64(m_bytes), id});
        if (id != NoId)
            m_lastQueuedId = id;
    }
    quint64 consume(qsizetype bytes);

    static constexpr size_t EndsCompactAt = 4096;
    struct End
    {
        quint64 position; //!< stream position of the message's end
        quint64 id;       //!< its send id (NoId: a ping answer)
    };

    std::deque<Piece> m_pieces;
    int m_pieceCount = 0;      // m_pieces.size(), which a deque computes: asked at every send
    QByteArray m_spareStaging; // a sent staging buffer kept for reuse
    qint64 m_bytes = 0;
    qsizetype m_laneRoom = 0;  // see openLane()
    char *m_laneOut = nullptr; // where the lane's next message goes
    // Stream positions (bytes since the queue began) where queued messages
    // end, in order; m_sent is the position of the front. A staging piece
    // holds many messages, so completion is counted per message end, not
    // per piece. A vector whose front moves (m_endsHead), because a push at
    // the back is paid by every message and a vector's is the cheapest.
    std::vector<End> m_ends;
    size_t m_endsHead = 0;
    quint64 m_sent = 0;
    quint64 m_lastEndedId = 0;
    quint64 m_lastQueuedId = 0;
    bool m_frontStartsMidMessage = false;
    bool m_datagram = false;
};

} // namespace Blight
