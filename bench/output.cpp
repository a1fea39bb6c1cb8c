// SPDX-License-Identifier: MIT
// The benchmark's output: the result tables, the targets, the JSON document and machine info.
#include "harness.h"
#include "harness_p.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QSysInfo>

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace Qt::StringLiterals;

namespace Bench {

namespace Detail {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

} // namespace Detail

namespace {

using Detail::out;

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
