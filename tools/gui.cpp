// The panel window and offscreen screenshot of the blight-transport demo.
#include "gui.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QTimer>
#include <QtCore/QtMath>
#include <QtGui/QGuiApplication>
#include <QtGui/QImage>
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>
#include <QtQuick/QQuickItem>
#include <QtQuick/QQuickWindow>

#include <cstdio>
#include <cstring>

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
    const QStringList environmentPaths =
        qEnvironmentVariable("QML_IMPORT_PATH").split(QDir::listSeparator(), Qt::SkipEmptyParts);
    for (auto it = environmentPaths.crbegin(); it != environmentPaths.crend(); ++it)
        engine->addImportPath(*it);
}

bool hasArgument(int argc, char **argv, const char *name)
{
    const size_t length = std::strlen(name);
    for (int i = 1; i < argc; ++i) {
        if (std::strncmp(argv[i], name, length) == 0 && (argv[i][length] == '\0' || argv[i][length] == '='))
            return true;
    }
    return false;
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

bool wantsGui(int argc, char **argv)
{
    return hasArgument(argc, argv, "--gui") || hasArgument(argc, argv, "--screenshot");
}

std::unique_ptr<QCoreApplication> createPanelApplication(int &argc, char **argv, bool gui, bool offscreen)
{
    if (!gui)
        return std::make_unique<QCoreApplication>(argc, argv);
    if (offscreen && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        qputenv("QT_QPA_PLATFORM", "offscreen");
        if (qEnvironmentVariableIsEmpty("QT_QUICK_BACKEND"))
            qputenv("QT_QUICK_BACKEND", "software");
    }
    return std::make_unique<QGuiApplication>(argc, argv);
}

std::unique_ptr<QCoreApplication> createApplication(int &argc, char **argv)
{
    const bool screenshot = hasArgument(argc, argv, "--screenshot");
    const bool window = hasArgument(argc, argv, "--gui");
    return createPanelApplication(argc, argv, screenshot || window, screenshot && !window);
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

PanelWindow::~PanelWindow() = default;

bool PanelWindow::isValid() const
{
    return d->panel != nullptr;
}

QString PanelWindow::errorString() const
{
    return d->errorString;
}

void PanelWindow::setSockets(const QList<Blight::BlightSocket *> &sockets)
{
    if (!d->panel)
        return;
    QList<QObject *> objects;
    for (Blight::BlightSocket *socket : sockets) {
        if (socket)
            objects.append(socket);
    }
    d->panel->setProperty("sockets", QVariant::fromValue(objects));
}

void PanelWindow::show()
{
    if (d->panel)
        d->window->show();
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
    QImage image = window.grabWindow(); // also lays the panel out
    // A screenshot shows everything: grow the page rather than cut views off.
    const int needed = qCeil(d->panel->property("contentHeight").toReal());
    if (needed > window.height()) {
        window.resize(window.width(), needed);
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
    PanelWindow panel(title, screenshot ? PanelWindow::EinkSize : PanelWindow::DesktopSize);
    if (!panel.isValid()) {
        reportError(panel.errorString());
        return 1;
    }
    panel.setSockets(sockets);
    panel.show();

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
