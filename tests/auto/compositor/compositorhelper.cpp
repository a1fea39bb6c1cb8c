// SPDX-License-Identifier: MIT
// A second process for tst_compositor: "serve" runs a FakeCompositor on the
// session bus (so that the test can kill it), "connect <endpoint>" connects
// with the bus addresses of its own environment and prints the outcome.
#include "fakecompositor.h"

#include <BlightTransport/blightsocket.h>
#include <BlightTransport/compositor.h>

#include <QtCore/QCoreApplication>
#include <QtCore/QMetaEnum>
#include <QtCore/QTextStream>
#include <QtCore/QTimer>

#include <cstring>

using namespace Blight;

static int serve()
{
    FakeCompositor compositor(QDBusConnection::sessionBus());
    InfoReply info;
    info.width = 100;
    info.height = 50;
    compositor.addSurface(info);
    QTextStream out(stdout);
    if (!compositor.start()) {
        out << "error " << compositor.errorString() << Qt::endl;
        return 1;
    }
    QObject::connect(&compositor, &FakeCompositor::eventOccurred, &compositor,
                     [&out](const QString &text) { out << "event " << text << Qt::endl; });
    out << "ready " << QDBusConnection::sessionBus().baseService() << Qt::endl;
    return QCoreApplication::exec();
}

static int connectTo(const QString &endpoint)
{
    QTextStream out(stdout);
    BlightSocket socket;
    int result = 3;
    QObject::connect(&socket, &BlightSocket::connected, &socket, [&] {
        out << "connected " << socket.endpoint() << " fd " << socket.socketDescriptor() << Qt::endl;
        BlightReply *reply = socket.request(MessageType::List);
        if (!reply) {
            result = 4;
            QCoreApplication::quit();
            return;
        }
        QObject::connect(reply, &BlightReply::finished, &socket, [&, reply] {
            out << "list " << reply->payload().size() / qsizetype(sizeof(SurfaceId)) << Qt::endl;
            result = reply->isAcked() ? 0 : 4;
            QCoreApplication::quit();
        });
    });
    QObject::connect(&socket, &BlightSocket::errorOccurred, &socket,
                     [&](BlightSocket::Error error, const QString &reason) {
                         out << "error " << QMetaEnum::fromType<BlightSocket::Error>().valueToKey(int(error)) << ": "
                             << reason << Qt::endl;
                         result = 1;
                         QCoreApplication::quit();
                     });
    QTimer::singleShot(20000, &socket, [&] {
        out << "timeout" << Qt::endl;
        QCoreApplication::quit();
    });
    socket.connectToEndpoint(endpoint);
    QCoreApplication::exec();
    return result;
}

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    if (argc == 2 && std::strcmp(argv[1], "serve") == 0)
        return serve();
    if (argc == 3 && std::strcmp(argv[1], "connect") == 0)
        return connectTo(QString::fromLocal8Bit(argv[2]));
    QTextStream(stderr) << "usage: compositorhelper serve | connect <endpoint>" << Qt::endl;
    return 2;
}
