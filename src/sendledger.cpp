// SPDX-License-Identifier: MIT
// The send ledger (see sendledger_p.h).
#include "sendledger_p.h"

#include <algorithm>
#include <iterator>

namespace Blight {

void SendLedger::droppedUpTo(quint64 id)
{
    if (id <= m_handed)
        return;
    if (!m_dropped.empty() && m_dropped.back().last == m_handed)
        m_dropped.back().last = id;
    else
        m_dropped.push_back({m_handed + 1, id});
    m_handed = id;
}

bool SendLedger::releasedByPeer(quint64 id)
{
    const auto at = std::lower_bound(m_peerHeld.begin(), m_peerHeld.end(), id);
    if (at == m_peerHeld.end() || *at != id)
        return false;
    m_peerHeld.erase(at);
    m_peerNews = true;
    return true;
}

void SendLedger::undeliveredAtPeer(quint64 id)
{
    if (!releasedByPeer(id))
        return;
    // Keep the dropped ranges sorted and disjoint: merge with a neighbour.
    auto at = std::lower_bound(m_dropped.begin(), m_dropped.end(), id,
                               [](const Range &range, quint64 value) { return range.last < value; });
    if (at != m_dropped.end() && at->first <= id)
        return;
    if (at != m_dropped.begin() && std::prev(at)->last + 1 == id) {
        std::prev(at)->last = id;
        if (at != m_dropped.end() && at->first == id + 1) {
            std::prev(at)->last = at->last;
            m_dropped.erase(at);
        }
        return;
    }
    if (at != m_dropped.end() && at->first == id + 1) {
        at->first = id;
        return;
    }
    m_dropped.insert(at, {id, id});
}

void SendLedger::emitRange(quint64 first, quint64 last, QList<SendIdRange> *out)
{
    // Split by the dropped ranges (those below the watermark are gone).
    quint64 at = first;
    for (const Range &dropped : m_dropped) {
        if (dropped.last < first)
            continue;
        if (dropped.first > last)
            break;
        if (dropped.first > at)
            out->append({at, dropped.first - 1, true});
        const quint64 end = qMin(dropped.last, last);
        out->append({qMax(at, dropped.first), end, false});
        at = end + 1;
        if (at > last)
            return;
    }
    if (at <= last)
        out->append({at, last, true});
}

quint64 SendLedger::collect(const CompletionTracker &tracker, QList<SendIdRange> *out)
{
    m_peerNews = false;
    if (m_handed <= m_reported && m_reportedAbove.empty())
        return 0;
    // The released ids above the watermark: the gaps between pending spans
    // (zero-copy sends, frames the peer holds), up to what left the queue.
    std::vector<Range> &released = m_released;
    released.clear();
    quint64 cursor = m_reported + 1;
    const auto visit = [&](quint64 first, quint64 last) {
        if (cursor > m_handed)
            return false;
        if (last < cursor)
            return true;
        if (first > cursor)
            released.push_back({cursor, qMin(first - 1, m_handed)});
        cursor = qMax(cursor, last + 1);
        return true;
    };
    if (m_peerHeld.empty()) {
        tracker.forEachPending(visit);
    } else {
        // Both lists are in id order: merge them.
        m_pending.clear();
        tracker.forEachPending([this](quint64 first, quint64 last) {
            m_pending.push_back({first, last});
            return true;
        });
        auto span = m_pending.cbegin();
        auto held = m_peerHeld.cbegin();
        while (span != m_pending.cend() || held != m_peerHeld.cend()) {
            const bool takeHeld = span == m_pending.cend() || (held != m_peerHeld.cend() && *held < span->first);
            const bool more = takeHeld ? visit(*held, *held) : visit(span->first, span->last);
            if (!more)
                break;
            if (takeHeld)
                ++held;
            else
                ++span;
        }
    }
    if (cursor <= m_handed)
        released.push_back({cursor, m_handed});

    // New = released minus what was reported above the watermark before
    // (a subset of it: a released id stays released).
    quint64 count = 0;
    auto before = m_reportedAbove.cbegin();
    for (const Range &range : released) {
        quint64 at = range.first;
        while (before != m_reportedAbove.cend() && before->first <= range.last) {
            if (before->first > at) {
                emitRange(at, before->first - 1, out);
                count += before->first - at;
            }
            at = qMax(at, before->last + 1);
            ++before;
        }
        if (at <= range.last) {
            emitRange(at, range.last, out);
            count += range.last - at + 1;
        }
    }

    // Everything released is now reported: move the watermark over the
    // released run that starts right above it, keep the rest.
    auto above = released.begin();
    if (above != released.end() && above->first == m_reported + 1) {
        m_reported = above->last;
        ++above;
    }
    m_reportedAbove.assign(above, released.end());
    while (!m_dropped.empty() && m_dropped.front().last <= m_reported)
        m_dropped.pop_front();
    return count;
}

} // namespace Blight
