// SPDX-License-Identifier: MIT
// Connecting to blight the way Oxide's clients do (open() over D-Bus), against
// a real, private dbus-daemon and the fake compositor.
#include "fakecompositor.h"
#include "testprocess.h"

#include <BlightTransport/blightsocket.h>
#include <BlightTransport/compositor.h>
#include <BlightTransport/endpoint.h>
#include <BlightTransport/protocol.h>

#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QStandardPaths>
#include <QtCore/QTemporaryDir>
#include <QtDBus/QDBusConnectionInterface>
#include <QtDBus/QDBusError>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/prctl.h>

using namespace Blight;
using TestProcess::dieWithTest;
using TestProcess::readLine;

namespace {

const QString ServerConnectionName = QStringLiteral("tst_compositor-server");
const QString ImpostorConnectionName = QStringLiteral("tst_compositor-impostor");

QList<SurfaceId> surfaceIds(const QByteArray &payload)
{
    QList<SurfaceId> ids(payload.size() / qsizetype(sizeof(SurfaceId)));
    if (!ids.isEmpty())
        std::memcpy(ids.data(), payload.constData(), size_t(ids.size()) * sizeof(SurfaceId));
    return ids;
}

InfoReply makeInfo(qint32 x, qint32 y, quint32 width, quint32 height, double scale)
{
    InfoReply info;
    info.x = x;
    info.y = y;
    info.width = width;
    info.height = height;
    info.stride = qint32(width * 4);
    info.format = 4; // QImage::Format_RGB32
    info.scale = scale;
    return info;
}

enum class OpenFailure { Absent, NotACompositor, NoDescriptor, Refused };

} // namespace

Q_DECLARE_METATYPE(OpenFailure)

class TestCompositor : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void init();
    void cleanup();

    void constants();
    void handshake();
    void pingsAnswered();
    void infoAndList();
    void unknownSurfaceAckedAtOnce();
    void ackedAfterPaint_data();
    void ackedAfterPaint();
    void waitAckedWhenMarkerPainted();
    void notRespondingReported();
    void serviceVanishes();
    void compositorKilled();
    void openFails_data();
    void openFails();
    void socketDestroyedDuringCall();
    void abortDuringCall();
    void busUnreachable();
    void systemBusEndpoint();

private:
    std::unique_ptr<BlightSocket> connectClient(int *clientId = nullptr);
    // A test that crashes or is killed by its timeout leaves no bus or
    // compositor behind on the CI machine (TestProcess::dieWithTest).
    TestProcess::PrivateBus m_bus;
    QString m_address;
    QTemporaryDir m_dir; // where buses that do not exist would be
    std::unique_ptr<FakeCompositor> m_compositor;
    SurfaceId m_first = 0;
    SurfaceId m_second = 0;
};

void TestCompositor::initTestCase()
{
    // A private session bus: nothing here touches the user's buses.
    if (!m_bus.isInstalled())
        QSKIP("dbus-daemon is not installed (Debian package dbus-daemon): the D-Bus handshake cannot be tested");
    QVERIFY2(m_bus.start(), qPrintable(m_bus.errorString()));
    m_address = m_bus.address();

    // blight:session must find this bus through the usual variable, before
    // anything in the process has touched the session bus.
    qputenv("DBUS_SESSION_BUS_ADDRESS", m_address.toUtf8());
    QVERIFY2(QDBusConnection::sessionBus().isConnected(),
             qPrintable(QDBusConnection::sessionBus().lastError().message()));

    // The compositor gets a connection of its own, as a separate process would.
    const QDBusConnection server = QDBusConnection::connectToBus(m_address, ServerConnectionName);
    QVERIFY2(server.isConnected(), qPrintable(server.lastError().message()));
    QVERIFY(server.baseService() != QDBusConnection::sessionBus().baseService());
    QVERIFY(server.connectionCapabilities() & QDBusConnection::UnixFileDescriptorPassing);
}

void TestCompositor::cleanupTestCase()
{
    m_compositor.reset();
    QDBusConnection::disconnectFromBus(ServerConnectionName);
    QDBusConnection::disconnectFromBus(ImpostorConnectionName);
}

void TestCompositor::init()
{
    m_compositor = std::make_unique<FakeCompositor>(QDBusConnection(ServerConnectionName));
    m_first = m_compositor->addSurface(makeInfo(10, 20, 300, 200, 1.0));
    m_second = m_compositor->addSurface(makeInfo(-5, 0, 1404, 1872, 2.5));
    QVERIFY2(m_compositor->start(), qPrintable(m_compositor->errorString()));
    QVERIFY(QDBusConnection::sessionBus().interface()->isServiceRegistered(QString(CompositorService)));
}

void TestCompositor::cleanup()
{
    m_compositor.reset();
    QVERIFY(!QDBusConnection::sessionBus().interface()->isServiceRegistered(QString(CompositorService)));
}

std::unique_ptr<BlightSocket> TestCompositor::connectClient(int *clientId)
{
    QSignalSpy clientSpy(m_compositor.get(), &FakeCompositor::clientConnected);
    std::unique_ptr<BlightSocket> socket(connectToCompositor(Bus::Session));
    QSignalSpy connectedSpy(socket.get(), &BlightSocket::connected);
    if (!QTest::qWaitFor([&] { return !connectedSpy.isEmpty() || socket->state() == BlightSocket::State::Unconnected; },
                         10000)
        || connectedSpy.isEmpty()) {
        qWarning("connecting through blight:session failed: %s", qPrintable(socket->errorString()));
        return nullptr;
    }
    if (clientId) {
        *clientId = clientSpy.isEmpty() ? -1 : clientSpy.constFirst().at(0).toInt();
    }
    return socket;
}

void TestCompositor::constants()
{
    QCOMPARE(QString(CompositorService), QStringLiteral("codes.eeems.blight1"));
    QCOMPARE(QString(CompositorPath), QStringLiteral("/"));
    QCOMPARE(QString(CompositorInterface), QStringLiteral("codes.eeems.blight1.Compositor"));
    QCOMPARE(QString(CompositorOpenMethod), QStringLiteral("open"));
    QCOMPARE(compositorEndpoint(Bus::Session), QStringLiteral("blight:session"));
    QCOMPARE(compositorEndpoint(Bus::System), QStringLiteral("blight:"));
    const Endpoint session = Endpoint::parse(compositorEndpoint(Bus::Session));
    QCOMPARE(session.scheme(), Endpoint::Scheme::Blight);
    QVERIFY(session.sessionBus());
    const Endpoint system = Endpoint::parse(compositorEndpoint(Bus::System));
    QCOMPARE(system.scheme(), Endpoint::Scheme::Blight);
    QVERIFY(!system.sessionBus());
}

void TestCompositor::handshake()
{
    QSignalSpy clientSpy(m_compositor.get(), &FakeCompositor::clientConnected);
    QObject parent;
    BlightSocket *socket = connectToCompositor(Bus::Session, &parent);
    QVERIFY(socket);
    QCOMPARE(socket->parent(), &parent);
    QCOMPARE(socket->mode(), BlightSocket::Mode::Messages);
    QCOMPARE(socket->state(), BlightSocket::State::Connecting);
    QCOMPARE(socket->endpoint(), QStringLiteral("blight:session"));
    QSignalSpy connectedSpy(socket, &BlightSocket::connected);
    QSignalSpy errorSpy(socket, &BlightSocket::errorOccurred);

    QTRY_COMPARE_WITH_TIMEOUT(connectedSpy.count(), 1, 10000);
    QCOMPARE(errorSpy.count(), 0);
    QCOMPARE(socket->state(), BlightSocket::State::Connected);
    QCOMPARE(socket->kind(), BlightSocket::SocketKind::UnixStream);
    QCOMPARE(socket->endpoint(), QStringLiteral("blight:session"));
    QCOMPARE(socket->zeroCopyState(), BlightSocket::ZeroCopyState::Unsupported);

    // Oxide's rule for the received descriptor: a close-on-exec copy at 3 or above.
    const int fd = socket->socketDescriptor();
    QVERIFY2(fd >= 3, qPrintable(QString::number(fd)));
    const int flags = ::fcntl(fd, F_GETFD);
    QVERIFY(flags >= 0);
    QVERIFY(flags & FD_CLOEXEC);

    // The compositor saw the open() from this process's bus connection.
    QCOMPARE(clientSpy.count(), 1);
    QCOMPARE(clientSpy.at(0).at(1).toString(), QDBusConnection::sessionBus().baseService());
    QCOMPARE(m_compositor->clients().size(), 1);

    // The two ends belong together: a request reaches that very connection.
    QSignalSpy requestSpy(m_compositor.get(), &FakeCompositor::requestReceived);
    QVERIFY(socket->sendMessage(MessageType::List, 77, {}));
    QTRY_COMPARE(requestSpy.count(), 1);
    QCOMPARE(requestSpy.at(0).at(0).toInt(), clientSpy.at(0).at(0).toInt());
    QCOMPARE(requestSpy.at(0).at(2).toUInt(), 77u);
}

void TestCompositor::pingsAnswered()
{
    QSignalSpy answeredSpy(m_compositor.get(), &FakeCompositor::pingAnswered);
    QSignalSpy sentSpy(m_compositor.get(), &FakeCompositor::pingSent);
    QSignalSpy notRespondingSpy(m_compositor.get(), &FakeCompositor::clientNotResponding);
    int clientId = 0;
    std::unique_ptr<BlightSocket> socket = connectClient(&clientId);
    QVERIFY(socket);
    QSignalSpy pingSpy(socket.get(), &BlightSocket::pingReceived);
    QSignalSpy errorSpy(socket.get(), &BlightSocket::errorOccurred);

    // About one ping a second, for several seconds, each one answered.
    QTRY_VERIFY_WITH_TIMEOUT(answeredSpy.count() >= 3, 3 * CompositorPingInterval + 5000);
    QVERIFY(pingSpy.count() >= 3);
    quint32 previous = 0;
    for (int i = 0; i < answeredSpy.count(); ++i) {
        QCOMPARE(answeredSpy.at(i).at(0).toInt(), clientId);
        const quint32 ackid = answeredSpy.at(i).at(1).toUInt();
        QVERIFY2(ackid > previous, "pings are answered in order, each once");
        QCOMPARE(pingSpy.at(i).at(0).toUInt(), ackid);
        QCOMPARE(sentSpy.at(i).at(1).toUInt(), ackid);
        previous = ackid;
    }
    QCOMPARE(notRespondingSpy.count(), 0);
    QCOMPARE(errorSpy.count(), 0);
    QCOMPARE(socket->state(), BlightSocket::State::Connected);
}

void TestCompositor::infoAndList()
{
    std::unique_ptr<BlightSocket> socket = connectClient();
    QVERIFY(socket);
    QSignalSpy messageSpy(socket.get(), &BlightSocket::messageReceived);

    std::unique_ptr<BlightReply> info(socket->request(MessageType::Info, encode(SurfacePayload{m_second})));
    QVERIFY(info);
    QTRY_VERIFY(info->isFinished());
    QVERIFY2(info->isAcked(), qPrintable(info->errorString()));
    const std::optional<InfoReply> geometry = decode<InfoReply>(info->payload());
    QVERIFY2(geometry, qPrintable(QStringLiteral("%1 bytes").arg(info->payload().size())));
    QCOMPARE(geometry->x, -5);
    QCOMPARE(geometry->y, 0);
    QCOMPARE(geometry->width, 1404u);
    QCOMPARE(geometry->height, 1872u);
    QCOMPARE(geometry->stride, 1404 * 4);
    QCOMPARE(geometry->format, 4);
    QCOMPARE(geometry->scale, 2.5);

    // The same reply as a message, through the typed accessor.
    const auto ack = std::find_if(messageSpy.cbegin(), messageSpy.cend(), [&](const QList<QVariant> &arguments) {
        const auto message = arguments.at(0).value<Message>();
        return message.type() == MessageType::Ack && message.ackid() == info->ackid();
    });
    QVERIFY(ack != messageSpy.cend());
    const std::optional<InfoReply> again = ack->at(0).value<Message>().payloadAs<InfoReply>();
    QVERIFY(again);
    QCOMPARE(again->width, 1404u);

    std::unique_ptr<BlightReply> list(socket->request(MessageType::List));
    QVERIFY(list);
    QTRY_VERIFY(list->isFinished());
    QVERIFY(list->isAcked());
    QCOMPARE(list->payload().size(), 2 * qsizetype(sizeof(SurfaceId)));
    QCOMPARE(surfaceIds(list->payload()), (QList<SurfaceId>{m_first, m_second}));
}

void TestCompositor::unknownSurfaceAckedAtOnce()
{
    std::unique_ptr<BlightSocket> socket = connectClient();
    QVERIFY(socket);
    QSignalSpy eventSpy(m_compositor.get(), &FakeCompositor::eventOccurred);
    QSignalSpy paintSpy(m_compositor.get(), &FakeCompositor::painted);
    // As blight does: a request it cannot carry out is acked without a payload.
    std::unique_ptr<BlightReply> info(socket->request(MessageType::Info, encode(SurfacePayload{999})));
    std::unique_ptr<BlightReply> raise(socket->request(MessageType::Raise, encode(SurfacePayload{999})));
    QVERIFY(info && raise);
    QTRY_VERIFY(info->isFinished() && raise->isFinished());
    QVERIFY(info->isAcked());
    QVERIFY(info->payload().isEmpty());
    QVERIFY(raise->isAcked());
    QCOMPARE(paintSpy.count(), 0);
    const bool said = std::any_of(eventSpy.cbegin(), eventSpy.cend(), [](const QList<QVariant> &arguments) {
        return arguments.at(0).toString().contains(QStringLiteral("unknown surface 999"));
    });
    QVERIFY(said);
}

void TestCompositor::ackedAfterPaint_data()
{
    QTest::addColumn<MessageType>("type");
    QTest::addRow("repaint") << MessageType::Repaint;
    QTest::addRow("move") << MessageType::Move;
    QTest::addRow("raise") << MessageType::Raise;
    QTest::addRow("lower") << MessageType::Lower;
    QTest::addRow("focus") << MessageType::Focus;
    QTest::addRow("delete") << MessageType::Delete;
}

void TestCompositor::ackedAfterPaint()
{
    QFETCH(MessageType, type);
    QByteArray payload;
    // Surface identifiers are only known once init() ran.
    switch (type) {
    case MessageType::Repaint: {
        RepaintPayload repaint;
        repaint.width = 100;
        repaint.height = 50;
        repaint.marker = 5;
        repaint.identifier = m_first;
        payload = encode(repaint);
        break;
    }
    case MessageType::Move: {
        MovePayload move;
        move.identifier = m_first;
        move.x = 40;
        move.y = 60;
        payload = encode(move);
        break;
    }
    case MessageType::Focus:
        break;
    default:
        payload = encode(SurfacePayload{m_first});
        break;
    }

    std::unique_ptr<BlightSocket> socket = connectClient();
    QVERIFY(socket);
    QStringList order;
    connect(m_compositor.get(), &FakeCompositor::requestReceived, this, [&](int, MessageType, quint32) {
        order.append(QStringLiteral("received"));
        // Queued now, so it runs on the event-loop turn after the read.
        QMetaObject::invokeMethod(
            this, [&] { order.append(QStringLiteral("next turn")); }, Qt::QueuedConnection);
    });
    connect(m_compositor.get(), &FakeCompositor::painted, this,
            [&](int, MessageType, quint32) { order.append(QStringLiteral("painted")); });
    connect(m_compositor.get(), &FakeCompositor::requestAcked, this,
            [&](int, MessageType, quint32, int) { order.append(QStringLiteral("acked")); });

    std::unique_ptr<BlightReply> reply(socket->request(type, payload));
    QVERIFY(reply);
    QTRY_VERIFY(reply->isFinished());
    QVERIFY(reply->isAcked());
    QVERIFY(reply->payload().isEmpty());
    QCOMPARE(order,
             (QStringList{QStringLiteral("received"), QStringLiteral("next turn"), QStringLiteral("painted"),
                          QStringLiteral("acked")}));

    if (type == MessageType::Move) {
        QCOMPARE(m_compositor->surfaceInfo(m_first)->x, 40);
        QCOMPARE(m_compositor->surfaceInfo(m_first)->y, 60);
    } else if (type == MessageType::Delete) {
        QCOMPARE(m_compositor->surfaces(), QList<SurfaceId>{m_second});
    }
}

void TestCompositor::waitAckedWhenMarkerPainted()
{
    m_compositor->setPaintDelay(100);
    std::unique_ptr<BlightSocket> socket = connectClient();
    QVERIFY(socket);
    QSignalSpy ackSpy(socket.get(), &BlightSocket::ackReceived);

    RepaintPayload repaint;
    repaint.identifier = m_first;
    repaint.width = 10;
    repaint.height = 10;
    repaint.marker = 42;
    std::unique_ptr<BlightReply> painting(socket->request(MessageType::Repaint, encode(repaint)));
    std::unique_ptr<BlightReply> waiting(socket->request(MessageType::Wait, encode(WaitPayload{42})));
    // Nothing with marker 7 is on its way: that wait is over at once.
    std::unique_ptr<BlightReply> idle(socket->request(MessageType::Wait, encode(WaitPayload{7})));
    QVERIFY(painting && waiting && idle);
    QTRY_VERIFY(waiting->isFinished());
    QVERIFY(waiting->isAcked());
    QVERIFY(painting->isAcked());
    QVERIFY(idle->isAcked());
    QCOMPARE(ackSpy.count(), 3);
    QCOMPARE(ackSpy.at(0).at(0).toUInt(), idle->ackid());
    QCOMPARE(ackSpy.at(1).at(0).toUInt(), painting->ackid());
    QCOMPARE(ackSpy.at(2).at(0).toUInt(), waiting->ackid());
}

void TestCompositor::notRespondingReported()
{
    QSignalSpy notRespondingSpy(m_compositor.get(), &FakeCompositor::clientNotResponding);
    QSignalSpy againSpy(m_compositor.get(), &FakeCompositor::clientRespondingAgain);
    QSignalSpy eventSpy(m_compositor.get(), &FakeCompositor::eventOccurred);
    int clientId = 0;
    std::unique_ptr<BlightSocket> socket = connectClient(&clientId);
    QVERIFY(socket);
    socket->setAutoAnswerPings(false);
    QSignalSpy pingSpy(socket.get(), &BlightSocket::pingReceived);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("^client %1 not responding$").arg(clientId)));

    QTRY_COMPARE_WITH_TIMEOUT(notRespondingSpy.count(), 1, CompositorNotRespondingTimeout + 5000);
    QCOMPARE(notRespondingSpy.at(0).at(0).toInt(), clientId);
    QVERIFY(pingSpy.count() >= 1); // it was pinged and kept quiet
    QVERIFY(eventSpy.contains(QList<QVariant>{QStringLiteral("client %1 not responding").arg(clientId)}));
    // Not answering is reported, not a disconnection.
    QCOMPARE(socket->state(), BlightSocket::State::Connected);

    socket->setAutoAnswerPings(true);
    QTRY_COMPARE_WITH_TIMEOUT(againSpy.count(), 1, CompositorPingInterval + 5000);
    QCOMPARE(notRespondingSpy.count(), 1); // once per silence
}

void TestCompositor::serviceVanishes()
{
    int clientId = 0;
    std::unique_ptr<BlightSocket> socket = connectClient(&clientId);
    QVERIFY(socket);
    QSignalSpy errorSpy(socket.get(), &BlightSocket::errorOccurred);
    QSignalSpy disconnectedSpy(socket.get(), &BlightSocket::disconnected);
    QSignalSpy serverSpy(m_compositor.get(), &FakeCompositor::clientDisconnected);

    // The name goes while the compositor keeps its end open: only the bus
    // can tell the client.
    m_compositor->releaseService();
    QTRY_COMPARE(errorSpy.count(), 1);
    QCOMPARE(errorSpy.at(0).at(0).value<BlightSocket::Error>(), BlightSocket::Error::ServiceUnavailable);
    const QString reason = errorSpy.at(0).at(1).toString();
    QVERIFY2(reason.contains(QStringLiteral("codes.eeems.blight1"))
                 && reason.contains(QStringLiteral("left the session bus")),
             qPrintable(reason));
    QCOMPARE(socket->errorString(), reason);
    QTRY_COMPARE(socket->state(), BlightSocket::State::Unconnected);
    QCOMPARE(disconnectedSpy.count(), 1);
    // And the compositor sees the client go.
    QTRY_COMPARE(serverSpy.count(), 1);
    QCOMPARE(serverSpy.at(0).at(0).toInt(), clientId);
}

void TestCompositor::compositorKilled()
{
    // A compositor in another process, killed outright: the kernel closes
    // its end and the bus drops its name, in whichever order.
    m_compositor.reset();
    QProcess helper;
    dieWithTest(helper);
    helper.setProcessEnvironment(m_bus.environment());
    helper.setReadChannel(QProcess::StandardOutput);
    helper.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    helper.start(QStringLiteral(BLIGHT_COMPOSITOR_HELPER), {QStringLiteral("serve")});
    QVERIFY2(helper.waitForStarted(), qPrintable(helper.errorString()));
    const QString ready = readLine(helper);
    QVERIFY2(ready.startsWith(QStringLiteral("ready ")), qPrintable(ready));

    std::unique_ptr<BlightSocket> socket(connectToCompositor(Bus::Session));
    QSignalSpy connectedSpy(socket.get(), &BlightSocket::connected);
    QSignalSpy errorSpy(socket.get(), &BlightSocket::errorOccurred);
    QTRY_COMPARE_WITH_TIMEOUT(connectedSpy.count(), 1, 10000);
    QCOMPARE(readLine(helper).section(u' ', 0, 2), QStringLiteral("event client 1"));

    helper.kill();
    QTRY_COMPARE(errorSpy.count(), 1);
    const auto error = errorSpy.at(0).at(0).value<BlightSocket::Error>();
    const QString reason = errorSpy.at(0).at(1).toString();
    if (error == BlightSocket::Error::ServiceUnavailable) {
        QVERIFY2(reason.contains(QStringLiteral("left the session bus")), qPrintable(reason));
    } else {
        QVERIFY2(error == BlightSocket::Error::RemoteClosed || error == BlightSocket::Error::ConnectionReset,
                 qPrintable(reason));
        QVERIFY2(reason.contains(QStringLiteral("closed")) || reason.contains(QStringLiteral("reset")),
                 qPrintable(reason));
    }
    QTRY_COMPARE(socket->state(), BlightSocket::State::Unconnected);
    QTRY_COMPARE(helper.state(), QProcess::NotRunning);
    QCoreApplication::processEvents(); // a late name-owner signal must not report twice
    QCOMPARE(errorSpy.count(), 1);
}

void TestCompositor::openFails_data()
{
    QTest::addColumn<OpenFailure>("failure");
    QTest::addColumn<BlightSocket::Error>("error");
    QTest::addColumn<QStringList>("mentions");
    QTest::addRow("service-absent") << OpenFailure::Absent << BlightSocket::Error::ServiceUnavailable
                                    << QStringList{QStringLiteral("no compositor on the session bus"),
                                                   QStringLiteral("codes.eeems.blight1")};
    QTest::addRow("not-a-compositor") << OpenFailure::NotACompositor << BlightSocket::Error::ServiceUnavailable
                                      << QStringList{QStringLiteral("is not a blight compositor"),
                                                     QStringLiteral("codes.eeems.blight1.Compositor.open()")};
    QTest::addRow("reply-without-descriptor") << OpenFailure::NoDescriptor << BlightSocket::Error::ConnectError
                                              << QStringList{QStringLiteral("carried no file descriptor")};
    QTest::addRow("refused") << OpenFailure::Refused << BlightSocket::Error::ConnectError
                             << QStringList{QStringLiteral("refused open()"),
                                            QStringLiteral("codes.eeems.blight1.Error.Refused")};
}

void TestCompositor::openFails()
{
    QFETCH(OpenFailure, failure);
    QFETCH(BlightSocket::Error, error);
    QFETCH(QStringList, mentions);

    QDBusConnection impostor(QString{});
    switch (failure) {
    case OpenFailure::Absent:
        m_compositor.reset();
        break;
    case OpenFailure::NotACompositor:
        // Something else owns the name and exports nothing.
        m_compositor.reset();
        impostor = QDBusConnection::connectToBus(m_address, ImpostorConnectionName);
        QVERIFY(impostor.registerService(QString(CompositorService)));
        break;
    case OpenFailure::NoDescriptor:
        m_compositor->setOpenReply(FakeCompositor::OpenReply::NoDescriptor);
        break;
    case OpenFailure::Refused:
        m_compositor->setOpenReply(FakeCompositor::OpenReply::Error);
        break;
    }

    BlightSocket socket;
    QSignalSpy errorSpy(&socket, &BlightSocket::errorOccurred);
    QSignalSpy connectedSpy(&socket, &BlightSocket::connected);
    QSignalSpy disconnectedSpy(&socket, &BlightSocket::disconnected);
    socket.connectToEndpoint(QStringLiteral("blight:session"));
    QCOMPARE(socket.state(), BlightSocket::State::Connecting);
    QCOMPARE(errorSpy.count(), 0); // reported from the event loop, never from inside the call
    QTRY_COMPARE_WITH_TIMEOUT(errorSpy.count(), 1, 10000);
    QCOMPARE(errorSpy.at(0).at(0).value<BlightSocket::Error>(), error);
    QCOMPARE(socket.error(), error);
    const QString reason = errorSpy.at(0).at(1).toString();
    QVERIFY2(reason.startsWith(QStringLiteral("blight:session: ")), qPrintable(reason));
    for (const QString &mention : std::as_const(mentions))
        QVERIFY2(reason.contains(mention), qPrintable(reason));
    QCOMPARE(socket.state(), BlightSocket::State::Unconnected);
    QCOMPARE(disconnectedSpy.count(), 1);
    QCOMPARE(connectedSpy.count(), 0);
    QCOMPARE(socket.socketDescriptor(), -1);

    if (failure == OpenFailure::NotACompositor) {
        QVERIFY(impostor.unregisterService(QString(CompositorService)));
        QDBusConnection::disconnectFromBus(ImpostorConnectionName);
    }
}

void TestCompositor::socketDestroyedDuringCall()
{
    m_compositor->setOpenReply(FakeCompositor::OpenReply::Hold);
    QSignalSpy serverConnectedSpy(m_compositor.get(), &FakeCompositor::clientConnected);
    QSignalSpy serverDisconnectedSpy(m_compositor.get(), &FakeCompositor::clientDisconnected);
    auto *socket = connectToCompositor(Bus::Session);
    QTRY_COMPARE(m_compositor->heldCalls(), 1);
    delete socket;

    // The answer comes for a socket that is gone: nothing may touch it, and
    // the descriptor in the reply must be closed, not leaked.
    m_compositor->releaseHeldCalls();
    QCOMPARE(serverConnectedSpy.count(), 1);
    QTRY_COMPARE(serverDisconnectedSpy.count(), 1);
}

void TestCompositor::abortDuringCall()
{
    m_compositor->setOpenReply(FakeCompositor::OpenReply::Hold);
    QSignalSpy serverDisconnectedSpy(m_compositor.get(), &FakeCompositor::clientDisconnected);
    BlightSocket socket;
    QSignalSpy connectedSpy(&socket, &BlightSocket::connected);
    QSignalSpy errorSpy(&socket, &BlightSocket::errorOccurred);
    socket.connectToEndpoint(QStringLiteral("blight:session"));
    QTRY_COMPARE(m_compositor->heldCalls(), 1);
    socket.abort();
    QCOMPARE(socket.state(), BlightSocket::State::Unconnected);

    m_compositor->releaseHeldCalls();
    QTRY_COMPARE(serverDisconnectedSpy.count(), 1); // the late descriptor was dropped
    QCOMPARE(connectedSpy.count(), 0);
    QCOMPARE(errorSpy.count(), 0);
    QCOMPARE(socket.state(), BlightSocket::State::Unconnected);
    QCOMPARE(socket.socketDescriptor(), -1);

    // The same socket connects normally afterwards.
    m_compositor->setOpenReply(FakeCompositor::OpenReply::Descriptor);
    socket.connectToEndpoint(QStringLiteral("blight:session"));
    QTRY_COMPARE_WITH_TIMEOUT(connectedSpy.count(), 1, 10000);
    QCOMPARE(errorSpy.count(), 0);
}

void TestCompositor::busUnreachable()
{
    // The bus address comes from the environment when the process first
    // uses the bus, so a process of its own gets a bus that is not there.
    QProcess helper;
    dieWithTest(helper);
    QProcessEnvironment environment = m_bus.environment();
    environment.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"),
                       QStringLiteral("unix:path=") + m_dir.filePath(QStringLiteral("no-such-bus")));
    helper.setProcessEnvironment(environment);
    helper.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    helper.start(QStringLiteral(BLIGHT_COMPOSITOR_HELPER),
                 {QStringLiteral("connect"), QStringLiteral("blight:session")});
    QVERIFY2(helper.waitForFinished(20000), qPrintable(helper.errorString()));
    const QString output = QString::fromUtf8(helper.readAllStandardOutput()).trimmed();
    QCOMPARE(helper.exitCode(), 1);
    QVERIFY2(output.startsWith(
                 QStringLiteral("error ConnectError: blight:session: cannot reach the D-Bus session bus")),
             qPrintable(output));
    QVERIFY2(output.contains(QStringLiteral("no-such-bus")), qPrintable(output));
}

void TestCompositor::systemBusEndpoint()
{
    // blight: means the system bus: point a process's system bus at the
    // private daemon and the in-process compositor answers it.
    QSignalSpy serverConnectedSpy(m_compositor.get(), &FakeCompositor::clientConnected);
    QProcess helper;
    dieWithTest(helper);
    QProcessEnvironment environment = m_bus.environment();
    environment.insert(QStringLiteral("DBUS_SYSTEM_BUS_ADDRESS"), m_address);
    environment.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"),
                       QStringLiteral("unix:path=") + m_dir.filePath(QStringLiteral("no-such-bus")));
    helper.setProcessEnvironment(environment);
    helper.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    helper.start(QStringLiteral(BLIGHT_COMPOSITOR_HELPER), {QStringLiteral("connect"), QStringLiteral("blight:")});
    QVERIFY2(helper.waitForStarted(), qPrintable(helper.errorString()));
    // The compositor lives in this process: keep its event loop running.
    QTRY_COMPARE_WITH_TIMEOUT(helper.state(), QProcess::NotRunning, 20000);
    const QStringList output = QString::fromUtf8(helper.readAllStandardOutput()).trimmed().split(u'\n');
    QCOMPARE(helper.exitCode(), 0);
    QCOMPARE(output.size(), 2);
    QVERIFY2(output.at(0).startsWith(QStringLiteral("connected blight: fd ")), qPrintable(output.at(0)));
    QCOMPARE(output.at(1), QStringLiteral("list 2"));
    QCOMPARE(serverConnectedSpy.count(), 1);
}

QTEST_GUILESS_MAIN(TestCompositor)

#include "tst_compositor.moc"
