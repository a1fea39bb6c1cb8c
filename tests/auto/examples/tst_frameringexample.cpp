// SPDX-License-Identifier: MIT
// examples/frame-ring run as a user runs it: every JSON line it prints must
// show every frame verified, no payload copied and no stall, on both links;
// its negative control (writing into a buffer still out) must count copies.
#include "testprocess.h"

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtTest/QSignalSpy>
#include <QtTest/QtTest>

class tst_FrameRingExample : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void streamsEveryFrameWithoutCopies_data();
    void streamsEveryFrameWithoutCopies();
    void refusesBadArguments_data();
    void refusesBadArguments();

private:
    struct Run
    {
        int exitCode = -1;
        QByteArray out;
        QByteArray err;
    };
    static Run run(const QStringList &arguments);
};

namespace {

constexpr int Frames = 30;

enum class Mode { Paced, FlatOut, WriteWhileOut };

} // namespace

tst_FrameRingExample::Run tst_FrameRingExample::run(const QStringList &arguments)
{
    QProcess process;
    TestProcess::dieWithTest(process);
    QSignalSpy finished(&process, &QProcess::finished);
    process.start(QStringLiteral(BLIGHT_FRAME_RING_EXAMPLE), arguments);
    if (!process.waitForStarted())
        return {-1, {}, process.errorString().toUtf8()};
    // 30 frames at 30 frames/s per link; the rest is slack for sanitizer builds.
    if (!finished.wait(60000))
        return {-1, process.readAllStandardOutput(), process.readAllStandardError() + "\n(did not finish)"};
    return {process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1, process.readAllStandardOutput(),
            process.readAllStandardError()};
}

void tst_FrameRingExample::streamsEveryFrameWithoutCopies_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QStringList>("links");
    QTest::addColumn<int>("mode");

    const QStringList frames{QStringLiteral("--frames"), QString::number(Frames)};
    const QStringList both{QStringLiteral("unix"), QStringLiteral("tcp")};
    QTest::newRow("unix-paced") << frames + QStringList{QStringLiteral("--link"), QStringLiteral("unix")}
                                << QStringList{QStringLiteral("unix")} << int(Mode::Paced);
    QTest::newRow("tcp-paced") << frames + QStringList{QStringLiteral("--link"), QStringLiteral("tcp")}
                               << QStringList{QStringLiteral("tcp")} << int(Mode::Paced);
    QTest::newRow("both-links-by-default") << frames << both << int(Mode::Paced);
    QTest::newRow("flat-out") << frames + QStringList{QStringLiteral("--flat-out")} << both << int(Mode::FlatOut);
    QTest::newRow("negative-control-write-while-out")
        << frames + QStringList{QStringLiteral("--write-while-out")} << both << int(Mode::WriteWhileOut);
}

void tst_FrameRingExample::streamsEveryFrameWithoutCopies()
{
    QFETCH(QStringList, arguments);
    QFETCH(QStringList, links);
    QFETCH(int, mode);

    const Run result = run(arguments);
    const QByteArray output = result.out + result.err;
    QVERIFY2(result.exitCode == 0, output.constData());

    QList<QJsonObject> reports;
    for (const QByteArray &line : result.out.split('\n')) {
        if (line.isEmpty())
            continue;
        QJsonParseError error{};
        const QJsonDocument document = QJsonDocument::fromJson(line, &error);
        QVERIFY2(error.error == QJsonParseError::NoError && document.isObject(), line.constData());
        reports.append(document.object());
    }
    QCOMPARE(reports.size(), links.size());

    for (qsizetype i = 0; i < reports.size(); ++i) {
        const QJsonObject report = reports.at(i);
        const QByteArray text = QJsonDocument(report).toJson(QJsonDocument::Compact);
        const QString link = links.at(i);
        QCOMPARE(report.value(u"link").toString(), link);
        QVERIFY2(!report.contains(u"error"), text.constData());
        QCOMPARE(report.value(u"frames").toInt(-1), Frames);
        QCOMPARE(report.value(u"framesVerified").toInt(-1), Frames);
        QCOMPARE(report.value(u"sendsReleased").toInt(-1), Frames);
        QCOMPARE(report.value(u"sendsUndelivered").toInt(-1), 0);

        // AF_UNIX has no MSG_ZEROCOPY; on loopback TCP the kernel may copy
        // (then "copy" too): either way the path follows the counters.
        const QString path = report.value(u"path").toString();
        QVERIFY2(path == u"copy" || path == u"zerocopy", text.constData());
        if (link == u"unix")
            QCOMPARE(path, QStringLiteral("copy"));
        const bool kernelTookPages = report.value(u"zeroCopySends").toInt(-1) > 0
            && report.value(u"copiedCompletions").toInt(-1) == 0;
        QCOMPARE(path == u"zerocopy", kernelTookPages);

        const int copies = report.value(u"userSpaceCopies").toInt(-1);
        QVERIFY2(copies >= 0, text.constData());
        QCOMPARE(copies, report.value(u"socketCopies").toInt(-1) + report.value(u"misplacedBuffers").toInt(-1));
        switch (Mode(mode)) {
        case Mode::Paced:
            QVERIFY2(copies == 0, text.constData());
            QVERIFY2(report.value(u"stalls").toInt(-1) == 0, text.constData());
            QVERIFY2(report.value(u"poolWaits").toInt(-1) == 0, text.constData());
            QVERIFY2(!report.contains(u"framesPerSecond"), text.constData());
            break;
        case Mode::FlatOut:
            QVERIFY2(copies == 0, text.constData());
            QVERIFY2(report.value(u"framesPerSecond").toDouble() > 0, text.constData());
            // The producer outruns the link (its loop runs before the socket
            // can drain), so it must have had all three buffers out and found
            // the pool empty, and counted each time as the pool did.
            QCOMPARE(report.value(u"poolPeakInUse").toInt(-1), 3);
            QVERIFY2(report.value(u"stalls").toInt(-1) >= 1, text.constData());
            QCOMPARE(report.value(u"stalls").toInt(-1), report.value(u"poolWaits").toInt(-2));
            break;
        case Mode::WriteWhileOut:
            // Each write into a buffer a send still holds detaches it into a
            // heap copy; the receiver still verified every frame, because the
            // bytes on the wire were never the ones written.
            QVERIFY2(report.value(u"writesWhileOut").toInt(-1) >= 1, text.constData());
            QVERIFY2(copies >= 1, text.constData());
            QVERIFY2(report.value(u"misplacedBuffers").toInt(-1) >= 1, text.constData());
            break;
        }
    }
}

void tst_FrameRingExample::refusesBadArguments_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::newRow("frames-zero") << QStringList{QStringLiteral("--frames"), QStringLiteral("0")};
    QTest::newRow("frames-not-a-number") << QStringList{QStringLiteral("--frames"), QStringLiteral("many")};
    QTest::newRow("unknown-link") << QStringList{QStringLiteral("--link"), QStringLiteral("udp")};
}

void tst_FrameRingExample::refusesBadArguments()
{
    QFETCH(QStringList, arguments);
    const Run result = run(arguments);
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.out.isEmpty(), result.out.constData());
    QVERIFY2(!result.err.isEmpty(), "no reason printed");
}

QTEST_GUILESS_MAIN(tst_FrameRingExample)
#include "tst_frameringexample.moc"
