// SPDX-License-Identifier: MIT
// The send queue: accepted bytes waiting for the kernel, as pieces in order.
// No I/O: it fills an iovec for a byte budget, advances by what the kernel
// took and says how many messages that completed.
#pragma once

#include "completiontracker_p.h"

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>

#include <deque>

struct iovec;

namespace Blight {

class SendQueue
{
public:
    /*! Payloads up to this size are copied into a staging buffer shared with
        their neighbours; larger ones are queued by reference. */
    static constexpr qsizetype StageLimit = 4096;
    static constexpr qsizetype StagingCapacity = 64 * 1024;

    /*! One queued piece. Pieces of a message stay in order; a piece that may
        go zero-copy is never merged into a staging buffer. */
    struct Piece
    {
        QByteArray bytes;
        qsizetype offset = 0;       //!< bytes of this piece already sent
        int messagesEnding = 0;     //!< messages whose last byte is in this piece
        bool eligible = false;      //!< may go with MSG_ZEROCOPY
        bool staging = false;       //!< an appendable staging buffer of small messages
        bool boundaryAtEnd = true;  //!< the piece ends where a message ends
        bool priority = false;      //!< the answer to a ping, not yet rewritten
        qsizetype remaining() const { return bytes.size() - offset; }
    };

    /*! What fill() put into the iovec. */
    struct Batch
    {
        int count = 0;            //!< iovec entries used
        qsizetype bytes = 0;      //!< bytes offered
        bool zeroCopy = false;    //!< the batch is eligible and zero-copy is on
        bool cutByBudget = false; //!< the byte budget, not the queue, ended it
    };

    /*! What clear() dropped. */
    struct Dropped
    {
        quint64 messages = 0; //!< messages not completely handed to the kernel
        qint64 bytes = 0;
    };

    /*! In datagram mode every piece is one whole datagram, never merged. */
    void setDatagram(bool datagram) { m_datagram = datagram; }
    bool isDatagram() const { return m_datagram; }

    bool isEmpty() const { return m_pieces.empty(); }
    qint64 bytes() const { return m_bytes; }
    int pieceCount() const { return int(m_pieces.size()); }
    const Piece &front() const { return m_pieces.front(); }
    /*! Messages queued whose last byte the kernel has not taken yet. */
    quint64 messageCount() const { return m_messages; }

    /*! Queues \a bytes by reference (implicit sharing), from \a offset on. */
    void appendShared(const QByteArray &bytes, qsizetype offset, bool eligible, int messagesEnding);
    /*! Copies \a size bytes into the staging buffer at the back. */
    void appendCopy(const char *data, qsizetype size, int messagesEnding);
    /*! Copies a whole small message (header and payload) into staging, or,
        in datagram mode, into a piece of its own. */
    void appendMessageCopy(const char *header, qsizetype headerSize, QByteArrayView payload);

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
    /*! Drops the front datagram whole (the kernel refused it); returns its bytes. */
    qint64 dropFrontDatagram();
    /*! The front datagram may no longer go zero-copy (the kernel refused its size). */
    void makeFrontDatagramCopied();
    /*! Drops everything. */
    Dropped clear();

private:
    Piece &stagingBack(qsizetype room);
    void push(Piece piece);

    std::deque<Piece> m_pieces;
    QByteArray m_spareStaging; // a sent staging buffer kept for reuse
    qint64 m_bytes = 0;
    quint64 m_messages = 0;
    bool m_frontStartsMidMessage = false;
    bool m_datagram = false;
};

} // namespace Blight
