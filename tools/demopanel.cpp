// SPDX-License-Identifier: MIT
// The demo's panel hooks on Blight::Cli::PanelWindow (tools/gui.h): labels, result banner, full screen.
#include "cliutil.h"
#include "demo.h"
#include "gui.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QJsonObject>
#include <QtQuick/QQuickWindow>

#include <cstdlib>

namespace Blight::Cli {

class DemoPanel : public PanelWindow
{
public:
    using PanelWindow::PanelWindow;
    QList<DemoLink *> links;
};

namespace {
// "unix socket pair" -> "demo unix", "tcp raw stream" -> "demo tcp raw",
// "unix shared memory" -> "demo unix shm": short enough for a row.
QString shortName(const QString &linkName)
{
    QString name = linkName;
    name.replace(QStringLiteral(" shared memory"), QStringLiteral(" shm"));
    name.remove(QStringLiteral(" socket pair"));
    name.remove(QStringLiteral(" stream"));
    name.remove(QStringLiteral(" loopback"));
    return QStringLiteral("demo ") + name;
}

// Each link's sender and receiver, once they exist, with their labels.
void update(DemoPanel *panel, const QList<DemoLink *> &links)
{
    QList<BlightSocket *> sockets;
    QStringList labels;
    for (DemoLink *link : links) {
        if (link->sender()) {
            sockets.append(link->sender());
            labels.append(shortName(link->name()) + QStringLiteral(" sender"));
        }
        if (link->receiver()) {
            sockets.append(link->receiver());
            labels.append(shortName(link->name()) + QStringLiteral(" receiver"));
        }
    }
    panel->setSockets(sockets, labels);
}

// The banner once every link is done: verified only if every link checked every byte.
void showResultWhenDone(DemoPanel *panel, const QList<DemoLink *> &links)
{
    bool verified = true;
    qint64 bytes = 0;
    QStringList failures;
    for (DemoLink *link : links) {
        if (!link->isDone())
            return;
        const QJsonObject summary = link->summary();
        bytes += link->bytesChecked();
        if (!summary.value(u"verified").toBool()) {
            verified = false;
            failures.append(link->name() + QStringLiteral(": ") + summary.value(u"failure").toString());
        }
    }
    const QString detail = verified ? QStringLiteral("%1 MB over %2 connections arrived and matched")
                                          .arg(double(bytes) / 1e6, 0, 'f', 1)
                                          .arg(links.size())
                                    : failures.join(QStringLiteral("; "));
    panel->setResult(verified, detail);
}
} // namespace

std::unique_ptr<QCoreApplication> createDemoApplication(int &argc, char **argv, bool gui, bool offscreen)
{
    std::unique_ptr<QCoreApplication> app = createPanelApplication(argc, argv, gui, offscreen);
    // No window possible is a runtime failure (1), not bad usage; the reason is printed.
    if (!app)
        std::exit(1);
    return app;
}

std::shared_ptr<DemoPanel> openDemoPanel(const QList<DemoLink *> &links, bool window)
{
    auto panel = std::make_shared<DemoPanel>(QStringLiteral("blight-transport demo"), PanelWindow::EinkSize);
    if (!panel->isValid()) {
        printError(panel->errorString());
        return nullptr;
    }
    DemoPanel *raw = panel.get();
    raw->links = links;
    for (DemoLink *link : links) {
        QObject::connect(link, &DemoLink::socketsReady, raw->window(), [raw, links] { update(raw, links); });
        QObject::connect(link, &DemoLink::finished, raw->window(), [raw, links] { showResultWhenDone(raw, links); });
    }
    // The unix link's sockets exist as soon as it starts: look once more then.
    QMetaObject::invokeMethod(
        raw->window(), [raw, links] { update(raw, links); }, Qt::QueuedConnection);
    if (window)
        panel->showFullScreen();
    return panel;
}

bool saveDemoPanel(DemoPanel *panel, const QString &path)
{
    if (!panel)
        return false;
    // The screenshot details the first sender that tried zero-copy: the
    // socket with the most to tell (completions, COPIED, back-offs).
    int index = 0;
    for (DemoLink *link : std::as_const(panel->links)) {
        if (link->sender() && link->sender()->statistics().zeroCopySends > 0) {
            panel->setCurrentIndex(index);
            break;
        }
        index += (link->sender() ? 1 : 0) + (link->receiver() ? 1 : 0);
    }
    return panel->saveScreenshot(path);
}

} // namespace Blight::Cli
