// SPDX-License-Identifier: MIT
// Scenario and target definitions (issue 6).
#include "scenarios.h"

#include <utility>

#include "contenders.h"
#include "framering.h"
#include "framesunix.h"

using namespace Qt::StringLiterals;

namespace Bench {

namespace {

constexpr size_t MiB = 1024 * 1024;
constexpr size_t FrameSize = 5 * MiB;
/*! "64 KB" frames for release-latency: 64,000 bytes, because a 65,536-byte
    payload does not fit in one UDP datagram. */
constexpr size_t LatencyFrameSize = 64000;
/*! frames-unix frames per timed run: a few seconds for the slowest contender. */
constexpr quint64 FramesUnixCount = 1000;
/*! frame-ring frames per timed run: 2-3 s for the slower producer. */
constexpr quint64 FrameRingCount = 600;

struct Sizes
{
    quint64 small, smallWarmup;
    quint64 rtt, rttWarmup;
    size_t coldPool;
    quint64 frames, framesWarmup;
    size_t tilesBytes, tilesWarmupBytes, tilesPool;
    quint64 latency, latencyWarmup;
    size_t latencyPool;
    quint64 memcpyFrames, memcpyWarmup;
    quint64 unixFrames, unixFramesWarmup;
    quint64 ringFrames, ringFramesWarmup;
};

Sizes sizesFor(bool quick)
{
    if (quick)
        return Sizes{20000, 5000, 2000,    500, 32 * MiB, 12, 4, 16 * MiB, 4 * MiB, 16 * MiB,
                     200,   50,   4 * MiB, 16,  4,        12, 4, 12,       4};
    // The cold pool is at least 256 MiB, far beyond any cache of this machine.
    return Sizes{1000000,    100000,          100000,    10000,          260 * MiB, 400,      20,
                 1024 * MiB, 64 * MiB,        256 * MiB, 20000,          1000,      64 * MiB, 820,
                 52,         FramesUnixCount, 24,        FrameRingCount, 24};
}

ColdPool &framePool(BenchContext &context, const Sizes &sizes)
{
    if (!context.frames)
        context.frames = std::make_unique<ColdPool>(sizes.coldPool, FrameSize);
    return *context.frames;
}

/*! The copy of \a source that transport-uring sends from, made once. */
const PooledFrames *pooled(std::unique_ptr<PooledFrames> &slot, const ColdPool &source)
{
    if (!slot)
        slot = std::make_unique<PooledFrames>(source);
    return slot.get();
}

QString sizeText(size_t bytes)
{
    if (bytes % MiB == 0)
        return u"%1 MiB"_s.arg(bytes / MiB);
    if (bytes % 1024 == 0)
        return u"%1 KiB"_s.arg(bytes / 1024);
    return u"%1 bytes"_s.arg(bytes);
}

} // namespace

bool maySkip(const QString &scenarioKey)
{
    return scenarioKey.startsWith(u"tiles-udp-veth/"_s) || scenarioKey == u"release-latency/veth"_s;
}

std::vector<Scenario> makeScenarios(BenchContext &context)
{
    const Sizes sizes = sizesFor(context.quick);
    BenchContext *ctx = &context;
    std::vector<Scenario> scenarios;

    for (int burst : {1, 16, 1024}) {
        Scenario s;
        s.key = u"small-unix/burst-%1"_s.arg(burst);
        s.description = u"Repaint messages (12 + 36 bytes) over socketpair(AF_UNIX, SOCK_STREAM), "
                        u"%1 per event-loop turn (the Oxide pattern has no event loop)"_s.arg(burst);
        s.reference = u"oxide-pattern"_s;
        s.count = sizes.small;
        s.warmupCount = sizes.smallWarmup;
        s.unit = u"messages"_s;
        s.contenders = {
            {u"oxide-pattern"_s, [](const RunRequest &r) { return runOxideSmall(r); }},
            {u"qlocalsocket"_s, [burst](const RunRequest &r) { return runQLocalSocketSmall(burst, r); }},
            {u"transport"_s, [burst](const RunRequest &r) { return runTransportSmall(burst, Releases::Ignored, r); }},
            // The same with a slot on sendsReleased: what the notification costs.
            {u"transport+release"_s,
             [burst](const RunRequest &r) { return runTransportSmall(burst, Releases::Counted, r); }},
        };
        if (burst == 1) {
            // What one event-loop turn costs without any socket: the floor
            // under every burst-1 contender that has an event loop.
            s.contenders.push_back({u"event-loop-only"_s, [](const RunRequest &r) { return runEventLoopTurns(r); }});
        }
        s.columns = {u"msgs_per_s"_s,       u"thread_cpu_ns_per_msg"_s,   u"process_cpu_ns_per_msg"_s,
                     u"syscalls_per_msg"_s, u"thread_syscalls_per_msg"_s, u"release_signals_per_msg"_s,
                     u"peak_rss_mib"_s};
        s.ratios = {{u"transport"_s, u"oxide-pattern"_s, u"msgs_per_s"_s},
                    {u"qlocalsocket"_s, u"oxide-pattern"_s, u"msgs_per_s"_s},
                    {u"transport"_s, u"qlocalsocket"_s, u"msgs_per_s"_s},
                    {u"transport+release"_s, u"transport"_s, u"msgs_per_s"_s},
                    // CPU time is less disturbed than wall time by other load on the machine.
                    {u"transport+release"_s, u"transport"_s, u"thread_cpu_ns_per_msg"_s}};
        scenarios.push_back(std::move(s));
    }

    {
        Scenario s;
        s.key = u"small-unix-rtt"_s;
        s.description = u"request/response: a Repaint, the peer thread answers with an Ack, the next "
                        u"request goes when the Ack arrives"_s;
        s.reference = u"oxide-pattern"_s;
        s.count = sizes.rtt;
        s.warmupCount = sizes.rttWarmup;
        s.unit = u"round trips"_s;
        s.contenders = {
            {u"oxide-pattern"_s, [](const RunRequest &r) { return runOxideRtt(r); }},
            {u"qlocalsocket"_s, [](const RunRequest &r) { return runQLocalSocketRtt(r); }},
            {u"transport"_s, [](const RunRequest &r) { return runTransportRtt(r); }},
        };
        s.columns = {u"rtt_median_us"_s, u"rtt_p99_us"_s, u"thread_cpu_ns_per_msg"_s, u"syscalls_per_msg"_s,
                     u"thread_syscalls_per_msg"_s};
        s.ratios = {{u"transport"_s, u"oxide-pattern"_s, u"rtt_median_us"_s},
                    {u"qlocalsocket"_s, u"oxide-pattern"_s, u"rtt_median_us"_s},
                    {u"transport"_s, u"qlocalsocket"_s, u"rtt_median_us"_s}};
        scenarios.push_back(std::move(s));
    }

    {
        Scenario s;
        s.key = u"memcpy-limit"_s;
        s.description = u"memcpy of %1 frames from the cold pool (%2): the limit of any copy path"_s
                            .arg(sizeText(FrameSize), sizeText(sizes.coldPool));
        s.reference = u"memcpy"_s;
        s.count = sizes.memcpyFrames;
        s.warmupCount = sizes.memcpyWarmup;
        s.unit = u"frames"_s;
        s.setup = [ctx, sizes] {
            framePool(*ctx, sizes);
            return QString();
        };
        s.contenders = {{u"memcpy"_s, [ctx](const RunRequest &r) { return runMemcpy(*ctx->frames, r); }}};
        s.columns = {u"gb_per_s"_s, u"thread_cpu_s_per_gb"_s};
        scenarios.push_back(std::move(s));
    }

    {
        Scenario s;
        s.key = u"frames-tcp"_s;
        s.description = u"%1 frames from the cold pool (%2) over TCP on 127.0.0.1"_s.arg(sizeText(FrameSize),
                                                                                         sizeText(sizes.coldPool));
        s.reference = u"plain-send"_s;
        s.count = sizes.frames;
        s.warmupCount = sizes.framesWarmup;
        s.unit = u"frames"_s;
        s.setup = [ctx, sizes] {
            pooled(ctx->pooledFrames, framePool(*ctx, sizes));
            return QString();
        };
        s.teardown = [ctx] { ctx->pooledFrames.reset(); };
        s.contenders = {
            {u"plain-send"_s, [ctx](const RunRequest &r) { return runPlainFramesTcp(*ctx->frames, r); }},
            {u"qtcpsocket"_s, [ctx](const RunRequest &r) { return runQTcpSocketFrames(*ctx->frames, r); }},
            {u"transport"_s,
             [ctx](const RunRequest &r) { return runTransportFrames(*ctx->frames, ZeroCopy::Off, nullptr, r); }},
            {u"transport-zerocopy-auto"_s,
             [ctx](const RunRequest &r) { return runTransportFrames(*ctx->frames, ZeroCopy::Auto, nullptr, r); }},
            {u"transport-zerocopy-on"_s,
             [ctx](const RunRequest &r) { return runTransportFrames(*ctx->frames, ZeroCopy::On, nullptr, r); }},
            // io_uring SEND_ZC of the same bytes from a registered BlightBufferPool.
            {u"transport-uring"_s,
             [ctx](const RunRequest &r) {
                 return runTransportFrames(*ctx->frames, ZeroCopy::On, ctx->pooledFrames.get(), r);
             }},
        };
        s.columns = {u"gb_per_s"_s,         u"thread_cpu_s_per_gb"_s,     u"process_cpu_s_per_gb"_s,
                     u"syscalls_per_msg"_s, u"thread_syscalls_per_msg"_s, u"uncopied_pct"_s,
                     u"peak_rss_mib"_s};
        s.ratios = {{u"qtcpsocket"_s, u"plain-send"_s, u"gb_per_s"_s},
                    {u"transport"_s, u"plain-send"_s, u"gb_per_s"_s},
                    {u"transport-zerocopy-auto"_s, u"plain-send"_s, u"gb_per_s"_s},
                    {u"transport-zerocopy-on"_s, u"plain-send"_s, u"gb_per_s"_s},
                    {u"transport"_s, u"plain-send"_s, u"process_cpu_s_per_gb"_s},
                    {u"transport-zerocopy-auto"_s, u"plain-send"_s, u"process_cpu_s_per_gb"_s},
                    {u"transport-zerocopy-auto"_s, u"transport"_s, u"process_cpu_s_per_gb"_s},
                    {u"transport-uring"_s, u"plain-send"_s, u"process_cpu_s_per_gb"_s},
                    {u"transport-uring"_s, u"transport-zerocopy-on"_s, u"process_cpu_s_per_gb"_s},
                    {u"transport-uring"_s, u"plain-send"_s, u"gb_per_s"_s},
                    {u"transport-uring"_s, u"transport-zerocopy-on"_s, u"gb_per_s"_s}};
        scenarios.push_back(std::move(s));
    }

    {
        Scenario s;
        s.key = u"frames-unix"_s;
        s.description = u"%1-byte frames (1404x1872x4) over socketpair(AF_UNIX, SOCK_STREAM) from a pool of %2 "
                        u"buffers; the sender writes the frame number into the first 8 bytes, the receiver sums "
                        u"every 8-byte word"_s.arg(UnixFrameBytes)
                            .arg(UnixFramePoolCount);
        s.reference = u"plain-send"_s;
        s.count = sizes.unixFrames;
        s.warmupCount = sizes.unixFramesWarmup;
        s.unit = u"frames"_s;
        s.contenders = {
            {u"plain-send"_s, [](const RunRequest &r) { return runFramesUnixPlain(r); }},
            {u"qlocalsocket"_s, [](const RunRequest &r) { return runFramesUnixQLocalSocket(r); }},
            {u"transport"_s, [](const RunRequest &r) { return runFramesUnixTransport(false, r); }},
            {u"transport-shm"_s, [](const RunRequest &r) { return runFramesUnixTransport(true, r); }},
            {u"checksum-only"_s, [](const RunRequest &r) { return runFramesUnixChecksumOnly(r); }},
        };
        s.columns = {u"frames_per_s"_s,
                     u"checksum_gb_per_s"_s,
                     u"sender_cpu_us_per_frame"_s,
                     u"send_call_cpu_us_per_frame"_s,
                     u"receiver_own_cpu_us_per_frame"_s,
                     u"receiver_cpu_us_per_frame"_s,
                     u"release_median_us"_s,
                     u"release_p99_us"_s,
                     u"peak_rss_mib"_s};
        s.ratios = {{u"transport-shm"_s, u"transport"_s, u"frames_per_s"_s},
                    {u"transport-shm"_s, u"checksum-only"_s, u"frames_per_s"_s},
                    {u"transport"_s, u"plain-send"_s, u"frames_per_s"_s},
                    {u"qlocalsocket"_s, u"plain-send"_s, u"frames_per_s"_s}};
        scenarios.push_back(std::move(s));
    }

    for (RingLink link : {RingLink::Unix, RingLink::Tcp}) {
        const bool onUnix = link == RingLink::Unix;
        Scenario s;
        s.key = onUnix ? u"frame-ring/unix"_s : u"frame-ring/tcp"_s;
        s.description = u"%1-byte screen frames (1404x1872x4) over %2, at most %3 in flight: pool = sendBuffer() of "
                        u"a %3-buffer BlightBufferPool (shared memory, sharedMemoryEnabled on both ends%4) with the "
                        u"frame number written in place; fresh = "
                        u"sendMessage() of a new QByteArray per frame, filled by one memcpy of the screen; the "
                        u"receiver sums every 8-byte word"_s.arg(UnixFrameBytes)
                            .arg(onUnix ? u"socketpair(AF_UNIX, SOCK_STREAM)"_s : u"TCP on 127.0.0.1"_s)
                            .arg(RingFramesInFlight)
                            .arg(onUnix ? QString()
                                        : u"; its descriptor through the descriptor channel; zero-copy mode auto"_s);
        s.reference = u"fresh"_s;
        s.count = sizes.ringFrames;
        s.warmupCount = sizes.ringFramesWarmup;
        s.unit = u"frames"_s;
        s.contenders = {
            {u"pool"_s, [link](const RunRequest &r) { return runFrameRing(link, RingProducer::Pool, r); }},
            {u"fresh"_s, [link](const RunRequest &r) { return runFrameRing(link, RingProducer::Fresh, r); }},
        };
        s.columns = {u"frames_per_s"_s,
                     u"process_cpu_us_per_frame"_s,
                     u"sender_cpu_us_per_frame"_s,
                     u"make_frame_cpu_us_per_frame"_s,
                     u"in_send_call_cpu_us_per_frame"_s,
                     u"receiver_cpu_us_per_frame"_s,
                     u"minor_faults_per_frame"_s,
                     u"peak_rss_mib"_s};
        // CPU per frame first: its ratio is the target (lower is better).
        s.ratios = {{u"pool"_s, u"fresh"_s, u"process_cpu_us_per_frame"_s},
                    {u"pool"_s, u"fresh"_s, u"sender_cpu_us_per_frame"_s},
                    {u"pool"_s, u"fresh"_s, u"frames_per_s"_s}};
        scenarios.push_back(std::move(s));
    }

    for (size_t kib : {16, 32, 60}) {
        const size_t size = kib * 1024;
        Scenario s;
        s.key = u"tiles-udp-veth/%1k"_s.arg(kib);
        s.description = u"%1-byte UDP datagrams from a cold pool (%2) through a veth pair into a private "
                        u"namespace whose end drops them"_s.arg(size)
                            .arg(sizeText(sizes.tilesPool));
        s.reference = u"plain-send"_s;
        s.count = sizes.tilesBytes / size;
        s.warmupCount = sizes.tilesWarmupBytes / size;
        s.unit = u"datagrams"_s;
        s.setup = [ctx, sizes, size] {
            const QString reason = ctx->veth.setUp();
            if (!reason.isEmpty())
                return reason;
            ctx->tiles = std::make_unique<ColdPool>(sizes.tilesPool, size);
            pooled(ctx->pooledTiles, *ctx->tiles);
            return QString();
        };
        s.teardown = [ctx] {
            ctx->pooledTiles.reset();
            ctx->tiles.reset();
        };
        s.contenders = {
            {u"plain-send"_s, [ctx](const RunRequest &r) { return runPlainUdp(ctx->veth, *ctx->tiles, r); }},
            {u"transport-zerocopy-on"_s,
             [ctx](const RunRequest &r) { return runTransportUdp(ctx->veth, *ctx->tiles, nullptr, r); }},
            // The same tiles from a registered BlightBufferPool: one fixed SEND_ZC per datagram.
            {u"transport-uring"_s,
             [ctx](const RunRequest &r) { return runTransportUdp(ctx->veth, *ctx->tiles, ctx->pooledTiles.get(), r); }},
        };
        s.columns = {u"gb_per_s"_s,     u"thread_cpu_s_per_gb"_s, u"process_cpu_s_per_gb"_s, u"syscalls_per_msg"_s,
                     u"uncopied_pct"_s, u"registered_pct"_s,      u"uring_setup_ms"_s,       u"peak_rss_mib"_s};
        s.ratios = {{u"transport-zerocopy-on"_s, u"plain-send"_s, u"process_cpu_s_per_gb"_s},
                    {u"transport-uring"_s, u"plain-send"_s, u"process_cpu_s_per_gb"_s},
                    {u"transport-uring"_s, u"transport-zerocopy-on"_s, u"process_cpu_s_per_gb"_s},
                    // GB/s for information: the dropping peer, not the sender, may set the pace.
                    {u"transport-uring"_s, u"plain-send"_s, u"gb_per_s"_s},
                    {u"transport-uring"_s, u"transport-zerocopy-on"_s, u"gb_per_s"_s}};
        scenarios.push_back(std::move(s));
    }

    for (bool veth : {true, false}) {
        Scenario s;
        s.key = veth ? u"release-latency/veth"_s : u"release-latency/tcp-loopback"_s;
        s.description = u"time from send() to buffersReleased for %1-byte frames, one in flight, %2"_s
                            .arg(LatencyFrameSize)
                            .arg(veth ? u"UDP through the dropping veth pair"_s : u"TCP on 127.0.0.1"_s);
        s.reference = u"transport-zerocopy-on"_s;
        s.count = sizes.latency;
        s.warmupCount = sizes.latencyWarmup;
        s.unit = u"frames"_s;
        s.setup = [ctx, sizes, veth] {
            if (veth) {
                const QString reason = ctx->veth.setUp();
                if (!reason.isEmpty())
                    return reason;
            }
            if (!ctx->latencyFrames)
                ctx->latencyFrames = std::make_unique<ColdPool>(sizes.latencyPool, LatencyFrameSize);
            if (veth)
                pooled(ctx->pooledLatencyFrames, *ctx->latencyFrames);
            return QString();
        };
        s.contenders = {{u"transport-zerocopy-on"_s, [ctx, veth](const RunRequest &r) {
                             return runTransportReleaseLatency(veth ? &ctx->veth : nullptr, *ctx->latencyFrames,
                                                               nullptr, r);
                         }}};
        if (veth) {
            s.contenders.push_back({u"transport-uring"_s, [ctx](const RunRequest &r) {
                                        return runTransportReleaseLatency(&ctx->veth, *ctx->latencyFrames,
                                                                          ctx->pooledLatencyFrames.get(), r);
                                    }});
            s.ratios = {{u"transport-uring"_s, u"transport-zerocopy-on"_s, u"release_median_us"_s}};
        }
        s.columns = {u"release_median_us"_s, u"release_p99_us"_s, u"transport_release_p50_us"_s, u"uncopied_pct"_s};
        scenarios.push_back(std::move(s));
    }
    return scenarios;
}

std::vector<Target> makeTargets()
{
    using C = Target::Compare;
    std::vector<Target> targets;
    auto ratio = [&](const QString &text, const QString &scenario, const QString &a, const QString &b,
                     const QString &metricKey, C compare, double threshold) {
        Target t;
        t.text = text;
        t.scenario = scenario;
        t.ratio = RatioDef{a, b, metricKey};
        t.compare = compare;
        t.threshold = threshold;
        targets.push_back(t);
    };
    auto own = [&](const QString &text, const QString &scenario, const QString &contender, const QString &metricKey,
                   C compare, double threshold) {
        Target t;
        t.text = text;
        t.scenario = scenario;
        t.contender = contender;
        t.metric = metricKey;
        t.compare = compare;
        t.threshold = threshold;
        targets.push_back(t);
    };
    ratio(u"small-unix at burst 1024: at least 10x the messages/s of the Oxide pattern"_s, u"small-unix/burst-1024"_s,
          u"transport"_s, u"oxide-pattern"_s, u"msgs_per_s"_s, C::AtLeast, 10.0);
    // Issue 15: ahead of QLocalSocket at every burst size.
    for (const auto &[burst, least] : {std::pair{1, 1.1}, std::pair{16, 1.2}, std::pair{1024, 2.0}}) {
        ratio(u"small-unix at burst %1: at least %2x QLocalSocket"_s.arg(burst).arg(least),
              u"small-unix/burst-%1"_s.arg(burst), u"transport"_s, u"qlocalsocket"_s, u"msgs_per_s"_s, C::AtLeast,
              least);
    }
    // The issue says "exactly one"; DESIGN.md 3 says "one system call per
    // message or fewer". Fewer happens when the kernel buffer is full and the
    // queued messages leave together: that meets the intent, so at most one.
    own(u"small-unix at burst 1: one system call per message (or fewer)"_s, u"small-unix/burst-1"_s, u"transport"_s,
        u"syscalls_per_msg"_s, C::AtMost, 1.0);
    // Issue 12: a slot on sendsReleased costs under 3 % of the messages/s.
    for (int burst : {1, 16, 1024}) {
        ratio(u"small-unix at burst %1: release notification costs < 3 % (transport+release at least 0.97x "
              u"transport)"_s.arg(burst),
              u"small-unix/burst-%1"_s.arg(burst), u"transport+release"_s, u"transport"_s, u"msgs_per_s"_s, C::AtLeast,
              0.97);
    }
    ratio(u"small-unix-rtt: median round trip at most 1.0x the Oxide pattern's"_s, u"small-unix-rtt"_s, u"transport"_s,
          u"oxide-pattern"_s, u"rtt_median_us"_s, C::AtMost, 1.0);
    ratio(u"small-unix-rtt: median round trip at most 0.9x QLocalSocket's"_s, u"small-unix-rtt"_s, u"transport"_s,
          u"qlocalsocket"_s, u"rtt_median_us"_s, C::AtMost, 0.9);
    ratio(u"frames-tcp: zero-copy auto at least 0.95x the plain send() loop's GB/s"_s, u"frames-tcp"_s,
          u"transport-zerocopy-auto"_s, u"plain-send"_s, u"gb_per_s"_s, C::AtLeast, 0.95);
    ratio(u"frames-tcp: zero-copy auto at most 1.02x the plain send() loop's process CPU per GB"_s, u"frames-tcp"_s,
          u"transport-zerocopy-auto"_s, u"plain-send"_s, u"process_cpu_s_per_gb"_s, C::AtMost, 1.02);
    ratio(u"tiles-udp-veth at 60 KB: zero-copy CPU per GB at most 0.7x the plain loop's"_s, u"tiles-udp-veth/60k"_s,
          u"transport-zerocopy-on"_s, u"plain-send"_s, u"process_cpu_s_per_gb"_s, C::AtMost, 0.7);
    own(u"tiles-udp-veth at 60 KB: 100 % of completions without COPIED"_s, u"tiles-udp-veth/60k"_s,
        u"transport-zerocopy-on"_s, u"uncopied_pct"_s, C::AtLeast, 100.0);
    own(u"release-latency on the veth path: median under 100 us"_s, u"release-latency/veth"_s,
        u"transport-zerocopy-on"_s, u"release_median_us"_s, C::Below, 100.0);
    // Issue 16: io_uring SEND_ZC from registered pool buffers on the veth path.
    for (const auto &[kib, most] : {std::pair{16, 0.8}, std::pair{32, 0.6}, std::pair{60, 0.45}}) {
        const QString key = u"tiles-udp-veth/%1k"_s.arg(kib);
        ratio(u"tiles-udp-veth at %1 KB: io_uring CPU per GB at most %2x the plain loop's"_s.arg(kib).arg(most), key,
              u"transport-uring"_s, u"plain-send"_s, u"process_cpu_s_per_gb"_s, C::AtMost, most);
        ratio(u"tiles-udp-veth at %1 KB: io_uring CPU per GB below MSG_ZEROCOPY's"_s.arg(kib), key,
              u"transport-uring"_s, u"transport-zerocopy-on"_s, u"process_cpu_s_per_gb"_s, C::Below, 1.0);
    }
    // Issue 13: frames in shared memory over AF_UNIX.
    ratio(u"frames-unix: transport-shm at least 2.5x the transport's copy path (frames/s)"_s, u"frames-unix"_s,
          u"transport-shm"_s, u"transport"_s, u"frames_per_s"_s, C::AtLeast, 2.5);
    ratio(u"frames-unix: transport-shm at least 0.8x the checksum alone (frames/s)"_s, u"frames-unix"_s,
          u"transport-shm"_s, u"checksum-only"_s, u"frames_per_s"_s, C::AtLeast, 0.8);
    own(u"frames-unix: transport-shm sender's CPU per frame under 50 us (the whole sending thread)"_s, u"frames-unix"_s,
        u"transport-shm"_s, u"sender_cpu_us_per_frame"_s, C::Below, 50.0);
    own(u"frames-unix: transport-shm receiver's CPU per frame outside the checksum under 50 us"_s, u"frames-unix"_s,
        u"transport-shm"_s, u"receiver_own_cpu_us_per_frame"_s, C::Below, 50.0);
    // Issue 15, section 3: what a pool saves a producer of screen frames.
    for (const QString &link : {u"unix"_s, u"tcp"_s}) {
        ratio(u"frame-ring/%1: the pool's process CPU per frame at most 0.7x a fresh QByteArray per frame's"_s.arg(
                  link),
              u"frame-ring/"_s + link, u"pool"_s, u"fresh"_s, u"process_cpu_us_per_frame"_s, C::AtMost, 0.7);
    }
    return targets;
}

} // namespace Bench
