// SPDX-License-Identifier: MIT
// When queued messages leave: inside the call, at the end of the event-loop
// turn, or when the socket reports itself writable. No I/O, no event loop:
// the socket tells it the turn number, what it sent and when it read.
#pragma once

#include <QtCore/QtGlobal>

#include <climits>

namespace Blight {

/*!
    The first message of an event-loop turn leaves inside the call (no added
    latency for a lone message or a reply); later ones in the same turn are
    coalesced and leave together at the end of the turn, or as soon as
    flushThreshold bytes or the iovec limit are queued.

    A sender that sent in the pass just before and has read nothing since is
    streaming: it is not answering anything, and its peer has input still to
    read or is about to. Then even the first message of a turn waits with the
    rest, and the queue leaves when the socket reports itself writable and
    the next two passes have added their messages too (releasesHeldStream()).
    That saves system calls, and wake-ups of the peer. The idea is TCP's autocorking. A message
    after a read (a reply) and one after an idle pause leave at once.
*/
class CoalescingPolicy
{
public:
    enum class When { Now, EndOfTurn, Writable };

    /*! Counts one accepted message in \a turn. Returns true if it may leave
        inside the call (nothing queued before it, the socket writable, the
        sender not streaming). \a now gives the monotonic time in ns; it is
        called once per turn, not per message. */
    template<typename Now> bool sendsImmediately(quint64 turn, bool queueEmpty, bool writable, Now now);
    /*! A message after this long without one starts afresh, whatever the turns say. */
    static constexpr qint64 IdlePauseNs = 200 * 1000;
    /*! The socket read something from its peer: the next message answers it. */
    void noteRead() { m_readSinceSend = true; }
    /*! The message counted last in \a turn was queued, not sent in the call. */
    void noteQueued(quint64 turn) { m_queuedTurn = turn; }
    /*!
        Whether a message in \a turn just joins the ones queued before it in
        the same turn: the last one counted was queued in \a turn and nothing
        was read since. sendsImmediately() would then say false and change
        nothing a later decision reads, so the socket may skip asking it.
    */
    bool joinsQueuedTurn(quint64 turn) const { return turn == m_queuedTurn && !m_readSinceSend; }
    /*! When a message that did not leave inside the call should. */
    When whenQueued() const { return m_streaming ? When::Writable : When::EndOfTurn; }
    /*! Whether the messages of the current turn are held as a stream. */
    bool isStreaming() const { return m_streaming; }
    /*!
        Turns a stream's messages wait at most, counted from the turn the
        first of them was queued in: the clock moves twice per pass of a busy
        loop, so two more passes add their messages before the queue leaves.
    */
    static constexpr quint64 StreamHoldTurns = 4;
    /*! Whether a stream held since \a heldSince leaves when the socket reports
        itself writable in \a turn: at once when it is no longer a stream (a
        read came in), otherwise once it waited StreamHoldTurns. */
    bool releasesHeldStream(quint64 turn, quint64 heldSince) const
    {
        return !m_streaming || turn - heldSince >= StreamHoldTurns;
    }
    /*! Whether enough is queued that waiting buys nothing. */
    bool flushesNow(qint64 queuedBytes, int queuedPieces, int maxPieces) const
    {
        return queuedBytes >= m_flushThreshold || queuedPieces >= maxPieces;
    }

    qint64 flushThreshold() const { return m_flushThreshold; }
    void setFlushThreshold(qint64 bytes) { m_flushThreshold = qMax<qint64>(bytes, 1); }

    /*! Forgets the turns counted (a new connection, or another thread's clock). */
    void restart();

private:
    qint64 m_flushThreshold = 64 * 1024;
    quint64 m_immediateTurn = 0; // the turn of the last message sent inside the call
    quint64 m_queuedTurn = 0;    // the turn of the last message counted, if it was queued
    quint64 m_countedTurn = 0;   // the turn m_turnMessages counts for
    int m_turnMessages = 0;
    qint64 m_countedTurnStart = 0; // when the first message of m_countedTurn came
    bool m_readSinceSend = false;  // a read since the last message accepted
    bool m_streaming = false;      // decided at the first message of m_countedTurn
};

// Inline: every send asks.
template<typename Now>
inline bool CoalescingPolicy::sendsImmediately(quint64 turn, bool queueEmpty, bool writable, Now now)
{
    if (turn != m_countedTurn) {
        // Only the pass just before counts: the clock moves at awake() and at
        // aboutToBlock(), so the next pass of a loop that blocked is at most
        // two turns on. A loop that blocked for long is two turns on too, so
        // the time tells an idle pause (a timer's tick) from a busy loop. A
        // read since the last send makes this message a reply.
        const qint64 start = now();
        const bool sentInPreviousPass = m_turnMessages > 0 && turn - m_countedTurn <= 2
            && start - m_countedTurnStart < IdlePauseNs;
        m_streaming = sentInPreviousPass && !m_readSinceSend;
        m_turnMessages = 0;
        m_countedTurn = turn;
        m_countedTurnStart = start;
    } else if (m_readSinceSend) {
        m_streaming = false; // a read in this turn: what follows is a reply
    }
    if (m_turnMessages < INT_MAX)
        ++m_turnMessages;
    m_readSinceSend = false;
    m_queuedTurn = 0; // until noteQueued(): this message may leave in the call
    if (!queueEmpty || !writable || m_immediateTurn == turn || m_streaming)
        return false;
    m_immediateTurn = turn;
    return true;
}

} // namespace Blight
