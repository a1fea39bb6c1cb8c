// The oxide-transport plugin as users load it: metadata first, then a socket
// per scheme that really exchanges messages, and clear errors when no plugin fits.
#include "rawsockets.h"

#include <BlightTransport/protocol.h>
#include <BlightTransport/transportfactory.h>

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QLibraryInfo>
#include <QtCore/QPluginLoader>
#include <QtCore/QTemporaryDir>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <fcntl.h>

#include <memory>

using namespace Blight;
using RawSockets::UniqueFd;

class tst_Plugin : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void metadataBeforeLoading();
    void loaderFindsPluginByMetadata();
    void factoryMatchesMetadata();
    void exchange_data();
    void exchange();
    void adoptRefusesNonSocket();
    void clearErrors_data();
    void clearErrors();
    void noPluginForScheme();

private:
    const QString m_pluginFile = QStringLiteral(BLIGHT_PLUGIN_FILE);
    QJsonObject m_sourceMetadata;
};

void tst_Plugin::initTestCase()
{
    // ctest sets QT_PLUGIN_PATH; run by hand, the build tree's plugins come first the same way.
    if (qEnvironmentVariableIsEmpty("QT_PLUGIN_PATH"))
        QCoreApplication::addLibraryPath(QStringLiteral(BLIGHT_BUILD_PLUGIN_DIR));
    QFile json(QStringLiteral(BLIGHT_PLUGIN_JSON));
    QVERIFY2(json.open(QIODevice::ReadOnly), qPrintable(json.errorString()));
    QJsonParseError parseError;
    m_sourceMetadata = QJsonDocument::fromJson(json.readAll(), &parseError).object();
    QVERIFY2(parseError.error == QJsonParseError::NoError, qPrintable(parseError.errorString()));
    QVERIFY2(QFile::exists(m_pluginFile), qPrintable(m_pluginFile));
}

void tst_Plugin::metadataBeforeLoading()
{
    QPluginLoader loader(m_pluginFile);
    const QJsonObject raw = loader.metaData();
    QCOMPARE(raw.value(QLatin1String("IID")).toString(), QStringLiteral(BLIGHT_TRANSPORT_FACTORY_IID));
    const QJsonObject meta = raw.value(QLatin1String("MetaData")).toObject();
    // The compiled-in metadata is exactly the top-level oxide-plugin.json.
    QCOMPARE(meta, m_sourceMetadata);
    QCOMPARE(meta.value(QLatin1String("name")).toString(), QStringLiteral("blight-socket"));
    QCOMPARE(meta.value(QLatin1String("version")).toString(), QStringLiteral(BLIGHT_VERSION));
    const QJsonArray schemes = meta.value(QLatin1String("schemes")).toArray();
    for (const char *scheme : {"unix", "tcp", "udp", "fd"})
        QVERIFY2(schemes.contains(QJsonValue(QLatin1String(scheme))), scheme);
    const QJsonArray capabilities = meta.value(QLatin1String("capabilities")).toArray();
    QVERIFY(capabilities.contains(QJsonValue(QLatin1String("zero-copy"))));
    QVERIFY(capabilities.contains(QJsonValue(QLatin1String("copy-fallback"))));
    // Reading metadata must not have run the plugin's code.
    QVERIFY(!loader.isLoaded());
}

void tst_Plugin::loaderFindsPluginByMetadata()
{
    // The build tree's plugin dir (QT_PLUGIN_PATH under ctest) is searched first.
    const QStringList paths = TransportLoader::defaultSearchPaths();
    QVERIFY(!paths.isEmpty());
    QCOMPARE(QDir(paths.first()).canonicalPath(),
             QDir(QStringLiteral(BLIGHT_BUILD_PLUGIN_DIR "/oxide-transport")).canonicalPath());

    TransportLoader loader;
    const QList<TransportPluginInfo> plugins = loader.availablePlugins();
    QVERIFY(!plugins.isEmpty());
    QCOMPARE(QFileInfo(plugins.first().fileName).canonicalFilePath(), QFileInfo(m_pluginFile).canonicalFilePath());
    const std::optional<TransportPluginInfo> info = loader.findPlugin(QStringLiteral("udp"));
    QVERIFY(info.has_value());
    QCOMPARE(info->name, QStringLiteral("blight-socket"));
    QVERIFY(info->hasCapability(QStringLiteral("zero-copy")));
    QVERIFY(!loader.findPlugin(QStringLiteral("carrier-pigeon")).has_value());
    QVERIFY(!QPluginLoader(m_pluginFile).isLoaded());
}

void tst_Plugin::factoryMatchesMetadata()
{
    TransportLoader loader;
    TransportFactory *factory = loader.factoryForScheme(QStringLiteral("tcp"));
    QVERIFY2(factory, qPrintable(loader.errorString()));
    QCOMPARE(loader.error(), TransportLoader::Error::NoError);
    QCOMPARE(loader.loadedPlugin().name, QStringLiteral("blight-socket"));
    // What the code serves and what the metadata promises must agree.
    QStringList declared = loader.loadedPlugin().schemes;
    QStringList served = factory->schemes();
    declared.sort();
    served.sort();
    QCOMPARE(served, declared);
}

void tst_Plugin::exchange_data()
{
    QTest::addColumn<QString>("scheme");
    QTest::addColumn<BlightSocket::SocketKind>("kind");
    QTest::addRow("fd-socketpair") << QStringLiteral("fd") << BlightSocket::SocketKind::UnixStream;
    QTest::addRow("unix-path") << QStringLiteral("unix") << BlightSocket::SocketKind::UnixStream;
    QTest::addRow("tcp-loopback") << QStringLiteral("tcp") << BlightSocket::SocketKind::Tcp4;
    QTest::addRow("udp-loopback") << QStringLiteral("udp") << BlightSocket::SocketKind::Udp4;
}

void tst_Plugin::exchange()
{
    QFETCH(QString, scheme);
    QFETCH(BlightSocket::SocketKind, kind);

    TransportLoader loader;
    QObject owner;
    QTemporaryDir tempDir;
    QVERIFY(tempDir.isValid());
    UniqueFd listener;
    UniqueFd serverFd;
    QString endpoint;
    quint16 port = 0;

    if (scheme == QLatin1String("fd")) {
        UniqueFd clientFd;
        QVERIFY(RawSockets::unixPair(&clientFd, &serverFd));
        endpoint = QStringLiteral("fd:%1").arg(clientFd.release()); // the socket takes it over
    } else if (scheme == QLatin1String("unix")) {
        const QString path = tempDir.filePath(QStringLiteral("blight.sock"));
        listener = RawSockets::unixListener(path);
        QVERIFY(listener.isValid());
        endpoint = QStringLiteral("unix:") + path;
    } else if (scheme == QLatin1String("tcp")) {
        listener = RawSockets::tcpListener(&port);
        QVERIFY(listener.isValid());
        endpoint = QStringLiteral("tcp://127.0.0.1:%1").arg(port);
    } else {
        serverFd = RawSockets::udpBound(&port);
        QVERIFY(serverFd.isValid());
        endpoint = QStringLiteral("udp://127.0.0.1:%1").arg(port);
    }

    BlightSocket *client = loader.createSocket(endpoint, BlightSocket::Mode::Messages, &owner);
    QVERIFY2(client, qPrintable(loader.errorString()));
    QCOMPARE(client->parent(), &owner);
    QTRY_COMPARE(client->state(), BlightSocket::State::Connected);
    QCOMPARE(client->kind(), kind);

    if (listener.isValid())
        serverFd = RawSockets::acceptOne(listener.get());
    else if (scheme == QLatin1String("udp"))
        QVERIFY(RawSockets::connectLoopback(serverFd.get(), RawSockets::localPort(client->socketDescriptor())));
    QVERIFY(serverFd.isValid());

    TransportFactory *factory = loader.factoryForScheme(scheme);
    QVERIFY(factory);
    QString why;
    BlightSocket *server = factory->adoptDescriptor(serverFd.release(), BlightSocket::Ownership::TakeOwnership,
                                                    BlightSocket::Mode::Messages, &owner, &why);
    QVERIFY2(server, qPrintable(why));
    QCOMPARE(server->state(), BlightSocket::State::Connected);
    QCOMPARE(server->kind(), kind);

    RepaintPayload repaint;
    repaint.x = 10;
    repaint.y = 20;
    repaint.width = 1404;
    repaint.height = 1872;
    repaint.marker = 42;
    repaint.identifier = 3;
    QSignalSpy received(server, &BlightSocket::messageReceived);
    QVERIFY(client->sendMessage(MessageType::Repaint, 7, encode(repaint)));
    QVERIFY(received.wait());
    const auto message = received.first().first().value<Message>();
    QCOMPARE(message.type(), MessageType::Repaint);
    QCOMPARE(message.ackid(), 7u);
    const std::optional<RepaintPayload> decoded = message.payloadAs<RepaintPayload>();
    QVERIFY(decoded.has_value());
    QCOMPARE(decoded->width, 1404u);
    QCOMPARE(decoded->marker, 42u);

    // And back: the reply matches the request's ackid.
    QSignalSpy acked(client, &BlightSocket::ackReceived);
    QVERIFY(server->sendMessage(MessageType::Ack, 7, QByteArrayLiteral("done")));
    QVERIFY(acked.wait());
    QCOMPARE(acked.first().at(0).toUInt(), 7u);
    QCOMPARE(acked.first().at(1).toByteArray(), QByteArrayLiteral("done"));
}

void tst_Plugin::adoptRefusesNonSocket()
{
    TransportLoader loader;
    TransportFactory *factory = loader.factoryForScheme(QStringLiteral("fd"));
    QVERIFY2(factory, qPrintable(loader.errorString()));
    UniqueFd file(::open(BLIGHT_PLUGIN_JSON, O_RDONLY | O_CLOEXEC));
    QVERIFY(file.isValid());
    QString why;
    BlightSocket *socket = factory->adoptDescriptor(file.get(), BlightSocket::Ownership::Borrow,
                                                    BlightSocket::Mode::Messages, nullptr, &why);
    QVERIFY(!socket);
    QVERIFY2(why.contains(QLatin1String("not a socket")), qPrintable(why));
}

void tst_Plugin::clearErrors_data()
{
    QTest::addColumn<QString>("setup");
    QTest::addColumn<QString>("endpoint");
    QTest::addColumn<TransportLoader::Error>("error");
    QTest::addColumn<QStringList>("mentions");

    QTest::addRow("empty-dir") << QStringLiteral("empty") << QStringLiteral("tcp://127.0.0.1:1")
                               << TransportLoader::Error::NoPlugins
                               << QStringList{QStringLiteral("No oxide-transport plugin"), QStringLiteral("$DIR")};
    QTest::addRow("missing-dir") << QStringLiteral("missing") << QStringLiteral("unix:/tmp/x")
                                 << TransportLoader::Error::NoPlugins
                                 << QStringList{QStringLiteral("does-not-exist")};
    QTest::addRow("non-plugin-so") << QStringLiteral("garbage") << QStringLiteral("tcp://127.0.0.1:1")
                                   << TransportLoader::Error::NoPlugins
                                   << QStringList{QStringLiteral("libbroken.so"), QStringLiteral("not a Qt plugin")};
    QTest::addRow("foreign-qt-plugin") << QStringLiteral("foreign") << QStringLiteral("tcp://127.0.0.1:1")
                                       << TransportLoader::Error::NoPlugins
                                       << QStringList{QStringLiteral("libqoffscreen.so"), QStringLiteral("interface"),
                                                      QStringLiteral(BLIGHT_TRANSPORT_FACTORY_IID)};
    QTest::addRow("invalid-endpoint") << QStringLiteral("build") << QStringLiteral("carrier-pigeon://coop")
                                      << TransportLoader::Error::InvalidEndpoint
                                      << QStringList{QStringLiteral("Invalid endpoint"), QStringLiteral("carrier-pigeon")};
}

void tst_Plugin::clearErrors()
{
    QFETCH(QString, setup);
    QFETCH(QString, endpoint);
    QFETCH(TransportLoader::Error, error);
    QFETCH(QStringList, mentions);

    QTemporaryDir tempDir;
    QVERIFY(tempDir.isValid());
    TransportLoader loader;
    if (setup == QLatin1String("empty")) {
        loader.setSearchPaths({tempDir.path()});
    } else if (setup == QLatin1String("missing")) {
        loader.setSearchPaths({tempDir.filePath(QStringLiteral("does-not-exist"))});
    } else if (setup == QLatin1String("garbage")) {
        QFile broken(tempDir.filePath(QStringLiteral("libbroken.so")));
        QVERIFY(broken.open(QIODevice::WriteOnly));
        broken.write("this is not an ELF file, let alone a Qt plugin\n");
        broken.close();
        loader.setSearchPaths({tempDir.path()});
    } else if (setup == QLatin1String("foreign")) {
        const QString offscreen = QLibraryInfo::path(QLibraryInfo::PluginsPath)
            + QStringLiteral("/platforms/libqoffscreen.so");
        if (!QFile::exists(offscreen))
            QSKIP("Qt's offscreen platform plugin is not installed");
        QVERIFY(QFile::copy(offscreen, tempDir.filePath(QStringLiteral("libqoffscreen.so"))));
        loader.setSearchPaths({tempDir.path()});
    }

    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral(".")));
    QObject owner;
    QVERIFY(!loader.createSocket(endpoint, BlightSocket::Mode::Messages, &owner));
    QVERIFY(owner.children().isEmpty());
    QCOMPARE(loader.error(), error);
    const QString message = loader.errorString();
    for (QString expected : std::as_const(mentions)) {
        expected.replace(QLatin1String("$DIR"), tempDir.path());
        QVERIFY2(message.contains(expected), qPrintable(QStringLiteral("\"%1\" not in: %2").arg(expected, message)));
    }
}

void tst_Plugin::noPluginForScheme()
{
    TransportLoader loader;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("quic")));
    QVERIFY(!loader.factoryForScheme(QStringLiteral("quic")));
    QCOMPARE(loader.error(), TransportLoader::Error::NoMatchingPlugin);
    const QString message = loader.errorString();
    // Says what was asked for and what there is instead.
    QVERIFY2(message.contains(QLatin1String("\"quic\"")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("blight-socket")), qPrintable(message));
    QVERIFY2(message.contains(QLatin1String("unix,tcp,udp,fd")), qPrintable(message));
}

QTEST_GUILESS_MAIN(tst_Plugin)
#include "tst_plugin.moc"
