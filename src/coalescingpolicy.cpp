// SPDX-License-Identifier: MIT
// When queued messages leave (see coalescingpolicy_p.h).
#include "coalescingpolicy_p.h"

#include <climits>

namespace Blight {

bool CoalescingPolicy::sendsImmediately(quint64 turn, bool queueEmpty, bool writable)
{
    if (turn != m_countedTurn) {
        m_previousTurnMessages = m_turnMessages;
        m_turnMessages = 0;
        m_countedTurn = turn;
    }
    if (m_turnMessages < INT_MAX)
        ++m_turnMessages;
    if (!queueEmpty || !writable || m_immediateTurn == turn || m_previousTurnMessages > 1)
        return false;
    m_immediateTurn = turn;
    return true;
}

void CoalescingPolicy::restart()
{
    m_immediateTurn = 0;
    m_countedTurn = 0;
    m_turnMessages = 0;
    m_previousTurnMessages = 0;
}

} // namespace Blight
