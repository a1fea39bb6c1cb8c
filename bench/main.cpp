// blight-transport-bench: runs every contender of issue 6 on the same work,
// alternating them, and prints (and writes as JSON) medians, ranges and ratios.
#include "harness.h"
#include "scenarios.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QTextStream>

#include <csignal>

using namespace Qt::StringLiterals;

int main(int argc, char **argv)
{
    // A peer that goes away must show up as an error, never kill the run.
    std::signal(SIGPIPE, SIG_IGN);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(u"blight-transport-bench"_s);
    QCoreApplication::setApplicationVersion(u"0.1.0"_s);
    Bench::machineInfo(); // the load average before anything runs

    QCommandLineParser parser;
    parser.setApplicationDescription(
        u"Runs the blight transport side by side with Oxide's sender, QLocalSocket, QTcpSocket and plain "
        u"send() loops, in alternated rounds, and prints medians, ranges and ratios."_s);
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption quickOption(u"quick"_s,
                                         u"A small version of every scenario, in seconds: checks that every "
                                         u"scenario runs and every byte arrives (not speed)."_s);
    const QCommandLineOption jsonOption(u"json"_s, u"Write every figure to <file> as JSON."_s, u"file"_s);
    const QCommandLineOption scenarioOption(u"scenario"_s,
                                            u"Run only <name> (a scenario key, or its family such as "
                                            u"small-unix); repeatable."_s,
                                            u"name"_s);
    const QCommandLineOption roundsOption(u"rounds"_s, u"Timed rounds per contender (default 5, quick 2)."_s,
                                          u"n"_s);
    const QCommandLineOption contenderOption(u"contender"_s,
                                             u"Run only the contender <name> (for profiling one of them); "
                                             u"repeatable."_s,
                                             u"name"_s);
    const QCommandLineOption listOption(u"list"_s, u"List the scenarios and exit."_s);
    parser.addOptions({quickOption, jsonOption, scenarioOption, contenderOption, roundsOption, listOption});

    QTextStream err(stderr);
    QTextStream out(stdout);
    // Parsed by hand rather than with process(): bad usage exits 2 (as in
    // every blight-transport command), and the usage line names the program
    // as it was called: "blight-transport bench" (argv[0] given by the CLI)
    // or blight-transport-bench, never a build path.
    const QString program = QFileInfo(QCoreApplication::arguments().constFirst()).fileName();
    if (!parser.parse(QCoreApplication::arguments())) {
        err << program << ": " << parser.errorText() << "\n";
        return 2;
    }
    if (parser.isSet(u"help"_s) || parser.isSet(u"help-all"_s)) {
        QString text = parser.helpText();
        const qsizetype options = text.indexOf(u" [options]"_s);
        if (text.startsWith(u"Usage: "_s) && options > 0)
            text.replace(7, options - 7, program);
        out << text
            << "\nExit status: 0 every scenario ran and every byte arrived, 1 a scenario failed or did "
               "not run, 2 bad usage.\n";
        return 0;
    }
    if (parser.isSet(u"version"_s)) {
        out << program << ' ' << QCoreApplication::applicationVersion() << "\n";
        return 0;
    }
    Bench::RunConfig config;
    config.quick = parser.isSet(quickOption);
    config.rounds = config.quick ? 2 : 5;
    if (parser.isSet(roundsOption)) {
        bool ok = false;
        config.rounds = parser.value(roundsOption).toInt(&ok);
        if (!ok || config.rounds < 1 || config.rounds > 1000) {
            err << "--rounds takes a number from 1 to 1000\n";
            return 2;
        }
    }
    config.command = QCoreApplication::arguments().join(u' ');

    Bench::BenchContext context;
    context.quick = config.quick;
    const std::vector<Bench::Scenario> all = Bench::makeScenarios(context);
    if (parser.isSet(listOption)) {
        for (const Bench::Scenario &s : all)
            out << s.key << "  " << s.description << "\n";
        return 0;
    }

    std::vector<Bench::Scenario> selected;
    const QStringList wanted = parser.values(scenarioOption);
    for (const QString &name : wanted) {
        const bool known = std::any_of(all.begin(), all.end(), [&name](const Bench::Scenario &s) {
            return s.key == name || s.key.startsWith(name + u'/');
        });
        if (!known) {
            err << "unknown scenario '" << name << "' (see --list)\n";
            return 2;
        }
    }
    for (const Bench::Scenario &s : all) {
        const bool chosen = wanted.isEmpty() || std::any_of(wanted.begin(), wanted.end(), [&s](const QString &name) {
                                return s.key == name || s.key.startsWith(name + u'/');
                            });
        if (!chosen)
            continue;
        Bench::Scenario copy = s;
        const QStringList only = parser.values(contenderOption);
        if (!only.isEmpty()) {
            std::erase_if(copy.contenders, [&only](const Bench::Contender &c) { return !only.contains(c.name); });
            if (copy.contenders.empty())
                continue;
        }
        selected.push_back(std::move(copy));
    }
    if (selected.empty()) {
        err << "nothing to run: no scenario has the chosen contenders\n";
        return 2;
    }

    const QJsonObject machine = Bench::machineInfo();
    out << "blight-transport-bench" << (config.quick ? " --quick" : "") << ": " << machine[u"nproc"_s].toInt()
        << " CPUs (" << machine[u"cpu"_s].toString() << "), " << machine[u"kernel"_s].toString() << ", Qt "
        << machine[u"qt"_s].toString() << ", load " << machine[u"loadavg_at_start"_s].toString() << "\n";
    out << "rounds alternated A B C A B C after a warm-up run with a full byte check; "
        << (Bench::Meter::threadSyscallsAvailable()
                ? "all system calls of the sending thread counted in the warm-up run (raw_syscalls tracepoint)"
                : "tracefs not available: all-thread system call counts are n/a")
        << "\n\n";
    out.flush();

    Bench::Runner runner(config);
    const std::vector<Bench::ScenarioResult> results = runner.run(selected);
    context.veth.tearDown();

    std::vector<Bench::Target> targets;
    for (const Bench::Target &t : Bench::makeTargets()) {
        const bool ran = std::any_of(selected.begin(), selected.end(),
                                     [&t](const Bench::Scenario &s) { return s.key == t.scenario; });
        if (ran)
            targets.push_back(t);
    }
    // --quick measures too little to judge a target: say so instead of
    // printing MET / NOT MET lines that mean nothing.
    std::vector<Bench::TargetResult> evaluated;
    if (config.quick) {
        out << "== targets: not judged with --quick (it checks that everything runs, not speed)\n\n";
    } else {
        evaluated = runner.evaluate(results, targets);
        runner.printTargets(evaluated);
    }

    // Every scenario must have run and every byte must have arrived; speed is
    // reported, not judged, in the exit code.
    QStringList failures;
    for (const Bench::ScenarioResult &r : results) {
        if (!r.ran) {
            if (!Bench::maySkip(r.key))
                failures << r.key + u" did not run: "_s + r.skipReason;
            else
                out << "note: " << r.key << " skipped: " << r.skipReason << "\n";
        } else if (!r.allOk()) {
            failures << r.key + u" had errors"_s;
        }
    }

    if (parser.isSet(jsonOption)) {
        QJsonObject json = runner.toJson(selected, results, evaluated);
        json[u"ok"_s] = failures.isEmpty();
        QFile file(parser.value(jsonOption));
        if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)
            || file.write(QJsonDocument(json).toJson(QJsonDocument::Indented)) < 0) {
            err << "cannot write " << file.fileName() << ": " << file.errorString() << "\n";
            return 1;
        }
        out << "wrote " << file.fileName() << "\n";
    }

    for (const QString &failure : failures)
        out << "FAILED: " << failure << "\n";
    out.flush();
    return failures.isEmpty() ? 0 : 1;
}
