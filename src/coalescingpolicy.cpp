// SPDX-License-Identifier: MIT
// When queued messages leave (see coalescingpolicy_p.h).
#include "coalescingpolicy_p.h"

namespace Blight {

void CoalescingPolicy::restart()
{
    m_immediateTurn = 0;
    m_queuedTurn = 0;
    m_countedTurn = 0;
    m_turnMessages = 0;
    m_countedTurnStart = 0;
    m_readSinceSend = false;
    m_streaming = false;
}

} // namespace Blight
