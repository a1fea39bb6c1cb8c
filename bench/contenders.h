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
Sample runTransportFrames(const ColdPool &pool, ZeroCopy zeroCopy, const RunRequest &request);
Sample runTransportUdp(VethNamespaces &veth, const ColdPool &pool, const RunRequest &request);
/*! One frame in flight at a time: send, wait for buffersReleased, repeat.
    With \a veth null the path is TCP over loopback. */
Sample runTransportReleaseLatency(VethNamespaces *veth, const ColdPool &pool, const RunRequest &request);

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
