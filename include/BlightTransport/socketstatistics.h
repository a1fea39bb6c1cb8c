// SPDX-License-Identifier: MIT
// A snapshot of one socket's counters; cheap to copy, readable from QML.
#pragma once

#include <BlightTransport/blighttransport_global.h>

#include <QtCore/QMetaType>
#include <QtCore/QObject>

namespace Blight {

/*!
    \struct Blight::SocketStatistics
    \brief A snapshot of one socket's counters, from BlightSocket::statistics().

    A Q_GADGET, so QML reads every field as a property. The counters only
    grow, until BlightSocket::resetStatistics(); queuedBytes, pendingBuffers
    and pendingBytes are levels at the time of the snapshot.
*/
struct BLIGHTTRANSPORT_EXPORT SocketStatistics
{
    Q_GADGET
    Q_PROPERTY(quint64 messagesSent MEMBER messagesSent)
    Q_PROPERTY(quint64 bytesSent MEMBER bytesSent)
    Q_PROPERTY(quint64 messagesReceived MEMBER messagesReceived)
    Q_PROPERTY(quint64 bytesReceived MEMBER bytesReceived)
    Q_PROPERTY(quint64 sendCalls MEMBER sendCalls)
    Q_PROPERTY(quint64 receiveCalls MEMBER receiveCalls)
    Q_PROPERTY(quint64 errorQueueCalls MEMBER errorQueueCalls)
    Q_PROPERTY(quint64 wouldBlock MEMBER wouldBlock)
    Q_PROPERTY(quint64 errors MEMBER errors)
    Q_PROPERTY(qint64 queuedBytes MEMBER queuedBytes)
    Q_PROPERTY(qint64 peakQueuedBytes MEMBER peakQueuedBytes)
    Q_PROPERTY(quint64 zeroCopySends MEMBER zeroCopySends)
    Q_PROPERTY(quint64 copySends MEMBER copySends)
    Q_PROPERTY(quint64 zeroCopyBytes MEMBER zeroCopyBytes)
    Q_PROPERTY(quint64 completions MEMBER completions)
    Q_PROPERTY(quint64 copiedCompletions MEMBER copiedCompletions)
    Q_PROPERTY(quint64 releasedBuffers MEMBER releasedBuffers)
    Q_PROPERTY(qint64 pendingBuffers MEMBER pendingBuffers)
    Q_PROPERTY(qint64 pendingBytes MEMBER pendingBytes)
    Q_PROPERTY(qint64 peakPendingBytes MEMBER peakPendingBytes)
    Q_PROPERTY(quint64 userSpaceCopies MEMBER userSpaceCopies)
    Q_PROPERTY(quint64 userSpaceCopyBytes MEMBER userSpaceCopyBytes)
    Q_PROPERTY(quint64 noBufferErrors MEMBER noBufferErrors)
    Q_PROPERTY(quint64 backOffs MEMBER backOffs)
    Q_PROPERTY(quint64 sharedMemoryFramesSent MEMBER sharedMemoryFramesSent)
    Q_PROPERTY(quint64 sharedMemoryBytesSent MEMBER sharedMemoryBytesSent)
    Q_PROPERTY(quint64 sharedMemoryFramesReceived MEMBER sharedMemoryFramesReceived)
    Q_PROPERTY(quint64 sharedMemoryBytesReceived MEMBER sharedMemoryBytesReceived)
    Q_PROPERTY(qint64 mappedBytes MEMBER mappedBytes)
    Q_PROPERTY(int mappedPools MEMBER mappedPools)
    Q_PROPERTY(double releaseLatencyP50 MEMBER releaseLatencyP50)
    Q_PROPERTY(double releaseLatencyP99 MEMBER releaseLatencyP99)
    Q_PROPERTY(double releaseLatencyMax MEMBER releaseLatencyMax)

public:
    quint64 messagesSent = 0;           //!< messages handed to the kernel completely
    quint64 bytesSent = 0;              //!< bytes handed to the kernel, headers included
    quint64 messagesReceived = 0;       //!< complete messages (or raw-stream reads) received
    quint64 bytesReceived = 0;          //!< bytes received, headers included
    quint64 sendCalls = 0;              //!< sendmsg() calls, including ones that failed
    quint64 receiveCalls = 0;           //!< recvmsg()/readv() calls on the data path
    quint64 errorQueueCalls = 0;        //!< recvmsg(MSG_ERRQUEUE) calls
    quint64 wouldBlock = 0;             //!< sends that met EAGAIN
    quint64 errors = 0;                 //!< errors reported through errorOccurred or warning
    qint64 queuedBytes = 0;             //!< accepted but not yet handed to the kernel
    qint64 peakQueuedBytes = 0;         //!< the highest queuedBytes seen
    quint64 zeroCopySends = 0;          //!< sendmsg() calls with MSG_ZEROCOPY that took a kernel id (sent bytes, or a
                                        //!< datagram numbered and then dropped, whose release still comes)
    quint64 copySends = 0;              //!< sendmsg() calls without it that sent bytes
    quint64 zeroCopyBytes = 0;          //!< bytes sent with MSG_ZEROCOPY
    quint64 completions = 0;            //!< completion ranges read from the error queue
    quint64 copiedCompletions = 0;      //!< of which the kernel reported COPIED
    quint64 releasedBuffers = 0;        //!< zero-copy sends whose pages the kernel released
    qint64 pendingBuffers = 0;          //!< zero-copy sends not yet released
    qint64 pendingBytes = 0;            //!< bytes of the zero-copy sends not yet released
    qint64 peakPendingBytes = 0;        //!< the highest pendingBytes seen
    quint64 userSpaceCopies = 0;        //!< payloads (or parts) the socket copied in user space to queue them
    quint64 userSpaceCopyBytes = 0;     //!< their bytes (headers not counted)
    quint64 noBufferErrors = 0;         //!< ENOBUFS met (back-pressure, nothing lost)
    quint64 backOffs = 0;               //!< times zero-copy was suspended because the kernel copied
    quint64 sharedMemoryFramesSent = 0; //!< frames sent as a reference into shared memory
    quint64 sharedMemoryBytesSent = 0;  //!< their payload bytes (never copied)
    quint64 sharedMemoryFramesReceived = 0; //!< frames received in shared memory
    quint64 sharedMemoryBytesReceived = 0;  //!< their payload bytes
    qint64 mappedBytes = 0;                 //!< bytes of the peer's pools mapped now
    int mappedPools = 0;                    //!< the peer's pools mapped now
    double releaseLatencyP50 = 0;           //!< microseconds from send to release
    double releaseLatencyP99 = 0;           //!< 99th percentile, microseconds
    double releaseLatencyMax = 0;           //!< the longest, microseconds
};

} // namespace Blight

Q_DECLARE_METATYPE(Blight::SocketStatistics)
