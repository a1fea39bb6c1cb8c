// SPDX-License-Identifier: MIT
// The panel window and offscreen screenshot of the blight-transport demo.
#include "gui.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QTimer>
#include <QtCore/QtMath>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtGui/QScreen>
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>
#include <QtQuick/QQuickItem>
#include <QtQuick/QQuickWindow>

#include <cstdio>
#include <utility>

namespace Blight::Cli {

namespace {

void reportError(const QString &message)
{
    std::fprintf(stderr, "blight-transport: %s\n", qPrintable(message));
}

// Where Oxide.Blight.Transport lives. addImportPath() puts a path first, so
// the last added wins: QML_IMPORT_PATH, then the install tree next to the
// executable (only there for an installed binary), then the build tree.
void addImportPaths(QQmlEngine *engine)
{
#ifdef BLIGHT_QML_BUILD_DIR
    const QString buildDir = QStringLiteral(BLIGHT_QML_BUILD_DIR);
    if (QFileInfo::exists(buildDir))
        engine->addImportPath(buildDir);
#endif
#ifdef BLIGHT_QML_INSTALL_DIR
    const QString installDir = QStringLiteral(BLIGHT_QML_INSTALL_DIR);
    const QString installed = QDir::isAbsolutePath(installDir)
        ? installDir
        : QDir::cleanPath(QCoreApplication::applicationDirPath() + QStringLiteral("/../") + installDir);
    if (QFileInfo::exists(installed))
        engine->addImportPath(installed);
#endif
    const QStringList environmentPaths
        = qEnvironmentVariable("QML_IMPORT_PATH").split(QDir::listSeparator(), Qt::SkipEmptyParts);
    for (auto it = environmentPaths.crbegin(); it != environmentPaths.crend(); ++it)
        engine->addImportPath(*it);
}

} // namespace

class PanelWindowPrivate
{
public:
    // Destroyed bottom-up: the panel first, then its window, then the engine.
    QQmlEngine engine;
    std::unique_ptr<QQuickWindow> window; // only with a QGuiApplication
    std::unique_ptr<QQuickItem> panel;
    QString errorString;
};

QString windowPlatformProblem()
{
    if (!qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        return {};
    if (!qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY"))
        return {};
    return QStringLiteral("no window can be opened: neither DISPLAY nor WAYLAND_DISPLAY is set; set "
                          "QT_QPA_PLATFORM (e.g. linuxfb or the e-paper platform plugin on the tablet), or "
                          "use --screenshot to render the panel offscreen");
}

std::unique_ptr<QCoreApplication> createPanelApplication(int &argc, char **argv, bool gui, bool offscreen)
{
    if (!gui)
        return std::make_unique<QCoreApplication>(argc, argv);
    if (!offscreen) {
        // Checked before QGuiApplication, which aborts when no platform starts.
        const QString problem = windowPlatformProblem();
        if (!problem.isEmpty()) {
            reportError(problem);
            return nullptr;
        }
    }
    if (offscreen && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
        if (qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND"))
            qputenv("QT_QUICK_BACKEND", "software");
    }
    return std::make_unique<QGuiApplication>(argc, argv);
}

PanelWindow::PanelWindow(const QString &title, QSize size)
    : d(std::make_unique<PanelWindowPrivate>())
{
    if (!qobject_cast<QGuiApplication *>(QCoreApplication::instance())) {
        d->errorString = QStringLiteral("the panel needs a QGuiApplication (see createPanelApplication())");
        return;
    }
    addImportPaths(&d->engine);
    QQmlComponent component(&d->engine);
    component.setData(QByteArrayLiteral("import Oxide.Blight.Transport\nTransportPanel {}\n"),
                      QUrl(QStringLiteral("blight-transport-panel.qml")));
    QVariantMap properties{{QStringLiteral("sockets"), QVariant::fromValue(QList<QObject *>())}};
    if (!title.isEmpty())
        properties.insert(QStringLiteral("title"), title);
    std::unique_ptr<QObject> root(component.createWithInitialProperties(properties));
    d->panel.reset(qobject_cast<QQuickItem *>(root.get()));
    if (!d->panel) {
        d->errorString = QStringLiteral("cannot create the panel (is Oxide.Blight.Transport installed? "
                                        "import paths: %1): %2")
                             .arg(d->engine.importPathList().join(QLatin1String(", ")), component.errorString());
        return;
    }
    root.release();

    d->window = std::make_unique<QQuickWindow>();
    QQuickWindow &window = *d->window;
    window.setTitle(title.isEmpty() ? QStringLiteral("Blight transport") : title);
    window.setColor(Qt::white);
    window.resize(size);
    QQuickItem *panel = d->panel.get();
    panel->setParentItem(window.contentItem());
    panel->setSize(size);
    QObject::connect(&window, &QQuickWindow::widthChanged, panel, [panel](int width) { panel->setWidth(width); });
    QObject::connect(&window, &QQuickWindow::heightChanged, panel, [panel](int height) { panel->setHeight(height); });
}

PanelWindow::~PanelWindow()
{
    // The detail view lets go of its monitor before the panel's children go.
    if (d->panel)
        d->panel->setProperty("sockets", QVariant::fromValue(QList<QObject *>()));
}

bool PanelWindow::isValid() const
{
    return d->panel != nullptr;
}

QString PanelWindow::errorString() const
{
    return d->errorString;
}

void PanelWindow::setSockets(const QList<Blight::BlightSocket *> &sockets, const QStringList &labels)
{
    if (!d->panel)
        return;
    QList<QObject *> objects;
    QStringList names;
    for (qsizetype i = 0; i < sockets.size(); ++i) {
        if (!sockets.at(i))
            continue;
        objects.append(sockets.at(i));
        names.append(labels.value(i));
    }
    // Labels first: the rows made for the new sockets read them as they are created.
    d->panel->setProperty("labels", names);
    d->panel->setProperty("sockets", QVariant::fromValue(objects));
}

void PanelWindow::setCurrentIndex(int index)
{
    if (d->panel)
        d->panel->setProperty("currentIndex", index);
}

void PanelWindow::setResult(bool verified, const QString &detail)
{
    if (!d->panel)
        return;
    d->panel->setProperty("verified", verified);
    d->panel->setProperty("resultDetail", detail);
    d->panel->setProperty("finished", true);
}

void PanelWindow::show()
{
    if (d->panel)
        d->window->show();
}

void PanelWindow::showFullScreen()
{
    if (!d->panel)
        return;
    QQuickWindow *window = d->window.get();
    if (QScreen *screen = window->screen())
        window->setGeometry(screen->geometry());
    window->showFullScreen();
    // Once, when the first frame is up: says where the panel went (and lets tests see it).
    auto reported = std::make_shared<bool>(false);
    QObject::connect(window, &QQuickWindow::frameSwapped, window, [window, reported] {
        if (std::exchange(*reported, true))
            return;
        const QScreen *screen = window->screen();
        std::fprintf(stderr, "blight-transport: panel shown %dx%d on screen '%s' (%dx%d)\n", window->width(),
                     window->height(), screen ? qPrintable(screen->name()) : "?",
                     screen ? screen->geometry().width() : 0, screen ? screen->geometry().height() : 0);
    });
}

QQuickWindow *PanelWindow::window() const
{
    return d->window.get();
}

bool PanelWindow::saveScreenshot(const QString &path)
{
    if (!d->panel) {
        reportError(d->errorString);
        return false;
    }
    QQuickWindow &window = *d->window;
    if (!window.isVisible())
        window.show();
    // The latest numbers, not those of up to one sampling interval ago.
    QMetaObject::invokeMethod(d->panel.get(), "sampleAll", Qt::DirectConnection);
    QCoreApplication::processEvents();
    // The first grab lays the panel out and asks its canvases to paint; the
    // second shows what they painted.
    window.grabWindow();
    QCoreApplication::processEvents();
    QImage image = window.grabWindow();
    // A screenshot shows everything: grow the page rather than cut views off.
    const int needed = qCeil(d->panel->property("contentHeight").toReal());
    if (needed > window.height()) {
        window.resize(window.width(), needed);
        QCoreApplication::processEvents();
        window.grabWindow();
        QCoreApplication::processEvents();
        image = window.grabWindow();
    }
    // Black on white for e-ink: grey levels are all the panel has, and the file stays small.
    if (image.isNull() || !image.convertToFormat(QImage::Format_Grayscale8).save(path, "PNG")) {
        reportError(QStringLiteral("cannot write the panel screenshot to %1").arg(path));
        return false;
    }
    std::fprintf(stderr, "blight-transport: panel saved to %s (%dx%d)\n", qPrintable(path), image.width(),
                 image.height());
    return true;
}

int showPanel(const QList<Blight::BlightSocket *> &sockets, const QString &screenshotPath,
              const std::function<void()> &startDemo, const QString &title)
{
    const bool screenshot = !screenshotPath.isEmpty();
    PanelWindow panel(title, PanelWindow::EinkSize);
    if (!panel.isValid()) {
        reportError(panel.errorString());
        return 1;
    }
    panel.setSockets(sockets);
    if (screenshot)
        panel.show();
    else
        panel.showFullScreen();

    int code = 0;
    if (startDemo) {
        QTimer::singleShot(0, QCoreApplication::instance(), startDemo);
        code = QCoreApplication::exec();
    } else if (!screenshot) {
        code = QCoreApplication::exec();
    }
    if (screenshot && !panel.saveScreenshot(screenshotPath))
        return 1;
    return code;
}

} // namespace Blight::Cli
