// SPDX-License-Identifier: MIT
// Example: embedding TransportPanel in an application. A "frame service" streams
// frames over an AF_UNIX socket pair and shows the panel under its own heading.
//
// Run it with QML_IMPORT_PATH pointing at the Oxide.Blight.Transport module (the
// build tree's qml/ directory, or nothing once the module is installed into Qt's
// QML directory). --screenshot FILE renders one frame offscreen once every
// frame has arrived, saves it and says which rows it shows.
#include <BlightTransport/blightsocket.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QTimer>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtQuick/QQuickItem>
#include <QtQuick/QQuickView>

#include <sys/socket.h>

#include <cstdio>

using Blight::BlightSocket;

namespace {

constexpr int FrameSize = 256 * 1024;

// Dark pixels of \a image inside \a item: proof that the item's text was drawn.
int inkInside(const QImage &image, const QQuickItem *item)
{
    const QRect rect = item->mapRectToScene(QRectF(0, 0, item->width(), item->height())).toAlignedRect() & image.rect();
    int dark = 0;
    for (int y = rect.top(); y <= rect.bottom(); ++y) {
        for (int x = rect.left(); x <= rect.right(); ++x)
            dark += qGray(image.pixel(x, y)) < 128 ? 1 : 0;
    }
    return dark;
}

void findByName(QQuickItem *item, const QString &name, QList<QQuickItem *> *found)
{
    if (item->objectName() == name)
        found->append(item);
    const QList<QQuickItem *> children = item->childItems();
    for (QQuickItem *child : children)
        findByName(child, name, found);
}

// Saves the frame and reports, per overview row, whether its label was drawn.
int saveAndReport(QQuickView &view, const QString &path, const QStringList &labels)
{
    QQuickItem *panel = view.rootObject()->findChild<QQuickItem *>(QStringLiteral("transportPanel"));
    if (!panel) {
        std::fprintf(stderr, "panel-embedding: no transport panel in the window\n");
        return 1;
    }
    QMetaObject::invokeMethod(panel, "sampleAll", Qt::DirectConnection);
    view.grabWindow(); // lays out and lets the panel's charts paint
    QCoreApplication::processEvents();
    const QImage image = view.grabWindow().convertToFormat(QImage::Format_RGB32);
    if (image.isNull() || !image.save(path, "PNG")) {
        std::fprintf(stderr, "panel-embedding: cannot save %s\n", qPrintable(path));
        return 1;
    }
    QList<QQuickItem *> rowLabels;
    findByName(panel, QStringLiteral("rowLabel"), &rowLabels);
    int drawn = 0;
    for (const QString &label : labels) {
        for (QQuickItem *item : std::as_const(rowLabels)) {
            if (!item->property("text").toString().endsWith(label))
                continue;
            const int ink = inkInside(image, item);
            std::printf("row '%s' %s (%d dark pixels)\n", qPrintable(label), ink > 0 ? "drawn" : "NOT drawn", ink);
            drawn += ink > 0 ? 1 : 0;
        }
    }
    std::printf("saved %s (%dx%d)\n", qPrintable(path), image.width(), image.height());
    return drawn == labels.size() ? 0 : 1;
}

} // namespace

int main(int argc, char *argv[])
{
    QGuiApplication app(argc, argv);
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Embeds the blight transport panel in a small Qt Quick application."));
    parser.addHelpOption();
    const QCommandLineOption screenshotOption(QStringLiteral("screenshot"),
                                              QStringLiteral(
                                                  "Render offscreen after the frames arrived, save as PNG, exit."),
                                              QStringLiteral("file"));
    const QCommandLineOption framesOption(QStringLiteral("frames"), QStringLiteral("Frames to send (default 40)."),
                                          QStringLiteral("n"), QStringLiteral("40"));
    parser.addOptions({screenshotOption, framesOption});
    parser.process(app);
    bool ok = false;
    const int frames = parser.value(framesOption).toInt(&ok);
    if (!ok || frames <= 0) {
        std::fprintf(stderr, "panel-embedding: --frames needs a positive number\n");
        return 2;
    }

    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
        std::perror("socketpair");
        return 1;
    }
    BlightSocket sender(BlightSocket::Mode::Messages);
    BlightSocket receiver(BlightSocket::Mode::Messages);
    if (!sender.setSocketDescriptor(fds[0]) || !receiver.setSocketDescriptor(fds[1])) {
        std::fprintf(stderr, "panel-embedding: %s\n", qPrintable(sender.errorString()));
        return 1;
    }
    const QStringList labels{QStringLiteral("frame service sender"), QStringLiteral("frame service receiver")};

    QQuickView view;
    view.setInitialProperties({{QStringLiteral("sockets"), QVariant::fromValue(QList<QObject *>{&sender, &receiver})},
                               {QStringLiteral("labels"), labels}});
    view.setResizeMode(QQuickView::SizeRootObjectToView);
    view.setSource(QUrl(QStringLiteral("qrc:/PanelEmbedding/Main.qml")));
    if (view.status() != QQuickView::Ready) {
        std::fprintf(stderr, "panel-embedding: cannot load the window (is QML_IMPORT_PATH set?)\n");
        return 1;
    }
    view.resize(1404, 1872);

    // One frame per timer tick, as a service would stream screen contents.
    int sent = 0;
    int received = 0;
    QTimer ticker;
    ticker.setInterval(10);
    QObject::connect(&ticker, &QTimer::timeout, &sender, [&] {
        ++sent;
        sender.sendMessage(Blight::MessageType::Ack, quint32(sent), QByteArray(FrameSize, char(sent)));
        view.rootObject()->setProperty("framesSent", sent);
        if (sent == frames)
            ticker.stop();
    });
    const QString screenshot = parser.value(screenshotOption);
    QObject::connect(&receiver, &BlightSocket::messageReceived, &receiver, [&](const Blight::Message &message) {
        if (message.payload.size() != FrameSize) {
            std::fprintf(stderr, "panel-embedding: frame of %lld bytes\n", qlonglong(message.payload.size()));
            QCoreApplication::exit(1);
        } else if (++received == frames && !screenshot.isEmpty()) {
            QCoreApplication::exit(saveAndReport(view, screenshot, labels));
        }
    });
    if (screenshot.isEmpty())
        view.showFullScreen();
    else
        view.show();
    ticker.start();
    return QCoreApplication::exec();
}
