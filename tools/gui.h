// The demo's debugging panel: --gui shows it live, --screenshot saves a PNG.
#pragma once

#include <QtCore/QList>
#include <QtCore/QSize>
#include <QtCore/QString>

#include <functional>
#include <memory>

class QCoreApplication;
class QQuickWindow;

namespace Blight {
class BlightSocket;
}

namespace Blight::Cli {

/*! True when \a argv holds --gui or --screenshot (the panel needs a QGuiApplication). */
bool wantsGui(int argc, char **argv);

/*!
    A QGuiApplication when \a gui, a QCoreApplication otherwise. With \a
    offscreen and no QT_QPA_PLATFORM set, the offscreen platform and the
    software Qt Quick renderer are chosen, so no display is needed.
*/
std::unique_ptr<QCoreApplication> createPanelApplication(int &argc, char **argv, bool gui, bool offscreen);

/*! createPanelApplication() with gui and offscreen read from --gui / --screenshot in \a argv. */
std::unique_ptr<QCoreApplication> createApplication(int &argc, char **argv);

class PanelWindowPrivate;

/*!
    TransportPanel (module Oxide.Blight.Transport) in a window of its own.

    Sockets can be given and changed at any time (e.g. when a connection is
    accepted); each gets a view and a monitor sampling at 10 Hz. Create the
    window before the traffic starts so that the throughput line has a
    history. Needs a QGuiApplication.
*/
class PanelWindow
{
public:
    /*! The reMarkable's portrait screen, the size of screenshots. */
    static constexpr QSize EinkSize{1404, 1872};
    /*! A desktop window: half the e-ink screen. */
    static constexpr QSize DesktopSize{702, 936};

    explicit PanelWindow(const QString &title = {}, QSize size = DesktopSize);
    ~PanelWindow();
    PanelWindow(const PanelWindow &) = delete;
    PanelWindow &operator=(const PanelWindow &) = delete;

    /*! False when the QML module could not be loaded; errorString() says why. */
    bool isValid() const;
    QString errorString() const;

    /*! The sockets to show; they must outlive the window or be removed first. */
    void setSockets(const QList<Blight::BlightSocket *> &sockets);
    void show();
    QQuickWindow *window() const;

    /*! Samples every monitor now, renders the panel and saves it as PNG; the
        image grows taller than the window when the views need more room. */
    bool saveScreenshot(const QString &path);

private:
    std::unique_ptr<PanelWindowPrivate> d;
};

/*!
    Shows TransportPanel on \a sockets: the one-call form of PanelWindow.

    The panel is created and shown first; then \a startDemo (if set) is called
    from the event loop and the event loop runs until the demo calls
    QCoreApplication::exit(code) or, with a window, the user closes it.

    With an empty \a screenshotPath the panel is a 702x936 window. Otherwise it
    is laid out 1404 pixels wide (the e-ink screen; at least 1872 high, taller
    if the views need it) and, when the event loop ends (at once if \a
    startDemo is empty), sampled once more, rendered and saved as PNG.

    The sockets must stay alive until this returns. Returns the demo's exit
    code, or 1 if the panel could not be created or the PNG not written.
*/
int showPanel(const QList<Blight::BlightSocket *> &sockets, const QString &screenshotPath,
              const std::function<void()> &startDemo, const QString &title = {});

} // namespace Blight::Cli
