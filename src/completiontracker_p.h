// SPDX-License-Identifier: MIT
// The zero-copy pending map: buffers held per send until the kernel releases
// their counter values. Pure bookkeeping, no I/O.
#pragma once

#include "blightbuffer_p.h"

#include <QtCore/QtGlobal>

#include <QtCore/QByteArray>
#include <QtCore/QVarLengthArray>

#include <array>
#include <deque>

namespace Blight {

/*! Release latencies in a log-linear histogram: 8 sub-buckets per power of two
    of nanoseconds, so percentiles are within 12.5 %. */
class LatencyHistogram
{
public:
    void record(qint64 nanoseconds);
    /*! The value (ns) below which \a fraction of the samples lie; 0 when empty. */
    qint64 percentile(double fraction) const;
    qint64 max() const { return m_max; }
    quint64 count() const { return m_count; }
    void reset();

private:
    static constexpr int SubBits = 3;
    static constexpr int Buckets = 64 << SubBits;
    static int bucketOf(quint64 value);
    static quint64 bucketUpperBound(int bucket);
    std::array<quint64, Buckets> m_counts{};
    quint64 m_count = 0;
    qint64 m_max = 0;
};

/*!
    Holds the buffers of every zero-copy send until its counter value is
    released. The kernel numbers sends with a 32-bit counter that wraps; the
    tracker extends it to a 64-bit sequence (the window of pending sends is
    far below 2^31), keeps entries in sequence order, and releases from the
    front, so in-order completion is a cheap pop and wrap-around is a
    non-event. Out-of-order ranges drop their buffers at once and leave an
    empty slot until the front catches up; repeated or unknown values are
    ignored.
*/
/*! What keeps the bytes of one piece of a send alive: an array or a buffer. */
struct HeldBytes
{
    QByteArray array;
    BufferHold buffer;
};

class CompletionTracker
{
public:
    using Buffers = QVarLengthArray<HeldBytes, 2>;

    struct Release
    {
        quint32 sends = 0;   //!< pending sends released by this range
        qint64 bytes = 0;    //!< their bytes
        quint64 ignored = 0; //!< values in the range that were not pending
    };

    explicit CompletionTracker(quint32 firstId = 0);

    /*! The counter value the next zero-copy send will take. */
    quint32 nextId() const { return quint32(m_nextSeq); }
    /*! Registers a send before it is made; returns its counter value. The
        send carries bytes of the caller's sends \a firstId..\a lastId (send
        ids, see SendLedger). */
    quint32 add(Buffers buffers, qint64 bytes, qint64 sentAtNs, quint64 firstId = 0, quint64 lastId = 0);
    /*! The last add() sent nothing: the kernel took no counter value. */
    void rollbackLast();
    /*! Whether the last add() is still pending (no range released it yet). */
    bool isLastPending() const { return !m_entries.empty() && !m_entries.back().released; }
    /*! The last add() sent \a bytes (fewer than announced on a partial send). */
    void setLastBytes(qint64 bytes);
    /*! The last add() ended in send \a lastId (a partial send ends early). */
    void setLastSendId(quint64 lastId);
    /*! Calls \a visit(firstId, lastId) for every pending send, in order,
        until it returns false. */
    template<typename Visit> void forEachPending(Visit &&visit) const
    {
        for (const Entry &entry : m_entries) {
            if (!entry.released && !visit(entry.firstId, entry.lastId))
                return;
        }
    }

    /*! The kernel released [lo, hi] (inclusive, may wrap past 2^32). */
    Release release(quint32 lo, quint32 hi, qint64 nowNs);
    /*! Drops everything (after the kernel dropped the data); returns what was held. */
    Buffers takeAll();

    bool isEmpty() const { return m_pendingCount == 0; }
    qint64 pendingCount() const { return m_pendingCount; }
    qint64 pendingBytes() const { return m_pendingBytes; }
    qint64 peakPendingBytes() const { return m_peakPendingBytes; }
    quint64 releasedCount() const { return m_releasedCount; }
    quint64 releasedBytes() const { return m_releasedBytes; }
    const LatencyHistogram &latency() const { return m_latency; }
    /*! Restarts the released counters, the peak and the latency histogram. */
    void resetCounters();

private:
    struct Entry
    {
        Buffers buffers;
        qint64 bytes = 0;
        qint64 sentAtNs = 0;
        quint64 firstId = 0;
        quint64 lastId = 0;
        bool released = false;
    };
    void releaseAt(quint64 offset, qint64 nowNs, Release *result);
    void popReleased();

    std::deque<Entry> m_entries; // m_entries[i] has sequence m_frontSeq + i
    quint64 m_frontSeq;
    quint64 m_nextSeq;
    qint64 m_pendingCount = 0;
    qint64 m_pendingBytes = 0;
    qint64 m_peakPendingBytes = 0;
    quint64 m_releasedCount = 0;
    quint64 m_releasedBytes = 0;
    LatencyHistogram m_latency;
};

} // namespace Blight
