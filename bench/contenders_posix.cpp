// SPDX-License-Identifier: MIT
// POSIX baselines: Oxide's sender as described (two blocking sends per message,
// 5 us nanosleep on EAGAIN), plain blocking send() loops, and the memcpy limit.
#include "contenders.h"
#include "netns.h"
#include "receiver.h"

#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

using namespace Qt::StringLiterals;

namespace Bench {

namespace {

using Clock = std::chrono::steady_clock;

// Keeps the copies observable so that the compiler cannot drop them.
volatile quint64 memcpySink = 0;

Clock::time_point deadlineFromNow()
{
    return Clock::now() + std::chrono::milliseconds(RunTimeoutMs);
}

// Oxide's send: loop send() with MSG_EOR | MSG_NOSIGNAL on a non-blocking
// socket, sleeping 5 us on EAGAIN. Counts every system call it makes.
bool oxideSend(int fd, const char *data, size_t size, quint64 *calls, Clock::time_point deadline, QString *error)
{
    size_t total = 0;
    while (total < size) {
        const ssize_t n = ::send(fd, data + total, size - total, MSG_EOR | MSG_NOSIGNAL);
        ++*calls;
        if (n > 0) {
            total += size_t(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (Clock::now() > deadline) {
                *error = u"send: no progress before the deadline"_s;
                return false;
            }
            const timespec delay{0, 5000};
            ::nanosleep(&delay, nullptr);
            ++*calls;
            continue;
        }
        *error = u"send: "_s + errnoText(n < 0 ? errno : EIO);
        return false;
    }
    return true;
}

// Oxide's receive of a known number of bytes: recv() with the same 5 us
// sleep on EAGAIN.
bool oxideRecv(int fd, char *data, size_t size, quint64 *calls, Clock::time_point deadline, QString *error)
{
    size_t total = 0;
    while (total < size) {
        const ssize_t n = ::recv(fd, data + total, size - total, 0);
        ++*calls;
        if (n > 0) {
            total += size_t(n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            if (Clock::now() > deadline) {
                *error = u"recv: nothing before the deadline"_s;
                return false;
            }
            const timespec delay{0, 5000};
            ::nanosleep(&delay, nullptr);
            ++*calls;
            continue;
        }
        *error = n == 0 ? u"recv: connection closed"_s : u"recv: "_s + errnoText(errno);
        return false;
    }
    return true;
}

} // namespace

Sample runOxideSmall(const RunRequest &request)
{
    Sample s;
    SocketPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    setNonBlocking(pair.sender, true);
    MessageReceiver receiver(pair.receiver, request.count);
    Meter meter;
    quint64 calls = 0;
    QString error;
    const auto deadline = deadlineFromNow();
    meter.start(request.warmup);
    receiver.start();
    char message[RepaintMessageSize];
    for (quint64 seq = 0; seq < request.count; ++seq) {
        writeRepaintMessage(seq, message);
        if (!oxideSend(pair.sender, message, 12, &calls, deadline, &error)
            || !oxideSend(pair.sender, message + 12, RepaintMessageSize - 12, &calls, deadline, &error))
            break;
    }
    if (!error.isEmpty())
        receiver.abort();
    const ReceiveResult &r = receiver.wait();
    meter.stop(&s, r.ok ? std::optional(r.doneAt) : std::nullopt);
    s.syscalls = double(calls);
    finishSample(&s, r, request.count, error);
    return s;
}

Sample runOxideRtt(const RunRequest &request)
{
    Sample s;
    SocketPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    setNonBlocking(pair.sender, true);
    MessageReceiver peer(pair.receiver, request.count, true);
    std::vector<double> latencies;
    latencies.reserve(request.count);
    Meter meter;
    quint64 calls = 0;
    QString error;
    const auto deadline = deadlineFromNow();
    meter.start(request.warmup);
    peer.start();
    char message[RepaintMessageSize];
    for (quint64 seq = 0; seq < request.count && error.isEmpty(); ++seq) {
        writeRepaintMessage(seq, message);
        const auto t0 = Clock::now();
        if (!oxideSend(pair.sender, message, 12, &calls, deadline, &error)
            || !oxideSend(pair.sender, message + 12, RepaintMessageSize - 12, &calls, deadline, &error))
            break;
        // Oxide's reader polls for input, then reads the header (and a payload, if any).
        pollfd pfd{pair.sender, POLLIN, 0};
        int ready = 0;
        do {
            ready = ::poll(&pfd, 1, RunTimeoutMs);
            ++calls;
        } while (ready < 0 && errno == EINTR);
        if (ready <= 0) {
            error = u"poll: no Ack for message %1"_s.arg(seq);
            break;
        }
        Blight::Header ack;
        if (!oxideRecv(pair.sender, reinterpret_cast<char *>(&ack), sizeof ack, &calls, deadline, &error))
            break;
        if (ack.type != qint32(Blight::MessageType::Ack) || ack.ackid != ackidFor(seq) || ack.size != 0) {
            error = u"message %1: unexpected answer (type %2, ackid %3)"_s.arg(seq).arg(ack.type).arg(ack.ackid);
            break;
        }
        latencies.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    if (!error.isEmpty())
        peer.abort();
    const ReceiveResult &r = peer.wait();
    meter.stop(&s);
    s.syscalls = double(calls);
    finishSample(&s, r, request.count, error);
    s.messages = latencies.size();
    addLatencies(&s, u"rtt"_s, latencies);
    return s;
}

Sample runPlainFramesTcp(const ColdPool &pool, const RunRequest &request)
{
    Sample s;
    TcpPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    FrameReceiver receiver(pair.receiver, pool, request.count, request.warmup);
    Meter meter;
    quint64 calls = 0;
    QString error;
    meter.start(request.warmup);
    receiver.start();
    for (quint64 i = 0; i < request.count && error.isEmpty(); ++i) {
        const QByteArray &frame = pool.frame(i);
        sendAll(pair.sender, frame.constData(), size_t(frame.size()), &calls, &error);
    }
    if (!error.isEmpty())
        receiver.abort();
    const ReceiveResult &r = receiver.wait();
    meter.stop(&s, r.ok ? std::optional(r.doneAt) : std::nullopt);
    s.syscalls = double(calls);
    finishSample(&s, r, request.count, error);
    return s;
}

Sample runPlainUdp(VethNamespaces &veth, const ColdPool &pool, const RunRequest &request)
{
    Sample s;
    QString error;
    const int fd = veth.openUdpSocket(&error);
    if (fd < 0) {
        s.error = error;
        return s;
    }
    const auto before = veth.senderTxPackets(&error);
    Meter meter;
    quint64 calls = 0;
    quint64 sent = 0;
    quint64 bytes = 0;
    quint64 retries = 0;
    const auto deadline = deadlineFromNow();
    meter.start(request.warmup);
    while (sent < request.count) {
        const QByteArray &tile = pool.frame(sent);
        const ssize_t n = ::send(fd, tile.constData(), size_t(tile.size()), 0);
        ++calls;
        if (n == ssize_t(tile.size())) {
            ++sent;
            bytes += quint64(n);
            continue;
        }
        // A full device queue is back-pressure: the user's loop tries again.
        if (n < 0 && (errno == ENOBUFS || errno == EAGAIN || errno == EINTR) && Clock::now() < deadline) {
            ++retries;
            continue;
        }
        error = n < 0 ? u"send: "_s + errnoText(errno) : u"short datagram send"_s;
        break;
    }
    meter.stop(&s);
    ::close(fd);
    s.syscalls = double(calls);
    s.messages = sent;
    s.bytes = bytes;
    s.extra[u"send_retries"_s] = double(retries);
    const auto after = veth.senderTxPackets(&error);
    if (error.isEmpty() && before && after && *after - *before < sent)
        error = u"veth counted %1 packets out for %2 datagrams"_s.arg(*after - *before).arg(sent);
    s.error = error;
    s.ok = error.isEmpty() && sent == request.count;
    return s;
}

Sample runMemcpy(const ColdPool &pool, const RunRequest &request)
{
    Sample s;
    std::vector<char> destination(pool.frameSize(), 1);
    quint64 touched = 0;
    Meter meter;
    meter.start(request.warmup);
    for (quint64 i = 0; i < request.count; ++i) {
        std::memcpy(destination.data(), pool.frame(i).constData(), pool.frameSize());
        touched += quint64(destination[size_t(i % pool.frameSize())]);
    }
    meter.stop(&s);
    s.syscalls = 0;
    s.messages = request.count;
    s.bytes = request.count * pool.frameSize();
    memcpySink = touched;
    const quint64 last = request.count ? request.count - 1 : 0;
    s.ok = request.count > 0 && std::memcmp(destination.data(), pool.frame(last).constData(), pool.frameSize()) == 0;
    if (!s.ok)
        s.error = u"the last copy differs from its source"_s;
    return s;
}

} // namespace Bench
