// SPDX-License-Identifier: MIT
// The send ledger: send ids, and which of them the socket no longer holds.
// Pure bookkeeping, no I/O.
#pragma once

#include "completiontracker_p.h"

#include <BlightTransport/sendidrange.h>

#include <QtCore/QList>

#include <deque>
#include <vector>

namespace Blight {

/*!
    Numbers the caller's sends (1, 2, ... for the life of the socket object,
    across reconnects) and works out which of them are released: every byte
    left the send queue (handed to the kernel, or dropped) and no zero-copy
    send the kernel still holds carries any of their bytes.

    The send queue keeps sends in id order, so "left the queue" is one
    watermark. Zero-copy sends are the completion tracker's pending entries,
    each spanning the ids whose bytes it carries, and frames in shared memory
    are pending while the peer holds them; a completion out of order
    can release ids above a send still pending, so released ids are found as
    the gaps between pending spans, and reported once each: collect() gives
    only what was not reported before, as ranges.
*/
class SendLedger
{
public:
    /*! The id the next accepted send gets. */
    quint64 nextId() const { return m_next; }
    /*! The last id given out (0: none yet). */
    quint64 lastId() const { return m_next - 1; }
    quint64 accept() { return m_next++; }

    /*! The highest id that left the queue. */
    quint64 handed() const { return m_handed; }
    /*! Every send up to \a id left the queue with all of its bytes taken. */
    void handedUpTo(quint64 id)
    {
        if (id > m_handed)
            m_handed = id;
    }
    /*! Sends after the watermark up to \a id left the queue dropped: the
        kernel did not take all of their bytes. */
    void droppedUpTo(quint64 id);

    /*! Send \a id is held by the peer (a frame in shared memory) until
        releasedByPeer() or undeliveredAtPeer(); ids come in ascending order. */
    void heldByPeer(quint64 id) { m_peerHeld.push_back(id); }
    /*! The peer released \a id; false if it did not hold it. */
    bool releasedByPeer(quint64 id);
    /*! The connection ended while the peer held \a id: reported as not
        delivered. */
    void undeliveredAtPeer(quint64 id);
    qsizetype peerHeld() const { return qsizetype(m_peerHeld.size()); }

    /*! Whether collect() may find something new. */
    bool hasNews() const { return m_handed > m_reported || m_peerNews; }

    /*!
        Appends to \a out the ids released and not reported before, given the
        zero-copy sends still pending in \a tracker; returns how many ids.
    */
    quint64 collect(const CompletionTracker &tracker, QList<SendIdRange> *out);

    /*! Dropped ranges waiting to be reported. */
    qsizetype droppedRanges() const { return qsizetype(m_dropped.size()); }
    /*! Ids up to here are all reported. */
    quint64 reportedUpTo() const { return m_reported; }

private:
    struct Range
    {
        quint64 first;
        quint64 last;
    };
    void emitRange(quint64 first, quint64 last, QList<SendIdRange> *out);

    quint64 m_next = 1;
    quint64 m_handed = 0;
    quint64 m_reported = 0;
    // Released and reported above m_reported (out-of-order completions),
    // and dropped ids not yet reported; both sorted, disjoint.
    std::vector<Range> m_reportedAbove;
    std::vector<Range> m_released; // collect()'s scratch, kept for its capacity
    std::deque<Range> m_dropped;
    // Ids the peer holds, ascending; and whether one was let go since the
    // last collect().
    std::vector<quint64> m_peerHeld;
    std::vector<Range> m_pending; // collect()'s scratch: every pending span
    bool m_peerNews = false;
};

} // namespace Blight
