// SPDX-License-Identifier: MIT
// frames-unix baselines: a blocking send()/recv() loop, and the receiver's
// checksum alone over the pool memory in one thread (the limit).
#include "framesunix.h"

#include "workload.h"

#include <sys/socket.h>

#include <cerrno>
#include <vector>

using namespace Qt::StringLiterals;
using Blight::BlightBuffer;
using Blight::BlightBufferPool;

namespace Bench {

namespace {

// recv() of 1 MiB at a time, each piece summed while it is still in cache.
class RecvFrameReceiver : public FramesReceiverThread
{
public:
    RecvFrameReceiver(int fd, quint64 frames, bool fullCheck)
        : FramesReceiverThread(fd, frames, fullCheck)
    {
    }

protected:
    void serve() override
    {
        constexpr size_t Capacity = 1024 * 1024;
        std::vector<char> buffer(Capacity);
        while (!m_tally.done()) {
            const ssize_t n = ::recv(m_fd, buffer.data(), Capacity, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                fail(u"receiver: recv: "_s + errnoText(errno));
                return;
            }
            if (n == 0)
                return; // receive() reports how far it got
            if (!m_tally.addPiece(buffer.data(), size_t(n)))
                return;
            noteProgress();
        }
    }
};

} // namespace

Sample runFramesUnixPlain(const RunRequest &request)
{
    Sample s;
    SocketPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    const std::unique_ptr<BlightBufferPool> pool = makeFramePool(PoolMemory::Anonymous, &s.error);
    if (!pool)
        return s;
    RecvFrameReceiver receiver(pair.receiver, request.count, request.warmup);
    BufferRotation rotation(*pool);
    Meter meter;
    quint64 calls = 0;
    QString error;
    meter.start(request.warmup);
    receiver.start();
    for (quint64 frame = 0; frame < request.count && error.isEmpty(); ++frame) {
        // A blocking send() returns once the kernel has every byte, so the
        // buffer could be reused at once; the rotation goes through all.
        const BlightBuffer buffer = rotation.next(frame);
        if (buffer.isNull()) {
            error = u"the pool had no buffer for frame %1"_s.arg(frame);
            break;
        }
        sendAll(pair.sender, buffer.constData(), UnixFrameBytes, &calls, &error);
    }
    if (!error.isEmpty())
        receiver.abort();
    const ReceiveResult &r = receiver.wait();
    meter.stop(&s, r.ok ? std::optional(r.doneAt) : std::nullopt);
    s.syscalls = double(calls);
    finishSample(&s, r, request.count, error);
    addFrameFigures(&s, receiver);
    return s;
}

Sample runFramesUnixChecksumOnly(const RunRequest &request)
{
    Sample s;
    // The memory transport-shm sends from and its receiver reads.
    const std::unique_ptr<BlightBufferPool> pool = makeFramePool(PoolMemory::Shared, &s.error);
    if (!pool)
        return s;
    FrameTally tally(request.count, request.warmup);
    BufferRotation rotation(*pool); // every buffer in turn, as transport-shm's receiver sees them
    Meter meter;
    meter.start(request.warmup);
    for (quint64 frame = 0; frame < request.count; ++frame) {
        const BlightBuffer buffer = rotation.next(frame);
        if (buffer.isNull()) {
            s.error = u"the pool had no buffer for frame %1"_s.arg(frame);
            break;
        }
        if (!tally.addFrame(buffer.constData(), size_t(buffer.size()))) {
            s.error = tally.error();
            break;
        }
    }
    meter.stop(&s);
    s.syscalls = 0;
    s.messages = tally.frames();
    s.bytes = tally.bytes();
    if (s.error.isEmpty() && !tally.done())
        s.error = u"%1 of %2 frames checked"_s.arg(tally.frames()).arg(request.count);
    s.ok = s.error.isEmpty();
    // One thread does it all: its CPU is the "receiver's".
    addFrameFigures(&s, s.threadCpuSeconds, tally.checksumCpuSeconds(), s.messages);
    return s;
}

} // namespace Bench
