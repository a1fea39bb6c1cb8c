// SPDX-License-Identifier: MIT
// The frame-ring scenario (issue 15, section 3): screen frames from a pool of 4
// buffers against a fresh QByteArray per frame, over AF_UNIX and TCP loopback.
#pragma once

#include "framesunix.h"
#include "harness.h"

#include <BlightTransport/socketstatistics.h>

namespace Bench {

enum class RingLink { Unix, Tcp };
/*! What the producer does per frame. Pool: acquire a buffer of a 4-buffer
    BlightBufferPool, write the frame number, sendBuffer(). Fresh: allocate
    a QByteArray of the whole frame, copy the screen into it, write the frame
    number, sendMessage(). */
enum class RingProducer { Pool, Fresh };

/*! Frames a producer may have out (sent, not yet released): the pool's size,
    and the bound the fresh producer keeps by counting sendsReleased. */
inline constexpr int RingFramesInFlight = UnixFramePoolCount;

/*!
    The receiving BlightSocket, the same for both producers and links:
    with sharedMemoryEnabled and a slot on bufferReceived (which sums the
    frame in place and releases it at once), and a slot on messageReceived
    for frames that came as a copy. \a expectShared says which of the two
    every frame must take; a frame on the other fails the run. Serves its
    socket after the last frame until abort(): releases still go back then.
*/
class RingFrameReceiver : public FramesReceiverThread
{
public:
    RingFrameReceiver(int fd, quint64 frames, bool fullCheck, bool expectShared);
    /*! The receiving socket's counters; read after wait(). */
    const Blight::SocketStatistics &statistics() const { return m_statistics; }

protected:
    void serve() override;

private:
    bool m_expectShared;
    Blight::SocketStatistics m_statistics;
};

Sample runFrameRing(RingLink link, RingProducer producer, const RunRequest &request);

} // namespace Bench
