// SPDX-License-Identifier: MIT
// blight-transport demo's reporting: the progress bar ends at 100 %, the
// summary splits the thread's CPU into the transport's and the demo's own
// generation and checking; the "unix shared memory" link says its path and
// that every byte was checked; -v shows the library's log; bench --quick
// judges no targets.
#include "clitest.h"

#include <QtCore/QJsonArray>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <csignal>
#include <fcntl.h>
#include <pty.h>
#include <sys/prctl.h>
#include <unistd.h>

using namespace CliTest;

namespace {

const QStringList SmallDemo
    = {QStringLiteral("demo"),          QStringLiteral("--messages"), QStringLiteral("2000"),
       QStringLiteral("--frames"),      QStringLiteral("2"),          QStringLiteral("--frame-size"),
       QString::number(2 * 1024 * 1024)};

} // namespace

class tst_CliDemo : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void progressBarEndsAtHundred();
    void summarySplitsCpu();
    void humanSummarySaysWhich();
    void sharedMemoryLinkSaysPath_data();
    void sharedMemoryLinkSaysPath();
    void verboseShowsLibraryLog_data();
    void verboseShowsLibraryLog();
    void benchQuickJudgesNoTargets();
};

void tst_CliDemo::progressBarEndsAtHundred()
{
    // The bar is drawn only on a terminal: give the demo a pty as stderr.
    int master = -1;
    int slave = -1;
    QVERIFY(::openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
    ::fcntl(master, F_SETFL, ::fcntl(master, F_GETFL) | O_NONBLOCK);
    QProcess process;
    process.setChildProcessModifier([slave] {
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        ::dup2(slave, STDERR_FILENO);
    });
    process.start(tool(), SmallDemo);
    QVERIFY(process.waitForStarted());
    QByteArray terminal;
    auto drain = [&] {
        char buffer[4096];
        for (ssize_t n; (n = ::read(master, buffer, sizeof(buffer))) > 0;)
            terminal.append(buffer, n);
    };
    // Read while it runs, so that the pty never fills; the slave stays open
    // here, so nothing is lost when the demo exits.
    while (!process.waitForFinished(50))
        drain();
    drain();
    ::close(master);
    ::close(slave);
    QCOMPARE(process.exitCode(), 0);
    const QList<QByteArray> draws = terminal.split('\r');
    QByteArray last;
    for (const QByteArray &draw : draws) {
        if (draw.contains("demo ["))
            last = draw;
    }
    QVERIFY2(!last.isEmpty(), terminal.constData());
    QVERIFY2(last.contains("[##############################] 100%"), last.constData());
}

void tst_CliDemo::summarySplitsCpu()
{
    const Result result = run(SmallDemo + QStringList{QStringLiteral("--json")}, 60000);
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 0);
    const QList<QJsonObject> lines = jsonLines(result.out);
    QCOMPARE(lines.size(), 1);
    const QJsonObject summary = lines.at(0);
    QVERIFY(summary.value(u"ok").toBool());
    QCOMPARE(summary.value(u"error").toString(), QString());
    const QJsonObject cpu = summary.value(u"cpu").toObject();
    const double thread = cpu.value(u"threadSeconds").toDouble();
    const double generation = cpu.value(u"generationSeconds").toDouble();
    const double checking = cpu.value(u"checkingSeconds").toDouble();
    const double transport = cpu.value(u"transportSeconds").toDouble();
    // Each part measured: 2 MiB frames take real time to fill and to check.
    QVERIFY2(generation > 0 && checking > 0 && transport > 0, qPrintable(QString::fromUtf8(result.out)));
    QVERIFY(qAbs(thread - (generation + checking + transport)) < 1e-6);
    double linkGeneration = 0;
    double linkChecking = 0;
    for (const QJsonValue &value : summary.value(u"connections").toArray()) {
        const QJsonObject link = value.toObject();
        QVERIFY(link.contains(u"generationCpuSeconds"));
        QVERIFY(link.contains(u"checkingCpuSeconds"));
        linkGeneration += link.value(u"generationCpuSeconds").toDouble();
        linkChecking += link.value(u"checkingCpuSeconds").toDouble();
        // The demo's work happened within the link's wall-clock time.
        QVERIFY(link.value(u"generationCpuSeconds").toDouble() + link.value(u"checkingCpuSeconds").toDouble()
                <= link.value(u"seconds").toDouble() + 0.05);
    }
    QVERIFY(qAbs(linkGeneration - generation) < 1e-6);
    QVERIFY(qAbs(linkChecking - checking) < 1e-6);
}

void tst_CliDemo::humanSummarySaysWhich()
{
    const Result result = run(SmallDemo + QStringList{QStringLiteral("--links"), QStringLiteral("unix")}, 60000);
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 0);
    const QString out = QString::fromUtf8(result.out);
    QVERIFY2(out.contains(u"= transport and event loop"), qPrintable(out));
    QVERIFY2(out.contains(u"the demo's payload generation"), qPrintable(out));
    QVERIFY2(out.contains(u"wall clock: "), qPrintable(out));
    QVERIFY2(out.contains(u"without generation ("), qPrintable(out));
}

void tst_CliDemo::sharedMemoryLinkSaysPath_data()
{
    QTest::addColumn<int>("frames");
    QTest::addColumn<int>("frameSize");
    QTest::addRow("2-frames-of-2MiB") << 2 << 2 * 1024 * 1024;
    // A pool of 4 buffers of 8 MiB for 9 frames: buffers come back with the
    // receiver's releases and are reused.
    QTest::addRow("9-frames-of-8MiB") << 9 << 8 * 1024 * 1024;
}

void tst_CliDemo::sharedMemoryLinkSaysPath()
{
    QFETCH(int, frames);
    QFETCH(int, frameSize);
    const QStringList arguments{QStringLiteral("demo"),     QStringLiteral("--messages"),
                                QStringLiteral("500"),      QStringLiteral("--frames"),
                                QString::number(frames),    QStringLiteral("--frame-size"),
                                QString::number(frameSize), QStringLiteral("--links"),
                                QStringLiteral("shm")};
    const Result human = run(arguments, 60000);
    QVERIFY(human.finished);
    const QString out = QString::fromUtf8(human.out);
    QVERIFY2(human.exitCode == 0, qPrintable(out + QString::fromLocal8Bit(human.err)));
    QVERIFY2(out.contains(u"unix shared memory (unix-stream, messages)"), qPrintable(out));
    QVERIFY2(out.contains(
                 QStringLiteral("path: shared-memory, %1 of %1 frames read in place from a memfd mapping").arg(frames)),
             qPrintable(out));
    QVERIFY2(out.contains(u"every byte checked"), qPrintable(out));

    const Result json = run(arguments + QStringList{QStringLiteral("--json")}, 60000);
    QVERIFY(json.finished);
    QCOMPARE(json.exitCode, 0);
    const QList<QJsonObject> lines = jsonLines(json.out);
    QCOMPARE(lines.size(), 1);
    const QJsonArray connections = lines.at(0).value(u"connections").toArray();
    QCOMPARE(connections.size(), 1);
    const QJsonObject link = connections.at(0).toObject();
    QVERIFY2(link.value(u"verified").toBool(), qPrintable(link.value(u"failure").toString()));
    QCOMPARE(link.value(u"frames").toInt(), frames);
    // Every byte of every message and frame, headers included.
    QVERIFY(link.value(u"bytesChecked").toInteger() > qint64(frames) * frameSize);
    const QJsonObject shm = link.value(u"sharedMemory").toObject();
    QCOMPARE(shm.value(u"framesSent").toInt(), frames);
    QCOMPARE(shm.value(u"framesReceived").toInt(), frames);
    QCOMPARE(shm.value(u"framesInMemfd").toInt(), frames);
    QCOMPARE(shm.value(u"framesAsSharedHandles").toInt(), frames);
    QCOMPARE(shm.value(u"frameBytesSent").toInteger(), qint64(frames) * frameSize);
    QVERIFY(shm.value(u"poolShared").toBool());
    QVERIFY(shm.value(u"mappedBytesPeak").toInteger() >= frameSize);
    QCOMPARE(shm.value(u"retiredRegions").toInt(), 0);
    // The frames' bytes never went through the socket: what the receiver read
    // is the small messages and the frame notices, far below one frame.
    QVERIFY2(shm.value(u"receiverBytesReceived").toInteger() < frameSize,
             qPrintable(QString::number(shm.value(u"receiverBytesReceived").toInteger())));
    // Four buffers for either size (up to 4 in 32 MiB): the 9 frames needed
    // each buffer back from the receiver, some twice.
    QCOMPARE(shm.value(u"poolBuffers").toInt(), 4);
}

void tst_CliDemo::verboseShowsLibraryLog_data()
{
    QTest::addColumn<bool>("verbose");
    QTest::addRow("quiet") << false;
    QTest::addRow("verbose") << true;
}

void tst_CliDemo::verboseShowsLibraryLog()
{
    QFETCH(bool, verbose);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QProcess listener;
    dieWithTest(listener);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.remove(QStringLiteral("QT_LOGGING_RULES"));
    environment.insert(QStringLiteral("QT_MESSAGE_PATTERN"), QStringLiteral("qtlog %{category}: %{message}"));
    listener.setProcessEnvironment(environment);
    QStringList arguments{QStringLiteral("listen"), QStringLiteral("unix:") + dir.filePath(QStringLiteral("log.sock"))};
    if (verbose)
        arguments.append(QStringLiteral("-v"));
    listener.start(tool(), arguments);
    QVERIFY(listener.waitForStarted());
    QString err;
    QVERIFY2(waitForStderr(listener, QStringLiteral("blight-transport: listening on"), &err), qPrintable(err));
    if (verbose)
        QVERIFY2(waitForStderr(listener, QStringLiteral("qtlog oxide.blight."), &err), qPrintable(err));
    listener.terminate();
    QVERIFY(listener.waitForFinished(10000));
    err += QString::fromLocal8Bit(listener.readAllStandardError());
    QCOMPARE(listener.exitCode(), 0);
    QCOMPARE(err.contains(u"qtlog oxide.blight."), verbose);
}

void tst_CliDemo::benchQuickJudgesNoTargets()
{
#ifndef BLIGHT_HAVE_BENCH
    QSKIP("the benchmark is not built (BLIGHT_BUILD_BENCH=OFF)");
#else
    // small-unix/burst-1024 has targets: a full run prints MET or NOT MET for them.
    const Result result = run({QStringLiteral("bench"), QStringLiteral("--quick"), QStringLiteral("--scenario"),
                               QStringLiteral("small-unix/burst-1024")},
                              60000);
    QVERIFY(result.finished);
    const QString out = QString::fromUtf8(result.out);
    QCOMPARE(result.exitCode, 0);
    QVERIFY2(out.contains(u"== small-unix/burst-1024"), qPrintable(out));
    QVERIFY2(!out.contains(u"NOT MET"), qPrintable(out));
    QVERIFY2(!out.contains(QRegularExpression(QStringLiteral("^\\s+MET\\s"), QRegularExpression::MultilineOption)),
             qPrintable(out));
    QVERIFY2(out.contains(u"not judged with --quick"), qPrintable(out));
#endif
}

QTEST_GUILESS_MAIN(tst_CliDemo)
#include "tst_clidemo.moc"
