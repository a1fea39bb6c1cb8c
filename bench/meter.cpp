// SPDX-License-Identifier: MIT
// The benchmark's measuring: CPU clocks, the syscall tracepoint, peak RSS, and the Meter.
#include "harness.h"

#include <QtCore/QFile>

#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

using namespace Qt::StringLiterals;

namespace Bench {

namespace {

double timespecSeconds(const timespec &ts)
{
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
}

double timevalSeconds(const timeval &tv)
{
    return double(tv.tv_sec) + double(tv.tv_usec) * 1e-6;
}

// The tracepoint id of raw_syscalls:sys_enter, or -1 when tracefs is absent.
long long syscallTracepointId()
{
    static const long long id = [] {
        for (const char *path : {"/sys/kernel/tracing/events/raw_syscalls/sys_enter/id",
                                 "/sys/kernel/debug/tracing/events/raw_syscalls/sys_enter/id"}) {
            QFile file(QString::fromLatin1(path));
            if (file.open(QIODevice::ReadOnly)) {
                bool ok = false;
                const long long value = file.readAll().trimmed().toLongLong(&ok);
                if (ok)
                    return value;
            }
        }
        return -1LL;
    }();
    return id;
}

int openSyscallCounter()
{
    const long long id = syscallTracepointId();
    if (id < 0)
        return -1;
    perf_event_attr attr;
    std::memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.config = quint64(id);
    attr.sample_period = 0;
    // This thread only (pid 0, any CPU), not inherited by threads it starts.
    const long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    return fd < 0 ? -1 : int(fd);
}

quint64 readCounter(int fd)
{
    quint64 value = 0;
    if (fd < 0 || ::read(fd, &value, sizeof value) != ssize_t(sizeof value))
        return 0;
    return value;
}

void resetPeakRss()
{
    // "5" resets VmHWM to the current RSS (Linux >= 4.0).
    QFile file(u"/proc/self/clear_refs"_s);
    if (file.open(QIODevice::WriteOnly))
        file.write("5");
}

double peakRssMiB()
{
    QFile file(u"/proc/self/status"_s);
    if (!file.open(QIODevice::ReadOnly))
        return 0;
    const QList<QByteArray> lines = file.readAll().split('\n');
    for (const QByteArray &line : lines) {
        if (line.startsWith("VmHWM:")) {
            const QByteArray kb = line.mid(6).trimmed().split(' ').value(0);
            return kb.toDouble() / 1024.0;
        }
    }
    return 0;
}

} // namespace

double threadCpuNow()
{
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return timespecSeconds(ts);
}

double processCpuNow()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return timevalSeconds(usage.ru_utime) + timevalSeconds(usage.ru_stime);
}

Meter::Meter() = default;

Meter::~Meter()
{
    if (m_perfFd >= 0)
        ::close(m_perfFd);
}

bool Meter::threadSyscallsAvailable()
{
    return syscallTracepointId() >= 0;
}

void Meter::start(bool countSyscalls)
{
    m_counting = countSyscalls;
    if (m_counting && m_perfFd < 0)
        m_perfFd = openSyscallCounter();
    resetPeakRss();
    m_sys = readCounter(m_perfFd);
    m_process = processCpuNow();
    m_thread = threadCpuNow();
    m_wall = std::chrono::steady_clock::now();
}

void Meter::stop(Sample *sample, std::optional<std::chrono::steady_clock::time_point> end)
{
    const auto now = std::chrono::steady_clock::now();
    const double thread = threadCpuNow();
    const double process = processCpuNow();
    const quint64 sys = readCounter(m_perfFd);
    if (m_perfFd >= 0) {
        // Detach the tracepoint at once: it must not slow the next run.
        ::close(m_perfFd);
        m_perfFd = -1;
    }
    const auto finish = end.value_or(now);
    sample->wallSeconds = std::chrono::duration<double>(finish - m_wall).count();
    sample->threadCpuSeconds = thread - m_thread;
    sample->processCpuSeconds = process - m_process;
    // The counter's own read() and getrusage() are two calls of ours, not the contender's.
    sample->threadSyscalls = m_counting && sys > 0 ? double(sys - m_sys) - 2.0 : -1.0;
    sample->peakRssMiB = peakRssMiB();
}

} // namespace Bench
