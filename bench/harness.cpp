// SPDX-License-Identifier: MIT
// The benchmark harness: meter, statistics, alternated rounds, table and JSON.
#include "harness.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QSysInfo>
#include <QtCore/QTextStream>

#include <linux/perf_event.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>

using namespace Qt::StringLiterals;

namespace Bench {

namespace {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

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

QString formatValue(double value, int precision)
{
    const double magnitude = std::fabs(value);
    if (magnitude >= 1e6)
        return QString::number(value / 1e6, 'f', 2) + u'M';
    if (magnitude >= 1e4)
        return QString::number(value / 1e3, 'f', 1) + u'k';
    return QString::number(value, 'f', precision);
}

QString formatStat(const Stat &stat, int precision)
{
    if (stat.n <= 1 || stat.min == stat.max)
        return formatValue(stat.median, precision);
    return formatValue(stat.median, precision) + u" ["_s + formatValue(stat.min, precision) + u'-'
        + formatValue(stat.max, precision) + u']';
}

std::optional<double> perMessage(double value, const Sample &s)
{
    if (value < 0 || s.messages == 0)
        return std::nullopt;
    return value / double(s.messages);
}

std::optional<double> perGigabyte(double value, const Sample &s)
{
    if (s.bytes == 0)
        return std::nullopt;
    return value / (double(s.bytes) / 1e9);
}

std::map<QString, Metric> &metricRegistry()
{
    static std::map<QString, Metric> registry = [] {
        std::map<QString, Metric> m;
        auto add = [&m](const QString &key, const QString &label, int precision,
                        std::function<std::optional<double>(const Sample &)> fn) {
            m.emplace(key, Metric{key, label, precision, std::move(fn)});
        };
        add(u"wall_s"_s, u"wall s"_s, 3, [](const Sample &s) { return std::optional(s.wallSeconds); });
        add(u"msgs_per_s"_s, u"msgs/s"_s, 0, [](const Sample &s) -> std::optional<double> {
            if (s.wallSeconds <= 0)
                return std::nullopt;
            return double(s.messages) / s.wallSeconds;
        });
        add(u"frames_per_s"_s, u"frames/s"_s, 1, [](const Sample &s) -> std::optional<double> {
            if (s.wallSeconds <= 0)
                return std::nullopt;
            return double(s.messages) / s.wallSeconds;
        });
        add(u"gb_per_s"_s, u"GB/s"_s, 3, [](const Sample &s) -> std::optional<double> {
            if (s.wallSeconds <= 0 || s.bytes == 0)
                return std::nullopt;
            return double(s.bytes) / s.wallSeconds / 1e9;
        });
        add(u"thread_cpu_s"_s, u"send-thread CPU s"_s, 3,
            [](const Sample &s) { return std::optional(s.threadCpuSeconds); });
        add(u"process_cpu_s"_s, u"process CPU s"_s, 3,
            [](const Sample &s) { return std::optional(s.processCpuSeconds); });
        add(u"thread_cpu_ns_per_msg"_s, u"send-thread CPU ns/msg"_s, 0,
            [](const Sample &s) { return perMessage(s.threadCpuSeconds * 1e9, s); });
        add(u"process_cpu_ns_per_msg"_s, u"process CPU ns/msg"_s, 0,
            [](const Sample &s) { return perMessage(s.processCpuSeconds * 1e9, s); });
        add(u"thread_cpu_s_per_gb"_s, u"send-thread CPU s/GB"_s, 3,
            [](const Sample &s) { return perGigabyte(s.threadCpuSeconds, s); });
        add(u"process_cpu_s_per_gb"_s, u"process CPU s/GB"_s, 3,
            [](const Sample &s) { return perGigabyte(s.processCpuSeconds, s); });
        add(u"syscalls_per_msg"_s, u"syscalls/msg"_s, 3, [](const Sample &s) { return perMessage(s.syscalls, s); });
        add(u"thread_syscalls_per_msg"_s, u"all thread syscalls/msg (warm-up)"_s, 3,
            [](const Sample &s) { return perMessage(s.threadSyscalls, s); });
        add(u"peak_rss_mib"_s, u"peak RSS MiB"_s, 1, [](const Sample &s) { return std::optional(s.peakRssMiB); });
        // Scenario-specific figures from Sample::extra, with their labels.
        const std::pair<const char16_t *, const char16_t *> extras[] = {
            {u"rtt_median_us", u"RTT median us"},
            {u"rtt_p99_us", u"RTT p99 us"},
            {u"release_median_us", u"release median us"},
            {u"release_p99_us", u"release p99 us"},
            {u"transport_release_p50_us", u"transport's own p50 us"},
            {u"uncopied_pct", u"% not COPIED"},
            {u"registered_pct", u"% pool buffers registered"},
            {u"uring_setup_ms", u"io_uring set-up ms"},
            {u"checksum_gb_per_s", u"checksum GB/s"},
            {u"sender_cpu_us_per_frame", u"send-thread CPU us/frame"},
            {u"send_call_cpu_us_per_frame", u"in sendBuffer us/frame"},
            {u"receiver_cpu_us_per_frame", u"receiver CPU us/frame"},
            {u"receiver_own_cpu_us_per_frame", u"receiver CPU outside checksum us/frame"},
            {u"process_cpu_us_per_frame", u"process CPU us/frame"},
        };
        for (const auto &[key, label] : extras) {
            const QString k = QString::fromUtf16(key);
            add(k, QString::fromUtf16(label), 1, [k](const Sample &s) -> std::optional<double> {
                auto found = s.extra.find(k);
                if (found == s.extra.end())
                    return std::nullopt;
                return found->second;
            });
        }
        return m;
    }();
    return registry;
}

QJsonObject statJson(const Stat &stat)
{
    return QJsonObject{{u"median"_s, stat.median}, {u"min"_s, stat.min}, {u"max"_s, stat.max}, {u"n"_s, stat.n}};
}

QString compareText(Target::Compare compare)
{
    switch (compare) {
    case Target::Compare::AtLeast:
        return u">="_s;
    case Target::Compare::AtMost:
        return u"<="_s;
    case Target::Compare::Below:
        return u"<"_s;
    case Target::Compare::Equal:
        return u"=="_s;
    }
    return {};
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

const Metric &metric(const QString &key)
{
    auto &registry = metricRegistry();
    auto it = registry.find(key);
    if (it != registry.end())
        return it->second;
    // Anything else is one of the scenario's own figures in Sample::extra.
    Metric extra{key, key, 2, [key](const Sample &s) -> std::optional<double> {
                     auto found = s.extra.find(key);
                     if (found == s.extra.end())
                         return std::nullopt;
                     return found->second;
                 }};
    return registry.emplace(key, std::move(extra)).first->second;
}

std::optional<Stat> statOf(std::vector<double> values)
{
    if (values.empty())
        return std::nullopt;
    std::sort(values.begin(), values.end());
    Stat stat;
    stat.n = int(values.size());
    stat.min = values.front();
    stat.max = values.back();
    const size_t mid = values.size() / 2;
    stat.median = values.size() % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2.0;
    return stat;
}

double percentile(std::vector<double> values, double p)
{
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    // Nearest rank.
    const double rank = std::ceil(p / 100.0 * double(values.size()));
    const size_t index = size_t(std::clamp(rank, 1.0, double(values.size()))) - 1;
    return values[index];
}

QString ratioName(const RatioDef &ratio)
{
    return u"ratio_"_s + ratio.a + u"_vs_"_s + ratio.b;
}

bool ScenarioResult::allOk() const
{
    for (const ContenderResult &c : contenders) {
        if (c.skipReason.isEmpty() && (!c.errors.isEmpty() || c.rounds.empty()))
            return false;
    }
    return ran;
}

const ContenderResult *ScenarioResult::contender(const QString &name) const
{
    for (const ContenderResult &c : contenders) {
        if (c.name == name)
            return &c;
    }
    return nullptr;
}

std::optional<Stat> ScenarioResult::metricStat(const QString &name, const QString &metricKey) const
{
    const ContenderResult *c = contender(name);
    if (!c)
        return std::nullopt;
    const Metric &m = metric(metricKey);
    std::vector<double> values;
    // All-thread system calls are counted in the warm-up run only.
    const bool warmupOnly = metricKey == u"thread_syscalls_per_msg"_s;
    const std::vector<Sample> warmup{c->warmup};
    for (const Sample &s : warmupOnly ? warmup : c->rounds) {
        if (!s.ok)
            continue;
        if (auto v = m.value(s))
            values.push_back(*v);
    }
    return statOf(values);
}

std::optional<Stat> ScenarioResult::ratioStat(const RatioDef &ratio) const
{
    const ContenderResult *a = contender(ratio.a);
    const ContenderResult *b = contender(ratio.b);
    if (!a || !b)
        return std::nullopt;
    const Metric &m = metric(ratio.metric);
    std::vector<double> values;
    // Rounds are alternated A B C A B C: round i of a is paired with round i of b.
    const size_t n = std::min(a->rounds.size(), b->rounds.size());
    for (size_t i = 0; i < n; ++i) {
        if (!a->rounds[i].ok || !b->rounds[i].ok)
            continue;
        const auto va = m.value(a->rounds[i]);
        const auto vb = m.value(b->rounds[i]);
        if (va && vb && *vb != 0)
            values.push_back(*va / *vb);
    }
    return statOf(values);
}

Runner::Runner(RunConfig config)
    : m_config(std::move(config))
    , m_tty(isatty(STDERR_FILENO))
{
}

void Runner::progress(const QString &text)
{
    const QByteArray line = text.toLocal8Bit();
    if (m_tty) {
        const int pad = std::max(0, m_progressWidth - int(line.size()));
        std::fprintf(stderr, "\r%s%*s", line.constData(), pad, "");
        m_progressWidth = int(line.size());
    } else {
        std::fprintf(stderr, "%s\n", line.constData());
    }
    std::fflush(stderr);
}

void Runner::endProgress()
{
    if (m_tty && m_progressWidth > 0) {
        std::fprintf(stderr, "\r%*s\r", m_progressWidth, "");
        std::fflush(stderr);
    }
    m_progressWidth = 0;
}

std::vector<ScenarioResult> Runner::run(const std::vector<Scenario> &scenarios)
{
    std::vector<ScenarioResult> results;
    int totalRuns = 0;
    for (const Scenario &s : scenarios)
        totalRuns += int(s.contenders.size()) * (m_config.rounds + 1);
    int done = 0;

    for (const Scenario &scenario : scenarios) {
        ScenarioResult result;
        result.key = scenario.key;
        progress(u"[%1/%2] %3: setting up"_s.arg(done).arg(totalRuns).arg(scenario.key));
        const QString skip = scenario.setup ? scenario.setup() : QString();
        if (!skip.isEmpty()) {
            result.skipReason = skip;
            done += int(scenario.contenders.size()) * (m_config.rounds + 1);
            endProgress();
            out() << "== " << scenario.key << ": SKIPPED: " << skip << "\n\n";
            out().flush();
            results.push_back(std::move(result));
            continue;
        }
        for (const Contender &c : scenario.contenders)
            result.contenders.push_back(ContenderResult{c.name, {}, {}, {}, {}, {}});

        auto runOne = [&](size_t index, bool warmup, int round) {
            const Contender &c = scenario.contenders[index];
            progress(u"[%1/%2] %3: %4 %5"_s.arg(done + 1).arg(totalRuns).arg(scenario.key, c.name,
                                                                             warmup ? u"warm-up (full byte check)"_s
                                                                                    : u"round %1/%2"_s.arg(round).arg(
                                                                                        m_config.rounds)));
            RunRequest request{warmup, warmup ? scenario.warmupCount : scenario.count};
            ContenderResult &r = result.contenders[index];
            if (!r.skipReason.isEmpty()) {
                ++done;
                return;
            }
            Sample sample = c.run(request);
            if (!sample.skipped.isEmpty()) {
                r.skipReason = sample.skipped;
                ++done;
                return;
            }
            if (!sample.ok) {
                const QString what = warmup ? u"warm-up"_s : u"round %1"_s.arg(round);
                r.errors.append(what + u": "_s + (sample.error.isEmpty() ? u"failed"_s : sample.error));
            }
            if (!sample.note.isEmpty() && !r.notes.contains(sample.note))
                r.notes.append(sample.note);
            if (warmup)
                r.warmup = sample;
            else
                r.rounds.push_back(sample);
            ++done;
        };
        for (size_t i = 0; i < scenario.contenders.size(); ++i)
            runOne(i, true, 0);
        for (int round = 1; round <= m_config.rounds; ++round) {
            for (size_t i = 0; i < scenario.contenders.size(); ++i)
                runOne(i, false, round);
        }
        if (scenario.teardown)
            scenario.teardown();
        result.ran = true;
        endProgress();
        printTable(scenario, result);
        results.push_back(std::move(result));
    }
    endProgress();
    return results;
}

void Runner::printTable(const Scenario &scenario, const ScenarioResult &result) const
{
    QTextStream &o = out();
    o << "== " << scenario.key << ": " << scenario.description << "\n";
    o << "   " << scenario.count << ' ' << scenario.unit << " per run, " << m_config.rounds
      << " rounds alternated, median [min-max]; reference: " << scenario.reference << "\n";

    QStringList header{u"contender"_s};
    for (const QString &key : scenario.columns)
        header << metric(key).label;
    std::vector<QStringList> rows;
    for (const ContenderResult &c : result.contenders) {
        QStringList row{c.name};
        for (const QString &key : scenario.columns) {
            const auto stat = result.metricStat(c.name, key);
            row << (stat ? formatStat(*stat, metric(key).precision) : u"n/a"_s);
        }
        rows.push_back(row);
    }
    std::vector<int> widths(size_t(header.size()), 0);
    auto measure = [&widths](const QStringList &row) {
        for (qsizetype i = 0; i < row.size(); ++i)
            widths[size_t(i)] = std::max(widths[size_t(i)], int(row[i].size()));
    };
    measure(header);
    for (const QStringList &row : rows)
        measure(row);
    auto print = [&](const QStringList &row) {
        o << "  ";
        for (qsizetype i = 0; i < row.size(); ++i) {
            const int w = widths[size_t(i)];
            o << (i == 0 ? row[i].leftJustified(w) : row[i].rightJustified(w));
            o << (i + 1 < row.size() ? "  " : "\n");
        }
    };
    print(header);
    for (const QStringList &row : rows)
        print(row);
    for (const RatioDef &ratio : scenario.ratios) {
        if (!result.contender(ratio.a) || !result.contender(ratio.b))
            continue; // a contender left out with --contender
        const auto stat = result.ratioStat(ratio);
        o << "  " << ratioName(ratio) << " (" << metric(ratio.metric).label
          << "): " << (stat ? formatStat(*stat, 3) + u'x' : u"n/a"_s) << "\n";
    }
    for (const ContenderResult &c : result.contenders) {
        if (!c.skipReason.isEmpty())
            o << "  SKIPPED " << c.name << ": " << c.skipReason << "\n";
        for (const QString &note : c.notes)
            o << "  NOTE " << c.name << ": " << note << "\n";
        for (const QString &error : c.errors)
            o << "  ERROR " << c.name << ": " << error << "\n";
    }
    o << "\n";
    o.flush();
}

std::vector<TargetResult> Runner::evaluate(const std::vector<ScenarioResult> &results,
                                           const std::vector<Target> &targets) const
{
    std::vector<TargetResult> evaluated;
    for (const Target &t : targets) {
        TargetResult r;
        r.target = t;
        const ScenarioResult *sr = nullptr;
        for (const ScenarioResult &candidate : results) {
            if (candidate.key == t.scenario)
                sr = &candidate;
        }
        if (!sr || !sr->ran) {
            r.note = sr ? u"scenario skipped: "_s + sr->skipReason : u"scenario not run"_s;
            evaluated.push_back(r);
            continue;
        }
        const auto stat = t.ratio ? sr->ratioStat(*t.ratio) : sr->metricStat(t.contender, t.metric);
        if (!stat) {
            r.note = u"no measurement"_s;
            for (const QString &name : t.ratio ? QStringList{t.ratio->a, t.ratio->b} : QStringList{t.contender}) {
                if (const ContenderResult *c = sr->contender(name); c && !c->skipReason.isEmpty())
                    r.note = name + u" skipped: "_s + c->skipReason;
            }
            evaluated.push_back(r);
            continue;
        }
        r.evaluated = true;
        r.value = stat->median;
        switch (t.compare) {
        case Target::Compare::AtLeast:
            r.met = r.value >= t.threshold;
            break;
        case Target::Compare::AtMost:
            r.met = r.value <= t.threshold;
            break;
        case Target::Compare::Below:
            r.met = r.value < t.threshold;
            break;
        case Target::Compare::Equal:
            r.met = std::fabs(r.value - t.threshold) < 1e-9;
            break;
        }
        if (!sr->allOk())
            r.note = u"scenario had errors"_s;
        evaluated.push_back(r);
    }
    return evaluated;
}

void Runner::printTargets(const std::vector<TargetResult> &targets) const
{
    QTextStream &o = out();
    o << "== targets (medians of one run)\n";
    for (const TargetResult &r : targets) {
        const Target &t = r.target;
        const QString what = t.ratio ? QString(ratioName(*t.ratio) + u" (" + metric(t.ratio->metric).label + u')')
                                     : QString(t.contender + u' ' + metric(t.metric).label);
        o << "  " << (r.evaluated ? (r.met ? "MET    " : "NOT MET") : "NOT RUN") << "  " << t.scenario << ": " << what
          << ' ' << compareText(t.compare) << ' ' << t.threshold;
        if (r.evaluated)
            o << ": measured " << QString::number(r.value, 'g', 4);
        if (!r.note.isEmpty())
            o << " (" << r.note << ')';
        o << "\n";
    }
    o << "\n";
    o.flush();
}

QJsonObject Runner::toJson(const std::vector<Scenario> &scenarios, const std::vector<ScenarioResult> &results,
                           const std::vector<TargetResult> &targets) const
{
    QJsonObject scenariosJson;
    for (size_t si = 0; si < scenarios.size() && si < results.size(); ++si) {
        const Scenario &scenario = scenarios[si];
        const ScenarioResult &result = results[si];
        QJsonObject sj{{u"description"_s, scenario.description},
                       {u"ran"_s, result.ran},
                       {u"reference"_s, scenario.reference},
                       {u"count"_s, double(scenario.count)},
                       {u"unit"_s, scenario.unit}};
        QJsonArray columns;
        for (const QString &key : scenario.columns)
            columns.append(QJsonObject{{u"key"_s, key}, {u"label"_s, metric(key).label}});
        sj[u"columns"_s] = columns;
        if (!result.ran) {
            sj[u"skip_reason"_s] = result.skipReason;
            scenariosJson[scenario.key] = sj;
            continue;
        }
        QJsonObject contenders;
        for (const ContenderResult &c : result.contenders) {
            QJsonObject cj{{u"ok"_s, c.errors.isEmpty()},
                           {u"rounds"_s, int(c.rounds.size())},
                           {u"warmup_ok"_s, c.warmup.ok},
                           {u"errors"_s, QJsonArray::fromStringList(c.errors)},
                           {u"notes"_s, QJsonArray::fromStringList(c.notes)}};
            if (!c.skipReason.isEmpty())
                cj[u"skip_reason"_s] = c.skipReason;
            QStringList keys = {u"wall_s"_s,
                                u"msgs_per_s"_s,
                                u"frames_per_s"_s,
                                u"gb_per_s"_s,
                                u"thread_cpu_s"_s,
                                u"process_cpu_s"_s,
                                u"thread_cpu_ns_per_msg"_s,
                                u"process_cpu_ns_per_msg"_s,
                                u"thread_cpu_s_per_gb"_s,
                                u"process_cpu_s_per_gb"_s,
                                u"syscalls_per_msg"_s,
                                u"thread_syscalls_per_msg"_s,
                                u"peak_rss_mib"_s};
            for (const Sample &s : c.rounds) {
                for (const auto &[key, value] : s.extra) {
                    Q_UNUSED(value);
                    if (!keys.contains(key))
                        keys << key;
                }
            }
            QJsonObject metrics;
            for (const QString &key : keys) {
                const auto stat = result.metricStat(c.name, key);
                if (!stat)
                    continue;
                QJsonObject mj = statJson(*stat);
                QJsonArray values;
                if (key == u"thread_syscalls_per_msg"_s) {
                    mj[u"from"_s] = u"warm-up run"_s;
                } else {
                    for (const Sample &s : c.rounds) {
                        const auto v = s.ok ? metric(key).value(s) : std::nullopt;
                        values.append(v ? QJsonValue(*v) : QJsonValue());
                    }
                    mj[u"values"_s] = values;
                }
                metrics[key] = mj;
            }
            cj[u"metrics"_s] = metrics;
            contenders[c.name] = cj;
        }
        sj[u"contenders"_s] = contenders;
        QJsonArray contenderOrder; // JSON objects do not keep the run order
        for (const ContenderResult &c : result.contenders)
            contenderOrder.append(c.name);
        sj[u"contender_order"_s] = contenderOrder;
        QJsonObject ratios;
        for (const RatioDef &ratio : scenario.ratios) {
            if (!result.contender(ratio.a) || !result.contender(ratio.b))
                continue;
            const auto stat = result.ratioStat(ratio);
            QJsonObject rj = stat ? statJson(*stat) : QJsonObject{};
            rj[u"metric"_s] = ratio.metric;
            rj[u"label"_s] = metric(ratio.metric).label;
            // Two ratios of the same contenders on different metrics keep both.
            QString key = ratioName(ratio);
            if (ratios.contains(key))
                key += u'_' + ratio.metric;
            ratios[key] = rj;
        }
        sj[u"ratios"_s] = ratios;
        sj[u"ok"_s] = result.allOk();
        scenariosJson[scenario.key] = sj;
    }

    QJsonArray targetsJson;
    for (const TargetResult &r : targets) {
        const Target &t = r.target;
        QJsonObject tj{{u"text"_s, t.text},
                       {u"scenario"_s, t.scenario},
                       {u"compare"_s, compareText(t.compare)},
                       {u"threshold"_s, t.threshold},
                       {u"evaluated"_s, r.evaluated},
                       {u"met"_s, r.met}};
        if (t.ratio) {
            tj[u"ratio"_s] = ratioName(*t.ratio);
            tj[u"metric"_s] = t.ratio->metric;
        } else {
            tj[u"contender"_s] = t.contender;
            tj[u"metric"_s] = t.metric;
        }
        if (r.evaluated)
            tj[u"value"_s] = r.value;
        if (!r.note.isEmpty())
            tj[u"note"_s] = r.note;
        targetsJson.append(tj);
    }

    QJsonArray scenarioOrder;
    for (const Scenario &scenario : scenarios)
        scenarioOrder.append(scenario.key);
    QJsonObject root{{u"scenario_order"_s, scenarioOrder},
                     {u"date"_s, QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
                     {u"machine"_s, machineInfo()},
                     {u"command"_s, m_config.command},
                     {u"quick"_s, m_config.quick},
                     {u"rounds"_s, m_config.rounds},
                     {u"thread_syscalls_counted"_s, Meter::threadSyscallsAvailable()},
                     {u"scenarios"_s, scenariosJson},
                     {u"targets"_s, targetsJson}};
    return root;
}

QJsonObject machineInfo()
{
    // Taken once, at the first call (main() makes it at start-up), so that the
    // load average is the one before the benchmark ran.
    static const QJsonObject info = [] {
        QString cpu;
        QFile cpuinfo(u"/proc/cpuinfo"_s);
        if (cpuinfo.open(QIODevice::ReadOnly)) {
            const QList<QByteArray> lines = cpuinfo.readAll().split('\n');
            for (const QByteArray &line : lines) {
                if (line.startsWith("model name")) {
                    cpu = QString::fromLocal8Bit(line.mid(line.indexOf(':') + 1).trimmed());
                    break;
                }
            }
        }
        QString load;
        QFile loadavg(u"/proc/loadavg"_s);
        if (loadavg.open(QIODevice::ReadOnly))
            load = QString::fromLatin1(loadavg.readAll().trimmed());
        utsname name{};
        uname(&name);
        const QString kernel = QString::fromLatin1(name.sysname) + u' ' + QString::fromLatin1(name.release);
        return QJsonObject{{u"nproc"_s, int(sysconf(_SC_NPROCESSORS_ONLN))},
                           {u"cpu"_s, cpu},
                           {u"kernel"_s, kernel},
                           {u"started"_s, QDateTime::currentDateTimeUtc().toString(Qt::ISODate)},
                           {u"arch"_s, QSysInfo::currentCpuArchitecture()},
                           {u"qt"_s, QString::fromLatin1(qVersion())},
                           {u"loadavg_at_start"_s, load}};
    }();
    return info;
}

} // namespace Bench
