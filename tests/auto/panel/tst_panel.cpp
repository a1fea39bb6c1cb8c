// TransportPanel rendered offscreen on live sockets must show something: the
// image is checked against an empty panel, and the demo's screenshot path
// (Blight::Cli::showPanel) writes a real PNG.
#include "gui.h"
#include "transportfixture.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtGui/QImage>
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>
#include <QtQml/QQmlListReference>
#include <QtQuick/QQuickItem>
#include <QtQuick/QQuickWindow>
#include <QtTest/QTest>

#include <memory>

using Blight::BlightSocket;

namespace {

struct InkStats
{
    double darkFraction = 0;   // pixels darker than mid-grey
    double inkedRows = 0;      // rows with any dark pixel
};

InkStats measure(const QImage &source)
{
    const QImage image = source.convertToFormat(QImage::Format_RGB32);
    qint64 dark = 0;
    int rows = 0;
    for (int y = 0; y < image.height(); ++y) {
        const auto *line = reinterpret_cast<const QRgb *>(image.constScanLine(y));
        bool inked = false;
        for (int x = 0; x < image.width(); ++x) {
            if (qGray(line[x]) < 128) {
                ++dark;
                inked = true;
            }
        }
        rows += inked ? 1 : 0;
    }
    const double pixels = double(image.width()) * image.height();
    return {double(dark) / pixels, double(rows) / image.height()};
}

// TransportPanel.monitors: one TransportMonitor per socket, in order.
QList<QObject *> monitorsOf(QObject *panel)
{
    QList<QObject *> monitors;
    const QQmlListReference list(panel, "monitors");
    for (qsizetype i = 0; i < list.count(); ++i)
        monitors.append(list.at(i));
    return monitors;
}

} // namespace

class tst_Panel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void rendersNotBlank_data();
    void rendersNotBlank();
    void screenshotThroughShowPanel();
    void panelWindowTakesSocketsLater();

private:
    std::unique_ptr<QQuickItem> createPanel(QQmlEngine *engine, const QList<QObject *> &sockets);
    void driveTraffic(BlightSocket *unixSender, BlightSocket *tcpSender, const QList<QObject *> &monitors);

    std::unique_ptr<TransportFixture> m_fixture;
};

void tst_Panel::init()
{
    // A binding error or type error in the panel's QML fails the test.
    QTest::failOnWarning(QRegularExpression(QStringLiteral("\\.qml:\\d+")));
    m_fixture = std::make_unique<TransportFixture>();
}

void tst_Panel::cleanup()
{
    m_fixture.reset();
}

std::unique_ptr<QQuickItem> tst_Panel::createPanel(QQmlEngine *engine, const QList<QObject *> &sockets)
{
    engine->addImportPath(QStringLiteral(BLIGHT_QML_BUILD_DIR));
    QQmlComponent component(engine);
    component.setData(QByteArrayLiteral("import Oxide.Blight.Transport\nTransportPanel { interval: 20 }\n"),
                      QUrl(QStringLiteral("tst_panel.qml")));
    std::unique_ptr<QObject> object(
        component.createWithInitialProperties({{QStringLiteral("sockets"), QVariant::fromValue(sockets)}}));
    if (!object)
        qWarning("%s", qPrintable(component.errorString()));
    return std::unique_ptr<QQuickItem>(qobject_cast<QQuickItem *>(object.release()));
}

void tst_Panel::driveTraffic(BlightSocket *unixSender, BlightSocket *tcpSender, const QList<QObject *> &monitors)
{
    QVERIFY(m_fixture->sendMessages(unixSender, 50, 2000));
    // Zero-copy sends until the kernel has reported a few completion ranges.
    QTRY_VERIFY_WITH_TIMEOUT(m_fixture->sendMessages(tcpSender, 2, 64 * 1024)
                                 && monitors.last()->property("rangesSeen").toDouble() >= 3,
                             10000);
    QTRY_COMPARE(monitors.first()->property("messagesSent").toDouble(), 50.0);
}

void tst_Panel::rendersNotBlank_data()
{
    QTest::addColumn<QSize>("size");
    QTest::addRow("eink-portrait-1404x1872") << QSize(1404, 1872);
    QTest::addRow("desktop-800x600") << QSize(800, 600);
}

void tst_Panel::rendersNotBlank()
{
    QFETCH(QSize, size);

    const QVariantList unixPair = m_fixture->unixPair();
    const QVariantList tcpPair = m_fixture->tcpPair(int(BlightSocket::ZeroCopyMode::On), 4096);
    QCOMPARE(unixPair.size(), 2);
    QCOMPARE(tcpPair.size(), 2);
    auto *unixSender = qobject_cast<BlightSocket *>(unixPair.first().value<QObject *>());
    auto *tcpSender = qobject_cast<BlightSocket *>(tcpPair.first().value<QObject *>());

    QQmlEngine engine;
    QQuickWindow window;
    window.resize(size);
    std::unique_ptr<QQuickItem> panel = createPanel(&engine, {unixSender, tcpSender});
    QVERIFY(panel);
    panel->setParentItem(window.contentItem());
    panel->setSize(size);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));

    const QImage empty = window.grabWindow();
    QVERIFY(!empty.isNull());

    const QList<QObject *> monitors = monitorsOf(panel.get());
    QCOMPARE(monitors.size(), 2);
    driveTraffic(unixSender, tcpSender, monitors);
    if (QTest::currentTestFailed())
        return;

    const QImage image = window.grabWindow();
    QVERIFY(!image.isNull());
    QCOMPARE(image.size(), size * window.devicePixelRatio());
    const QString saved = QStringLiteral(BLIGHT_TEST_OUTPUT_DIR "/panel-%1.png")
                              .arg(QString::fromLatin1(QTest::currentDataTag()));
    QVERIFY(image.save(saved));

    const InkStats ink = measure(image);
    qInfo("%s: %.1f%% dark pixels, %.0f%% of rows inked (saved to %s)", QTest::currentDataTag(),
          ink.darkFraction * 100, ink.inkedRows * 100, qPrintable(saved));
    // Black on white: clearly some ink, clearly mostly paper.
    QVERIFY2(ink.darkFraction > 0.02, qPrintable(QString::number(ink.darkFraction)));
    QVERIFY2(ink.darkFraction < 0.5, qPrintable(QString::number(ink.darkFraction)));
    QVERIFY2(ink.inkedRows > 0.3, qPrintable(QString::number(ink.inkedRows)));
    // The traffic changed what is drawn (counters, gauge, sparkline, range log).
    QVERIFY(image != empty.convertToFormat(image.format()));
}

void tst_Panel::screenshotThroughShowPanel()
{
    const QVariantList unixPair = m_fixture->unixPair();
    const QVariantList tcpPair = m_fixture->tcpPair(int(BlightSocket::ZeroCopyMode::On), 4096);
    auto *unixSender = qobject_cast<BlightSocket *>(unixPair.first().value<QObject *>());
    auto *unixReceiver = qobject_cast<BlightSocket *>(unixPair.last().value<QObject *>());
    auto *tcpSender = qobject_cast<BlightSocket *>(tcpPair.first().value<QObject *>());

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("panel.png"));

    // What the demo does: start traffic from the event loop, end with exit().
    QTimer pump;
    int rounds = 0;
    auto startDemo = [&] {
        m_fixture->sendMessages(unixSender, 20, 4000);
        QObject::connect(&pump, &QTimer::timeout, &pump, [&] {
            m_fixture->sendMessages(tcpSender, 2, 64 * 1024);
            const bool done = tcpSender->statistics().completions >= 3 && unixReceiver->messagesReceived() >= 20;
            if (done || ++rounds > 500)
                QCoreApplication::exit(done ? 0 : 3);
        });
        pump.start(10);
    };
    const int code = Blight::Cli::showPanel({unixSender, unixReceiver, tcpSender}, path, startDemo,
                                            QStringLiteral("Blight transport (tst_panel traffic)"));
    pump.stop();
    QCOMPARE(code, 0);

    QImage image;
    QVERIFY(image.load(path));
    // E-ink width; three views need more than one screen height, and all are shown.
    QCOMPARE(image.width(), 1404);
    QVERIFY2(image.height() > 1872, qPrintable(QString::number(image.height())));
    const InkStats ink = measure(image);
    QVERIFY2(ink.darkFraction > 0.02 && ink.darkFraction < 0.5, qPrintable(QString::number(ink.darkFraction)));
    QVERIFY(ink.inkedRows > 0.3);
    QVERIFY(image.save(QStringLiteral(BLIGHT_TEST_OUTPUT_DIR "/panel-showPanel.png")));
    // BLIGHT_PANEL_SCREENSHOT=docs/panel.png refreshes the documentation image from real traffic.
    const QString docs = qEnvironmentVariable("BLIGHT_PANEL_SCREENSHOT");
    if (!docs.isEmpty())
        QVERIFY(image.save(docs));
}

void tst_Panel::panelWindowTakesSocketsLater()
{
    // As the demo does: the window first, the sockets once connections exist.
    Blight::Cli::PanelWindow panel(QStringLiteral("late sockets"), Blight::Cli::PanelWindow::EinkSize);
    QVERIFY2(panel.isValid(), qPrintable(panel.errorString()));
    panel.show();
    QVERIFY(QTest::qWaitForWindowExposed(panel.window()));
    const QList<QQuickItem *> items = panel.window()->contentItem()->childItems();
    QCOMPARE(items.size(), 1);
    QCOMPARE(monitorsOf(items.first()).size(), 0);

    const QVariantList unixPair = m_fixture->unixPair();
    const QVariantList tcpPair = m_fixture->tcpPair(int(BlightSocket::ZeroCopyMode::On), 4096);
    auto *unixSender = qobject_cast<BlightSocket *>(unixPair.first().value<QObject *>());
    auto *tcpSender = qobject_cast<BlightSocket *>(tcpPair.first().value<QObject *>());
    panel.setSockets({unixSender, tcpSender});
    const QList<QObject *> monitors = monitorsOf(items.first());
    QCOMPARE(monitors.size(), 2);
    QCOMPARE(monitors.first()->property("badgeText").toString(), QStringLiteral("COPY PATH: AF_UNIX"));
    QCOMPARE(monitors.last()->property("badgeText").toString(), QStringLiteral("ZERO-COPY ACTIVE"));
    driveTraffic(unixSender, tcpSender, monitors);
    if (QTest::currentTestFailed())
        return;

    const QString path = QStringLiteral(BLIGHT_TEST_OUTPUT_DIR "/panel-PanelWindow.png");
    QVERIFY(panel.saveScreenshot(path));
    QImage image;
    QVERIFY(image.load(path));
    QCOMPARE(image.width(), 1404);
    QVERIFY(image.height() >= 1872);
    const InkStats ink = measure(image);
    QVERIFY2(ink.darkFraction > 0.02 && ink.darkFraction < 0.5, qPrintable(QString::number(ink.darkFraction)));

    // Sockets can go away again (a closed connection): the views go with them.
    panel.setSockets({});
    QCOMPARE(monitorsOf(items.first()).size(), 0);
}

QTEST_MAIN(tst_Panel)
#include "tst_panel.moc"
