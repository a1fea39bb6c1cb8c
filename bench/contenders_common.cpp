// Helpers shared by the event-loop contenders: the watched event loop and
// latency summaries.
#include "contenders.h"

using namespace Qt::StringLiterals;

namespace Bench {

EventLoopRun::EventLoopRun(int timeoutMs)
{
    m_watchdog.setSingleShot(true);
    m_watchdog.setInterval(timeoutMs);
    QObject::connect(&m_watchdog, &QTimer::timeout, &m_loop, [this, timeoutMs] {
        fail(u"no completion within %1 s"_s.arg(timeoutMs / 1000));
    });
}

void EventLoopRun::quit()
{
    // Safe from any thread: the quit is queued to the loop's own thread.
    QMetaObject::invokeMethod(&m_loop, [this] { m_loop.quit(); }, Qt::QueuedConnection);
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

void addLatencies(Sample *sample, const QString &prefix, const std::vector<double> &micros)
{
    if (micros.empty())
        return;
    sample->extra[prefix + u"_median_us"_s] = percentile(micros, 50);
    sample->extra[prefix + u"_p99_us"_s] = percentile(micros, 99);
    sample->extra[prefix + u"_max_us"_s] = percentile(micros, 100);
}

} // namespace Bench
