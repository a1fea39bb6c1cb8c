// SPDX-License-Identifier: MIT
// TransportPanel rendered offscreen on live sockets: it shows something, eight
// sockets fit one 1404x1872 e-ink screen with legible text that nothing
// overlaps, and the demo's screenshot path (Blight::Cli::showPanel) writes a real PNG.
#include "gui.h"
#include "transportfixture.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtGui/QFont>
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
    double darkFraction = 0; // pixels darker than mid-grey
    double inkedRows = 0;    // rows with any dark pixel
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

// Every visible, non-empty Text under \a item, depth first.
void collectTexts(QQuickItem *item, QList<QQuickItem *> *texts)
{
    if (!item->isVisible() || item->opacity() == 0)
        return;
    if (item->inherits("QQuickText") && !item->property("text").toString().isEmpty())
        texts->append(item);
    const QList<QQuickItem *> children = item->childItems();
    for (QQuickItem *child : children)
        collectTexts(child, texts);
}

QString describe(QQuickItem *text)
{
    const QRectF rect = text->mapRectToScene(QRectF(0, 0, text->width(), text->height()));
    return QStringLiteral("'%1' (%2) at %3,%4 %5x%6")
        .arg(text->property("text").toString().left(40), text->objectName())
        .arg(rect.x())
        .arg(rect.y())
        .arg(rect.width())
        .arg(rect.height());
}

QQuickItem *findItem(QQuickItem *root, const QString &name)
{
    if (root->objectName() == name)
        return root;
    const QList<QQuickItem *> children = root->childItems();
    for (QQuickItem *child : children) {
        if (QQuickItem *found = findItem(child, name))
            return found;
    }
    return nullptr;
}

QList<QQuickItem *> findItems(QQuickItem *root, const QString &name)
{
    QList<QQuickItem *> found;
    if (root->objectName() == name)
        found.append(root);
    const QList<QQuickItem *> children = root->childItems();
    for (QQuickItem *child : children)
        found.append(findItems(child, name));
    return found;
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
    void eightSocketsFitTheEinkScreen();

private:
    std::unique_ptr<QQuickItem> createPanel(QQmlEngine *engine, const QList<QObject *> &sockets,
                                            const QStringList &labels = {});
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

std::unique_ptr<QQuickItem> tst_Panel::createPanel(QQmlEngine *engine, const QList<QObject *> &sockets,
                                                   const QStringList &labels)
{
    engine->addImportPath(QStringLiteral(BLIGHT_QML_BUILD_DIR));
    QQmlComponent component(engine);
    component.setData(QByteArrayLiteral("import Oxide.Blight.Transport\nTransportPanel { interval: 20 }\n"),
                      QUrl(QStringLiteral("tst_panel.qml")));
    std::unique_ptr<QObject> object(component.createWithInitialProperties(
        {{QStringLiteral("sockets"), QVariant::fromValue(sockets)}, {QStringLiteral("labels"), labels}}));
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
    const QString saved
        = QStringLiteral(BLIGHT_TEST_OUTPUT_DIR "/panel-%1.png").arg(QString::fromLatin1(QTest::currentDataTag()));
    QVERIFY(image.save(saved));

    const InkStats ink = measure(image);
    qInfo("%s: %.1f%% dark pixels, %.0f%% of rows inked (saved to %s)", QTest::currentDataTag(), ink.darkFraction * 100,
          ink.inkedRows * 100, qPrintable(saved));
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
    // Exactly the e-ink screen: the overview and one detail view fit it.
    QCOMPARE(image.size(), QSize(1404, 1872));
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
    // Zero-copy is on, but nothing was sent with it yet.
    QCOMPARE(monitors.last()->property("badgeText").toString(), QStringLiteral("ZERO-COPY READY"));
    driveTraffic(unixSender, tcpSender, monitors);
    if (QTest::currentTestFailed())
        return;
    // Loopback: every completion came back COPIED, and the badge says so.
    QTRY_COMPARE(monitors.last()->property("badgeText").toString(), QStringLiteral("KERNEL COPIED"));
    QCOMPARE(monitors.last()->property("copiedCompletions").toDouble(),
             monitors.last()->property("completions").toDouble());

    const QString path = QStringLiteral(BLIGHT_TEST_OUTPUT_DIR "/panel-PanelWindow.png");
    QVERIFY(panel.saveScreenshot(path));
    QImage image;
    QVERIFY(image.load(path));
    QCOMPARE(image.size(), QSize(1404, 1872));
    const InkStats ink = measure(image);
    QVERIFY2(ink.darkFraction > 0.02 && ink.darkFraction < 0.5, qPrintable(QString::number(ink.darkFraction)));

    // Sockets can go away again (a closed connection): the views go with them.
    panel.setSockets({});
    QCOMPARE(monitorsOf(items.first()).size(), 0);
}

void tst_Panel::eightSocketsFitTheEinkScreen()
{
    const QSize eink(1404, 1872);
    QList<QObject *> sockets;
    QStringList labels;
    QList<BlightSocket *> unixSenders;
    QList<BlightSocket *> tcpSenders;
    for (int i = 0; i < 2; ++i) {
        const QVariantList unixPair = m_fixture->unixPair();
        QCOMPARE(unixPair.size(), 2);
        unixSenders.append(qobject_cast<BlightSocket *>(unixPair.first().value<QObject *>()));
        sockets << unixPair.first().value<QObject *>() << unixPair.last().value<QObject *>();
        labels << QStringLiteral("unix link %1 sender").arg(i + 1)
               << QStringLiteral("unix link %1 receiver").arg(i + 1);
    }
    for (int i = 0; i < 2; ++i) {
        const QVariantList tcpPair = m_fixture->tcpPair(int(BlightSocket::ZeroCopyMode::On), 4096);
        QCOMPARE(tcpPair.size(), 2);
        tcpSenders.append(qobject_cast<BlightSocket *>(tcpPair.first().value<QObject *>()));
        sockets << tcpPair.first().value<QObject *>() << tcpPair.last().value<QObject *>();
        labels << QStringLiteral("tcp link %1 sender").arg(i + 1) << QStringLiteral("tcp link %1 receiver").arg(i + 1);
    }
    QCOMPARE(sockets.size(), 8);

    QQmlEngine engine;
    QQuickWindow window;
    window.resize(eink);
    std::unique_ptr<QQuickItem> panel = createPanel(&engine, sockets, labels);
    QVERIFY(panel);
    panel->setParentItem(window.contentItem());
    panel->setSize(eink);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const QList<QObject *> monitors = monitorsOf(panel.get());
    QCOMPARE(monitors.size(), 8);

    // Real traffic, so that counters, histories, events and ranges hold text.
    for (BlightSocket *sender : std::as_const(unixSenders))
        QVERIFY(m_fixture->sendMessages(sender, 40, 3000));
    QTRY_VERIFY_WITH_TIMEOUT(m_fixture->sendMessages(tcpSenders.first(), 2, 64 * 1024)
                                 && m_fixture->sendMessages(tcpSenders.last(), 2, 64 * 1024)
                                 && monitors.at(4)->property("rangesSeen").toDouble() >= 3
                                 && monitors.at(6)->property("rangesSeen").toDouble() >= 3,
                             10000);
    QTRY_COMPARE(monitors.at(1)->property("messagesReceived").toDouble(), 40.0);

    // Every socket in turn in the detail view: each must fit and read.
    for (int selected = 0; selected < 8; ++selected) {
        panel->setProperty("currentIndex", selected);
        QMetaObject::invokeMethod(panel.get(), "sampleAll", Qt::DirectConnection);
        const QImage image = window.grabWindow(); // lays everything out
        QVERIFY(!image.isNull());
        const QString row = QStringLiteral("selected %1 (%2)").arg(selected).arg(labels.at(selected));

        QVERIFY2(panel->implicitHeight() <= eink.height(),
                 qPrintable(row + QStringLiteral(": implicit height %1").arg(panel->implicitHeight())));

        const QList<QQuickItem *> rows = findItems(panel.get(), QStringLiteral("socketRow"));
        QCOMPARE(rows.size(), 8);
        for (int i = 0; i < rows.size(); ++i) {
            QQuickItem *label = findItem(rows.at(i), QStringLiteral("rowLabel"));
            QVERIFY(label);
            QVERIFY2(label->property("text").toString().endsWith(labels.at(i)),
                     qPrintable(label->property("text").toString()));
            QQuickItem *path = findItem(rows.at(i), QStringLiteral("rowPath"));
            QVERIFY(path);
            QCOMPARE(path->property("text").toString(), monitors.at(i)->property("pathText").toString());
        }
        QQuickItem *detailLabel = findItem(panel.get(), QStringLiteral("labelText"));
        QVERIFY(detailLabel);
        QCOMPARE(detailLabel->property("text").toString(), labels.at(selected));

        QList<QQuickItem *> texts;
        collectTexts(panel.get(), &texts);
        QVERIFY2(texts.size() > 60, qPrintable(QString::number(texts.size())));
        const QRectF screen(QPointF(0, 0), QSizeF(eink));
        QList<QRectF> rects;
        for (QQuickItem *text : std::as_const(texts)) {
            const int pixelSize = text->property("font").value<QFont>().pixelSize();
            QVERIFY2(pixelSize >= 20, qPrintable(row + QStringLiteral(": %1 px: ").arg(pixelSize) + describe(text)));
            const QRectF rect = text->mapRectToScene(QRectF(0, 0, text->width(), text->height()));
            QVERIFY2(screen.contains(rect),
                     qPrintable(row + QStringLiteral(": outside the screen: ") + describe(text)));
            // What is drawn stays inside the item: elided or wrapped, never spilling over.
            QVERIFY2(text->property("contentWidth").toReal() <= text->width() + 1,
                     qPrintable(row + QStringLiteral(": wider than its box: ") + describe(text)));
            QVERIFY2(text->property("contentHeight").toReal() <= text->height() + 1,
                     qPrintable(row + QStringLiteral(": taller than its box: ") + describe(text)));
            rects.append(rect);
        }
        for (qsizetype a = 0; a < texts.size(); ++a) {
            for (qsizetype b = a + 1; b < texts.size(); ++b) {
                const QRectF overlap = rects.at(a).intersected(rects.at(b));
                QVERIFY2(overlap.width() <= 1 || overlap.height() <= 1,
                         qPrintable(row + QStringLiteral(": ") + describe(texts.at(a)) + QStringLiteral(" overlaps ")
                                    + describe(texts.at(b))));
            }
        }
        if (selected == 4)
            QVERIFY(image.save(QStringLiteral(BLIGHT_TEST_OUTPUT_DIR "/panel-eight-sockets.png")));
    }
}

QTEST_MAIN(tst_Panel)
#include "tst_panel.moc"
