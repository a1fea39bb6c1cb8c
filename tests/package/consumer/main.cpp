// Uses the installed OxideBlightTransport: loads the installed plugin through
// TransportLoader, exchanges a message over a socketpair, and imports the
// installed QML module. Exits 0 on success and prints why otherwise.
#include <BlightTransport/protocol.h>
#include <BlightTransport/transportfactory.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QTimer>
#ifdef WITH_QML
#include <QtGui/QGuiApplication>
#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>
using Application = QGuiApplication;
#else
using Application = QCoreApplication;
#endif

#include <sys/socket.h>

#include <cstdio>
#include <memory>

namespace {
int fail(const QString &why)
{
    std::fprintf(stderr, "blight-consumer: %s\n", qPrintable(why));
    return 1;
}
} // namespace

int main(int argc, char **argv)
{
    Application app(argc, argv);
    const QString prefix = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QString();
    std::printf("OxideBlightTransport %s\n", PACKAGE_VERSION);

    Blight::TransportLoader loader;
    Blight::TransportFactory *factory = loader.factoryForScheme(QStringLiteral("fd"));
    if (!factory)
        return fail(loader.errorString());
    const Blight::TransportPluginInfo plugin = loader.loadedPlugin();
    if (!prefix.isEmpty() && !plugin.fileName.startsWith(prefix))
        return fail(QStringLiteral("the plugin came from %1, not from the installed tree").arg(plugin.fileName));
    std::printf("plugin %s %s from %s\n", qPrintable(plugin.name), qPrintable(plugin.version),
                qPrintable(plugin.fileName));

    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return fail(QStringLiteral("socketpair failed"));
    std::unique_ptr<Blight::BlightSocket> client(loader.createSocket(QStringLiteral("fd:%1").arg(fds[0])));
    QString why;
    std::unique_ptr<Blight::BlightSocket> server(factory->adoptDescriptor(
        fds[1], Blight::BlightSocket::Ownership::TakeOwnership, Blight::BlightSocket::Mode::Messages, nullptr, &why));
    if (!client || !server)
        return fail(client ? why : loader.errorString());

    int code = 2;
    QObject::connect(server.get(), &Blight::BlightSocket::messageReceived, &app,
                     [&](const Blight::Message &message) {
                         code = message.type() == Blight::MessageType::Wait && message.ackid() == 5 ? 0 : 3;
                         app.quit();
                     });
    QObject::connect(client.get(), &Blight::BlightSocket::connected, &app, [&] {
        Blight::WaitPayload wait;
        wait.marker = 99;
        client->sendMessage(Blight::MessageType::Wait, 5, Blight::encode(wait));
    });
    QTimer::singleShot(10000, &app, [&] {
        std::fprintf(stderr, "blight-consumer: no message within 10 s\n");
        app.exit(4);
    });
    app.exec();
    if (code != 0)
        return fail(QStringLiteral("message exchange failed (%1)").arg(code));
    std::printf("message exchanged\n");

#ifdef WITH_QML
    // The installed QML module loads with its plugin and backing library.
    QQmlEngine engine;
    QQmlComponent component(&engine);
    component.setData(QByteArrayLiteral("import Oxide.Blight.Transport\nTransportMonitor {}\n"), QUrl());
    std::unique_ptr<QObject> monitor(component.create());
    if (!monitor)
        return fail(QStringLiteral("cannot import Oxide.Blight.Transport: %1").arg(component.errorString()));
    monitor->setProperty("socket", QVariant::fromValue<QObject *>(client.get()));
    const QString badge = monitor->property("badgeText").toString();
    if (badge != QLatin1String("COPY PATH: AF_UNIX"))
        return fail(QStringLiteral("unexpected badge \"%1\"").arg(badge));
    std::printf("QML module: %s\n", qPrintable(badge));
#endif
    return 0;
}
