// SPDX-License-Identifier: MIT
// The consumer of the installed package: checks the version header, loads the
// plugin and the QML module from the package's variables, exchanges a message.
#include <BlightTransport/protocol.h>
#include <BlightTransport/transportfactory.h>
#include <BlightTransport/version.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QPluginLoader>
#include <QtCore/QTimer>
#include <QtCore/QVersionNumber>
#ifdef WITH_QML
#  include <QtGui/QGuiApplication>
#  include <QtQml/QQmlComponent>
#  include <QtQml/QQmlEngine>
using Application = QGuiApplication;
#else
using Application = QCoreApplication;
#endif

#include <sys/socket.h>

#include <cstdio>
#include <memory>

static_assert(BLIGHTTRANSPORT_VERSION >= BLIGHTTRANSPORT_VERSION_CHECK(0, 1, 0));

namespace {
int fail(const QString &why)
{
    std::fprintf(stderr, "blight-consumer: %s\n", qPrintable(why));
    return 1;
}

QString canonical(const QString &path)
{
    return QFileInfo(path).canonicalFilePath();
}

// Every library of the package mapped into this process, with its path.
QStringList mappedPackageLibraries()
{
    QFile maps(QStringLiteral("/proc/self/maps"));
    QStringList libraries;
    if (!maps.open(QIODevice::ReadOnly))
        return libraries;
    const QList<QByteArray> lines = maps.readAll().split('\n');
    for (const QByteArray &line : lines) {
        const qsizetype slash = line.indexOf('/');
        if (slash < 0)
            continue;
        const QString path = QString::fromLocal8Bit(line.mid(slash));
        const QString name = QFileInfo(path).fileName().toLower();
        if (name.contains(QLatin1String("blighttransport")) && !libraries.contains(path))
            libraries.append(path);
    }
    return libraries;
}
} // namespace

int main(int argc, char **argv)
{
    Application app(argc, argv);
    if (argc != 2)
        return fail(QStringLiteral("usage: blight-consumer <install prefix>"));
    const QString prefix = canonical(QString::fromLocal8Bit(argv[1])) + u'/';

    // The generated version header agrees with the package's version.
    const QVersionNumber version = QVersionNumber::fromString(QLatin1String(PACKAGE_VERSION));
    if (QLatin1String(BLIGHTTRANSPORT_VERSION_STR) != QLatin1String(PACKAGE_VERSION)
        || BLIGHTTRANSPORT_VERSION
            != BLIGHTTRANSPORT_VERSION_CHECK(version.majorVersion(), version.minorVersion(), version.microVersion()))
        return fail(QStringLiteral("version.h says %1 (0x%2), the package %3")
                        .arg(QLatin1String(BLIGHTTRANSPORT_VERSION_STR))
                        .arg(BLIGHTTRANSPORT_VERSION, 6, 16, QLatin1Char('0'))
                        .arg(QLatin1String(PACKAGE_VERSION)));
    std::printf("OxideBlightTransport %s (0x%06x)\n", BLIGHTTRANSPORT_VERSION_STR, BLIGHTTRANSPORT_VERSION);

    // The plugin file that OxideBlightTransport_PLUGIN_FILE names, with QPluginLoader.
    const QString pluginFile = QString::fromLocal8Bit(PACKAGE_PLUGIN_FILE);
    if (!canonical(pluginFile).startsWith(prefix))
        return fail(QStringLiteral("OxideBlightTransport_PLUGIN_FILE %1 is not under %2").arg(pluginFile, prefix));
    QPluginLoader pluginLoader(pluginFile);
    const QString iid = pluginLoader.metaData().value(QLatin1String("IID")).toString();
    if (iid != QLatin1String(BLIGHT_TRANSPORT_FACTORY_IID))
        return fail(QStringLiteral("%1 has IID \"%2\"").arg(pluginFile, iid));
    auto *factory = qobject_cast<Blight::TransportFactory *>(pluginLoader.instance());
    if (!factory)
        return fail(QStringLiteral("QPluginLoader: %1").arg(pluginLoader.errorString()));
    std::printf("plugin %s\n", qPrintable(pluginFile));

    // TransportLoader finds the same file under OxideBlightTransport_PLUGIN_DIR.
    QCoreApplication::addLibraryPath(QString::fromLocal8Bit(PACKAGE_PLUGIN_DIR));
    Blight::TransportLoader loader;
    if (!loader.factoryForScheme(QStringLiteral("fd")))
        return fail(loader.errorString());
    if (canonical(loader.loadedPlugin().fileName) != canonical(pluginFile))
        return fail(QStringLiteral("TransportLoader chose %1, not %2").arg(loader.loadedPlugin().fileName, pluginFile));

    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return fail(QStringLiteral("socketpair failed"));
    std::unique_ptr<Blight::BlightSocket> client(loader.createSocket(QStringLiteral("fd:%1").arg(fds[0])));
    QString why;
    std::unique_ptr<Blight::BlightSocket> server(
        factory->adoptDescriptor(fds[1], Blight::BlightSocket::Ownership::TakeOwnership,
                                 Blight::BlightSocket::Mode::Messages, nullptr, &why));
    if (!client || !server)
        return fail(client ? why : loader.errorString());

    int code = 2;
    QObject::connect(server.get(), &Blight::BlightSocket::messageReceived, &app, [&](const Blight::Message &message) {
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
    // The installed QML module, found only through OxideBlightTransport_QML_DIR.
    QQmlEngine engine;
    engine.addImportPath(QString::fromLocal8Bit(PACKAGE_QML_DIR));
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

    // Nothing of the package came from anywhere but the prefix (not the build tree).
    const QStringList libraries = mappedPackageLibraries();
#ifdef WITH_QML
    const int expected = 4; // library, transport plugin, QML backing library, QML plugin
#else
    const int expected = 2;
#endif
    for (const QString &library : libraries) {
        if (!canonical(library).startsWith(prefix))
            return fail(QStringLiteral("%1 was loaded from outside the prefix").arg(library));
        std::printf("loaded %s\n", qPrintable(library));
    }
    if (libraries.size() != expected)
        return fail(
            QStringLiteral("%1 of the package's libraries loaded, expected %2").arg(libraries.size()).arg(expected));
    return 0;
}
