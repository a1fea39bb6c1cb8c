// SPDX-License-Identifier: MIT
// When queued messages leave: inside the call, at the end of the event-loop
// turn, or when the socket reports itself writable. No I/O, no event loop:
// the socket tells it the turn number and what it sent.
#pragma once

#include <QtCore/QtGlobal>

namespace Blight {

/*!
    The first message of an event-loop turn leaves inside the call (no added
    latency for a lone message or a reply); later ones in the same turn are
    coalesced and leave together at the end of the turn, or as soon as
    flushThreshold bytes or the iovec limit are queued. A sender that sent a
    burst in its previous turn is streaming: then the first message of a turn
    waits with the rest and the queue leaves when the socket is writable,
    after the next pass has added its messages too. That saves a system call,
    and a wake-up of the peer, per burst.
*/
class CoalescingPolicy
{
public:
    enum class When { Now, EndOfTurn, Writable };

    /*! Counts one accepted message in \a turn. Returns true if it may leave
        inside the call (nothing queued before it, the socket writable). */
    bool sendsImmediately(quint64 turn, bool queueEmpty, bool writable);
    /*! When a message that did not leave inside the call should. */
    When whenQueued() const { return m_previousTurnMessages > 1 ? When::Writable : When::EndOfTurn; }
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
    quint64 m_countedTurn = 0;   // the turn m_turnMessages counts for
    int m_turnMessages = 0;
    int m_previousTurnMessages = 0;
};

} // namespace Blight
