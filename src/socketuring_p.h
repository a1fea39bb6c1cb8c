// SPDX-License-Identifier: MIT
// What a socket keeps for its io_uring SEND_ZC backend: the sender (ring),
// the sends waiting for their send completion, datagrams to send again, and
// the pool region registered with the ring.
#pragma once

#include "completiontracker_p.h"
#include "uringsender_p.h"

#include <deque>
#include <memory>
#include <vector>

#include <sys/socket.h>
#include <sys/uio.h>

namespace Blight {

/*! The bytes of one SEND_ZC and what describes them; the ring holds it
    until the send's last completion, also after the socket is gone. It
    alone holds the bytes: the tracker's entry for the send holds none, so
    that they are let go by the ring, when the kernel has let go of them,
    before the socket reports the release. */
struct UringPayload
{
    msghdr message{};
    std::vector<iovec> iov;
    CompletionTracker::Buffers held;
};

/*! One SEND_ZC, from its submission to its send completion. */
struct UringFlight
{
    std::shared_ptr<UringPayload> payload;
    const void *data = nullptr; //!< one region (payload->iov empty)
    quint32 size = 0;
    int bufferIndex = -1;
    quint32 id = 0; //!< the tracker's id, the SQE's user data
    quint64 firstId = 0;
    quint64 lastId = 0;
    bool retried = false; //!< a datagram already sent again once after an ICMP report
};

struct UringBackend
{
    UringSender *sender = nullptr; // child of the engine: it moves with it
    bool reportUsage = false;
    // Until the send completion; mostly in id order, so found at the front.
    std::deque<UringFlight> flights;
    std::deque<UringFlight> retries; // datagrams to submit again, ids already taken
    bool streamInFlight = false;     // TCP: one SEND_ZC at a time keeps the stream in order
    // The pool region registered with the ring (once per ring).
    bool registrationTried = false;
    quint64 registeredSerial = 0;
    const char *registeredBase = nullptr;
    qsizetype stride = 0;
    int registered = 0;
    QString registration; // what registration did, for zeroCopyReason()
};

} // namespace Blight
