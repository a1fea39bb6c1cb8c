// SPDX-License-Identifier: MIT
// frames-unix with BlightSocket on both ends: sendBuffer() of pool buffers,
// over the copy path (an anonymous pool) or shared memory (a memfd pool,
// sharedMemoryEnabled on both sockets, frames from bufferReceived).
#include "framesunix.h"

#include "contenders.h"
#include "workload.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QEventLoop>

#include <vector>

using namespace Qt::StringLiterals;
using Blight::BlightBuffer;
using Blight::BlightBufferPool;
using Blight::BlightSocket;

namespace Bench {

namespace {

using Clock = std::chrono::steady_clock;

// Serves its BlightSocket until abort(): after the last frame the releases
// of the frames it held still have to reach the sender.
class TransportFrameReceiver : public FramesReceiverThread
{
public:
    TransportFrameReceiver(int fd, quint64 frames, bool fullCheck, bool sharedMemory)
        : FramesReceiverThread(fd, frames, fullCheck)
        , m_sharedMemory(sharedMemory)
    {
    }
    /*! The receiving socket's counters; read after wait(). */
    const Blight::SocketStatistics &statistics() const { return m_statistics; }

protected:
    void serve() override
    {
        QEventLoop loop;
        BlightSocket socket;
        // The socket pair closes the descriptor; abort() shuts it down.
        if (!socket.setSocketDescriptor(m_fd, BlightSocket::Ownership::Borrow)) {
            fail(u"receiver: BlightSocket::setSocketDescriptor: "_s + socket.errorString());
            return;
        }
        auto accept = [&](Blight::MessageType type, quint32 ackid, const char *data, qsizetype size) {
            if (type != Blight::MessageType::Ack || ackid != ackidFor(m_tally.frames())) {
                fail(u"receiver: frame %1 came as type %2, ackid %3"_s.arg(m_tally.frames()).arg(int(type)).arg(ackid));
                loop.quit();
            } else if (!m_tally.addFrame(data, size_t(size))) {
                loop.quit();
            } else {
                noteProgress();
            }
        };
        if (m_sharedMemory) {
            socket.setSharedMemoryEnabled(true);
            QObject::connect(&socket, &BlightSocket::bufferReceived, &loop,
                             [&](Blight::MessageType type, quint32 ackid, const BlightBuffer &frame) {
                                 // The handle given here is the only one: the
                                 // release goes back once this slot returns.
                                 if (!frame.isShared()) {
                                     fail(u"receiver: frame %1 not in shared memory"_s.arg(m_tally.frames()));
                                     loop.quit();
                                     return;
                                 }
                                 accept(type, ackid, frame.constData(), frame.size());
                             });
            // A frame that took the copy path would come here: say so rather
            // than wait for it.
            QObject::connect(&socket, &BlightSocket::messageReceived, &loop, [&](const Blight::Message &message) {
                fail(u"receiver: frame %1 (ackid %2) came as a copy, not in shared memory"_s.arg(m_tally.frames())
                         .arg(message.ackid()));
                loop.quit();
            });
        } else {
            QObject::connect(&socket, &BlightSocket::messageReceived, &loop, [&](const Blight::Message &message) {
                accept(message.type(), message.ackid(), message.payload.constData(), message.payload.size());
            });
        }
        QObject::connect(&socket, &BlightSocket::errorOccurred, &loop, [&](BlightSocket::Error, const QString &reason) {
            if (!m_tally.done())
                fail(u"receiver: BlightSocket: "_s + reason);
            loop.quit();
        });
        QObject::connect(&socket, &BlightSocket::disconnected, &loop, &QEventLoop::quit);
        loop.exec();
        m_statistics = socket.statistics();
    }

private:
    bool m_sharedMemory;
    Blight::SocketStatistics m_statistics;
};

} // namespace

bool awaitAgreement(BlightSocket &socket, EventLoopRun &run, QString *error)
{
    if (!socket.isSharedMemoryActive()) {
        bool quitting = false; // one quit only: a second would end the timed run
        const QMetaObject::Connection watch = QObject::connect(&socket, &BlightSocket::zeroCopyStateChanged,
                                                               run.context(), [&] {
                                                                   if (!quitting && socket.isSharedMemoryActive()) {
                                                                       quitting = true;
                                                                       run.quit();
                                                                   }
                                                               });
        run.exec();
        QObject::disconnect(watch);
    }
    if (!socket.isSharedMemoryActive()) {
        *error = run.failed() ? run.error() : u"shared memory not agreed: "_s + socket.zeroCopyReason();
        return false;
    }
    return true;
}

Sample runFramesUnixTransport(bool sharedMemory, const RunRequest &request)
{
    Sample s;
    SocketPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    const std::unique_ptr<BlightBufferPool> pool = makeFramePool(sharedMemory ? PoolMemory::Shared
                                                                              : PoolMemory::Anonymous,
                                                                 &s.error);
    if (!pool)
        return s;
    TransportFrameReceiver receiver(pair.receiver, request.count, request.warmup, sharedMemory);
    BlightSocket socket;
    if (!socket.setSocketDescriptor(pair.sender)) {
        s.error = u"BlightSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    pair.releaseSender();
    socket.setSharedMemoryEnabled(sharedMemory);
    // The pool bounds what is in flight; the queue limit must not refuse first.
    socket.setSendQueueLimit(qint64(UnixFramePoolCount + 1) * qint64(UnixFrameBytes));

    EventLoopRun run;
    EventLoopRun *draining = nullptr;
    quint64 frame = 0; // frames accepted by sendBuffer()
    quint64 firstId = 0;
    std::vector<Clock::time_point> sentAt(request.count);
    std::vector<double> latencies;
    latencies.reserve(request.count);
    quint64 undelivered = 0;
    double sendCpu = 0;
    bool timing = false; // the pool's signal may come during the handshake: no frame before the clock runs
    auto pump = [&] {
        while (timing && frame < request.count) {
            BlightBuffer buffer = pool->acquire();
            if (buffer.isNull())
                return; // every buffer is out: resumed by bufferAvailable
            writeFrameNumber(buffer.data(), frame);
            const auto t0 = Clock::now();
            const double cpu0 = threadCpuNow();
            const quint64 id = socket.sendBuffer(Blight::MessageType::Ack, ackidFor(frame), buffer);
            sendCpu += threadCpuNow() - cpu0;
            if (id == 0) {
                if (socket.lastSendError() != BlightSocket::Error::QueueFull)
                    run.fail(u"sendBuffer refused frame %1: %2"_s.arg(frame).arg(int(socket.lastSendError())));
                return; // resumed by canSendChanged(true)
            }
            if (frame == 0)
                firstId = id;
            if (id != firstId + frame) {
                run.fail(u"frame %1 got send id %2, expected %3"_s.arg(frame).arg(id).arg(firstId + frame));
                return;
            }
            sentAt[size_t(frame)] = t0;
            ++frame;
        }
    };
    QObject::connect(pool.get(), &BlightBufferPool::bufferAvailable, run.context(), pump);
    QObject::connect(&socket, &BlightSocket::canSendChanged, run.context(), [&](bool can) {
        if (can)
            pump();
    });
    QObject::connect(
        &socket, &BlightSocket::sendsReleased, run.context(), [&](const QList<Blight::SendIdRange> &ranges) {
            const auto now = Clock::now();
            for (const Blight::SendIdRange &range : ranges) {
                if (!range.delivered)
                    undelivered += range.count();
                // Only the frames' ids: anything else the socket sent is not timed.
                for (quint64 id = std::max(range.first, firstId); frame > 0 && id <= range.last && id < firstId + frame;
                     ++id)
                    latencies.push_back(
                        std::chrono::duration<double, std::micro>(now - sentAt[size_t(id - firstId)]).count());
            }
            if (draining && latencies.size() >= frame)
                draining->quit();
        });
    QObject::connect(&socket, &BlightSocket::errorOccurred, run.context(),
                     [&](BlightSocket::Error, const QString &reason) { run.fail(u"BlightSocket: "_s + reason); });

    receiver.setAllReceived([&run] { run.quit(); });
    receiver.start([&run](bool) { run.quit(); });
    QString error;
    if (sharedMemory && !awaitAgreement(socket, run, &error)) {
        receiver.abort();
        receiver.wait();
        s.error = error;
        return s;
    }
    socket.resetStatistics(); // the timed part's calls only

    Meter meter;
    meter.start(request.warmup);
    timing = true;
    run.post(pump);
    run.exec();
    meter.stop(&s, receiver.allReceived() ? std::optional(receiver.doneAt()) : std::nullopt);
    const Blight::SocketStatistics stats = socket.statistics();

    // The last releases come after the receiver's last frame: waited for
    // outside the timed part, for the latency of every frame.
    if (!run.failed() && receiver.allReceived() && latencies.size() < frame) {
        EventLoopRun drain(10000);
        draining = &drain;
        drain.exec();
        draining = nullptr;
    }
    receiver.abort();
    const ReceiveResult &r = receiver.wait();
    finishSample(&s, r, request.count, run.error());
    if (s.ok && (latencies.size() != request.count || undelivered != 0))
        s.error
            = u"%1 of %2 frames released (%3 undelivered)"_s.arg(latencies.size()).arg(request.count).arg(undelivered);
    if (s.error.isEmpty() && sharedMemory && stats.sharedMemoryFramesSent != request.count)
        s.error = u"%1 of %2 frames went in shared memory: %3"_s.arg(stats.sharedMemoryFramesSent)
                      .arg(request.count)
                      .arg(socket.zeroCopyReason());
    s.extra[u"shm_frames_sent"_s] = double(stats.sharedMemoryFramesSent);
    s.extra[u"shm_frames_received"_s] = double(receiver.statistics().sharedMemoryFramesReceived);
    s.ok = s.error.isEmpty();
    s.syscalls = double(stats.sendCalls + stats.receiveCalls + stats.errorQueueCalls);
    const Blight::SocketStatistics &received = receiver.statistics();
    s.extra[u"receiver_syscalls_per_frame"_s] = s.messages
        ? double(received.sendCalls + received.receiveCalls) / double(s.messages)
        : 0.0;
    s.extra[u"user_space_copies"_s] = double(stats.userSpaceCopies);
    s.extra[u"pool_waits"_s] = double(pool->waitingAcquires());
    if (frame > 0)
        s.extra[u"send_call_cpu_us_per_frame"_s] = sendCpu * 1e6 / double(frame);
    addLatencies(&s, u"release"_s, latencies);
    addFrameFigures(&s, receiver);
    socket.abort();
    return s;
}

} // namespace Bench
