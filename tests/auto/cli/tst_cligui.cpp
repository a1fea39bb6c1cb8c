// SPDX-License-Identifier: MIT
// demo --gui: with no platform to open a window it says so and exits 1 (no
// abort); a platform named by QT_QPA_PLATFORM is trusted, and the panel fills its screen.
#include <QtCore/QDeadlineTimer>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtTest/QTest>

namespace {

QProcessEnvironment environmentWithout(const QStringList &names)
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const QString &name : names)
        environment.remove(name);
    return environment;
}

const QStringList smallDemo{QStringLiteral("demo"),         QStringLiteral("--gui"),    QStringLiteral("--messages"),
                            QStringLiteral("2000"),         QStringLiteral("--frames"), QStringLiteral("1"),
                            QStringLiteral("--frame-size"), QStringLiteral("65536")};

} // namespace

class tst_CliGui : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void noPlatformExitsWithAReason();
    void qpaPlatformIsTrustedAndFilled();
};

void tst_CliGui::noPlatformExitsWithAReason()
{
    QProcess process;
    process.setProcessEnvironment(environmentWithout(
        {QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("DISPLAY"), QStringLiteral("WAYLAND_DISPLAY")}));
    process.start(QStringLiteral(BLIGHT_TRANSPORT_CLI), smallDemo);
    QVERIFY(process.waitForFinished(30000));
    const QString errors = QString::fromLocal8Bit(process.readAllStandardError());
    // An exit, not Qt's abort (SIGABRT) when no platform plugin starts.
    QCOMPARE(process.exitStatus(), QProcess::NormalExit);
    QCOMPARE(process.exitCode(), 1);
    QVERIFY2(errors.contains(u"no window can be opened"), qPrintable(errors));
    QVERIFY2(errors.contains(u"QT_QPA_PLATFORM"), qPrintable(errors));
    QCOMPARE(errors.count(u"no window can be opened"), 1);
}

void tst_CliGui::qpaPlatformIsTrustedAndFilled()
{
    // No display server at all: only the platform named by QT_QPA_PLATFORM can work.
    QProcessEnvironment environment = environmentWithout(
        {QStringLiteral("DISPLAY"), QStringLiteral("WAYLAND_DISPLAY")});
    environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    environment.insert(QStringLiteral("QT_QUICK_BACKEND"), QStringLiteral("software"));
    QProcess process;
    process.setProcessEnvironment(environment);
    process.setReadChannel(QProcess::StandardError); // what waitForReadyRead() waits for
    process.start(QStringLiteral(BLIGHT_TRANSPORT_CLI), smallDemo);
    QVERIFY(process.waitForStarted());

    // --gui runs until the window is closed: wait for the line that says where it went.
    const QRegularExpression shown(QStringLiteral(R"(panel shown (\d+)x(\d+) on screen '([^']*)' \((\d+)x(\d+)\))"));
    QString errors;
    QRegularExpressionMatch match;
    const QDeadlineTimer deadline(30000);
    while (!match.hasMatch() && process.state() == QProcess::Running && !deadline.hasExpired()) {
        process.waitForReadyRead(int(deadline.remainingTime()));
        errors += QString::fromLocal8Bit(process.readAllStandardError());
        match = shown.match(errors);
    }
    const bool running = process.state() == QProcess::Running;
    process.kill();
    process.waitForFinished();
    QVERIFY2(match.hasMatch(), qPrintable(errors));
    QVERIFY2(running, "demo --gui ended by itself instead of keeping its window open");
    QVERIFY(!errors.contains(u"no window can be opened"));
    // The window fills its screen.
    QCOMPARE(match.captured(1), match.captured(4));
    QCOMPARE(match.captured(2), match.captured(5));
    QVERIFY(match.captured(1).toInt() > 0);
}

QTEST_GUILESS_MAIN(tst_CliGui)
#include "tst_cligui.moc"
