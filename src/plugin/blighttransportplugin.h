// SPDX-License-Identifier: MIT
// The oxide-transport plugin: a TransportFactory that makes BlightSocket objects.
#pragma once

#include <BlightTransport/transportfactory.h>

#include <QtCore/QObject>

namespace Blight {

class BlightTransportPlugin : public QObject, public TransportFactory
{
    Q_OBJECT
    // The metadata lives at the top of the repository so that packagers and
    // loaders read the same file that is compiled in.
    Q_PLUGIN_METADATA(IID BLIGHT_TRANSPORT_FACTORY_IID FILE "../../oxide-plugin.json")
    Q_INTERFACES(Blight::TransportFactory)

public:
    explicit BlightTransportPlugin(QObject *parent = nullptr);

    QStringList schemes() const override;
    BlightSocket *createSocket(const QString &endpoint, BlightSocket::Mode mode, QObject *parent,
                               QString *errorString) override;
    BlightSocket *adoptDescriptor(int fd, BlightSocket::Ownership ownership, BlightSocket::Mode mode, QObject *parent,
                                  QString *errorString) override;
};

} // namespace Blight
