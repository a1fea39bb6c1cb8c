// The demo's panel hooks on Blight::Cli::PanelWindow (tools/gui.h).
#include "cliutil.h"
#include "demo.h"
#include "gui.h"

#include <QtCore/QCoreApplication>
#include <QtQuick/QQuickWindow>

namespace Blight::Cli {

class DemoPanel : public PanelWindow
{
public:
    using PanelWindow::PanelWindow;
};

namespace {
// Each link's sender and receiver, once they exist.
QList<BlightSocket *> socketsOf(const QList<DemoLink *> &links)
{
    QList<BlightSocket *> sockets;
    for (DemoLink *link : links) {
        if (link->sender())
            sockets.append(link->sender());
        if (link->receiver())
            sockets.append(link->receiver());
    }
    return sockets;
}
} // namespace

std::unique_ptr<QCoreApplication> createDemoApplication(int &argc, char **argv, bool gui, bool offscreen)
{
    return createPanelApplication(argc, argv, gui, offscreen);
}

std::shared_ptr<DemoPanel> openDemoPanel(const QList<DemoLink *> &links, bool window)
{
    auto panel = std::make_shared<DemoPanel>(QStringLiteral("blight-transport demo"),
                                             window ? PanelWindow::DesktopSize : PanelWindow::EinkSize);
    if (!panel->isValid()) {
        printError(panel->errorString());
        return nullptr;
    }
    const auto update = [panel = panel.get(), links] { panel->setSockets(socketsOf(links)); };
    for (DemoLink *link : links)
        QObject::connect(link, &DemoLink::socketsReady, panel->window(), update);
    // The unix link's sockets exist as soon as it starts: look once more then.
    QMetaObject::invokeMethod(panel->window(), update, Qt::QueuedConnection);
    if (window)
        panel->show();
    return panel;
}

bool saveDemoPanel(DemoPanel *panel, const QString &path)
{
    return panel && panel->saveScreenshot(path);
}

} // namespace Blight::Cli
