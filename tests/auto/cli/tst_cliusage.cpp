// SPDX-License-Identifier: MIT
// blight-transport's command line itself: --version, usage lines that name the
// subcommand, the exit-status convention, and options refused before any work.
#include "clitest.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <unistd.h>

using namespace CliTest;

class tst_CliUsage : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void version_data();
    void version();
    void usageNamesTheCommand_data();
    void usageNamesTheCommand();
    void badUsageExitsTwoBeforeWork_data();
    void badUsageExitsTwoBeforeWork();
    void runtimeFailureExitsOne_data();
    void runtimeFailureExitsOne();

private:
    QTemporaryDir m_dir;
};

void tst_CliUsage::initTestCase()
{
    QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString()));
}

void tst_CliUsage::version_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("expected");
    const QString version = QStringLiteral(BLIGHT_EXPECTED_VERSION);
    QTest::addRow("tool") << QStringList{QStringLiteral("--version")} << QStringLiteral("blight-transport ") + version;
    for (const char *command : {"demo", "listen", "send", "serve-compositor"})
        QTest::addRow("%s", command) << QStringList{QString::fromLatin1(command), QStringLiteral("--version")}
                                     << QStringLiteral("blight-transport ") + version;
#ifdef BLIGHT_HAVE_BENCH
    QTest::addRow("bench") << QStringList{QStringLiteral("bench"), QStringLiteral("--version")}
                           << QStringLiteral("blight-transport bench ") + version;
#endif
}

void tst_CliUsage::version()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, expected);
    const Result result = run(arguments);
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 0);
    QCOMPARE(QString::fromLocal8Bit(result.out).trimmed(), expected);
}

void tst_CliUsage::usageNamesTheCommand_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("usage");
    QTest::addColumn<QString>("exitStatus");
    const QString ours = QStringLiteral("Exit status: 0 ok, 1 runtime failure");
    QTest::addRow("demo") << QStringLiteral("demo") << QStringLiteral("Usage: blight-transport demo [options]") << ours;
    QTest::addRow("listen") << QStringLiteral("listen")
                            << QStringLiteral("Usage: blight-transport listen [options] endpoint") << ours;
    QTest::addRow("send") << QStringLiteral("send") << QStringLiteral("Usage: blight-transport send [options] endpoint")
                          << ours;
    QTest::addRow("serve-compositor") << QStringLiteral("serve-compositor")
                                      << QStringLiteral("Usage: blight-transport serve-compositor [options]") << ours;
    QTest::addRow("tool") << QString() << QStringLiteral("Usage: blight-transport [command] [options]") << ours;
#ifdef BLIGHT_HAVE_BENCH
    QTest::addRow("bench") << QStringLiteral("bench") << QStringLiteral("Usage: blight-transport bench [options]")
                           << QStringLiteral("Exit status: 0 every scenario ran");
#endif
}

void tst_CliUsage::usageNamesTheCommand()
{
    QFETCH(QString, command);
    QFETCH(QString, usage);
    QFETCH(QString, exitStatus);
    QStringList arguments;
    if (!command.isEmpty())
        arguments.append(command);
    arguments.append(QStringLiteral("--help"));
    const Result result = run(arguments);
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 0);
    const QString out = QString::fromLocal8Bit(result.out);
    QCOMPARE(out.section(u'\n', 0, 0), usage);
    QVERIFY2(out.contains(exitStatus), qPrintable(out));
    QVERIFY2(out.contains(u"2 bad usage"), qPrintable(out));
}

void tst_CliUsage::badUsageExitsTwoBeforeWork_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    const auto row = [](const char *name, std::initializer_list<const char *> arguments, const char *message) {
        QStringList list;
        for (const char *argument : arguments)
            list.append(QString::fromLocal8Bit(argument));
        QTest::addRow("%s", name) << list << QString::fromLatin1(message);
    };
    // fd:0 is never adopted: each of these must stop before connecting.
    row("send-negative-threshold", {"send", "fd:0", "--zerocopy-threshold", "-1"},
        "--zerocopy-threshold needs a whole number");
    row("send-negative-count", {"send", "fd:0", "--count", "-3"}, "--count needs a whole number");
    row("send-negative-size", {"send", "fd:0", "--size", "-36"}, "--size needs a whole number");
    row("send-size-over-cap", {"send", "fd:0", "--size", "16777217"}, "--size needs a whole number");
    row("send-zero-timeout", {"send", "fd:0", "--timeout", "0"}, "--timeout needs a whole number");
    row("send-negative-timeout", {"send", "fd:0", "--timeout", "-100"}, "--timeout needs a whole number");
    row("send-surface-too-big", {"send", "fd:0", "--type", "info", "--surface", "65536"},
        "--surface needs a whole number");
    row("send-negative-width", {"send", "fd:0", "--width", "-1"}, "--width needs a whole number");
    row("send-x-on-info", {"send", "fd:0", "--type", "info", "--x", "3"}, "--x does not apply to info messages");
    row("send-surface-on-list", {"send", "fd:0", "--type", "list", "--surface", "1"},
        "--surface does not apply to list");
    row("send-two-payloads", {"send", "fd:0", "--size", "4", "--payload-hex", "00"}, "give one payload");
    row("send-size-and-fields", {"send", "fd:0", "--size", "36", "--surface", "2"}, "give one payload");
    row("send-odd-hex", {"send", "fd:0", "--payload-hex", "abc"}, "--payload-hex needs pairs of hex digits");
    row("send-not-hex", {"send", "fd:0", "--payload-hex", "zz"}, "--payload-hex needs pairs of hex digits");
    row("send-missing-file", {"send", "fd:0", "--payload-file", "/nonexistent/blight/payload"},
        "cannot read --payload-file");
    row("send-wait-acks-for-ack", {"send", "fd:0", "--type", "ack", "--wait-acks"}, "nobody acks an ack");
    row("send-unknown-option", {"send", "fd:0", "--frobnicate"}, "Unknown option 'frobnicate'");
    row("send-bad-endpoint", {"send", "smtp://x"}, "unknown endpoint");
    row("listen-zero-count", {"listen", "fd:0", "--count", "0"}, "--count needs a whole number");
    row("listen-negative-max-payload", {"listen", "fd:0", "--max-payload", "-1"}, "--max-payload needs a whole number");
    row("demo-negative-messages", {"demo", "--messages", "-1"}, "--messages needs a whole number");
    row("demo-negative-frames", {"demo", "--frames", "-2"}, "--frames needs a whole number");
    row("demo-zero-frame-size", {"demo", "--frame-size", "0"}, "--frame-size needs a whole number");
    row("demo-zero-burst", {"demo", "--burst", "0"}, "--burst needs a whole number");
    row("demo-bad-zerocopy", {"demo", "--zerocopy", "sometimes"}, "--zerocopy takes auto, on or off");
    row("demo-screenshot-missing-folder", {"demo", "--screenshot", "/nonexistent/blight/panel.png"}, "does not exist");
    row("demo-screenshot-jpeg", {"demo", "--screenshot", "panel.jpg"}, "--screenshot writes PNG");
    row("demo-screenshot-no-suffix", {"demo", "--screenshot", "panel"}, "--screenshot writes PNG");
    row("compositor-negative-surfaces", {"serve-compositor", "--surfaces", "-1"}, "--surfaces needs a whole number");
    row("compositor-zero-ping", {"serve-compositor", "--ping-interval", "0"}, "--ping-interval needs a whole number");
    row("unknown-command", {"frobnicate"}, "unknown command 'frobnicate'");
#ifdef BLIGHT_HAVE_BENCH
    row("bench-zero-rounds", {"bench", "--rounds", "0"}, "--rounds takes a number");
    row("bench-unknown-option", {"bench", "--frobnicate"}, "Unknown option 'frobnicate'");
#endif
}

void tst_CliUsage::badUsageExitsTwoBeforeWork()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    const Result result = run(arguments);
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 2);
    const QString err = QString::fromLocal8Bit(result.err);
    QVERIFY2(err.contains(message), qPrintable(err));
    // Refused at once: no summary, no JSON, nothing run (the demo's summary
    // and send's JSON come only after the work).
    QVERIFY2(jsonLines(result.out).isEmpty(), result.out.constData());
    QVERIFY2(!result.out.contains("blight-transport demo:"), result.out.constData());
}

void tst_CliUsage::runtimeFailureExitsOne_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    const QString regular = m_dir.filePath(QStringLiteral("regular-file"));
    QFile file(regular);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("not a socket");
    file.close();
    // A closed descriptor number: far above anything this process has open.
    QTest::addRow("send-refused") << QStringList{QStringLiteral("send"),
                                                 QStringLiteral("unix:") + m_dir.filePath(QStringLiteral("nobody"))}
                                  << QStringLiteral("unix:");
    QTest::addRow("listen-on-regular-file") << QStringList{QStringLiteral("listen"), QStringLiteral("unix:") + regular}
                                            << QStringLiteral("is a regular file, not a socket");
    QTest::addRow("send-to-closed-fd") << QStringList{QStringLiteral("send"), QStringLiteral("fd:987")}
                                       << QStringLiteral("987");
}

void tst_CliUsage::runtimeFailureExitsOne()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    const Result result = run(arguments);
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 1);
    const QString err = QString::fromLocal8Bit(result.err);
    QVERIFY2(err.contains(message), qPrintable(err));
}

QTEST_GUILESS_MAIN(tst_CliUsage)
#include "tst_cliusage.moc"
