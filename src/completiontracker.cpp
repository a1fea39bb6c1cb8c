// SPDX-License-Identifier: MIT
// The zero-copy pending map and the release-latency histogram.
#include "completiontracker_p.h"

#include <bit>

namespace Blight {

int LatencyHistogram::bucketOf(quint64 value)
{
    if (value < (1u << SubBits))
        return int(value);
    const int exponent = 63 - std::countl_zero(value); // >= SubBits
    const int sub = int((value >> (exponent - SubBits)) & ((1u << SubBits) - 1));
    return ((exponent - SubBits + 1) << SubBits) + sub;
}

quint64 LatencyHistogram::bucketUpperBound(int bucket)
{
    if (bucket < (1 << SubBits))
        return quint64(bucket);
    const int exponent = (bucket >> SubBits) + SubBits - 1;
    const quint64 sub = quint64(bucket & ((1 << SubBits) - 1));
    const quint64 base = quint64(1) << exponent;
    const quint64 step = base >> SubBits;
    return base + (sub + 1) * step - 1;
}

void LatencyHistogram::record(qint64 nanoseconds)
{
    const quint64 value = nanoseconds > 0 ? quint64(nanoseconds) : 0;
    ++m_counts[size_t(bucketOf(value))];
    ++m_count;
    if (qint64(value) > m_max)
        m_max = qint64(value);
}

qint64 LatencyHistogram::percentile(double fraction) const
{
    if (m_count == 0)
        return 0;
    const quint64 rank = quint64(fraction * double(m_count - 1)) + 1;
    quint64 seen = 0;
    for (int bucket = 0; bucket < Buckets; ++bucket) {
        seen += m_counts[size_t(bucket)];
        if (seen >= rank)
            return qMin(qint64(bucketUpperBound(bucket)), m_max);
    }
    return m_max;
}

void LatencyHistogram::reset()
{
    m_counts.fill(0);
    m_count = 0;
    m_max = 0;
}

CompletionTracker::CompletionTracker(quint32 firstId)
    : m_frontSeq(firstId)
    , m_nextSeq(firstId)
{
}

quint32 CompletionTracker::add(Buffers buffers, qint64 bytes, qint64 sentAtNs, quint64 firstId, quint64 lastId)
{
    m_entries.push_back(Entry{std::move(buffers), bytes, sentAtNs, firstId, lastId, false});
    ++m_pendingCount;
    m_pendingBytes += bytes;
    m_peakPendingBytes = qMax(m_peakPendingBytes, m_pendingBytes);
    return quint32(m_nextSeq++);
}

void CompletionTracker::rollbackLast()
{
    Q_ASSERT(!m_entries.empty() && !m_entries.back().released);
    --m_pendingCount;
    m_pendingBytes -= m_entries.back().bytes;
    m_entries.pop_back();
    --m_nextSeq;
}

void CompletionTracker::setLastBytes(qint64 bytes)
{
    Q_ASSERT(!m_entries.empty());
    Entry &last = m_entries.back();
    m_pendingBytes += bytes - last.bytes;
    last.bytes = bytes;
}

void CompletionTracker::setLastSendId(quint64 lastId)
{
    Q_ASSERT(!m_entries.empty());
    m_entries.back().lastId = lastId;
}

CompletionTracker::Release CompletionTracker::release(quint32 lo, quint32 hi, qint64 nowNs)
{
    Release result;
    // Distances are taken modulo 2^32 relative to the front of the window, so
    // a range that wraps past UINT32_MAX needs no special case. Only the part
    // of the range that overlaps the pending window is walked.
    const quint64 length = quint64(quint32(hi - lo)) + 1;
    const quint32 front32 = quint32(m_frontSeq);
    const quint64 window = m_nextSeq - m_frontSeq;
    const quint64 startOffset = quint32(lo - front32);
    // Window offsets covered by the range: [startOffset, startOffset + length)
    // and, when that runs past 2^32, its wrapped part from offset 0.
    struct Span
    {
        quint64 first;
        quint64 end;
    };
    Span spans[2] = {{0, 0}, {0, 0}};
    if (startOffset < window)
        spans[0] = {startOffset, qMin(startOffset + length, window)};
    constexpr quint64 Wrap = quint64(1) << 32;
    if (startOffset + length > Wrap)
        spans[1] = {0, qMin(qMin(startOffset + length - Wrap, window), startOffset)};
    result.ignored = length - (spans[0].end - spans[0].first) - (spans[1].end - spans[1].first);
    for (const Span &span : spans) {
        for (quint64 offset = span.first; offset < span.end; ++offset)
            releaseAt(offset, nowNs, &result);
    }
    popReleased();
    return result;
}

void CompletionTracker::releaseAt(quint64 offset, qint64 nowNs, Release *result)
{
    Entry &entry = m_entries[size_t(offset)];
    if (entry.released) {
        ++result->ignored;
        return;
    }
    entry.released = true;
    entry.buffers.clear();
    ++result->sends;
    result->bytes += entry.bytes;
    m_latency.record(nowNs - entry.sentAtNs);
    --m_pendingCount;
    m_pendingBytes -= entry.bytes;
    ++m_releasedCount;
    m_releasedBytes += quint64(entry.bytes);
}

void CompletionTracker::popReleased()
{
    while (!m_entries.empty() && m_entries.front().released) {
        m_entries.pop_front();
        ++m_frontSeq;
    }
}

CompletionTracker::Buffers CompletionTracker::takeAll()
{
    Buffers all;
    for (Entry &entry : m_entries) {
        for (HeldBytes &buffer : entry.buffers)
            all.append(std::move(buffer));
    }
    m_entries.clear();
    m_frontSeq = m_nextSeq;
    m_pendingCount = 0;
    m_pendingBytes = 0;
    return all;
}

void CompletionTracker::resetCounters()
{
    m_releasedCount = 0;
    m_releasedBytes = 0;
    m_peakPendingBytes = m_pendingBytes;
    m_latency.reset();
}

} // namespace Blight
