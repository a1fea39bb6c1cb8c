// SPDX-License-Identifier: MIT
// Every contender, by transport family: POSIX baselines (contenders_posix.cpp),
// Qt's sockets (contenders_qt.cpp) and this library (contenders_transport.cpp).
#pragma once

#include "harness.h"
#include "workload.h"

#include <QtCore/QEventLoop>
#include <QtCore/QTimer>

#include <chrono>
#include <functional>

namespace Blight {
class BlightSocket;
struct SocketStatistics;
} // namespace Blight

namespace Bench {

class VethNamespaces;

/*! Bytes a Qt contender may queue in user space before it waits for the
    socket to drain; the same bound for QLocalSocket/QTcpSocket and the transport. */
inline constexpr qint64 SmallQueueBound = 4 * 1024 * 1024;
inline constexpr qint64 FrameQueueBound = 16 * 1024 * 1024;
/*! A run that has not finished by then has lost something: it fails. */
inline constexpr int RunTimeoutMs = 60000;

// POSIX baselines.
Sample runOxideSmall(const RunRequest &request);
Sample runOxideRtt(const RunRequest &request);
Sample runPlainFramesTcp(const ColdPool &pool, const RunRequest &request);
Sample runPlainUdp(VethNamespaces &veth, const ColdPool &pool, const RunRequest &request);
Sample runMemcpy(const ColdPool &pool, const RunRequest &request);

// Qt's own sockets.
/*! The event loop alone: one posted turn per "message", nothing sent. What
    one turn costs, to set beside burst-1's per-message figures. */
Sample runEventLoopTurns(const RunRequest &request);
Sample runQLocalSocketSmall(int burst, const RunRequest &request);
Sample runQLocalSocketRtt(const RunRequest &request);
Sample runQTcpSocketFrames(const ColdPool &pool, const RunRequest &request);

// This library.
enum class ZeroCopy { Off, Auto, On };
/*! Whether a slot is connected to sendsReleased (and checks every id came back once). */
enum class Releases { Ignored, Counted };
Sample runTransportSmall(int burst, Releases releases, const RunRequest &request);
Sample runTransportRtt(const RunRequest &request);
/*
    The zero-copy contenders below measure one backend each, whatever Auto
    takes. With \a uring null: MSG_ZEROCOPY, sending the ColdPool's
    QByteArrays with send(). With \a uring (the same bytes in a
    BlightBufferPool): io_uring SEND_ZC, sending its buffers with
    sendRawBuffer(), so that each send is one fixed SEND_ZC from the
    registered pool region (transport-uring).
*/
Sample runTransportFrames(const ColdPool &pool, ZeroCopy zeroCopy, const PooledFrames *uring,
                          const RunRequest &request);
Sample runTransportUdp(VethNamespaces &veth, const ColdPool &pool, const PooledFrames *uring,
                       const RunRequest &request);
/*! One frame in flight at a time: send, wait for buffersReleased, repeat.
    With \a veth null the path is TCP over loopback. */
Sample runTransportReleaseLatency(VethNamespaces *veth, const ColdPool &pool, const PooledFrames *uring,
                                  const RunRequest &request);

// The io_uring side of those contenders (contenders_uring.cpp).
/*! Asks \a socket (connected, nothing sent yet) for io_uring; returns why
    the socket cannot have it (the probe's reason: the run is then skipped,
    Sample::skipped), or an empty string. */
QString requireUring(Blight::BlightSocket &socket);
/*!
    Sends \a frame once and waits for its release, outside the timed part:
    the socket registers the pool region with its ring at its first send
    from it, once per connection, and that is set-up, not the steady cost.
    Returns false with \a sample's error set when that failed; \a sample
    gets the time it took (uring_setup_ms).
*/
bool primeUring(Blight::BlightSocket &socket, const Blight::BlightBuffer &frame, Sample *sample);
/*!
    After a run: fails \a sample if the socket left io_uring or registered
    none of the pool's buffers, records how many it registered
    (registered_buffers, registered_pct) and keeps zeroCopyReason() as the
    sample's note.
*/
void recordUring(Sample *sample, const Blight::BlightSocket &socket);

/*!
    A QEventLoop with a watchdog: exec() returns false when fail() was called
    or the run timed out. quit() may be called from any thread.
*/
class EventLoopRun
{
public:
    explicit EventLoopRun(int timeoutMs = RunTimeoutMs);
    void quit();
    void fail(const QString &error);
    bool exec();
    bool failed() const { return !m_error.isEmpty(); }
    QString error() const { return m_error; }
    /*! Runs \a fn on the next turn of the event loop. */
    void post(std::function<void()> fn);
    QObject *context() { return &m_loop; }

private:
    QEventLoop m_loop;
    QTimer m_watchdog;
    QString m_error;
};

class ReceiverThread;

/*! Runs a streaming contender: the loop from \a first until \a receiver has
    every message (or the run fails), then the figures into \a sample. */
void runUntilReceived(Sample *sample, EventLoopRun &run, ReceiverThread &receiver, std::function<void()> first,
                      const RunRequest &request);
/*! Runs a round-trip contender against \a peer the same way; \a latencies
    are the round trips it measured. */
void runRoundTrips(Sample *sample, EventLoopRun &run, ReceiverThread &peer, std::function<void()> first,
                   const std::vector<double> &latencies, const RunRequest &request);

/*! Microsecond latencies to median and p99 in \a sample's extras. */
void addLatencies(Sample *sample, const QString &prefix, const std::vector<double> &micros);

} // namespace Bench
