// SPDX-License-Identifier: MIT
// blight-transport demo: a sender and a receiver in one process, over an
// AF_UNIX socket pair (blight's own kind of socket, with and without shared
// memory) and over TCP on loopback,
// streaming typed blight messages and large frames and checking every byte;
// the options and the summary (DemoLink is in demolink.cpp).
#include "commands.h"
#include "cliutil.h"
#include "demo.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonObject>
#include <QtCore/QLocale>
#include <QtCore/QTextStream>
#include <QtCore/QTimer>

#include <limits>

namespace Blight::Cli {

static QString pathSentence(const QJsonObject &link)
{
    const QJsonObject zc = link.value(u"zeroCopy").toObject();
    const QString state = zc.value(u"state").toString();
    if (state == u"shared-memory") {
        const QJsonObject shm = link.value(u"sharedMemory").toObject();
        return QStringLiteral("path: shared-memory, %1 of %2 frames read in place from a memfd mapping "
                              "(peak %3 MiB mapped), %4")
            .arg(shm.value(u"framesInMemfd").toInteger())
            .arg(link.value(u"frames").toInteger())
            .arg(double(shm.value(u"mappedBytesPeak").toInteger()) / (1024 * 1024), 0, 'f', 1)
            .arg(link.value(u"verified").toBool() ? QStringLiteral("every byte checked")
                                                  : QStringLiteral("NOT every byte checked"));
    }
    if (state == u"unsupported")
        return QStringLiteral("copy path: ") + zc.value(u"reason").toString();
    if (state == u"disabled")
        return QStringLiteral("copy path: zero-copy switched off");
    const qint64 sends = zc.value(u"zeroCopySends").toInteger();
    const qint64 completions = zc.value(u"completions").toInteger();
    const qint64 copied = zc.value(u"copiedCompletions").toInteger();
    QString sentence = QStringLiteral("zero-copy %1 sends, %2 completions (%3 COPIED by the kernel)")
                           .arg(sends)
                           .arg(completions)
                           .arg(copied);
    if (zc.value(u"backOffs").toInteger() > 0 || state == u"backed-off")
        sentence += QStringLiteral("; fell back to copies: ") + zc.value(u"reason").toString();
    return sentence;
}

// Wall-clock rates with the demo's own generation and checking taken out
// (they run in the same thread as the transport).
static double withoutDemoWork(const QJsonObject &link, double amount)
{
    const double seconds = link.value(u"seconds").toDouble() - link.value(u"generationCpuSeconds").toDouble()
        - link.value(u"checkingCpuSeconds").toDouble();
    return seconds > 0 ? amount / seconds : 0.0;
}

static void printHumanSummary(const QJsonObject &result)
{
    const QJsonArray links = result.value(u"connections").toArray();
    const QJsonObject cpu = result.value(u"cpu").toObject();
    QTextStream out(stdout);
    const QLocale locale(QLocale::English);
    auto seconds = [&](const QJsonValue &value) -> QString {
        return locale.toString(value.toDouble(), 'f', 3) + QStringLiteral(" s");
    };
    out << "\nblight-transport demo: " << links.size() << (links.size() == 1 ? " connection, " : " connections, ")
        << (result.value(u"ok").toBool() ? "every message and byte arrived and matched" : "FAILED") << "\n";
    if (!result.value(u"error").toString().isEmpty())
        out << "  error: " << result.value(u"error").toString() << "\n";
    out << "  CPU of the one thread that runs every link: " << seconds(cpu.value(u"threadSeconds"))
        << " = transport and event loop" << (cpu.value(u"includesPanel").toBool() ? " (and the panel) " : " ")
        << seconds(cpu.value(u"transportSeconds")) << " + the demo's payload generation "
        << seconds(cpu.value(u"generationSeconds")) << " + its byte checking " << seconds(cpu.value(u"checkingSeconds"))
        << "\n  Rates: wall clock (includes generation and checking), and without the demo's generation and checking\n"
        << "  (links run side by side in that thread: use --links for one link's own figures)\n\n";
    for (const QJsonValue &value : links) {
        const QJsonObject link = value.toObject();
        out << "  " << link.value(u"name").toString() << " (" << link.value(u"kind").toString() << ", "
            << link.value(u"mode").toString() << ")\n";
        if (!link.value(u"failure").toString().isEmpty())
            out << "    FAILED: " << link.value(u"failure").toString() << "\n";
        const double megabytes = double(link.value(u"bytesChecked").toInteger()) / 1e6;
        const double messages = double(link.value(u"messages").toInteger());
        out << "    " << locale.toString(link.value(u"messages").toInteger()) << " messages, "
            << link.value(u"frames").toInteger() << " frames of "
            << locale.toString(double(link.value(u"frameSize").toInteger()) / (1024 * 1024), 'f', 1) << " MiB, "
            << locale.toString(megabytes, 'f', 1) << " MB checked in " << seconds(link.value(u"seconds")) << "\n";
        out << "    wall clock: " << locale.toString(link.value(u"megabytesPerSecond").toDouble(), 'f', 0) << " MB/s, "
            << locale.toString(link.value(u"messagesPerSecond").toDouble(), 'f', 0) << " messages/s, "
            << locale.toString(link.value(u"systemCallsPerMessage").toDouble(), 'f', 3)
            << " system calls per message\n";
        out << "    without generation (" << seconds(link.value(u"generationCpuSeconds")) << " CPU) and checking ("
            << seconds(link.value(u"checkingCpuSeconds"))
            << " CPU): " << locale.toString(withoutDemoWork(link, megabytes), 'f', 0) << " MB/s, "
            << locale.toString(withoutDemoWork(link, messages), 'f', 0) << " messages/s\n";
        out << "    " << pathSentence(link) << "\n";
    }
    out.flush();
}

// The screenshot is written at the end of a run that can take minutes: refuse
// a file that cannot be written before starting.
static QString screenshotProblem(const QString &path)
{
    const QFileInfo file(path);
    if (file.suffix().compare(u"png", Qt::CaseInsensitive) != 0)
        return QStringLiteral("--screenshot writes PNG: give a file name ending in .png, not '%1'").arg(path);
    if (file.isDir())
        return QStringLiteral("--screenshot %1 is a directory").arg(path);
    const QFileInfo folder(file.absolutePath());
    if (!folder.isDir())
        return QStringLiteral("--screenshot: the folder %1 does not exist").arg(folder.filePath());
    if (!folder.isWritable() || (file.exists() && !file.isWritable()))
        return QStringLiteral("--screenshot: %1 is not writable").arg(file.exists() ? path : folder.filePath());
    return {};
}

int runDemo(const QStringList &arguments)
{
    static int argc = 1;
    static QByteArray argv0 = arguments.constFirst().toLocal8Bit();
    static char *argv[] = {argv0.data(), nullptr};

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Starts a sender and a receiver in this process over an AF_UNIX socket pair (blight's\n"
                       "own kind of socket) and over TCP on loopback, streams typed blight messages and large\n"
                       "frames (as Ack payloads, and through a raw-stream socket), checks every byte on arrival\n"
                       "and prints a summary. No server or hardware needed. The summary splits the CPU time of\n"
                       "the thread into the transport's and the demo's own payload generation and checking.\n"
                       "The link \"unix shared memory\" (shm) sends its frames from a sealed memfd pool to a\n"
                       "receiver that reads them in place and releases them: no frame byte is copied."));
    const QCommandLineOption messagesOption(QStringLiteral("messages"),
                                            QStringLiteral("Small messages per connection (default 200000)."),
                                            QStringLiteral("n"), QStringLiteral("200000"));
    const QCommandLineOption framesOption(QStringLiteral("frames"),
                                          QStringLiteral("Large frames per connection (default 16)."),
                                          QStringLiteral("n"), QStringLiteral("16"));
    const QCommandLineOption frameSizeOption(QStringLiteral("frame-size"),
                                             QStringLiteral("Bytes per frame (default 5 MiB)."),
                                             QStringLiteral("bytes"), QString::number(5 * 1024 * 1024));
    const QCommandLineOption burstOption(QStringLiteral("burst"),
                                         QStringLiteral("Messages sent per event-loop turn (default 256)."),
                                         QStringLiteral("n"), QStringLiteral("256"));
    const QCommandLineOption zeroCopyOption(QStringLiteral("zerocopy"),
                                            QStringLiteral("auto, on or off for the TCP connections (default auto)."),
                                            QStringLiteral("mode"), QStringLiteral("auto"));
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print the summary as JSON."));
    const QCommandLineOption guiOption(QStringLiteral("gui"),
                                       QStringLiteral("Show the transport panel while the demo runs."));
    const QCommandLineOption screenshotOption(QStringLiteral("screenshot"),
                                              QStringLiteral(
                                                  "Render the panel offscreen after the demo and save it as PNG "
                                                  "(<file> ends in .png; its folder must exist)."),
                                              QStringLiteral("file"));
    const QCommandLineOption linksOption(QStringLiteral("links"),
                                         QStringLiteral(
                                             "Connections to run, from unix, shm, tcp and raw (default all)."),
                                         QStringLiteral("list"), QStringLiteral("unix,shm,tcp,raw"));
    parser.addOptions({messagesOption, framesOption, frameSizeOption, burstOption, zeroCopyOption, linksOption,
                       jsonOption, guiOption, screenshotOption});
    int exitCode = ExitOk;
    if (!parseOrExit(parser, arguments, &exitCode))
        return exitCode;

    DemoConfig config;
    const auto messages = integerOption(parser, messagesOption, 0, std::numeric_limits<quint32>::max() / 2);
    if (!messages)
        return ExitUsage;
    const auto frames = integerOption(parser, framesOption, 0, std::numeric_limits<quint32>::max() / 2);
    if (!frames)
        return ExitUsage;
    const auto frameSize = integerOption(parser, frameSizeOption, 1, DefaultMaxPayloadSize);
    if (!frameSize)
        return ExitUsage;
    const auto burst = integerOption(parser, burstOption, 1, 1 << 20);
    if (!burst)
        return ExitUsage;
    config.messages = *messages;
    config.frames = *frames;
    config.frameSize = *frameSize;
    config.burst = *burst;
    const auto zeroCopy = parseZeroCopyMode(parser.value(zeroCopyOption));
    if (!zeroCopy) {
        printError(QStringLiteral("--zerocopy takes auto, on or off"));
        return ExitUsage;
    }
    config.zeroCopyMode = *zeroCopy;
    config.zeroCopyModeName = parser.value(zeroCopyOption);
    const QStringList wanted = parser.value(linksOption).split(u',', Qt::SkipEmptyParts);
    for (const QString &name : wanted) {
        if (name != u"unix" && name != u"shm" && name != u"tcp" && name != u"raw") {
            printError(QStringLiteral("unknown link '%1' in --links: use unix, shm, tcp, raw").arg(name));
            return ExitUsage;
        }
    }
    if (wanted.isEmpty()) {
        printError(QStringLiteral("--links names no connection"));
        return ExitUsage;
    }
    const bool json = parser.isSet(jsonOption);
    const bool gui = parser.isSet(guiOption);
    const QString screenshot = parser.value(screenshotOption);
    if (parser.isSet(screenshotOption)) {
        const QString problem = screenshotProblem(screenshot);
        if (!problem.isEmpty()) {
            printError(problem);
            return ExitUsage;
        }
    }

    std::unique_ptr<QCoreApplication> app = createDemoApplication(argc, argv, gui || !screenshot.isEmpty(),
                                                                  !gui && !screenshot.isEmpty());
    if (!app)
        return ExitFailure;

    QList<DemoLink *> links;
    for (const QString &name : wanted) {
        if (name == u"unix")
            links.append(
                new DemoLink(QStringLiteral("unix socket pair"), DemoLink::Kind::UnixMessages, config, app.get()));
        else if (name == u"shm")
            links.append(new DemoLink(QStringLiteral("unix shared memory"), DemoLink::Kind::UnixSharedMemory, config,
                                      app.get()));
        else if (name == u"tcp")
            links.append(new DemoLink(QStringLiteral("tcp loopback"), DemoLink::Kind::TcpMessages, config, app.get()));
        else
            links.append(new DemoLink(QStringLiteral("tcp raw stream"), DemoLink::Kind::TcpRaw, config, app.get()));
    }
    ProgressBar progress(QStringLiteral("demo"));
    auto overallProgress = [&links](QString *detail) {
        double sum = 0;
        qint64 bytes = 0;
        for (DemoLink *link : std::as_const(links)) {
            sum += link->progress();
            bytes += link->bytesChecked();
        }
        *detail = QStringLiteral("%1 MB checked").arg(double(bytes) / 1e6, 0, 'f', 0);
        return sum / double(links.size());
    };
    QTimer ticker;
    ticker.setInterval(100);
    QObject::connect(&ticker, &QTimer::timeout, &ticker, [&] {
        QString detail;
        const double fraction = overallProgress(&detail);
        progress.update(fraction, detail);
    });
    int finished = 0;
    for (DemoLink *link : std::as_const(links)) {
        QObject::connect(link, &DemoLink::finished, link, [&] {
            if (++finished == links.size() && !gui)
                QCoreApplication::exit(ExitOk);
        });
    }
    // A hung demo must end with a reason, not stall.
    QTimer watchdog;
    watchdog.setSingleShot(true);
    QObject::connect(&watchdog, &QTimer::timeout, &watchdog, [&] {
        for (DemoLink *link : std::as_const(links))
            link->abandon(QStringLiteral("timed out after 300 s"));
        QCoreApplication::exit(ExitFailure);
    });
    watchdog.start(300000);
    std::shared_ptr<DemoPanel> panel;
    if (gui || !screenshot.isEmpty()) {
        panel = openDemoPanel(links, gui);
        if (!panel)
            return ExitFailure;
    }
    ticker.start();
    const qint64 cpuStarted = threadCpuNs();
    for (DemoLink *link : std::as_const(links))
        link->start();

    // With --gui the loop ends when the window is closed.
    const int guiResult = QCoreApplication::exec();
    const qint64 cpuNs = threadCpuNs() - cpuStarted;
    ticker.stop();
    QString detail;
    const double fraction = overallProgress(&detail);
    progress.finish(fraction, detail); // 100 % when every link got everything

    QJsonArray summaries;
    bool ok = true;
    QString error;
    qint64 generationNs = 0;
    qint64 checkingNs = 0;
    for (DemoLink *link : std::as_const(links)) {
        const QJsonObject summary = link->summary();
        ok = ok && summary.value(u"verified").toBool();
        if (error.isEmpty() && !summary.value(u"failure").toString().isEmpty())
            error = link->name() + QStringLiteral(": ") + summary.value(u"failure").toString();
        generationNs += link->generationCpuNs();
        checkingNs += link->checkingCpuNs();
        summaries.append(summary);
    }
    if (!screenshot.isEmpty() && !saveDemoPanel(panel.get(), screenshot)) {
        ok = false;
        if (error.isEmpty())
            error = QStringLiteral("cannot write the panel screenshot to %1").arg(screenshot);
    }
    if (guiResult != ExitOk)
        ok = false;
    if (!ok && error.isEmpty())
        error = QStringLiteral("the demo ended before every link was done");
    const QJsonObject result{
        {QStringLiteral("ok"), ok},
        {QStringLiteral("error"), error},
        // One thread runs every link: its CPU, split into the demo's own
        // work and the rest (the transport and the event loop).
        {QStringLiteral("cpu"),
         QJsonObject{
             {QStringLiteral("threadSeconds"), double(cpuNs) / 1e9},
             {QStringLiteral("generationSeconds"), double(generationNs) / 1e9},
             {QStringLiteral("checkingSeconds"), double(checkingNs) / 1e9},
             {QStringLiteral("transportSeconds"), double(cpuNs - generationNs - checkingNs) / 1e9},
             // The panel samples and draws in the same thread.
             {QStringLiteral("includesPanel"), gui || !screenshot.isEmpty()},
         }},
        {QStringLiteral("connections"), summaries},
    };
    if (json)
        printJsonLine(result);
    else
        printHumanSummary(result);
    return ok ? ExitOk : ExitFailure;
}

} // namespace Blight::Cli
