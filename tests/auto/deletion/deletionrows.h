// SPDX-License-Identifier: MIT
// The rows of tst_deletion: which scenario, which emission site it reaches, which signal the slot deletes from.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QList>
#include <QtCore/QMetaMethod>

namespace DeletionRows {

enum class Scenario {
    // State and endpoint.
    ConnectToTcp,           // connectToEndpoint(tcp://) to a listening server
    AdoptDescriptor,        // setSocketDescriptor() of a socket pair end
    ConnectToFd,            // connectToEndpoint(fd:N)
    ConnectToUnix,          // connectToEndpoint(unix:path) to a listening server
    ConnectToLocalhost,     // connectToEndpoint(tcp://localhost:port): a host lookup first
    AbortConnected,         // abort() on a connected socket
    AbortWithQueue,         // abort() with messages queued behind a slow reader
    CloseAfterZeroCopy,     // close() waits for the zero-copy completions
    CloseWithLinger,        // close() with messages queued behind a slow reader
    CloseIdle,              // close() with nothing queued
    AbortWhileConnecting,   // connectToEndpoint(), then abort()
    UdpServerFirstDatagram, // a udp:// server's socket hears its first peer
    // Errors.
    PeerHangUp,       // the raw peer closes its end
    MalformedHeader,  // the raw peer writes a header with an invalid type
    ConnectRefused,   // connectToEndpoint() to a bound, not listening port
    InvalidEndpoint,  // connectToEndpoint() of nonsense
    CloseTimesOut,    // close() with a lingerTime the slow reader cannot meet
    SendToClosedPeer, // sendMessage() after the peer closed: EPIPE in the call
    // Warnings.
    UdpMalformedDatagram,
    UdpIcmpUnreachable, // connected UDP to a closed port, two sends
    // Receiving.
    PeerSendsMessage,
    ResumeReading,   // messages wait while reading is paused, then resume
    NestedEventLoop, // a slot of the first message runs a nested loop
    PeerSendsAck,
    AckForPendingReply, // request() then the peer's Ack
    PingAnswered,
    PingNotAnswered, // autoAnswerPings off
    RawStreamData,
    RawUdpData,
    // Zero-copy (TCP loopback).
    ZeroCopySend,
    ZeroCopyBurst,   // several in flight: the engine becomes the heir
    ZeroCopyBackOff, // Auto, copiedBackOffCount 1: loopback copies
    ZeroCopyProbe,   // the probe after the back-off
    SetZeroCopyModeOff,
    ZeroCopyBudgetThresholdFlush, // pendingBuffersLimit 1, flushThreshold small, burst
    RaisePendingBuffersLimit,     // waiting on the budget, then a higher limit frees it
    // The same on the io_uring backend (skipped where it is missing).
    UringSend,
    UringBurst, // on UDP: several in flight at once
    UringBackOff,
    CloseAfterUring,
    // Flow control.
    QueueFullInSend,
    RaiseQueueLimit,  // canSend false, then a higher sendQueueLimit
    DrainAtEndOfTurn, // canSend false in a turn, the end-of-turn flush drains
    DrainOnWritable,  // canSend false behind a slow reader that starts reading
    QueueEmptyAtEndOfTurn,
    QueueEmptyOnWritable,
    // Statistics.
    ImmediateSend,
    EndOfTurnFlush,
    ReadMessage,
    WritableFlush,
    ResetStatistics,
    // One per setter (the shared notify helper).
    SetZeroCopyMode,
    SetZeroCopyThreshold,
    SetPendingBytesLimit,
    SetPendingBuffersLimit,
    SetCopiedBackOffCount,
    SetBackOffInterval,
    SetLingerTime,
    SetSendQueueLimit,
    SetFlushThreshold,
    SetMaxPayloadSize,
    SetAutoAnswerPings,
    SetReadingPaused,
    SetSharedMemoryEnabled,
    SetSharedMemoryLimit,
    // Shared memory (an AF_UNIX pair of two BlightSockets).
    SharedMemoryAgreement, // both enabled: the peer's offer completes it
    PeerOffersWhileOff,    // only the peer enabled: its offer is noted
    SharedMemoryFrame,     // a frame from the peer's shared pool
    SharedMemoryChannel,   // over TCP loopback: the peer's Channel completes it
};

/*! Where the signal must come from for the slot to delete: inside the call
    that triggers the scenario, or later from the event loop. */
enum class When { Any, InCall, FromLoop };

struct Row
{
    const char *tag;
    Scenario scenario;
    const char *site;   // <file>:<function>:<signal>, as tst_deletion reads it from the sources
    QMetaMethod signal; // the slot deletes the socket from this one
    When when = When::Any;
    int onlyInState = -1; // a BlightSocket::State the socket must be in, or -1
    /*! Tells the emission of this row's path from others of the same site. */
    bool (*ready)(const Blight::BlightSocket *socket) = nullptr;
};

const QList<Row> &rows();

} // namespace DeletionRows
