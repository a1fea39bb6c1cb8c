// The plugin interface that creates transports, and the loader that finds a
// plugin serving an endpoint scheme by its oxide-plugin.json metadata.
#pragma once

#include <BlightTransport/blighttransport_global.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QObject>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QtPlugin>

#include <memory>
#include <optional>

/*! The interface id of TransportFactory; the number after the slash is the
    interface version, bumped on any incompatible change. */
#define BLIGHT_TRANSPORT_FACTORY_IID "codes.eeems.oxide.BlightTransportFactory/1.0"

namespace Blight {

/*! The plugin type directory, under each of Qt's plugin paths. */
inline constexpr char TransportPluginType[] = "oxide-transport";

/*!
    \class Blight::TransportFactory
    \brief Creates BlightSocket objects; implemented by oxide-transport plugins.

    A plugin declares what it serves in its metadata (oxide-plugin.json):
    \c name, \c version, \c schemes (endpoint schemes such as "unix", "tcp",
    "udp", "fd") and \c capabilities ("zero-copy", "copy-fallback"), so that a
    loader can pick a plugin without loading it.
*/
class BLIGHTTRANSPORT_EXPORT TransportFactory
{
public:
    virtual ~TransportFactory();

    /*! The endpoint schemes this factory serves, e.g. "unix", "tcp". */
    virtual QStringList schemes() const = 0;

    /*!
        Creates a socket that connects to \a endpoint (see Blight::Endpoint for
        the forms). Connecting is asynchronous: connected() or errorOccurred()
        follows. Returns nullptr, and sets \a errorString when given, if the
        endpoint does not parse or its scheme is not served. The socket is a
        child of \a parent.
    */
    virtual BlightSocket *createSocket(const QString &endpoint,
                                       BlightSocket::Mode mode = BlightSocket::Mode::Messages,
                                       QObject *parent = nullptr,
                                       QString *errorString = nullptr) = 0;

    /*!
        Wraps an already connected descriptor (AF_UNIX, TCP or UDP). With
        BlightSocket::Ownership::TakeOwnership the socket closes it. Returns
        nullptr, and sets \a errorString when given, if the descriptor is refused.
    */
    virtual BlightSocket *adoptDescriptor(int fd,
                                          BlightSocket::Ownership ownership = BlightSocket::Ownership::TakeOwnership,
                                          BlightSocket::Mode mode = BlightSocket::Mode::Messages,
                                          QObject *parent = nullptr,
                                          QString *errorString = nullptr) = 0;
};

/*! What a plugin's metadata says, read without loading the plugin. */
struct BLIGHTTRANSPORT_EXPORT TransportPluginInfo
{
    QString fileName;        //!< absolute path of the plugin file
    QString iid;             //!< the interface id, BLIGHT_TRANSPORT_FACTORY_IID for ours
    QString className;       //!< the plugin's class
    QString name;            //!< \c name from oxide-plugin.json
    QString version;         //!< \c version from oxide-plugin.json
    QString description;     //!< \c description from oxide-plugin.json
    QStringList schemes;     //!< endpoint schemes the plugin serves
    QStringList capabilities; //!< e.g. "zero-copy", "copy-fallback"
    QJsonObject metaData;    //!< the whole oxide-plugin.json object

    /*! True when \a scheme is among schemes (any case). */
    bool serves(const QString &scheme) const { return schemes.contains(scheme, Qt::CaseInsensitive); }
    /*! True when \a capability is among capabilities. */
    bool hasCapability(const QString &capability) const { return capabilities.contains(capability); }
};

class TransportLoaderPrivate;

/*!
    \class Blight::TransportLoader
    \brief Finds and loads the oxide-transport plugin that serves a scheme.

    The loader scans <tt>\<path\>/oxide-transport</tt> for every entry of
    QCoreApplication::libraryPaths() (QT_PLUGIN_PATH first, then Qt's plugin
    directory, then the application's), reads each candidate's metadata with
    QPluginLoader::metaData() before loading anything, and loads only the
    first plugin whose IID is BLIGHT_TRANSPORT_FACTORY_IID and whose
    \c schemes list the wanted scheme. When none fits, or the chosen plugin
    fails to load, error() and errorString() say why, naming what was tried.

    Loaded plugins stay loaded for the life of the process (sockets created by
    them may outlive the loader).
*/
class BLIGHTTRANSPORT_EXPORT TransportLoader
{
    Q_GADGET

public:
    /*! Why the last factoryFor...() or createSocket() failed. */
    enum class Error {
        NoError,
        InvalidEndpoint,   //!< the endpoint string does not parse
        NoPlugins,         //!< no oxide-transport plugin at all in the search paths
        NoMatchingPlugin,  //!< plugins exist, none serves the scheme
        LoadFailed,        //!< the matching plugin would not load
        WrongInterface,    //!< it loaded but does not implement TransportFactory
        CreateFailed,      //!< the factory refused the endpoint or descriptor
    };
    Q_ENUM(Error)

    TransportLoader();
    ~TransportLoader();
    TransportLoader(const TransportLoader &) = delete;
    TransportLoader &operator=(const TransportLoader &) = delete;

    /*! The directories scanned by default: \<libraryPath\>/oxide-transport for
        each QCoreApplication::libraryPaths() entry, in that order. */
    static QStringList defaultSearchPaths();
    /*! Directories that hold plugin files directly; replaces the defaults. */
    void setSearchPaths(const QStringList &directories);
    /*! The directories scanned, in order. */
    QStringList searchPaths() const;

    /*! Every plugin file in the search paths with a TransportFactory IID,
        from its metadata only: nothing is loaded. */
    QList<TransportPluginInfo> availablePlugins() const;
    /*! The first plugin that serves \a scheme, from metadata only. */
    std::optional<TransportPluginInfo> findPlugin(const QString &scheme) const;

    /*! Loads the plugin serving \a scheme; nullptr and errorString() if none. */
    TransportFactory *factoryForScheme(const QString &scheme);
    /*! Loads the plugin serving the scheme of \a endpoint. */
    TransportFactory *factoryForEndpoint(const QString &endpoint);
    /*! The metadata of the plugin that the last successful factoryFor...() loaded. */
    TransportPluginInfo loadedPlugin() const;

    /*! factoryForEndpoint() then TransportFactory::createSocket(). */
    BlightSocket *createSocket(const QString &endpoint,
                               BlightSocket::Mode mode = BlightSocket::Mode::Messages,
                               QObject *parent = nullptr);

    /*! The last error. */
    Error error() const;
    /*! The last error as a sentence that names what was tried. */
    QString errorString() const;

private:
    std::unique_ptr<TransportLoaderPrivate> d;
};

} // namespace Blight

Q_DECLARE_INTERFACE(Blight::TransportFactory, BLIGHT_TRANSPORT_FACTORY_IID)
