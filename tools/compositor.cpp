// blight-transport serve-compositor: a fake blight compositor on D-Bus that
// prints one line per client event, for trying blight: endpoints out.
#include "commands.h"
#include "cliutil.h"
#include "fakecompositor.h"
#include "signalwatcher.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QTextStream>
#include <QtDBus/QDBusError>

namespace Blight::Cli {

int runServeCompositor(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Owns codes.eeems.blight1 on a D-Bus bus and answers open() at / (interface\n"
                       "codes.eeems.blight1.Compositor) with one end of a fresh AF_UNIX socket pair, as\n"
                       "blight does. Pings every connection each second and reports a client that does\n"
                       "not answer within two seconds; answers Info and List at once; acks Repaint, Move,\n"
                       "Raise, Lower, Focus and Delete after a pretend paint, and Wait when its marker is\n"
                       "painted. Prints a line when ready and one per client event. Clients connect with\n"
                       "blight:session (or blight: with --system). SIGINT or SIGTERM stop it cleanly: it\n"
                       "closes every connection and gives the name up."));
    const QCommandLineOption sessionOption(QStringLiteral("session"),
                                           QStringLiteral("Serve on the session bus (the default)."));
    const QCommandLineOption
        systemOption(QStringLiteral("system"),
                     QStringLiteral("Serve on the system bus (needs a bus policy that lets you own the name)."));
    const QCommandLineOption surfacesOption(QStringLiteral("surfaces"),
                                            QStringLiteral("Surfaces to create, 1404x1872 each (default 1)."),
                                            QStringLiteral("n"), QStringLiteral("1"));
    const QCommandLineOption pingOption(QStringLiteral("ping-interval"),
                                        QStringLiteral("Milliseconds between pings (default %1).")
                                            .arg(CompositorPingInterval),
                                        QStringLiteral("ms"), QString::number(CompositorPingInterval));
    const QCommandLineOption timeoutOption(QStringLiteral("ping-timeout"),
                                           QStringLiteral("Milliseconds without an answer before a client is reported "
                                                          "as not responding (default %1).")
                                               .arg(CompositorNotRespondingTimeout),
                                           QStringLiteral("ms"), QString::number(CompositorNotRespondingTimeout));
    const QCommandLineOption paintOption(QStringLiteral("paint-delay"),
                                         QStringLiteral("Milliseconds a pretend paint takes (default 0: the next "
                                                        "event-loop turn)."),
                                         QStringLiteral("ms"), QStringLiteral("0"));
    parser.addOptions({sessionOption, systemOption, surfacesOption, pingOption, timeoutOption, paintOption});
    int exitCode = 0;
    if (!parseOrExit(parser, arguments, &exitCode))
        return exitCode;
    if (!parser.positionalArguments().isEmpty()) {
        printError(QStringLiteral("serve-compositor takes no arguments"));
        return ExitUsage;
    }
    if (parser.isSet(sessionOption) && parser.isSet(systemOption)) {
        printError(QStringLiteral("give --session or --system, not both"));
        return ExitUsage;
    }
    auto number = [&](const QCommandLineOption &option, int minimum, int *out) {
        bool ok = false;
        *out = parser.value(option).toInt(&ok);
        if (!ok || *out < minimum) {
            printError(QStringLiteral("--%1 needs a whole number of at least %2")
                           .arg(option.names().constFirst())
                           .arg(minimum));
            return false;
        }
        return true;
    };
    int surfaces = 0;
    int pingInterval = 0;
    int pingTimeout = 0;
    int paintDelay = 0;
    if (!number(surfacesOption, 0, &surfaces) || !number(pingOption, 1, &pingInterval)
        || !number(timeoutOption, 1, &pingTimeout) || !number(paintOption, 0, &paintDelay)) {
        return ExitUsage;
    }

    const bool system = parser.isSet(systemOption);
    const QString busText = system ? QStringLiteral("system bus") : QStringLiteral("session bus");
    const QDBusConnection bus = system ? QDBusConnection::systemBus() : QDBusConnection::sessionBus();
    if (!bus.isConnected()) {
        printError(QStringLiteral("cannot reach the D-Bus %1: %2").arg(busText, bus.lastError().message()));
        return ExitFailure;
    }

    // Stopping through the event loop lets the compositor close its
    // connections and release the name, as blight does when it exits.
    SignalWatcher signalWatcher;
    if (!signalWatcher.isValid()) {
        printError(signalWatcher.errorString());
        return ExitFailure;
    }
    QObject::connect(&signalWatcher, &SignalWatcher::signalReceived, &signalWatcher,
                     [] { QCoreApplication::exit(ExitOk); });
    // Before the compositor, which reports its last events from its destructor.
    QTextStream out(stdout);
    FakeCompositor compositor(bus);
    compositor.setPingInterval(pingInterval);
    compositor.setPingTimeout(pingTimeout);
    compositor.setPaintDelay(paintDelay);
    for (int i = 0; i < surfaces; ++i) {
        // A full reMarkable 2 screen in RGB16 (QImage::Format_RGB16 is 7).
        InfoReply info;
        info.width = 1404;
        info.height = 1872;
        info.stride = 1404 * 2;
        info.format = 7;
        info.scale = 1.0;
        compositor.addSurface(info);
    }
    if (!compositor.start()) {
        printError(QStringLiteral("cannot serve on the %1: %2").arg(busText, compositor.errorString()));
        return ExitFailure;
    }

    QObject::connect(&compositor, &FakeCompositor::eventOccurred, &compositor, [&out](const QString &text) {
        out << text << Qt::endl; // one line per event, flushed: readers may be pipes
    });
    QStringList ids;
    for (SurfaceId id : compositor.surfaces())
        ids.append(QString::number(id));
    out << QStringLiteral("ready: %1 on the %2 as %3, surfaces [%4]; connect with %5")
               .arg(QString(CompositorService), busText, bus.baseService(), ids.join(u','),
                    compositorEndpoint(system ? Bus::System : Bus::Session))
        << Qt::endl;
    return QCoreApplication::exec();
}

} // namespace Blight::Cli
