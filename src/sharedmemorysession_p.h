// SPDX-License-Identifier: MIT
// One connection's shared-memory bookkeeping: the agreement, the regions and
// frames this side sent (tokens, send ids, holds), and the regions and
// frames it received, with every check of what the peer claims. No I/O.
#pragma once

#include "blightbuffer_p.h"
#include "sharedmemorywire_p.h"

#include <QtCore/QHash>
#include <QtCore/QSet>
#include <QtCore/QString>

#include <vector>

namespace Blight {

class MappedRegion;

class SharedMemorySession
{
public:
    static constexpr int DefaultMaxPools = 16;
    static constexpr int MaxFramesOut = 65536;

    SharedMemorySession() = default;
    ~SharedMemorySession() { reset(); }
    Q_DISABLE_COPY_MOVE(SharedMemorySession)

    /*! A new connection: forgets everything, unreferences mapped regions. */
    void reset();

    // The agreement.
    bool offerSent = false;
    bool offerReceived = false;
    // Over TCP a side also needs the peer's descriptor channel (its Channel
    // message follows its Offer), and one it could connect to.
    bool channelNeeded = false;
    bool channelReceived = false;
    bool channelUsable = false;
    quint64 peerMapLimit = 0;
    /*! Enough to take the peer's frames. */
    bool offersCrossed() const { return offerSent && offerReceived; }
    /*! Frames go both ways: over TCP this side can reach the peer's channel. */
    bool agreed() const { return offersCrossed() && (!channelNeeded || channelUsable); }

    // Sending.
    struct OutFrame
    {
        quint64 sendId = 0;
        BufferHold hold;
    };
    /*! This connection's number of the region \a serial, or -1 if not
        announced yet. */
    int poolFor(quint64 serial) const { return m_announced.value(serial, -1); }
    /*! Whether the peer said it maps \a size bytes more. */
    bool peerCanMap(quint64 size) const { return m_announcedBytes + size <= peerMapLimit; }
    quint32 announce(quint64 serial, quint64 size);
    /*! A frame that went out; returns its token. */
    quint32 addFrame(quint64 sendId, const BufferHold &hold);
    /*! The peer released \a token: its frame, or nullopt-like (sendId 0)
        when \a token is not out. */
    OutFrame release(quint32 token);
    int framesOut() const { return int(m_out.size()); }
    /*! The frames still out when the connection ends, in send id order. */
    std::vector<OutFrame> takeFramesOut();

    // Receiving.
    /*! Why the peer's Pool may not be mapped within \a mapLimit bytes (empty:
        it may). */
    QString checkPool(const SharedMemoryWire::PoolAnnounce &pool, qint64 mapLimit) const;
    /*! Takes one reference of \a region, mapped for the pool checkPool() let through. */
    void addPool(MappedRegion *region, quint64 size);
    /*! Why the peer's Frame is refused (empty: it names \a *region and a span inside). */
    QString checkFrame(const SharedMemoryWire::FrameRef &frame, quint32 maxPayloadSize, MappedRegion **region) const;
    /*! The application holds the frame \a token from now on. */
    void frameReceived(quint32 token) { m_received.insert(token); }
    /*! The application let go of \a token; false if it was not out. */
    bool frameReleased(quint32 token) { return m_received.remove(token); }
    qint64 mappedBytes() const { return m_mappedBytes; }
    int mappedPools() const { return int(m_pools.size()); }

private:
    // Sending.
    QHash<quint64, int> m_announced; // region serial -> pool number
    quint64 m_announcedBytes = 0;
    QHash<quint32, OutFrame> m_out;
    quint32 m_nextToken = 1;
    // Receiving.
    std::vector<MappedRegion *> m_pools;
    qint64 m_mappedBytes = 0;
    QSet<quint32> m_received;
};

} // namespace Blight
