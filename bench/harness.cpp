// SPDX-License-Identifier: MIT
// The benchmark harness: metric registry, statistics, alternated rounds and targets.
#include "harness.h"
#include "harness_p.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace Qt::StringLiterals;

namespace Bench {

using Detail::out;

namespace {

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

} // namespace

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

} // namespace Bench
