// SPDX-License-Identifier: MIT
// TransportFactory's out-of-line destructor and the metadata-driven plugin loader.
#include <BlightTransport/endpoint.h>
#include <BlightTransport/transportfactory.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QDir>
#include <QtCore/QFileInfo>
#include <QtCore/QJsonArray>
#include <QtCore/QLibrary>
#include <QtCore/QLoggingCategory>
#include <QtCore/QPluginLoader>

namespace Blight {

namespace {
Q_LOGGING_CATEGORY(lcLoader, "oxide.blight.loader", QtWarningMsg)

QStringList toStringList(const QJsonValue &value)
{
    QStringList list;
    const QJsonArray array = value.toArray();
    for (const QJsonValue &entry : array) {
        if (entry.isString())
            list.append(entry.toString());
    }
    return list;
}
} // namespace

TransportFactory::~TransportFactory() = default;

class TransportLoaderPrivate
{
public:
    // Scans the search paths; fills rejected with "file: why" for anything
    // that looked like a library but is not a usable transport plugin.
    QList<TransportPluginInfo> scan(QStringList *rejected) const;
    void setError(TransportLoader::Error code, const QString &message);

    QStringList searchPaths = TransportLoader::defaultSearchPaths();
    TransportLoader::Error error = TransportLoader::Error::NoError;
    QString errorString;
    TransportPluginInfo loaded;
};

void TransportLoaderPrivate::setError(TransportLoader::Error code, const QString &message)
{
    error = code;
    errorString = message;
    if (code != TransportLoader::Error::NoError)
        qCInfo(lcLoader).noquote() << message; // reported by errorString(): the log stays quiet
}

QList<TransportPluginInfo> TransportLoaderPrivate::scan(QStringList *rejected) const
{
    QList<TransportPluginInfo> plugins;
    for (const QString &path : searchPaths) {
        const QDir dir(path);
        if (!dir.exists())
            continue;
        const QFileInfoList files = dir.entryInfoList(QDir::Files | QDir::Readable, QDir::Name);
        for (const QFileInfo &file : files) {
            const QString fileName = file.absoluteFilePath();
            if (!QLibrary::isLibrary(fileName))
                continue;
            // metaData() reads the plugin's embedded JSON without running any of its code.
            QPluginLoader loader(fileName);
            const QJsonObject raw = loader.metaData();
            if (raw.isEmpty()) {
                rejected->append(QStringLiteral("%1: not a Qt plugin (%2)").arg(fileName, loader.errorString()));
                continue;
            }
            const QString iid = raw.value(QLatin1String("IID")).toString();
            if (iid != QLatin1String(BLIGHT_TRANSPORT_FACTORY_IID)) {
                rejected->append(QStringLiteral("%1: interface %2, expected %3")
                                     .arg(fileName, iid, QLatin1String(BLIGHT_TRANSPORT_FACTORY_IID)));
                continue;
            }
            const QJsonObject meta = raw.value(QLatin1String("MetaData")).toObject();
            TransportPluginInfo info;
            info.fileName = fileName;
            info.iid = iid;
            info.className = raw.value(QLatin1String("className")).toString();
            info.name = meta.value(QLatin1String("name")).toString();
            info.version = meta.value(QLatin1String("version")).toString();
            info.description = meta.value(QLatin1String("description")).toString();
            info.schemes = toStringList(meta.value(QLatin1String("schemes")));
            info.capabilities = toStringList(meta.value(QLatin1String("capabilities")));
            info.metaData = meta;
            if (info.schemes.isEmpty()) {
                rejected->append(QStringLiteral("%1: its metadata lists no \"schemes\"").arg(fileName));
                continue;
            }
            qCDebug(lcLoader) << "found" << info.name << info.version << "serving" << info.schemes << "in" << fileName;
            plugins.append(info);
        }
    }
    return plugins;
}

TransportLoader::TransportLoader()
    : d(std::make_unique<TransportLoaderPrivate>())
{
}

TransportLoader::~TransportLoader() = default;

QStringList TransportLoader::defaultSearchPaths()
{
    QStringList paths;
    const QStringList libraryPaths = QCoreApplication::libraryPaths();
    for (const QString &libraryPath : libraryPaths) {
        const QString path = QDir::cleanPath(libraryPath + QLatin1Char('/') + QLatin1String(TransportPluginType));
        if (!paths.contains(path))
            paths.append(path);
    }
    return paths;
}

void TransportLoader::setSearchPaths(const QStringList &directories)
{
    d->searchPaths = directories;
}

QStringList TransportLoader::searchPaths() const
{
    return d->searchPaths;
}

QList<TransportPluginInfo> TransportLoader::availablePlugins() const
{
    QStringList rejected;
    return d->scan(&rejected);
}

std::optional<TransportPluginInfo> TransportLoader::findPlugin(const QString &scheme) const
{
    const QList<TransportPluginInfo> plugins = availablePlugins();
    for (const TransportPluginInfo &info : plugins) {
        if (info.serves(scheme))
            return info;
    }
    return std::nullopt;
}

TransportFactory *TransportLoader::factoryForScheme(const QString &scheme)
{
    d->setError(Error::NoError, {});
    QStringList rejected;
    const QList<TransportPluginInfo> plugins = d->scan(&rejected);
    const TransportPluginInfo *chosen = nullptr;
    for (const TransportPluginInfo &info : plugins) {
        if (info.serves(scheme)) {
            chosen = &info;
            break;
        }
    }
    if (!chosen) {
        QString message;
        if (plugins.isEmpty()) {
            message = QStringLiteral("No oxide-transport plugin found for scheme \"%1\"; searched: %2")
                          .arg(scheme, d->searchPaths.join(QLatin1String(", ")));
        } else {
            QStringList found;
            for (const TransportPluginInfo &info : plugins)
                found.append(QStringLiteral("%1 %2 (%3) serving %4")
                                 .arg(info.name, info.version, info.fileName, info.schemes.join(QLatin1Char(','))));
            message = QStringLiteral("No oxide-transport plugin serves scheme \"%1\"; available: %2")
                          .arg(scheme, found.join(QLatin1String("; ")));
        }
        if (!rejected.isEmpty())
            message += QStringLiteral("; skipped: ") + rejected.join(QLatin1String("; "));
        d->setError(plugins.isEmpty() ? Error::NoPlugins : Error::NoMatchingPlugin, message);
        return nullptr;
    }

    // The loader object may go: Qt keeps the library loaded and its root
    // instance alive until the process ends, which sockets made by it need.
    QPluginLoader loader(chosen->fileName);
    QObject *instance = loader.instance();
    if (!instance) {
        d->setError(Error::LoadFailed,
                    QStringLiteral("Cannot load oxide-transport plugin %1 (%2) for scheme \"%3\": %4")
                        .arg(chosen->name, chosen->fileName, scheme, loader.errorString()));
        return nullptr;
    }
    auto *factory = qobject_cast<TransportFactory *>(instance);
    if (!factory) {
        d->setError(Error::WrongInterface,
                    QStringLiteral("Plugin %1 (%2) declares %3 but its object %4 does not implement it")
                        .arg(chosen->name, chosen->fileName, QLatin1String(BLIGHT_TRANSPORT_FACTORY_IID),
                             QString::fromLatin1(instance->metaObject()->className())));
        return nullptr;
    }
    d->loaded = *chosen;
    return factory;
}

TransportFactory *TransportLoader::factoryForEndpoint(const QString &endpoint)
{
    QString parseError;
    const Endpoint parsed = Endpoint::parse(endpoint, &parseError);
    if (!parsed.isValid()) {
        d->setError(Error::InvalidEndpoint, QStringLiteral("Invalid endpoint \"%1\": %2").arg(endpoint, parseError));
        return nullptr;
    }
    return factoryForScheme(parsed.schemeName());
}

TransportPluginInfo TransportLoader::loadedPlugin() const
{
    return d->loaded;
}

BlightSocket *TransportLoader::createSocket(const QString &endpoint, BlightSocket::Mode mode, QObject *parent)
{
    TransportFactory *factory = factoryForEndpoint(endpoint);
    if (!factory)
        return nullptr;
    QString why;
    BlightSocket *socket = factory->createSocket(endpoint, mode, parent, &why);
    if (!socket)
        d->setError(Error::CreateFailed,
                    QStringLiteral("Plugin %1 refused endpoint \"%2\": %3").arg(d->loaded.name, endpoint, why));
    return socket;
}

TransportLoader::Error TransportLoader::error() const
{
    return d->error;
}

QString TransportLoader::errorString() const
{
    return d->errorString;
}

} // namespace Blight
