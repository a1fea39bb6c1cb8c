// SPDX-License-Identifier: MIT
// The benchmark harness: per-run samples, the meter that takes them, scenario
// and target definitions, alternated rounds, statistics, table and JSON output.
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace Bench {

/*! What one run of one contender measured. */
struct Sample
{
    bool ok = false;
    QString error; //!< why the run failed (empty when ok)
    double wallSeconds = 0;
    quint64 messages = 0;         //!< messages, frames, datagrams or round trips completed
    quint64 bytes = 0;            //!< payload bytes that arrived (or left, for a dropping peer)
    double threadCpuSeconds = 0;  //!< CPU of the sending thread
    double processCpuSeconds = 0; //!< CPU of the whole process (all threads)
    double syscalls = -1;         //!< counted by the contender: its loop or the transport's statistics
    double threadSyscalls = -1;   //!< every system call of the sending thread (kernel tracepoint, warm-up only)
    double peakRssMiB = 0;
    std::map<QString, double> extra; //!< scenario-specific figures (latencies, COPIED share, ...)
    QString note;                    //!< what the contender wants on record (the zero-copy backend's reason)
    /*! Set: the contender cannot run on this machine (why), e.g. io_uring
        refused; it gives no figure, and that is not an error. */
    QString skipped;
};

/*! What a contender is asked to do in one run. */
struct RunRequest
{
    bool warmup = false; //!< full byte check instead of per-message checksums
    quint64 count = 0;   //!< messages, frames, datagrams or round trips
};

/*!
    Takes wall time, CPU of the calling thread and of the process, system calls
    of the calling thread, and the peak RSS between start() and stop().
    Call both from the sending thread.
*/
class Meter
{
public:
    Meter();
    ~Meter();
    Meter(const Meter &) = delete;
    Meter &operator=(const Meter &) = delete;

    /*! With \a countSyscalls (the warm-up run), every system call of this
        thread is counted with the raw_syscalls:sys_enter tracepoint. Timed
        runs leave it off: an attached tracepoint slows every system call. */
    void start(bool countSyscalls);
    /*! Fills the time, CPU, syscall and RSS fields of \a sample. \a end, when
        given, is when the work was complete (the receiver's clock). */
    void stop(Sample *sample, std::optional<std::chrono::steady_clock::time_point> end = std::nullopt);

    static bool threadSyscallsAvailable();

private:
    std::chrono::steady_clock::time_point m_wall;
    double m_thread = 0;
    double m_process = 0;
    quint64 m_sys = 0;
    int m_perfFd = -1;
    bool m_counting = false;
};

double threadCpuNow();
double processCpuNow();

/*! One figure derived from a sample, with its table formatting. */
struct Metric
{
    QString key;   //!< JSON key, e.g. "msgs_per_s"
    QString label; //!< table column header
    int precision = 2;
    std::function<std::optional<double>(const Sample &)> value;
};

const Metric &metric(const QString &key);

struct Contender
{
    QString name;
    std::function<Sample(const RunRequest &)> run;
};

/*! ratio_<a>_vs_<b>: metric(a) / metric(b), per round, then median and range. */
struct RatioDef
{
    QString a;
    QString b;
    QString metric;
};

struct Scenario
{
    QString key;
    QString description;
    QString reference;       //!< the contender every other one is compared with
    quint64 count = 0;       //!< per timed run
    quint64 warmupCount = 0; //!< for the warm-up run with full byte check
    QString unit;            //!< what count counts
    std::vector<Contender> contenders;
    QStringList columns; //!< metric keys shown in the table
    std::vector<RatioDef> ratios;
    /*! Prepares shared state; returns a reason to skip, or an empty string. */
    std::function<QString()> setup;
    std::function<void()> teardown;
};

struct Stat
{
    double median = 0;
    double min = 0;
    double max = 0;
    int n = 0;
};

std::optional<Stat> statOf(std::vector<double> values);
double percentile(std::vector<double> values, double p);

struct ContenderResult
{
    QString name;
    std::vector<Sample> rounds;
    Sample warmup;
    QStringList errors;
    QStringList notes;  //!< the runs' distinct notes
    QString skipReason; //!< set by the first run that was skipped; no more runs then
};

struct ScenarioResult
{
    QString key;
    bool ran = false;
    QString skipReason;
    std::vector<ContenderResult> contenders;
    bool allOk() const;
    const ContenderResult *contender(const QString &name) const;
    std::optional<Stat> metricStat(const QString &contender, const QString &metric) const;
    std::optional<Stat> ratioStat(const RatioDef &ratio) const;
};

/*! A target from the issue, checked against one median. */
struct Target
{
    enum class Compare { AtLeast, AtMost, Below, Equal };
    QString text; //!< the target as the issue states it
    QString scenario;
    QString contender; //!< with metric: a contender's own figure
    QString metric;
    std::optional<RatioDef> ratio; //!< or a ratio
    Compare compare = Compare::AtLeast;
    double threshold = 0;
};

struct TargetResult
{
    Target target;
    bool evaluated = false;
    bool met = false;
    double value = 0;
    QString note;
};

struct RunConfig
{
    bool quick = false;
    int rounds = 5;
    QString command;
};

class Runner
{
public:
    explicit Runner(RunConfig config);
    /*! Runs the scenarios: warm-up of every contender, then rounds A B C A B C. */
    std::vector<ScenarioResult> run(const std::vector<Scenario> &scenarios);
    std::vector<TargetResult> evaluate(const std::vector<ScenarioResult> &results,
                                       const std::vector<Target> &targets) const;

    void printTable(const Scenario &scenario, const ScenarioResult &result) const;
    void printTargets(const std::vector<TargetResult> &targets) const;
    QJsonObject toJson(const std::vector<Scenario> &scenarios, const std::vector<ScenarioResult> &results,
                       const std::vector<TargetResult> &targets) const;

private:
    void progress(const QString &text);
    void endProgress();

    RunConfig m_config;
    bool m_tty = false;
    int m_progressWidth = 0;
};

QString ratioName(const RatioDef &ratio);
QJsonObject machineInfo();

} // namespace Bench
