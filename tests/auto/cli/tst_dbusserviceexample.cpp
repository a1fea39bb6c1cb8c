// SPDX-License-Identifier: MIT
// examples/dbus-service run against the fake compositor (blight-transport
// serve-compositor) on a private dbus-daemon: it connects through D-Bus,
// lists the surfaces, asks Info for each and answers pings.
#include "clitest.h"

#include <QtCore/QRegularExpression>
#include <QtTest/QtTest>

using namespace CliTest;

class tst_DBusServiceExample : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void listsSurfacesAndAnswersPings();

private:
    PrivateBus m_bus;
    QProcess m_compositor;
};

void tst_DBusServiceExample::initTestCase()
{
    if (!m_bus.start())
        QSKIP(qPrintable(QStringLiteral("no private D-Bus: ") + m_bus.errorString()));
    m_compositor.setProcessEnvironment(m_bus.environment());
    dieWithTest(m_compositor);
    m_compositor.start(tool(),
                       {QStringLiteral("serve-compositor"), QStringLiteral("--session"), QStringLiteral("--surfaces"),
                        QStringLiteral("2"), QStringLiteral("--ping-interval"), QStringLiteral("50"),
                        QStringLiteral("--ping-timeout"), QStringLiteral("2000")});
    QVERIFY(m_compositor.waitForStarted());
    const QString ready = readLine(m_compositor);
    QVERIFY2(ready.startsWith(u"ready:"),
             qPrintable(ready + QString::fromLocal8Bit(m_compositor.readAllStandardError())));
}

void tst_DBusServiceExample::cleanupTestCase()
{
    if (m_compositor.state() != QProcess::NotRunning) {
        m_compositor.terminate();
        m_compositor.waitForFinished(5000);
    }
}

void tst_DBusServiceExample::listsSurfacesAndAnswersPings()
{
    constexpr int Pings = 3;
    QProcess service;
    dieWithTest(service);
    service.setProcessEnvironment(m_bus.environment());
    service.start(QStringLiteral(BLIGHT_DBUS_SERVICE_EXAMPLE),
                  {QStringLiteral("--session"), QStringLiteral("--pings"), QString::number(Pings)});
    QVERIFY(service.waitForFinished(20000));
    const QString out = QString::fromUtf8(service.readAllStandardOutput());
    const QString err = QString::fromLocal8Bit(service.readAllStandardError());
    QVERIFY2(service.exitCode() == 0, qPrintable(out + err));
    const QStringList lines = out.split(u'\n', Qt::SkipEmptyParts);
    QCOMPARE(lines.value(0), QStringLiteral("connected to blight:session"));
    QCOMPARE(lines.value(1), QStringLiteral("surfaces: 1, 2"));
    // serve-compositor's surfaces are reMarkable 2 screens in RGB16 (format 7).
    for (int id : {1, 2})
        QVERIFY2(lines.contains(QStringLiteral("surface %1: 1404x1872 at 0,0 stride 2808 format 7 scale 1").arg(id)),
                 qPrintable(out));
    QCOMPARE(lines.filter(QRegularExpression(QStringLiteral("^answered ping \\d+$"))).size(), Pings);
    QCOMPARE(lines.constLast(), QStringLiteral("done"));

    // The compositor saw our answers (the pings came from it) and an orderly goodbye.
    QString log;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     log += QString::fromUtf8(m_compositor.readAllStandardOutput());
                     return log.contains(u"disconnected:");
                 },
                 5000),
             qPrintable(log));
    QVERIFY2(log.contains(u"client 1: acked list"), qPrintable(log));
    QVERIFY2(log.contains(QRegularExpression(QStringLiteral("client 1 disconnected: .*peer closed the connection"))),
             qPrintable(log));
    QVERIFY2(!log.contains(u"not responding"), qPrintable(log));
}

QTEST_GUILESS_MAIN(tst_DBusServiceExample)
#include "tst_dbusserviceexample.moc"
