// SPDX-License-Identifier: MIT
// frame-ring: the two producers (pool buffers, a fresh QByteArray per frame)
// on one BlightSocket, their flow control and their figures.
#include "framering.h"

#include "contenders.h"
#include "workload.h"

#include <BlightTransport/blightbufferpool.h>
#include <BlightTransport/blightsocket.h>

#include <sys/resource.h>

#include <algorithm>
#include <optional>
#include <set>

using namespace Qt::StringLiterals;
using Blight::BlightBuffer;
using Blight::BlightBufferPool;
using Blight::BlightSocket;

namespace Bench {

namespace {

long minorFaultsNow()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

// The two ends of the chosen link; only one kind of pair is made.
struct RingConnection
{
    explicit RingConnection(RingLink link)
    {
        if (link == RingLink::Unix)
            unixPair.emplace();
        else
            tcpPair.emplace();
    }
    bool valid() const { return unixPair ? unixPair->valid() : tcpPair->valid(); }
    QString error() const { return unixPair ? unixPair->error : tcpPair->error; }
    int sender() const { return unixPair ? unixPair->sender : tcpPair->sender; }
    int receiver() const { return unixPair ? unixPair->receiver : tcpPair->receiver; }
    void releaseSender()
    {
        if (unixPair)
            unixPair->releaseSender();
        else
            tcpPair->releaseSender();
    }

    std::optional<SocketPair> unixPair;
    std::optional<TcpPair> tcpPair;
};

} // namespace

Sample runFrameRing(RingLink link, RingProducer producer, const RunRequest &request)
{
    Sample s;
    RingConnection connection(link);
    if (!connection.valid()) {
        s.error = connection.error();
        return s;
    }
    const bool pooled = producer == RingProducer::Pool;
    std::unique_ptr<BlightBufferPool> pool;
    if (pooled) {
        // Every buffer holds the screen once; a frame changes its first 8 bytes.
        pool = makeFramePool(PoolMemory::Shared, &s.error);
        if (!pool)
            return s;
    }
    const UnixFrameContent &screen = UnixFrameContent::instance(); // the fresh producer's source image
    RingFrameReceiver receiver(connection.receiver(), request.count, request.warmup, pooled);
    BlightSocket socket;
    if (!socket.setSocketDescriptor(connection.sender())) {
        s.error = u"BlightSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    connection.releaseSender();
    // The same socket settings for both producers; zero-copy stays at its
    // default. Shared memory on both links: over TCP on loopback the pool's
    // descriptor goes through the descriptor channel.
    socket.setSharedMemoryEnabled(true);
    if (link == RingLink::Tcp)
        socket.setZeroCopyBackend(BlightSocket::ZeroCopyBackend::MsgZeroCopy); // whatever Auto takes
    // The in-flight bound must be what holds the producer back, not the queue.
    socket.setSendQueueLimit(qint64(RingFramesInFlight + 1) * qint64(UnixFrameBytes));

    EventLoopRun run;
    EventLoopRun *draining = nullptr;
    quint64 frame = 0;    // frames the socket accepted
    quint64 released = 0; // of them, released (every id counted once)
    quint64 undelivered = 0;
    quint64 firstId = 0;
    double makeCpu = 0; // getting the frame's memory ready
    double sendCpu = 0; // inside sendBuffer()/sendMessage()
    std::set<const char *> buffersUsed;
    bool timing = false; // a release or pool signal may come before the clock runs

    auto pump = [&] {
        while (timing && frame < request.count) {
            // The fresh producer keeps the pool's bound by counting releases.
            if (!pooled && frame - released >= quint64(RingFramesInFlight))
                return; // resumed by sendsReleased
            quint64 id = 0;
            const double cpu0 = threadCpuNow();
            if (pooled) {
                BlightBuffer buffer = pool->acquire();
                if (buffer.isNull())
                    return;                             // every buffer is out: resumed by bufferAvailable
                writeFrameNumber(buffer.data(), frame); // the rest is the screen as it was
                buffersUsed.insert(buffer.constData());
                const double cpu1 = threadCpuNow();
                id = socket.sendBuffer(Blight::MessageType::Ack, ackidFor(frame), buffer);
                sendCpu += threadCpuNow() - cpu1;
                makeCpu += cpu1 - cpu0;
            } else {
                QByteArray image(qsizetype(UnixFrameBytes), Qt::Uninitialized);
                screen.fill(image.data()); // one memcpy of the whole screen
                writeFrameNumber(image.data(), frame);
                const double cpu1 = threadCpuNow();
                // sendMessage() keeps a reference to the array: no copy in user space.
                id = socket.sendMessage(Blight::MessageType::Ack, ackidFor(frame), image);
                sendCpu += threadCpuNow() - cpu1;
                makeCpu += cpu1 - cpu0;
            }
            if (id == 0) {
                if (socket.lastSendError() != BlightSocket::Error::QueueFull)
                    run.fail(u"send refused frame %1: %2"_s.arg(frame).arg(int(socket.lastSendError())));
                return; // resumed by canSendChanged(true)
            }
            if (frame == 0)
                firstId = id;
            if (id != firstId + frame) {
                run.fail(u"frame %1 got send id %2, expected %3"_s.arg(frame).arg(id).arg(firstId + frame));
                return;
            }
            ++frame;
        }
    };
    if (pooled)
        QObject::connect(pool.get(), &BlightBufferPool::bufferAvailable, run.context(), pump);
    QObject::connect(&socket, &BlightSocket::canSendChanged, run.context(), [&](bool can) {
        if (can)
            pump();
    });
    QObject::connect(&socket, &BlightSocket::sendsReleased, run.context(),
                     [&](const QList<Blight::SendIdRange> &ranges) {
                         for (const Blight::SendIdRange &range : ranges) {
                             if (!range.delivered)
                                 undelivered += range.count();
                             if (frame == 0)
                                 continue;
                             // Only the frames' ids: anything else the socket sent is not counted.
                             const quint64 lo = std::max(range.first, firstId);
                             const quint64 hi = std::min(range.last, firstId + frame - 1);
                             if (hi >= lo)
                                 released += hi - lo + 1;
                         }
                         if (draining && released >= frame)
                             draining->quit();
                         else if (!pooled)
                             pump();
                     });
    QObject::connect(&socket, &BlightSocket::errorOccurred, run.context(),
                     [&](BlightSocket::Error, const QString &reason) { run.fail(u"BlightSocket: "_s + reason); });

    receiver.setAllReceived([&run] { run.quit(); });
    receiver.start([&run](bool) { run.quit(); });
    QString error;
    if (!awaitAgreement(socket, run, &error)) {
        receiver.abort();
        receiver.wait();
        s.error = error;
        return s;
    }
    socket.resetStatistics(); // the timed part's calls only

    Meter meter;
    const long faults0 = minorFaultsNow();
    meter.start(request.warmup);
    timing = true;
    run.post(pump);
    run.exec();
    meter.stop(&s, receiver.allReceived() ? std::optional(receiver.doneAt()) : std::nullopt);
    const long faults = minorFaultsNow() - faults0;
    const Blight::SocketStatistics stats = socket.statistics();

    // The last releases come after the receiver's last frame: waited for
    // outside the timed part, so that every frame is seen released.
    if (!run.failed() && receiver.allReceived() && released < frame) {
        EventLoopRun drain(10000);
        draining = &drain;
        drain.exec();
        draining = nullptr;
    }
    receiver.abort();
    const ReceiveResult &r = receiver.wait();
    finishSample(&s, r, request.count, run.error());
    if (s.ok && (released != request.count || undelivered != 0))
        s.error = u"%1 of %2 frames released (%3 undelivered)"_s.arg(released).arg(request.count).arg(undelivered);
    const bool sharedExpected = pooled;
    if (s.error.isEmpty() && sharedExpected && stats.sharedMemoryFramesSent != request.count)
        s.error = u"%1 of %2 frames went in shared memory: %3"_s.arg(stats.sharedMemoryFramesSent)
                      .arg(request.count)
                      .arg(socket.zeroCopyReason());
    s.ok = s.error.isEmpty();
    s.syscalls = double(stats.sendCalls + stats.receiveCalls + stats.errorQueueCalls);
    s.extra[u"shm_frames_sent"_s] = double(stats.sharedMemoryFramesSent);
    s.extra[u"shm_frames_received"_s] = double(receiver.statistics().sharedMemoryFramesReceived);
    s.extra[u"user_space_copies"_s] = double(stats.userSpaceCopies);
    s.extra[u"zero_copy_sends"_s] = double(stats.zeroCopySends);
    s.extra[u"copied_completions"_s] = double(stats.copiedCompletions);
    if (pooled) {
        s.extra[u"pool_waits"_s] = double(pool->waitingAcquires());
        s.extra[u"pool_buffers_used"_s] = double(buffersUsed.size());
    }
    if (frame > 0) {
        const double perFrame = 1e6 / double(frame);
        s.extra[u"make_frame_cpu_us_per_frame"_s] = makeCpu * perFrame;
        s.extra[u"in_send_call_cpu_us_per_frame"_s] = sendCpu * perFrame;
        s.extra[u"minor_faults_per_frame"_s] = double(faults) / double(frame);
    }
    addFrameFigures(&s, receiver);
    socket.abort();
    return s;
}

} // namespace Bench
