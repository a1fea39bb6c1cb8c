// SPDX-License-Identifier: MIT
// ListenTally: per-payload mapping checks and the connection's summary for listen.
#include "listentally.h"
#include "cliutil.h"
#include "procmaps.h"

#include <BlightTransport/socketstatistics.h>

namespace Blight::Cli {

QJsonObject ListenTally::record(QByteArrayView payload, bool sharedHandle, const BlightSocket &socket)
{
    m_peakMappedBytes = qMax(m_peakMappedBytes, qint64(socket.mappedBytes()));
    if (payload.isEmpty())
        return {};
    m_activeAtLastFrame = socket.isSharedMemoryActive();
    m_stateAtLastFrame = socket.zeroCopyState();
    m_reasonAtLastFrame = socket.zeroCopyReason();
    // The first and the last byte: a frame lies in one mapping, all of it.
    const bool inMemfd = isInMemfdMapping(payload.data()) && isInMemfdMapping(payload.data() + payload.size() - 1);
    ++m_frames;
    if (inMemfd)
        ++m_inMemfd;
    if (sharedHandle)
        ++m_sharedHandles;
    return QJsonObject{
        {QStringLiteral("memfd"), inMemfd},
        {QStringLiteral("shared"), sharedHandle},
    };
}

QJsonObject ListenTally::summary(const BlightSocket &socket) const
{
    const SocketStatistics stats = socket.statistics();
    return QJsonObject{
        {QStringLiteral("summary"), true},
        {QStringLiteral("frames"), m_frames},
        {QStringLiteral("framesInMemfd"), m_inMemfd},
        {QStringLiteral("framesNotInMemfd"), m_frames - m_inMemfd},
        {QStringLiteral("framesAsSharedHandles"), m_sharedHandles},
        // Everything recvmsg() read on this connection, headers and control messages included.
        {QStringLiteral("bytesReceived"), qint64(stats.bytesReceived)},
        {QStringLiteral("bytesReceivedPerFrame"), m_frames > 0 ? double(stats.bytesReceived) / double(m_frames) : 0.0},
        {QStringLiteral("receiveCalls"), qint64(stats.receiveCalls)},
        {QStringLiteral("sharedMemoryFramesReceived"), qint64(stats.sharedMemoryFramesReceived)},
        {QStringLiteral("sharedMemoryBytesReceived"), qint64(stats.sharedMemoryBytesReceived)},
        {QStringLiteral("mappedBytes"), qint64(stats.mappedBytes)},
        {QStringLiteral("mappedBytesPeak"), m_peakMappedBytes},
        {QStringLiteral("mappedPools"), qint64(stats.mappedPools)},
        {QStringLiteral("sharedMemoryEnabled"), socket.isSharedMemoryEnabled()},
        {QStringLiteral("sharedMemoryActive"), m_activeAtLastFrame},
        {QStringLiteral("zeroCopyState"), zeroCopyStateName(m_stateAtLastFrame)},
        {QStringLiteral("zeroCopyReason"), m_reasonAtLastFrame},
    };
}

} // namespace Blight::Cli
