// SPDX-License-Identifier: MIT
// The oxide-transport plugin: validates the endpoint, then hands it to BlightSocket.
#include "blighttransportplugin.h"

#include <BlightTransport/endpoint.h>

#include <QtCore/QLoggingCategory>

namespace Blight {

namespace {
Q_LOGGING_CATEGORY(lcPlugin, "oxide.blight.plugin", QtWarningMsg)

void setError(QString *out, const QString &message)
{
    qCDebug(lcPlugin).noquote() << message;
    if (out)
        *out = message;
}
} // namespace

BlightTransportPlugin::BlightTransportPlugin(QObject *parent)
    : QObject(parent)
{
}

QStringList BlightTransportPlugin::schemes() const
{
    return {QStringLiteral("unix"), QStringLiteral("tcp"), QStringLiteral("udp"), QStringLiteral("fd"),
            QStringLiteral("blight")};
}

BlightSocket *BlightTransportPlugin::createSocket(const QString &endpoint, BlightSocket::Mode mode, QObject *parent,
                                                  QString *errorString)
{
    QString parseError;
    const Endpoint parsed = Endpoint::parse(endpoint, &parseError);
    if (!parsed.isValid()) {
        setError(errorString, QStringLiteral("invalid endpoint \"%1\": %2").arg(endpoint, parseError));
        return nullptr;
    }
    if (!schemes().contains(parsed.schemeName())) {
        setError(errorString, QStringLiteral("scheme \"%1\" is not served by this plugin").arg(parsed.schemeName()));
        return nullptr;
    }
    auto *socket = new BlightSocket(mode, parent);
    socket->connectToEndpoint(parsed.toString());
    return socket;
}

BlightSocket *BlightTransportPlugin::adoptDescriptor(int fd, BlightSocket::Ownership ownership, BlightSocket::Mode mode,
                                                     QObject *parent, QString *errorString)
{
    auto *socket = new BlightSocket(mode, parent);
    if (!socket->setSocketDescriptor(fd, ownership)) {
        setError(errorString, QStringLiteral("descriptor %1 refused: %2").arg(fd).arg(socket->errorString()));
        delete socket;
        return nullptr;
    }
    return socket;
}

} // namespace Blight
