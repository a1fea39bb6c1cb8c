// SPDX-License-Identifier: MIT
// Helpers shared by the event-loop contenders: the watched event loop and
// latency summaries.
#include "contenders.h"
#include "receiver.h"

using namespace Qt::StringLiterals;

namespace Bench {

EventLoopRun::EventLoopRun(int timeoutMs)
{
    m_watchdog.setSingleShot(true);
    m_watchdog.setInterval(timeoutMs);
    QObject::connect(&m_watchdog, &QTimer::timeout, &m_loop,
                     [this, timeoutMs] { fail(u"no completion within %1 s"_s.arg(timeoutMs / 1000)); });
}

void EventLoopRun::quit()
{
    // Safe from any thread: the quit is queued to the loop's own thread.
    QMetaObject::invokeMethod(
        &m_loop, [this] { m_loop.quit(); }, Qt::QueuedConnection);
}

void EventLoopRun::fail(const QString &error)
{
    if (m_error.isEmpty())
        m_error = error;
    m_loop.quit();
}

bool EventLoopRun::exec()
{
    m_watchdog.start();
    m_loop.exec();
    m_watchdog.stop();
    return m_error.isEmpty();
}

void EventLoopRun::post(std::function<void()> fn)
{
    QMetaObject::invokeMethod(&m_loop, std::move(fn), Qt::QueuedConnection);
}

static void collect(Sample *s, const ReceiveResult &r, quint64 expected, const EventLoopRun &run)
{
    s->messages = r.messages;
    s->bytes = r.bytes;
    if (run.failed())
        s->error = run.error();
    else if (!r.ok)
        s->error = r.error;
    else if (r.messages != expected)
        s->error = u"%1 of %2 arrived"_s.arg(r.messages).arg(expected);
    s->ok = s->error.isEmpty();
}

void runUntilReceived(Sample *s, EventLoopRun &run, ReceiverThread &receiver, std::function<void()> first,
                      const RunRequest &request)
{
    Meter meter;
    meter.start(request.warmup);
    receiver.start([&run](bool) { run.quit(); });
    run.post(std::move(first));
    run.exec();
    if (!receiver.finished())
        receiver.abort();
    const ReceiveResult &r = receiver.wait();
    meter.stop(s, r.ok ? std::optional(r.doneAt) : std::nullopt);
    collect(s, r, request.count, run);
}

void runRoundTrips(Sample *s, EventLoopRun &run, ReceiverThread &peer, std::function<void()> first,
                   const std::vector<double> &latencies, const RunRequest &request)
{
    Meter meter;
    meter.start(request.warmup);
    peer.start([&run](bool ok) {
        if (!ok)
            run.quit();
    });
    run.post(std::move(first));
    run.exec();
    meter.stop(s);
    if (!peer.finished())
        peer.abort();
    const ReceiveResult &r = peer.wait();
    collect(s, r, request.count, run);
    s->messages = latencies.size();
    if (s->ok && latencies.size() != request.count) {
        s->ok = false;
        s->error = u"%1 of %2 round trips"_s.arg(latencies.size()).arg(request.count);
    }
    addLatencies(s, u"rtt"_s, latencies);
}

void addLatencies(Sample *sample, const QString &prefix, const std::vector<double> &micros)
{
    if (micros.empty())
        return;
    sample->extra[prefix + u"_median_us"_s] = percentile(micros, 50);
    sample->extra[prefix + u"_p99_us"_s] = percentile(micros, 99);
    sample->extra[prefix + u"_max_us"_s] = percentile(micros, 100);
}

} // namespace Bench
