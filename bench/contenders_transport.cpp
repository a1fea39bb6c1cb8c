// SPDX-License-Identifier: MIT
// This library's contenders: Blight::BlightSocket on the same sockets, driven
// the way its API documents (sendPayload/send per message, canSendChanged for
// back-pressure, buffersReleased for zero-copy completions, sendsReleased
// counted by a slot for the cost of the release notification).
#include "contenders.h"
#include "netns.h"
#include "receiver.h"

#include <BlightTransport/blightsocket.h>

#include <unistd.h>

using namespace Qt::StringLiterals;
using Blight::BlightSocket;

namespace Bench {

namespace {

using Clock = std::chrono::steady_clock;

quint64 transportCalls(const Blight::SocketStatistics &stats)
{
    return stats.sendCalls + stats.receiveCalls + stats.errorQueueCalls;
}

// \a before: counters of set-up sends that the run should not count.
void addTransportStatistics(Sample *s, const BlightSocket &socket, const Blight::SocketStatistics &before = {})
{
    Blight::SocketStatistics stats = socket.statistics();
    stats.sendCalls -= before.sendCalls;
    stats.receiveCalls -= before.receiveCalls;
    stats.errorQueueCalls -= before.errorQueueCalls;
    stats.zeroCopySends -= before.zeroCopySends;
    stats.copySends -= before.copySends;
    stats.completions -= before.completions;
    stats.copiedCompletions -= before.copiedCompletions;
    stats.backOffs -= before.backOffs;
    stats.wouldBlock -= before.wouldBlock;
    stats.noBufferErrors -= before.noBufferErrors;
    s->syscalls = double(transportCalls(stats));
    s->extra[u"send_calls"_s] = double(stats.sendCalls);
    s->extra[u"zerocopy_sends"_s] = double(stats.zeroCopySends);
    s->extra[u"copy_sends"_s] = double(stats.copySends);
    s->extra[u"completions"_s] = double(stats.completions);
    s->extra[u"copied_completions"_s] = double(stats.copiedCompletions);
    s->extra[u"back_offs"_s] = double(stats.backOffs);
    s->extra[u"would_block"_s] = double(stats.wouldBlock);
    s->extra[u"no_buffer_errors"_s] = double(stats.noBufferErrors);
    s->extra[u"peak_queued_mib"_s] = double(stats.peakQueuedBytes) / 1048576.0;
}

BlightSocket::ZeroCopyMode modeFor(ZeroCopy zeroCopy)
{
    switch (zeroCopy) {
    case ZeroCopy::Off:
        return BlightSocket::ZeroCopyMode::Off;
    case ZeroCopy::Auto:
        return BlightSocket::ZeroCopyMode::Auto;
    case ZeroCopy::On:
        return BlightSocket::ZeroCopyMode::On;
    }
    return BlightSocket::ZeroCopyMode::Auto;
}

// Waits, outside the timed part, until every zero-copy buffer is released,
// so that the next run starts clean and nothing is freed early.
bool drainCompletions(BlightSocket &socket, QString *error)
{
    if (socket.pendingBuffers() == 0)
        return true;
    EventLoopRun drain(10000);
    QObject::connect(&socket, &BlightSocket::buffersReleased, drain.context(), [&] {
        if (socket.pendingBuffers() == 0)
            drain.quit();
    });
    drain.exec();
    if (socket.pendingBuffers() != 0) {
        *error = u"%1 zero-copy buffers never released"_s.arg(socket.pendingBuffers());
        return false;
    }
    return true;
}

// Counts released buffers, and those the kernel copied, from completion ranges.
struct CompletionCount
{
    quint64 copied = 0;
    quint64 uncopied = 0;
    void add(quint32 lo, quint32 hi, bool wasCopied)
    {
        const quint64 n = quint64(quint32(hi - lo)) + 1; // inclusive; may wrap
        (wasCopied ? copied : uncopied) += n;
    }
    void report(Sample *s) const
    {
        const quint64 total = copied + uncopied;
        s->extra[u"completed_buffers"_s] = double(total);
        if (total > 0)
            s->extra[u"uncopied_pct"_s] = 100.0 * double(uncopied) / double(total);
    }
};

// The backend a zero-copy contender measures (see contenders.h). False
// when it cannot run: \a s has the error, or the reason the run is skipped
// (io_uring unavailable here).
bool chooseBackend(BlightSocket &socket, const PooledFrames *uring, Sample *s)
{
    if (!uring) {
        socket.setZeroCopyBackend(BlightSocket::ZeroCopyBackend::MsgZeroCopy);
        return true;
    }
    if (!uring->error().isEmpty()) {
        s->error = uring->error();
        return false;
    }
    s->skipped = requireUring(socket);
    return s->skipped.isEmpty();
}

// One frame the way the contender sends it: a QByteArray of the cold pool
// with send(), or the same bytes from the pooled copy with sendRawBuffer().
quint64 sendFrame(BlightSocket &socket, const ColdPool &pool, const PooledFrames *uring, quint64 index)
{
    return uring ? socket.sendRawBuffer(uring->frame(index)) : socket.send(pool.frame(index));
}

} // namespace

Sample runTransportSmall(int burst, Releases releases, const RunRequest &request)
{
    Sample s;
    SocketPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    MessageReceiver receiver(pair.receiver, request.count);
    BlightSocket socket;
    if (!socket.setSocketDescriptor(pair.sender)) {
        s.error = u"BlightSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    pair.releaseSender();
    socket.setSendQueueLimit(SmallQueueBound);

    EventLoopRun run;
    quint64 seq = 0;
    bool waiting = false;
    std::function<void()> turn = [&] {
        for (int i = 0; i < burst && seq < request.count; ++i) {
            if (!socket.sendPayload(Blight::MessageType::Repaint, ackidFor(seq), repaintFor(seq))) {
                if (socket.lastSendError() == BlightSocket::Error::QueueFull) {
                    waiting = true; // resumed by canSendChanged(true)
                    return;
                }
                run.fail(u"sendPayload refused: %1"_s.arg(int(socket.lastSendError())));
                return;
            }
            ++seq;
        }
        if (seq < request.count)
            run.post(turn);
    };
    QObject::connect(&socket, &BlightSocket::canSendChanged, run.context(), [&](bool can) {
        if (can && waiting) {
            waiting = false;
            turn();
        }
    });
    QObject::connect(&socket, &BlightSocket::errorOccurred, run.context(),
                     [&](BlightSocket::Error, const QString &reason) { run.fail(u"BlightSocket: "_s + reason); });
    // What an application does with the notification, at its cheapest: add
    // up the ranges. The order check catches an id reported twice or skipped.
    quint64 released = 0;
    quint64 undelivered = 0;
    quint64 outOfOrder = 0;
    quint64 notifications = 0;
    quint64 nextId = 1;
    if (releases == Releases::Counted) {
        QObject::connect(&socket, &BlightSocket::sendsReleased, run.context(),
                         [&](const QList<Blight::SendIdRange> &ranges) {
                             ++notifications;
                             for (const Blight::SendIdRange &range : ranges) {
                                 released += range.count();
                                 if (!range.delivered)
                                     undelivered += range.count();
                                 if (range.first != nextId)
                                     ++outOfOrder;
                                 nextId = range.last + 1;
                             }
                         });
    }

    runUntilReceived(&s, run, receiver, turn, request);
    if (releases == Releases::Counted) {
        // The last turn's releases are reported on the next turn, outside the
        // timed part (the receiver's clock ended it).
        if (s.ok && released < seq) {
            EventLoopRun drain(10000);
            QObject::connect(&socket, &BlightSocket::sendsReleased, drain.context(), [&] {
                if (released >= seq)
                    drain.quit();
            });
            drain.exec();
        }
        s.extra[u"release_signals_per_msg"_s] = seq ? double(notifications) / double(seq) : 0.0;
        if (s.ok && (released != seq || undelivered != 0 || outOfOrder != 0 || socket.lastSendId() != seq)) {
            s.ok = false;
            s.error = u"%1 sends accepted (last id %2), %3 reported released (%4 undelivered, %5 out of order)"_s
                          .arg(seq)
                          .arg(socket.lastSendId())
                          .arg(released)
                          .arg(undelivered)
                          .arg(outOfOrder);
        }
    }
    addTransportStatistics(&s, socket);
    socket.abort();
    return s;
}

Sample runTransportRtt(const RunRequest &request)
{
    Sample s;
    SocketPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    MessageReceiver peer(pair.receiver, request.count, true);
    BlightSocket socket;
    if (!socket.setSocketDescriptor(pair.sender)) {
        s.error = u"BlightSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    pair.releaseSender();

    EventLoopRun run;
    std::vector<double> latencies;
    latencies.reserve(request.count);
    quint64 seq = 0;
    Clock::time_point sentAt;
    auto sendNext = [&] {
        sentAt = Clock::now();
        if (!socket.sendPayload(Blight::MessageType::Repaint, ackidFor(seq), repaintFor(seq)))
            run.fail(u"sendPayload refused: %1"_s.arg(int(socket.lastSendError())));
    };
    QObject::connect(&socket, &BlightSocket::ackReceived, run.context(), [&](quint32 ackid, const QByteArray &payload) {
        if (ackid != ackidFor(seq) || !payload.isEmpty()) {
            run.fail(u"message %1: unexpected Ack %2"_s.arg(seq).arg(ackid));
            return;
        }
        latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sentAt).count());
        if (++seq == request.count) {
            run.quit();
            return;
        }
        sendNext();
    });
    QObject::connect(&socket, &BlightSocket::errorOccurred, run.context(),
                     [&](BlightSocket::Error, const QString &reason) { run.fail(u"BlightSocket: "_s + reason); });

    runRoundTrips(&s, run, peer, sendNext, latencies, request);
    addTransportStatistics(&s, socket);
    socket.abort();
    return s;
}

Sample runTransportFrames(const ColdPool &pool, ZeroCopy zeroCopy, const PooledFrames *uring, const RunRequest &request)
{
    Sample s;
    TcpPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    FrameReceiver receiver(pair.receiver, pool, request.count, request.warmup);
    BlightSocket socket(BlightSocket::Mode::RawStream);
    if (!socket.setSocketDescriptor(pair.sender)) {
        s.error = u"BlightSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    pair.releaseSender();
    socket.setZeroCopyMode(modeFor(zeroCopy));
    // The pool region is registered at the first frame, inside the timed
    // run: the receiver counts every frame, so there is no priming send.
    if (!chooseBackend(socket, uring, &s))
        return s;
    socket.setSendQueueLimit(FrameQueueBound);

    EventLoopRun run;
    CompletionCount completions;
    quint64 frame = 0;
    auto pump = [&] {
        while (frame < request.count) {
            if (!sendFrame(socket, pool, uring, frame)) {
                if (socket.lastSendError() != BlightSocket::Error::QueueFull)
                    run.fail(u"send refused: %1"_s.arg(int(socket.lastSendError())));
                return; // resumed by canSendChanged(true)
            }
            ++frame;
        }
    };
    QObject::connect(&socket, &BlightSocket::canSendChanged, run.context(), [&](bool can) {
        if (can)
            pump();
    });
    QObject::connect(&socket, &BlightSocket::completionReceived, run.context(),
                     [&](quint32 lo, quint32 hi, bool copied) { completions.add(lo, hi, copied); });
    QObject::connect(&socket, &BlightSocket::errorOccurred, run.context(),
                     [&](BlightSocket::Error, const QString &reason) { run.fail(u"BlightSocket: "_s + reason); });

    runUntilReceived(&s, run, receiver, pump, request);
    QString error;
    if (s.ok && !drainCompletions(socket, &error)) {
        s.ok = false;
        s.error = error;
    }
    addTransportStatistics(&s, socket);
    completions.report(&s);
    s.extra[u"zerocopy_active_at_end"_s] = socket.isZeroCopyActive() ? 1 : 0;
    if (uring)
        recordUring(&s, socket);
    socket.abort();
    return s;
}

Sample runTransportUdp(VethNamespaces &veth, const ColdPool &pool, const PooledFrames *uring, const RunRequest &request)
{
    Sample s;
    QString error;
    const int fd = veth.openUdpSocket(&error);
    if (fd < 0) {
        s.error = error;
        return s;
    }
    const auto before = veth.senderTxPackets(&error);
    BlightSocket socket(BlightSocket::Mode::RawStream);
    if (!socket.setSocketDescriptor(fd)) {
        ::close(fd);
        s.error = u"BlightSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    socket.setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    if (!chooseBackend(socket, uring, &s))
        return s;
    socket.setSendQueueLimit(FrameQueueBound);
    if (!socket.isZeroCopyActive()) {
        s.error = u"zero-copy not active on the veth UDP socket: "_s + socket.zeroCopyReason();
        return s;
    }
    if (uring && !primeUring(socket, uring->frame(0), &s))
        return s;
    const Blight::SocketStatistics primed = socket.statistics();

    EventLoopRun run;
    CompletionCount completions;
    quint64 sent = 0;
    auto checkDone = [&] {
        if (sent == request.count && socket.queuedBytes() == 0 && socket.pendingBuffers() == 0)
            run.quit();
    };
    auto pump = [&] {
        while (sent < request.count) {
            if (!sendFrame(socket, pool, uring, sent)) {
                if (socket.lastSendError() != BlightSocket::Error::QueueFull)
                    run.fail(u"send refused: %1"_s.arg(int(socket.lastSendError())));
                return; // resumed by canSendChanged(true)
            }
            ++sent;
        }
        checkDone();
    };
    QObject::connect(&socket, &BlightSocket::canSendChanged, run.context(), [&](bool can) {
        if (can)
            pump();
    });
    QObject::connect(&socket, &BlightSocket::completionReceived, run.context(),
                     [&](quint32 lo, quint32 hi, bool copied) { completions.add(lo, hi, copied); });
    QObject::connect(&socket, &BlightSocket::buffersReleased, run.context(), checkDone);
    QObject::connect(&socket, &BlightSocket::sendQueueEmpty, run.context(), checkDone);
    QObject::connect(&socket, &BlightSocket::errorOccurred, run.context(),
                     [&](BlightSocket::Error, const QString &reason) { run.fail(u"BlightSocket: "_s + reason); });

    Meter meter;
    meter.start(request.warmup);
    run.post(pump);
    run.exec();
    meter.stop(&s);
    addTransportStatistics(&s, socket, primed);
    completions.report(&s);
    const Blight::SocketStatistics stats = socket.statistics();
    const quint64 bytesSent = stats.bytesSent - primed.bytesSent;
    s.messages = sent;
    s.bytes = bytesSent;
    s.error = run.error();
    const auto after = veth.senderTxPackets(&error);
    if (s.error.isEmpty() && !error.isEmpty())
        s.error = error;
    if (s.error.isEmpty() && before && after && *after - *before < sent)
        s.error = u"veth counted %1 packets out for %2 datagrams"_s.arg(*after - *before).arg(sent);
    if (s.error.isEmpty() && bytesSent != quint64(sent) * pool.frameSize())
        s.error = u"%1 bytes handed to the kernel, %2 expected"_s.arg(bytesSent).arg(quint64(sent) * pool.frameSize());
    s.ok = s.error.isEmpty() && sent == request.count;
    if (uring)
        recordUring(&s, socket);
    socket.abort();
    return s;
}

Sample runTransportReleaseLatency(VethNamespaces *veth, const ColdPool &pool, const PooledFrames *uring,
                                  const RunRequest &request)
{
    Sample s;
    QString error;
    std::unique_ptr<TcpPair> tcp;
    std::unique_ptr<FrameReceiver> receiver;
    int fd = -1;
    if (veth) {
        fd = veth->openUdpSocket(&error);
    } else {
        tcp = std::make_unique<TcpPair>();
        if (tcp->valid()) {
            receiver = std::make_unique<FrameReceiver>(tcp->receiver, pool, request.count, request.warmup);
            fd = tcp->releaseSender();
        } else {
            error = tcp->error;
        }
    }
    if (fd < 0) {
        s.error = error;
        return s;
    }
    BlightSocket socket(BlightSocket::Mode::RawStream);
    if (!socket.setSocketDescriptor(fd)) {
        ::close(fd);
        s.error = u"BlightSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    socket.setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    if (!chooseBackend(socket, uring, &s))
        return s;
    if (!socket.isZeroCopyActive()) {
        s.error = u"zero-copy not active: "_s + socket.zeroCopyReason();
        return s;
    }
    // On TCP the receiver counts every frame: no priming send there.
    if (uring && veth && !primeUring(socket, uring->frame(0), &s))
        return s;
    const Blight::SocketStatistics primed = socket.statistics();

    EventLoopRun run;
    CompletionCount completions;
    std::vector<double> latencies;
    latencies.reserve(request.count);
    quint64 sent = 0;
    Clock::time_point sentAt;
    auto sendOne = [&] {
        sentAt = Clock::now();
        if (!sendFrame(socket, pool, uring, sent))
            run.fail(u"send refused: %1"_s.arg(int(socket.lastSendError())));
        ++sent;
    };
    QObject::connect(&socket, &BlightSocket::completionReceived, run.context(),
                     [&](quint32 lo, quint32 hi, bool copied) { completions.add(lo, hi, copied); });
    QObject::connect(&socket, &BlightSocket::buffersReleased, run.context(), [&] {
        if (socket.pendingBuffers() != 0)
            return;
        latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sentAt).count());
        if (sent == request.count) {
            run.quit();
            return;
        }
        // The next frame goes on the next turn, as an application's would.
        run.post(sendOne);
    });
    QObject::connect(&socket, &BlightSocket::errorOccurred, run.context(),
                     [&](BlightSocket::Error, const QString &reason) { run.fail(u"BlightSocket: "_s + reason); });

    Meter meter;
    meter.start(request.warmup);
    if (receiver) {
        receiver->start([&run](bool ok) {
            if (!ok)
                run.quit();
        });
    }
    run.post(sendOne);
    run.exec();
    meter.stop(&s);
    s.error = run.error();
    if (receiver) {
        // Every frame is in the kernel; the receiver still reads the last ones.
        if (!s.error.isEmpty())
            receiver->abort();
        const ReceiveResult &r = receiver->wait();
        if (s.error.isEmpty() && !r.ok)
            s.error = r.error;
    }
    addTransportStatistics(&s, socket, primed);
    completions.report(&s);
    addLatencies(&s, u"release"_s, latencies);
    const Blight::SocketStatistics stats = socket.statistics();
    s.extra[u"transport_release_p50_us"_s] = stats.releaseLatencyP50;
    s.extra[u"transport_release_p99_us"_s] = stats.releaseLatencyP99;
    s.messages = latencies.size();
    s.bytes = quint64(latencies.size()) * pool.frameSize();
    if (s.error.isEmpty() && latencies.size() != request.count)
        s.error = u"%1 of %2 frames released"_s.arg(latencies.size()).arg(request.count);
    s.ok = s.error.isEmpty();
    if (uring)
        recordUring(&s, socket);
    socket.abort();
    return s;
}

} // namespace Bench
