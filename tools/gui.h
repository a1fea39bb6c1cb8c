// SPDX-License-Identifier: MIT
// The demo's debugging panel: --gui shows it full screen, --screenshot saves a PNG.
#pragma once

#include <QtCore/QList>
#include <QtCore/QSize>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <functional>
#include <memory>

class QCoreApplication;
class QQuickWindow;

namespace Blight {
class BlightSocket;
}

namespace Blight::Cli {

/*!
    Why no window can be opened, or an empty string when one can: with
    QT_QPA_PLATFORM set (linuxfb, eglfs, an e-paper plugin, offscreen) the
    platform is trusted; otherwise a display server must be named by DISPLAY
    or WAYLAND_DISPLAY, since Qt aborts when its default platform cannot start.
*/
QString windowPlatformProblem();

/*!
    A QGuiApplication when \a gui, a QCoreApplication otherwise. With \a
    offscreen and no QT_QPA_PLATFORM set, the offscreen platform and the
    software Qt Quick renderer are chosen, so no display is needed. Returns
    nullptr, with the reason printed, when \a gui needs a window
    (!\a offscreen) and windowPlatformProblem() names one.
*/
std::unique_ptr<QCoreApplication> createPanelApplication(int &argc, char **argv, bool gui, bool offscreen);

class PanelWindowPrivate;

/*!
    TransportPanel (module Oxide.Blight.Transport) in a window of its own.

    Sockets can be given and changed at any time (e.g. when a connection is
    accepted); each gets an overview row and a monitor sampling at 10 Hz.
    Create the window before the traffic starts so that the histories start
    at the beginning. Needs a QGuiApplication.
*/
class PanelWindow
{
public:
    /*! The reMarkable's portrait screen, the size of screenshots. */
    static constexpr QSize EinkSize{1404, 1872};

    explicit PanelWindow(const QString &title = {}, QSize size = EinkSize);
    ~PanelWindow();
    PanelWindow(const PanelWindow &) = delete;
    PanelWindow &operator=(const PanelWindow &) = delete;

    /*! False when the QML module could not be loaded; errorString() says why. */
    bool isValid() const;
    QString errorString() const;

    /*! The sockets to show, with the application's name for each (\a labels
        in the same order; missing ones fall back to objectName). The sockets
        must outlive the window or be removed first. */
    void setSockets(const QList<Blight::BlightSocket *> &sockets, const QStringList &labels = {});
    /*! Selects the socket at \a index (in setSockets() order) for the detail view. */
    void setCurrentIndex(int index);
    /*! Shows the result banner: \a verified says whether every byte was checked. */
    void setResult(bool verified, const QString &detail);
    /*! Shows the window at its size (for tests and screenshots). */
    void show();
    /*! Shows the window filling its screen, as on the tablet; prints the size to stderr once shown. */
    void showFullScreen();
    QQuickWindow *window() const;

    /*! Samples every monitor now, renders the panel and saves it as PNG; the
        image grows taller than the window only when the panel needs more room. */
    bool saveScreenshot(const QString &path);

private:
    std::unique_ptr<PanelWindowPrivate> d;
};

/*!
    Shows TransportPanel on \a sockets: the one-call form of PanelWindow.

    The panel is created and shown first; then \a startDemo (if set) is called
    from the event loop and the event loop runs until the demo calls
    QCoreApplication::exit(code) or, with a window, the user closes it.

    With an empty \a screenshotPath the panel fills the screen. Otherwise it
    is laid out at 1404x1872 (the e-ink screen) and, when the event loop ends
    (at once if \a startDemo is empty), sampled once more, rendered and saved
    as PNG.

    The sockets must stay alive until this returns. Returns the demo's exit
    code, or 1 if the panel could not be created or the PNG not written.
*/
int showPanel(const QList<Blight::BlightSocket *> &sockets, const QString &screenshotPath,
              const std::function<void()> &startDemo, const QString &title = {});

} // namespace Blight::Cli
