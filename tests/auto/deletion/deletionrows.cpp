// SPDX-License-Identifier: MIT
// The table of tst_deletion: one row per emission site and per risky call path.
#include "deletionrows.h"

namespace DeletionRows {

namespace {

using Blight::BlightSocket;
using State = BlightSocket::State;

constexpr auto Warn = "socketclose.cpp:warn:warning";
constexpr auto Error = "socketclose.cpp:reportError:errorOccurred";
constexpr auto Disconnected = "socketclose.cpp:becomeUnconnected:disconnected";
constexpr auto Statistics = "socketclose.cpp:emitStatistics:statisticsChanged";
constexpr auto Completion = "socketcompletions.cpp:handleCompletion:completionReceived";
constexpr auto Released = "socketcompletions.cpp:handleCompletion:buffersReleased";
constexpr auto ZeroCopyState = "socketcompletions.cpp:applyZeroCopyChange:zeroCopyStateChanged";
constexpr auto Data = "socketreceive.cpp:deliverData:dataReceived";
constexpr auto Ping = "socketreceive.cpp:dispatch:pingReceived";
constexpr auto Ack = "socketreceive.cpp:dispatch:ackReceived";
constexpr auto Message = "socketreceive.cpp:dispatch:messageReceived";
constexpr auto CanSend = "socketsend.cpp:setCanSend:canSendChanged";
constexpr auto QueueEmpty = "socketsend.cpp:reportQueueEmpty:sendQueueEmpty";
constexpr auto Endpoint = "socketsetup.cpp:announceEndpoint:endpointChanged";
constexpr auto StateSite = "socketsetup.cpp:setState:stateChanged";
constexpr auto Connected = "socketsetup.cpp:becomeConnected:connected";
constexpr auto Property = "blightsocket_p.h:notifyChange:notify";
constexpr auto SendsReleased = "socketlifetime.cpp:emitReleases:sendsReleased";
constexpr auto SharedMemoryEnabled = "socketsharedmemory.cpp:enableSharedMemory:zeroCopyStateChanged";
constexpr auto SharedMemoryOffer = "socketsharedmemory.cpp:handleSharedMemoryMessage:zeroCopyStateChanged";
constexpr auto Frame = "socketsharedmemory.cpp:dispatchFrame:bufferReceived";

template<typename Signal> QMetaMethod signal(Signal s)
{
    return QMetaMethod::fromSignal(s);
}

constexpr int in(State state)
{
    return int(state);
}

bool hasRead(const BlightSocket *s)
{
    return s->messagesReceived() > 0;
}
bool hasSent(const BlightSocket *s)
{
    return s->messagesSent() > 0;
}
bool queueEmpty(const BlightSocket *s)
{
    return s->queuedBytes() == 0;
}
bool hasCompletions(const BlightSocket *s)
{
    return s->statistics().completions > 0;
}
bool moreInFlight(const BlightSocket *s)
{
    return s->pendingBuffers() > 0;
}
bool backedOff(const BlightSocket *s)
{
    return s->zeroCopyState() == BlightSocket::ZeroCopyState::BackedOff;
}
bool probing(const BlightSocket *s)
{
    return s->zeroCopyState() == BlightSocket::ZeroCopyState::Active && s->statistics().backOffs > 0;
}
bool onBudget(const BlightSocket *s)
{
    return s->zeroCopyState() == BlightSocket::ZeroCopyState::Budget;
}
template<BlightSocket::Error E> bool failedWith(const BlightSocket *s)
{
    return s->error() == E;
}
using E = BlightSocket::Error;

} // namespace

const QList<Row> &rows()
{
    using S = Scenario;
    static const QList<Row> table = {
        // stateChanged
        {"stateChanged Connecting: connectToEndpoint", S::ConnectToTcp, StateSite, signal(&BlightSocket::stateChanged),
         When::InCall, in(State::Connecting)},
        {"stateChanged Connected: TCP connect", S::ConnectToTcp, StateSite, signal(&BlightSocket::stateChanged),
         When::FromLoop, in(State::Connected)},
        {"stateChanged Connected: adopt", S::AdoptDescriptor, StateSite, signal(&BlightSocket::stateChanged),
         When::InCall, in(State::Connected)},
        {"stateChanged Connected: fd: endpoint", S::ConnectToFd, StateSite, signal(&BlightSocket::stateChanged),
         When::FromLoop, in(State::Connected)},
        {"stateChanged Connected: udp server first datagram", S::UdpServerFirstDatagram, StateSite,
         signal(&BlightSocket::stateChanged), When::FromLoop, in(State::Connected)},
        {"stateChanged Closing: close() with linger", S::CloseWithLinger, StateSite,
         signal(&BlightSocket::stateChanged), When::InCall, in(State::Closing)},
        {"stateChanged Closing: peer hang-up", S::PeerHangUp, StateSite, signal(&BlightSocket::stateChanged),
         When::FromLoop, in(State::Closing), failedWith<E::RemoteClosed>},
        {"stateChanged Unconnected: close() idle", S::CloseIdle, StateSite, signal(&BlightSocket::stateChanged),
         When::InCall, in(State::Unconnected)},
        {"stateChanged Unconnected: close() after delivery", S::CloseWithLinger, StateSite,
         signal(&BlightSocket::stateChanged), When::FromLoop, in(State::Unconnected)},
        {"stateChanged Unconnected: abort() while connecting", S::AbortWhileConnecting, StateSite,
         signal(&BlightSocket::stateChanged), When::InCall, in(State::Unconnected)},
        {"stateChanged Unconnected: connect refused", S::ConnectRefused, StateSite, signal(&BlightSocket::stateChanged),
         When::FromLoop, in(State::Unconnected), failedWith<E::ConnectionRefused>},
        // endpointChanged
        {"endpointChanged: connectToEndpoint", S::ConnectToTcp, Endpoint, signal(&BlightSocket::endpointChanged),
         When::InCall},
        {"endpointChanged: TCP connect adopts", S::ConnectToTcp, Endpoint, signal(&BlightSocket::endpointChanged),
         When::FromLoop},
        {"endpointChanged: adopt", S::AdoptDescriptor, Endpoint, signal(&BlightSocket::endpointChanged), When::InCall},
        {"endpointChanged: fd: endpoint", S::ConnectToFd, Endpoint, signal(&BlightSocket::endpointChanged),
         When::FromLoop},
        {"endpointChanged: udp server first datagram", S::UdpServerFirstDatagram, Endpoint,
         signal(&BlightSocket::endpointChanged), When::FromLoop},
        // connected
        {"connected: fd: endpoint", S::ConnectToFd, Connected, signal(&BlightSocket::connected), When::FromLoop},
        {"connected: TCP connect", S::ConnectToTcp, Connected, signal(&BlightSocket::connected), When::FromLoop},
        {"connected: udp server first datagram", S::UdpServerFirstDatagram, Connected, signal(&BlightSocket::connected),
         When::FromLoop},
        {"connected: unix: path", S::ConnectToUnix, Connected, signal(&BlightSocket::connected), When::FromLoop},
        {"connected: host lookup", S::ConnectToLocalhost, Connected, signal(&BlightSocket::connected), When::FromLoop},
        {"stateChanged Connected: host lookup", S::ConnectToLocalhost, StateSite, signal(&BlightSocket::stateChanged),
         When::FromLoop, in(State::Connected)},
        // errorOccurred
        {"errorOccurred: peer hang-up", S::PeerHangUp, Error, signal(&BlightSocket::errorOccurred), When::FromLoop, -1,
         failedWith<E::RemoteClosed>},
        {"errorOccurred: protocol error", S::MalformedHeader, Error, signal(&BlightSocket::errorOccurred),
         When::FromLoop, -1, failedWith<E::ProtocolError>},
        {"errorOccurred: connect refused", S::ConnectRefused, Error, signal(&BlightSocket::errorOccurred),
         When::FromLoop, -1, failedWith<E::ConnectionRefused>},
        {"errorOccurred: invalid endpoint", S::InvalidEndpoint, Error, signal(&BlightSocket::errorOccurred),
         When::FromLoop, -1, failedWith<E::InvalidEndpoint>},
        {"errorOccurred: Undelivered on close timeout", S::CloseTimesOut, Error, signal(&BlightSocket::errorOccurred),
         When::FromLoop, -1, failedWith<E::Undelivered>},
        {"errorOccurred: EPIPE inside sendMessage", S::SendToClosedPeer, Error, signal(&BlightSocket::errorOccurred),
         When::InCall, -1, failedWith<E::BrokenPipe>},
        // disconnected
        {"disconnected: after hang-up", S::PeerHangUp, Disconnected, signal(&BlightSocket::disconnected),
         When::FromLoop, -1, failedWith<E::RemoteClosed>},
        {"disconnected: close() idle", S::CloseIdle, Disconnected, signal(&BlightSocket::disconnected), When::InCall},
        {"disconnected: close() after delivery", S::CloseWithLinger, Disconnected, signal(&BlightSocket::disconnected),
         When::FromLoop},
        {"disconnected: abort() while connecting", S::AbortWhileConnecting, Disconnected,
         signal(&BlightSocket::disconnected), When::InCall},
        {"disconnected: after Undelivered", S::CloseTimesOut, Disconnected, signal(&BlightSocket::disconnected),
         When::FromLoop, -1, failedWith<E::Undelivered>},
        {"disconnected: invalid endpoint", S::InvalidEndpoint, Disconnected, signal(&BlightSocket::disconnected),
         When::FromLoop, -1, failedWith<E::InvalidEndpoint>},
        {"disconnected: connect refused", S::ConnectRefused, Disconnected, signal(&BlightSocket::disconnected),
         When::FromLoop, -1, failedWith<E::ConnectionRefused>},
        {"disconnected: EPIPE inside sendMessage", S::SendToClosedPeer, Disconnected,
         signal(&BlightSocket::disconnected), When::InCall, -1, failedWith<E::BrokenPipe>},
        {"disconnected: abort() connected", S::AbortConnected, Disconnected, signal(&BlightSocket::disconnected),
         When::InCall},
        {"stateChanged Closing: abort() connected", S::AbortConnected, StateSite, signal(&BlightSocket::stateChanged),
         When::InCall, in(State::Closing)},
        {"disconnected: close() after zero-copy completions", S::CloseAfterZeroCopy, Disconnected,
         signal(&BlightSocket::disconnected), When::FromLoop},
        {"statisticsChanged: close() after zero-copy completions", S::CloseAfterZeroCopy, Statistics,
         signal(&BlightSocket::statisticsChanged), When::FromLoop, in(State::Unconnected)},
        // warning
        {"warning: udp malformed datagram", S::UdpMalformedDatagram, Warn, signal(&BlightSocket::warning),
         When::FromLoop},
        {"warning: ICMP port unreachable", S::UdpIcmpUnreachable, Warn, signal(&BlightSocket::warning), When::Any},
        // receiving
        {"messageReceived: from the peer", S::PeerSendsMessage, Message, signal(&BlightSocket::messageReceived),
         When::FromLoop},
        {"messageReceived: after setReadingPaused(false)", S::ResumeReading, Message,
         signal(&BlightSocket::messageReceived), When::FromLoop},
        {"messageReceived: in a nested event loop", S::NestedEventLoop, Message, signal(&BlightSocket::messageReceived),
         When::FromLoop},
        {"messageReceived: udp server first datagram", S::UdpServerFirstDatagram, Message,
         signal(&BlightSocket::messageReceived), When::FromLoop},
        {"messageReceived: a ping", S::PingAnswered, Message, signal(&BlightSocket::messageReceived), When::FromLoop},
        {"ackReceived: from the peer", S::PeerSendsAck, Ack, signal(&BlightSocket::ackReceived), When::FromLoop},
        {"ackReceived: BlightReply pending", S::AckForPendingReply, Ack, signal(&BlightSocket::ackReceived),
         When::FromLoop},
        {"pingReceived: autoAnswerPings on", S::PingAnswered, Ping, signal(&BlightSocket::pingReceived),
         When::FromLoop},
        {"pingReceived: autoAnswerPings off", S::PingNotAnswered, Ping, signal(&BlightSocket::pingReceived),
         When::FromLoop},
        {"dataReceived: raw stream", S::RawStreamData, Data, signal(&BlightSocket::dataReceived), When::FromLoop},
        {"dataReceived: raw UDP", S::RawUdpData, Data, signal(&BlightSocket::dataReceived), When::FromLoop},
        // zero-copy
        {"completionReceived: TCP loopback", S::ZeroCopySend, Completion, signal(&BlightSocket::completionReceived),
         When::FromLoop},
        {"completionReceived: more in flight", S::ZeroCopyBurst, Completion, signal(&BlightSocket::completionReceived),
         When::FromLoop, -1, moreInFlight},
        {"buffersReleased: TCP loopback", S::ZeroCopySend, Released, signal(&BlightSocket::buffersReleased),
         When::FromLoop},
        {"buffersReleased: more in flight", S::ZeroCopyBurst, Released, signal(&BlightSocket::buffersReleased),
         When::FromLoop, -1, moreInFlight},
        {"zeroCopyStateChanged: TCP connect adopts", S::ConnectToTcp, ZeroCopyState,
         signal(&BlightSocket::zeroCopyStateChanged), When::FromLoop},
        {"zeroCopyStateChanged: back-off after COPIED", S::ZeroCopyBackOff, ZeroCopyState,
         signal(&BlightSocket::zeroCopyStateChanged), When::FromLoop, -1, backedOff},
        {"zeroCopyStateChanged: probe after back-off", S::ZeroCopyProbe, ZeroCopyState,
         signal(&BlightSocket::zeroCopyStateChanged), When::FromLoop, -1, probing},
        {"completionReceived: io_uring, TCP loopback", S::UringSend, Completion,
         signal(&BlightSocket::completionReceived), When::FromLoop},
        {"completionReceived: io_uring, UDP, more in flight", S::UringBurst, Completion,
         signal(&BlightSocket::completionReceived), When::FromLoop, -1, moreInFlight},
        {"buffersReleased: io_uring, TCP loopback", S::UringSend, Released, signal(&BlightSocket::buffersReleased),
         When::FromLoop},
        {"buffersReleased: io_uring, UDP, more in flight", S::UringBurst, Released,
         signal(&BlightSocket::buffersReleased), When::FromLoop, -1, moreInFlight},
        {"zeroCopyStateChanged: io_uring, back-off after COPIED", S::UringBackOff, ZeroCopyState,
         signal(&BlightSocket::zeroCopyStateChanged), When::FromLoop, -1, backedOff},
        {"sendsReleased: io_uring completion", S::UringSend, SendsReleased, signal(&BlightSocket::sendsReleased),
         When::FromLoop},
        {"statisticsChanged: io_uring completions", S::UringSend, Statistics, signal(&BlightSocket::statisticsChanged),
         When::FromLoop, -1, hasCompletions},
        {"disconnected: close() after io_uring completions", S::CloseAfterUring, Disconnected,
         signal(&BlightSocket::disconnected), When::FromLoop},
        {"zeroCopyStateChanged: setZeroCopyMode(Off)", S::SetZeroCopyModeOff, ZeroCopyState,
         signal(&BlightSocket::zeroCopyStateChanged), When::InCall},
        {"zeroCopyStateChanged: budget in a threshold flush", S::ZeroCopyBudgetThresholdFlush, ZeroCopyState,
         signal(&BlightSocket::zeroCopyStateChanged), When::InCall, -1, onBudget},
        {"zeroCopyStateChanged: a higher pendingBuffersLimit frees the budget", S::RaisePendingBuffersLimit,
         ZeroCopyState, signal(&BlightSocket::zeroCopyStateChanged), When::InCall},
        // flow control
        {"canSendChanged false: QueueFull inside sendMessage", S::QueueFullInSend, CanSend,
         signal(&BlightSocket::canSendChanged), When::InCall},
        {"canSendChanged true: end-of-turn flush", S::DrainAtEndOfTurn, CanSend, signal(&BlightSocket::canSendChanged),
         When::FromLoop},
        {"canSendChanged true: write notifier flush", S::DrainOnWritable, CanSend,
         signal(&BlightSocket::canSendChanged), When::FromLoop},
        {"canSendChanged true: a higher sendQueueLimit", S::RaiseQueueLimit, CanSend,
         signal(&BlightSocket::canSendChanged), When::InCall},
        {"sendQueueEmpty: end of turn", S::QueueEmptyAtEndOfTurn, QueueEmpty, signal(&BlightSocket::sendQueueEmpty),
         When::FromLoop},
        {"sendQueueEmpty: write notifier", S::QueueEmptyOnWritable, QueueEmpty, signal(&BlightSocket::sendQueueEmpty),
         When::FromLoop},
        // send ids released
        {"sendsReleased: copy path, after an immediate send", S::ImmediateSend, SendsReleased,
         signal(&BlightSocket::sendsReleased), When::FromLoop},
        {"sendsReleased: copy path, after an end-of-turn flush", S::EndOfTurnFlush, SendsReleased,
         signal(&BlightSocket::sendsReleased), When::FromLoop},
        {"sendsReleased: zero-copy completion", S::ZeroCopySend, SendsReleased, signal(&BlightSocket::sendsReleased),
         When::FromLoop},
        {"sendsReleased: abort() drops the queue, before disconnected", S::AbortWithQueue, SendsReleased,
         signal(&BlightSocket::sendsReleased), When::InCall, in(State::Closing)},
        {"sendsReleased: dropped by a close past lingerTime", S::CloseTimesOut, SendsReleased,
         signal(&BlightSocket::sendsReleased), When::FromLoop, in(State::Closing)},
        // statistics
        {"statisticsChanged: immediate send", S::ImmediateSend, Statistics, signal(&BlightSocket::statisticsChanged),
         When::InCall},
        {"statisticsChanged: end of turn", S::EndOfTurnFlush, Statistics, signal(&BlightSocket::statisticsChanged),
         When::FromLoop},
        {"statisticsChanged: after reading", S::ReadMessage, Statistics, signal(&BlightSocket::statisticsChanged),
         When::FromLoop, -1, hasRead},
        {"statisticsChanged: onWritable", S::WritableFlush, Statistics, signal(&BlightSocket::statisticsChanged),
         When::FromLoop, -1, queueEmpty},
        {"statisticsChanged: resetStatistics()", S::ResetStatistics, Statistics,
         signal(&BlightSocket::statisticsChanged), When::InCall},
        {"statisticsChanged: answering a ping", S::PingAnswered, Statistics, signal(&BlightSocket::statisticsChanged),
         When::FromLoop, -1, hasSent},
        {"statisticsChanged: after disconnected", S::PeerHangUp, Statistics, signal(&BlightSocket::statisticsChanged),
         When::FromLoop, in(State::Unconnected)},
        {"statisticsChanged: zero-copy completions", S::ZeroCopySend, Statistics,
         signal(&BlightSocket::statisticsChanged), When::FromLoop, -1, hasCompletions},
        // property setters (one helper)
        {"zeroCopyModeChanged", S::SetZeroCopyMode, Property, signal(&BlightSocket::zeroCopyModeChanged), When::InCall},
        {"zeroCopyThresholdChanged", S::SetZeroCopyThreshold, Property, signal(&BlightSocket::zeroCopyThresholdChanged),
         When::InCall},
        {"pendingBytesLimitChanged", S::SetPendingBytesLimit, Property, signal(&BlightSocket::pendingBytesLimitChanged),
         When::InCall},
        {"pendingBuffersLimitChanged", S::SetPendingBuffersLimit, Property,
         signal(&BlightSocket::pendingBuffersLimitChanged), When::InCall},
        {"copiedBackOffCountChanged", S::SetCopiedBackOffCount, Property,
         signal(&BlightSocket::copiedBackOffCountChanged), When::InCall},
        {"backOffIntervalChanged", S::SetBackOffInterval, Property, signal(&BlightSocket::backOffIntervalChanged),
         When::InCall},
        {"lingerTimeChanged", S::SetLingerTime, Property, signal(&BlightSocket::lingerTimeChanged), When::InCall},
        {"sendQueueLimitChanged", S::SetSendQueueLimit, Property, signal(&BlightSocket::sendQueueLimitChanged),
         When::InCall},
        {"flushThresholdChanged", S::SetFlushThreshold, Property, signal(&BlightSocket::flushThresholdChanged),
         When::InCall},
        {"maxPayloadSizeChanged", S::SetMaxPayloadSize, Property, signal(&BlightSocket::maxPayloadSizeChanged),
         When::InCall},
        {"autoAnswerPingsChanged", S::SetAutoAnswerPings, Property, signal(&BlightSocket::autoAnswerPingsChanged),
         When::InCall},
        {"readingPausedChanged", S::SetReadingPaused, Property, signal(&BlightSocket::readingPausedChanged),
         When::InCall},
        {"sharedMemoryEnabledChanged", S::SetSharedMemoryEnabled, Property,
         signal(&BlightSocket::sharedMemoryEnabledChanged), When::InCall},
        {"sharedMemoryLimitChanged", S::SetSharedMemoryLimit, Property, signal(&BlightSocket::sharedMemoryLimitChanged),
         When::InCall},
        // shared memory
        {"zeroCopyStateChanged: setSharedMemoryEnabled()", S::SetSharedMemoryEnabled, SharedMemoryEnabled,
         signal(&BlightSocket::zeroCopyStateChanged), When::InCall},
        {"zeroCopyStateChanged: the peer's offer completes the agreement", S::SharedMemoryAgreement, SharedMemoryOffer,
         signal(&BlightSocket::zeroCopyStateChanged), When::FromLoop},
        {"zeroCopyStateChanged: the peer offers, shared memory is off here", S::PeerOffersWhileOff, SharedMemoryOffer,
         signal(&BlightSocket::zeroCopyStateChanged), When::FromLoop},
        {"zeroCopyStateChanged: over TCP, the peer's descriptor channel completes the agreement",
         S::SharedMemoryChannel, SharedMemoryOffer, signal(&BlightSocket::zeroCopyStateChanged), When::FromLoop},
        {"bufferReceived: a frame in shared memory", S::SharedMemoryFrame, Frame, signal(&BlightSocket::bufferReceived),
         When::FromLoop},
    };
    return table;
}

} // namespace DeletionRows
