// SPDX-License-Identifier: MIT
// One connection's shared-memory bookkeeping (see sharedmemorysession_p.h).
#include "sharedmemorysession_p.h"
#include "mappedregion_p.h"

#include <algorithm>

namespace Blight {

using namespace SharedMemoryWire;

void SharedMemorySession::reset()
{
    offerSent = false;
    offerReceived = false;
    channelNeeded = false;
    channelReceived = false;
    channelUsable = false;
    peerMapLimit = 0;
    m_announced.clear();
    m_announcedBytes = 0;
    m_out.clear();
    m_nextToken = 1;
    for (MappedRegion *region : std::exchange(m_pools, {}))
        region->deref();
    m_mappedBytes = 0;
    m_received.clear();
}

quint32 SharedMemorySession::announce(quint64 serial, quint64 size)
{
    const auto pool = quint32(m_announced.size());
    m_announced.insert(serial, int(pool));
    m_announcedBytes += size;
    return pool;
}

quint32 SharedMemorySession::addFrame(quint64 sendId, const BufferHold &hold)
{
    // Tokens are unique among the frames out; 0 is never one.
    while (m_nextToken == 0 || m_out.contains(m_nextToken))
        ++m_nextToken;
    const quint32 token = m_nextToken++;
    m_out.insert(token, OutFrame{sendId, hold});
    return token;
}

SharedMemorySession::OutFrame SharedMemorySession::release(quint32 token)
{
    return m_out.take(token);
}

std::vector<SharedMemorySession::OutFrame> SharedMemorySession::takeFramesOut()
{
    std::vector<OutFrame> out;
    out.reserve(size_t(m_out.size()));
    for (OutFrame &frame : m_out)
        out.push_back(std::move(frame));
    m_out.clear();
    std::sort(out.begin(), out.end(), [](const OutFrame &a, const OutFrame &b) { return a.sendId < b.sendId; });
    return out;
}

QString SharedMemorySession::checkPool(const PoolAnnounce &pool, qint64 mapLimit) const
{
    if (pool.pool != quint32(m_pools.size()))
        return QStringLiteral("pool %1 announced, the next is %2").arg(pool.pool).arg(m_pools.size());
    if (m_pools.size() >= size_t(DefaultMaxPools))
        return QStringLiteral("more than %1 pools on one connection").arg(DefaultMaxPools);
    if (pool.size == 0)
        return QStringLiteral("pool %1 of 0 bytes").arg(pool.pool);
    if (mapLimit < m_mappedBytes || pool.size > quint64(mapLimit - m_mappedBytes))
        return QStringLiteral("pool %1 of %2 bytes would map more than the limit of %3 bytes (%4 mapped)")
            .arg(pool.pool)
            .arg(pool.size)
            .arg(mapLimit)
            .arg(m_mappedBytes);
    return {};
}

void SharedMemorySession::addPool(MappedRegion *region, quint64 size)
{
    m_pools.push_back(region);
    m_mappedBytes += qint64(size);
}

QString SharedMemorySession::checkFrame(const FrameRef &frame, quint32 maxPayloadSize, MappedRegion **region) const
{
    if (frame.pool >= m_pools.size())
        return QStringLiteral("frame in pool %1, which was not announced").arg(frame.pool);
    const quint64 poolSize = quint64(m_pools[frame.pool]->size());
    if (frame.offset > poolSize || frame.length > poolSize - frame.offset)
        return QStringLiteral("frame at %1 of %2 bytes lies outside pool %3 (%4 bytes)")
            .arg(frame.offset)
            .arg(frame.length)
            .arg(frame.pool)
            .arg(poolSize);
    if (frame.length > maxPayloadSize)
        return QStringLiteral("frame of %1 bytes exceeds the payload cap of %2 bytes")
            .arg(frame.length)
            .arg(maxPayloadSize);
    if (!isValidType(frame.type))
        return QStringLiteral("frame of invalid message type %1").arg(frame.type);
    if (frame.length == 0 && requiresPayload(MessageType(frame.type)))
        return QStringLiteral("frame of type %1 without payload").arg(frame.type);
    if (frame.token == 0 || m_received.contains(frame.token))
        return QStringLiteral("frame token %1 is already out").arg(frame.token);
    if (m_received.size() >= MaxFramesOut)
        return QStringLiteral("more than %1 frames out at once").arg(MaxFramesOut);
    *region = m_pools[frame.pool];
    return {};
}

} // namespace Blight
