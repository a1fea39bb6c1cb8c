// SPDX-License-Identifier: MIT
// BlightSocket over socket pairs and TCP: sending, coalescing, reassembly,
// ping/ack, back-pressure, hang-ups, malformed input and refused descriptors.
#include "lifecycleutil.h"
#include "testutil.h"

#include <BlightTransport/blightserver.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <fcntl.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;
using TestUtil::makePair;

class tst_BlightSocket : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    void singleMessage_data();
    void singleMessage();
    void coalescedBurst_data();
    void coalescedBurst();
    void largeFrameInPieces_data();
    void largeFrameInPieces();
    void headerSplitByteByByte();
    void pingIsAnswered();
    void requestReply();
    void requestTimesOut();
    void backPressureWhenPeerStopsReading();
    void turnOfSendsKeepsLimits_data();
    void turnOfSendsKeepsLimits();
    void peerClosesMidMessage_data();
    void peerClosesMidMessage();
    void peerClosesCleanly();
    void brokenPipeIsAnErrorNotASignal();
    void malformedHeader_data();
    void malformedHeader();
    void garbageAfterValidMessage();
    void refusedDescriptors_data();
    void refusedDescriptors();
    void refusedSends();
    void rawStreamMode();
    void rawDataIsCopiedWhenQueued();
    void pausedReadingHoldsMessages();
    void unixEndpointThroughServer();
    void connectErrors_data();
    void connectErrors();
    void udpDatagrams();
    void crossThreadQueuedSends();
    void socketInWorkerThread();
};

void tst_BlightSocket::initTestCase()
{
    qRegisterMetaType<Message>();
}

void tst_BlightSocket::singleMessage_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addRow("unix") << QStringLiteral("unix");
    QTest::addRow("tcp4") << QStringLiteral("tcp4");
    QTest::addRow("tcp6") << QStringLiteral("tcp6");
}

void tst_BlightSocket::singleMessage()
{
    QFETCH(QString, kind);
    auto pair = makePair(kind);
    QVERIFY(pair.ok);
    QSignalSpy received(pair.b.get(), &BlightSocket::messageReceived);
    RepaintPayload repaint;
    repaint.x = 10;
    repaint.width = 100;
    repaint.marker = 77;
    repaint.identifier = 3;
    const quint64 callsBefore = pair.a->statistics().sendCalls;
    QVERIFY(pair.a->sendMessage(MessageType::Repaint, 42, encode(repaint)));
    // A lone message leaves inside the call: one sendmsg, nothing queued.
    QCOMPARE(pair.a->statistics().sendCalls, callsBefore + 1);
    QCOMPARE(pair.a->queuedBytes(), 0);
    QTRY_COMPARE(received.size(), 1);
    const auto message = received.at(0).at(0).value<Message>();
    QCOMPARE(message.type(), MessageType::Repaint);
    QCOMPARE(message.ackid(), 42u);
    const auto decoded = message.payloadAs<RepaintPayload>();
    QVERIFY(decoded);
    QCOMPARE(decoded->marker, 77u);
    QCOMPARE(decoded->identifier, SurfaceId(3));
    QCOMPARE(pair.b->messagesReceived(), 1u);
    QCOMPARE(pair.a->messagesSent(), 1u);
}

void tst_BlightSocket::coalescedBurst_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("count");
    QTest::addRow("unix-100") << QStringLiteral("unix") << 100;
    QTest::addRow("unix-1000") << QStringLiteral("unix") << 1000;
    QTest::addRow("tcp4-1000") << QStringLiteral("tcp4") << 1000;
}

void tst_BlightSocket::coalescedBurst()
{
    QFETCH(QString, kind);
    QFETCH(int, count);
    auto pair = makePair(kind);
    QVERIFY(pair.ok);
    QList<quint32> ackids;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&](const Message &m) { ackids.append(m.ackid()); });
    const quint64 callsBefore = pair.a->statistics().sendCalls;
    const QByteArray payload = encode(WaitPayload{5});
    for (int i = 0; i < count; ++i)
        QVERIFY(pair.a->sendMessage(MessageType::Wait, quint32(i), payload));
    // The first left at once, the rest wait for the end of the turn (or a
    // 64 KiB flush): far fewer system calls than messages.
    QVERIFY(pair.a->queuedBytes() > 0);
    QTRY_COMPARE(ackids.size(), count);
    for (int i = 0; i < count; ++i)
        QCOMPARE(ackids.at(i), quint32(i));
    const quint64 calls = pair.a->statistics().sendCalls - callsBefore;
    const quint64 bound = 2 + quint64(count) * 16 / 65536 + 1;
    QVERIFY2(calls <= bound, qPrintable(QStringLiteral("%1 sendmsg calls for %2 messages").arg(calls).arg(count)));
    QCOMPARE(pair.a->queuedBytes(), 0);
}

void tst_BlightSocket::largeFrameInPieces_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addRow("unix") << QStringLiteral("unix");
    QTest::addRow("tcp4") << QStringLiteral("tcp4");
}

void tst_BlightSocket::largeFrameInPieces()
{
    QFETCH(QString, kind);
    auto pair = makePair(kind);
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::Off);
    QSignalSpy received(pair.b.get(), &BlightSocket::messageReceived);
    const QByteArray frame = TestUtil::pattern(5 * 1024 * 1024, 9);
    QVERIFY(pair.a->sendMessage(MessageType::Ack, 7, frame));
    // More than a socket buffer: the rest waits for the Write notifier.
    QVERIFY(pair.a->queuedBytes() > 0);
    QVERIFY(pair.a->sendMessage(MessageType::Ping, 8, {}));
    QTRY_COMPARE(received.size(), 2);
    QCOMPARE(received.at(0).at(0).value<Message>().payload, frame);
    QCOMPARE(received.at(1).at(0).value<Message>().type(), MessageType::Ping);
    // The frame took several reads: it was assembled across notifications.
    QVERIFY(pair.b->statistics().receiveCalls > 2);
}

void tst_BlightSocket::headerSplitByteByByte()
{
    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    QSignalSpy received(socket.get(), &BlightSocket::messageReceived);
    const QByteArray payload = encode(MovePayload{4, -5, 6});
    const QByteArray wire = TestUtil::headerBytes(qint32(MessageType::Move), 99, quint32(payload.size())) + payload;
    for (qsizetype i = 0; i < wire.size(); ++i) {
        QCOMPARE(::write(peer, wire.constData() + i, 1), 1);
        // Let the socket see each byte on its own before the next one.
        const quint64 before = socket->bytesReceived();
        QTRY_COMPARE(socket->bytesReceived(), before + 1);
        QCOMPARE(received.size(), i + 1 == wire.size() ? 1 : 0);
    }
    const auto message = received.at(0).at(0).value<Message>();
    QCOMPARE(message.ackid(), 99u);
    const auto move = message.payloadAs<MovePayload>();
    QVERIFY(move);
    QCOMPARE(move->identifier, SurfaceId(4));
    QCOMPARE(move->x, -5);
    QCOMPARE(move->y, 6);
    ::close(peer);
}

void tst_BlightSocket::pingIsAnswered()
{
    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    QSignalSpy pings(socket.get(), &BlightSocket::pingReceived);
    const QByteArray ping = TestUtil::headerBytes(qint32(MessageType::Ping), 1234, 0);
    QCOMPARE(::write(peer, ping.constData(), size_t(ping.size())), ping.size());
    QTRY_COMPARE(pings.size(), 1);
    char answer[HeaderSize];
    QCOMPARE(::recv(peer, answer, sizeof(answer), MSG_DONTWAIT), qsizetype(HeaderSize));
    const Header header = readHeader(answer);
    QCOMPARE(header.type, qint32(MessageType::Ack));
    QCOMPARE(header.ackid, 1234u);
    QCOMPARE(header.size, 0u);

    // Switched off, a ping is reported but not answered.
    socket->setAutoAnswerPings(false);
    QCOMPARE(::write(peer, ping.constData(), size_t(ping.size())), ping.size());
    QTRY_COMPARE(pings.size(), 2);
    QCOMPARE(::recv(peer, answer, sizeof(answer), MSG_DONTWAIT), -1);
    QCOMPARE(errno, EAGAIN);
    ::close(peer);
}

void tst_BlightSocket::requestReply()
{
    auto pair = makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    InfoReply info;
    info.width = 1404;
    info.height = 1872;
    info.scale = 2.5;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&](const Message &m) {
        if (m.type() == MessageType::Info)
            pair.b->sendMessage(MessageType::Ack, m.ackid(), encode(info));
    });
    QSignalSpy acks(pair.a.get(), &BlightSocket::ackReceived);
    std::unique_ptr<BlightReply> reply(pair.a->request(MessageType::Info, encode(SurfacePayload{1})));
    QVERIFY(reply);
    QVERIFY(!reply->isFinished());
    QSignalSpy finished(reply.get(), &BlightReply::finished);
    QVERIFY(finished.wait(5000));
    QVERIFY(reply->isAcked());
    const auto decoded = decode<InfoReply>(reply->payload());
    QVERIFY(decoded);
    QCOMPARE(decoded->width, 1404u);
    QCOMPARE(decoded->scale, 2.5);
    QCOMPARE(acks.size(), 1);
    QCOMPARE(acks.at(0).at(0).toUInt(), reply->ackid());
}

void tst_BlightSocket::requestTimesOut()
{
    auto pair = makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    std::unique_ptr<BlightReply> reply(pair.a->request(MessageType::List, {}, 50));
    QVERIFY(reply);
    QSignalSpy finished(reply.get(), &BlightReply::finished);
    QVERIFY(finished.wait(5000));
    QVERIFY(!reply->isAcked());
    QVERIFY(reply->errorString().contains(u"no ack"));
    // A late ack after the timeout is still reported, and harmless.
    QSignalSpy acks(pair.a.get(), &BlightSocket::ackReceived);
    QVERIFY(pair.b->sendMessage(MessageType::Ack, reply->ackid(), {}));
    QTRY_COMPARE(acks.size(), 1);
}

void tst_BlightSocket::backPressureWhenPeerStopsReading()
{
    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    socket->setSendQueueLimit(1024 * 1024);
    QSignalSpy canSend(socket.get(), &BlightSocket::canSendChanged);
    const QByteArray payload(64 * 1024, 'x');
    int accepted = 0;
    while (socket->sendMessage(MessageType::Ack, quint32(accepted), payload)) {
        ++accepted;
        QVERIFY2(accepted < 1000, "the queue never refused a message");
    }
    QCOMPARE(socket->lastSendError(), BlightSocket::Error::QueueFull);
    QVERIFY(!socket->canSend());
    QCOMPARE(canSend.size(), 1);
    QVERIFY(socket->queuedBytes() <= 1024 * 1024 + payload.size());
    QCOMPARE(socket->state(), BlightSocket::State::Connected);

    // The peer reads again: the queue drains and the caller is told.
    qint64 drained = 0;
    const qint64 expected = qint64(accepted) * (payload.size() + HeaderSize);
    QVERIFY(QTest::qWaitFor(
        [&] {
            bool eof = false;
            drained += TestUtil::readAvailable(peer, &eof).size();
            return drained == expected;
        },
        10000));
    QVERIFY(socket->canSend());
    QCOMPARE(canSend.size(), 2);
    QCOMPARE(canSend.at(1).at(0).toBool(), true);
    QCOMPARE(socket->queuedBytes(), 0);
    QCOMPARE(socket->messagesSent(), quint64(accepted));
    ::close(peer);
}

void tst_BlightSocket::turnOfSendsKeepsLimits_data()
{
    // Many small messages in one turn: all but the first join the queued
    // ones (the lane), which must refuse and flush exactly where a message
    // through the full path would.
    QTest::addColumn<qint64>("queueLimit");
    QTest::addColumn<qint64>("flushThreshold");
    QTest::addColumn<int>("accepted");
    constexpr qint64 Message = HeaderSize + qint64(sizeof(RepaintPayload));
    // The first leaves in the call; 20 more fit in 1000 bytes.
    QTest::addRow("queue limit") << qint64(1000) << qint64(64 * 1024) << 1 + int(1000 / Message);
    QTest::addRow("queue limit, one message exactly") << Message << qint64(64 * 1024) << 2;
    QTest::addRow("flush threshold") << qint64(64 * 1024 * 1024) << qint64(1000) << 300;
    QTest::addRow("flush threshold below a message") << qint64(64 * 1024 * 1024) << qint64(10) << 300;
}

void tst_BlightSocket::turnOfSendsKeepsLimits()
{
    QFETCH(qint64, queueLimit);
    QFETCH(qint64, flushThreshold);
    QFETCH(int, accepted);
    constexpr qint64 Message = HeaderSize + qint64(sizeof(RepaintPayload));

    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    socket->setSendQueueLimit(queueLimit);
    socket->setFlushThreshold(flushThreshold);
    quint64 firstId = 0;
    int sent = 0;
    for (; sent < 300; ++sent) {
        const qint64 before = socket->queuedBytes();
        RepaintPayload repaint;
        repaint.marker = quint32(sent);
        const quint64 id = socket->sendPayload(MessageType::Repaint, quint32(sent), repaint);
        if (id == 0) {
            QCOMPARE(socket->lastSendError(), BlightSocket::Error::QueueFull);
            QVERIFY(before > 0 && before + Message > queueLimit);
            break;
        }
        QVERIFY2(before == 0 || before + Message <= queueLimit, "accepted past the queue limit");
        QVERIFY2(socket->queuedBytes() < qMax(flushThreshold, Message), "not flushed at the threshold");
        if (sent == 0)
            firstId = id;
        QCOMPARE(id, firstId + quint64(sent));
    }
    QCOMPARE(sent, accepted);

    // Every accepted message arrives, whole and in order.
    QByteArray expected;
    for (int i = 0; i < sent; ++i) {
        RepaintPayload repaint;
        repaint.marker = quint32(i);
        expected += TestUtil::headerBytes(qint32(MessageType::Repaint), quint32(i), quint32(sizeof(repaint)));
        expected += QByteArray(reinterpret_cast<const char *>(&repaint), qsizetype(sizeof(repaint)));
    }
    QByteArray got;
    QVERIFY(QTest::qWaitFor(
        [&] {
            bool eof = false;
            got += TestUtil::readAvailable(peer, &eof);
            return got.size() >= expected.size();
        },
        5000));
    QCOMPARE(got, expected);
    QCOMPARE(socket->messagesSent(), quint64(sent));
    ::close(peer);
}

void tst_BlightSocket::peerClosesMidMessage_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addRow("mid-header") << TestUtil::headerBytes(3, 1, 36).left(7);
    QTest::addRow("mid-payload") << TestUtil::headerBytes(3, 1, 36) + QByteArray(20, 'p');
}

void tst_BlightSocket::peerClosesMidMessage()
{
    QFETCH(QByteArray, bytes);
    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    QSignalSpy errors(socket.get(), &BlightSocket::errorOccurred);
    QSignalSpy disconnected(socket.get(), &BlightSocket::disconnected);
    QSignalSpy received(socket.get(), &BlightSocket::messageReceived);
    QCOMPARE(::write(peer, bytes.constData(), size_t(bytes.size())), bytes.size());
    ::close(peer);
    QTRY_COMPARE(disconnected.size(), 1);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.at(0).at(0).value<BlightSocket::Error>(), BlightSocket::Error::RemoteClosed);
    QVERIFY2(errors.at(0).at(1).toString().contains(u"middle of a message"), qPrintable(errors.at(0).at(1).toString()));
    QCOMPARE(received.size(), 0);
    QCOMPARE(socket->state(), BlightSocket::State::Unconnected);
    QCOMPARE(socket->socketDescriptor(), -1);
}

void tst_BlightSocket::peerClosesCleanly()
{
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    QSignalSpy errors(pair.b.get(), &BlightSocket::errorOccurred);
    QSignalSpy disconnected(pair.b.get(), &BlightSocket::disconnected);
    QSignalSpy received(pair.b.get(), &BlightSocket::messageReceived);
    QVERIFY(pair.a->sendMessage(MessageType::Focus, 1, {}));
    pair.a->close();
    QTRY_COMPARE(disconnected.size(), 1);
    QCOMPARE(received.size(), 1);
    QCOMPARE(errors.at(0).at(0).value<BlightSocket::Error>(), BlightSocket::Error::RemoteClosed);
    QVERIFY(!errors.at(0).at(1).toString().contains(u"middle"));
}

void tst_BlightSocket::brokenPipeIsAnErrorNotASignal()
{
    // Without MSG_NOSIGNAL this test process would die of SIGPIPE.
    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    ::close(peer);
    QSignalSpy errors(socket.get(), &BlightSocket::errorOccurred);
    QSignalSpy disconnected(socket.get(), &BlightSocket::disconnected);
    socket->setReadingPaused(true); // so that the hang-up is met by the send
    socket->sendMessage(MessageType::Focus, 1, {});
    QTRY_COMPARE(disconnected.size(), 1);
    QCOMPARE(errors.size(), 1);
    const auto error = errors.at(0).at(0).value<BlightSocket::Error>();
    QVERIFY2(error == BlightSocket::Error::BrokenPipe || error == BlightSocket::Error::ConnectionReset,
             qPrintable(errors.at(0).at(1).toString()));
    QVERIFY(!socket->sendMessage(MessageType::Focus, 2, {}));
    QCOMPARE(socket->lastSendError(), BlightSocket::Error::NotConnected);
}

void tst_BlightSocket::malformedHeader_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("reason");
    QTest::addRow("type-0") << TestUtil::headerBytes(0, 1, 0) << QStringLiteral("invalid message type 0");
    QTest::addRow("type-12") << TestUtil::headerBytes(12, 1, 0) << QStringLiteral("invalid message type 12");
    QTest::addRow("type-negative") << TestUtil::headerBytes(-7, 1, 0) << QStringLiteral("invalid message type -7");
    QTest::addRow("repaint-without-payload") << TestUtil::headerBytes(3, 1, 0) << QStringLiteral("no payload");
    QTest::addRow("wait-without-payload") << TestUtil::headerBytes(10, 1, 0) << QStringLiteral("no payload");
    QTest::addRow("size-over-cap") << TestUtil::headerBytes(1, 1, 4096 + 1) << QStringLiteral("over the cap");
    QTest::addRow("size-4GiB") << TestUtil::headerBytes(1, 1, 0xffffffffu) << QStringLiteral("over the cap");
}

void tst_BlightSocket::malformedHeader()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, reason);
    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    socket->setMaxPayloadSize(4096);
    QSignalSpy errors(socket.get(), &BlightSocket::errorOccurred);
    QSignalSpy disconnected(socket.get(), &BlightSocket::disconnected);
    QSignalSpy received(socket.get(), &BlightSocket::messageReceived);
    QCOMPARE(::write(peer, bytes.constData(), size_t(bytes.size())), bytes.size());
    QTRY_COMPARE(disconnected.size(), 1);
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.at(0).at(0).value<BlightSocket::Error>(), BlightSocket::Error::ProtocolError);
    QVERIFY2(errors.at(0).at(1).toString().contains(reason), qPrintable(errors.at(0).at(1).toString()));
    QCOMPARE(received.size(), 0);
    // The connection is ended: the peer sees EOF.
    char byte;
    QTRY_COMPARE(::recv(peer, &byte, 1, MSG_DONTWAIT), 0);
    ::close(peer);
}

void tst_BlightSocket::garbageAfterValidMessage()
{
    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    QSignalSpy errors(socket.get(), &BlightSocket::errorOccurred);
    QSignalSpy received(socket.get(), &BlightSocket::messageReceived);
    const QByteArray wire = TestUtil::headerBytes(qint32(MessageType::Raise), 5, 2) + QByteArray("\x07\x00", 2)
        + QByteArray("garbage-garbage");
    QCOMPARE(::write(peer, wire.constData(), size_t(wire.size())), wire.size());
    QTRY_COMPARE(errors.size(), 1);
    QCOMPARE(received.size(), 1);
    QCOMPARE(received.at(0).at(0).value<Message>().payloadAs<SurfacePayload>()->identifier, SurfaceId(7));
    QCOMPARE(errors.at(0).at(0).value<BlightSocket::Error>(), BlightSocket::Error::ProtocolError);
    ::close(peer);
}

void tst_BlightSocket::refusedDescriptors_data()
{
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("reason");
    QTest::addRow("pipe") << QStringLiteral("pipe") << QStringLiteral("not a socket");
    QTest::addRow("regular-file") << QStringLiteral("file") << QStringLiteral("not a socket");
    QTest::addRow("closed") << QStringLiteral("closed") << QStringLiteral("not open");
    QTest::addRow("negative") << QStringLiteral("negative") << QStringLiteral("not open");
    QTest::addRow("listening") << QStringLiteral("listening") << QStringLiteral("listening socket");
    QTest::addRow("netlink") << QStringLiteral("netlink") << QStringLiteral("only AF_UNIX");
    QTest::addRow("unconnected-tcp") << QStringLiteral("unconnected") << QStringLiteral("not connected");
}

void tst_BlightSocket::refusedDescriptors()
{
    QFETCH(QString, what);
    QFETCH(QString, reason);
    int fd = -1;
    int other = -1;
    if (what == u"pipe") {
        int fds[2];
        QCOMPARE(::pipe2(fds, O_CLOEXEC), 0);
        fd = fds[0];
        other = fds[1];
    } else if (what == u"file") {
        fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    } else if (what == u"closed") {
        fd = ::dup(0);
        ::close(fd);
    } else if (what == u"negative") {
        fd = -5;
    } else if (what == u"listening") {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QCOMPARE(::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
        QCOMPARE(::listen(fd, 1), 0);
    } else if (what == u"netlink") {
        fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    } else if (what == u"unconnected") {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    }
    BlightSocket socket;
    QSignalSpy errors(&socket, &BlightSocket::errorOccurred);
    QVERIFY(!socket.setSocketDescriptor(fd));
    QCOMPARE(socket.error(), BlightSocket::Error::InvalidDescriptor);
    QVERIFY2(socket.errorString().contains(reason), qPrintable(socket.errorString()));
    QCOMPARE(socket.state(), BlightSocket::State::Unconnected);
    QCOMPARE(socket.socketDescriptor(), -1);
    if (fd >= 0 && what != u"closed") {
        // A refused descriptor stays the caller's: still open.
        QVERIFY(::fcntl(fd, F_GETFD) != -1);
        ::close(fd);
    }
    if (other >= 0)
        ::close(other);

    // The same through connectToEndpoint("fd:N"): an asynchronous error.
    if (what == u"pipe") {
        int fds[2];
        QCOMPARE(::pipe2(fds, O_CLOEXEC), 0);
        BlightSocket viaEndpoint;
        QSignalSpy endpointErrors(&viaEndpoint, &BlightSocket::errorOccurred);
        viaEndpoint.connectToEndpoint(QStringLiteral("fd:%1").arg(fds[0]));
        QTRY_COMPARE(endpointErrors.size(), 1);
        QCOMPARE(endpointErrors.at(0).at(0).value<BlightSocket::Error>(), BlightSocket::Error::InvalidDescriptor);
        ::close(fds[0]);
        ::close(fds[1]);
    }
}

void tst_BlightSocket::refusedSends()
{
    auto pair = makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    QVERIFY(!pair.a->send(QByteArray("raw")));
    QCOMPARE(pair.a->lastSendError(), BlightSocket::Error::WrongMode);
    QVERIFY(!pair.a->sendMessage(MessageType::Invalid, 1, {}));
    QCOMPARE(pair.a->lastSendError(), BlightSocket::Error::ProtocolError);
    QVERIFY(!pair.a->sendMessage(MessageType(12), 1, QByteArray("x")));
    QCOMPARE(pair.a->lastSendError(), BlightSocket::Error::ProtocolError);
    QVERIFY(!pair.a->sendMessage(MessageType::Repaint, 1, {}));
    QCOMPARE(pair.a->lastSendError(), BlightSocket::Error::ProtocolError);
    pair.a->setMaxPayloadSize(100);
    QVERIFY(!pair.a->sendMessage(MessageType::Ack, 1, QByteArray(101, 'x')));
    QCOMPARE(pair.a->lastSendError(), BlightSocket::Error::MessageTooLarge);
    QVERIFY(pair.a->sendMessage(MessageType::Ack, 1, QByteArray(100, 'x')));
    QCOMPARE(pair.a->state(), BlightSocket::State::Connected);
    BlightSocket unconnected;
    QVERIFY(!unconnected.sendMessage(MessageType::Focus, 1, {}));
    QCOMPARE(unconnected.lastSendError(), BlightSocket::Error::NotConnected);
}

void tst_BlightSocket::rawStreamMode()
{
    auto pair = makePair(QStringLiteral("unix"), BlightSocket::Mode::RawStream);
    QVERIFY(pair.ok);
    QVERIFY(!pair.a->sendMessage(MessageType::Focus, 1, {}));
    QCOMPARE(pair.a->lastSendError(), BlightSocket::Error::WrongMode);
    QByteArray collected;
    connect(pair.b.get(), &BlightSocket::dataReceived, this, [&](const QByteArray &chunk) { collected += chunk; });
    const QByteArray big = TestUtil::pattern(3 * 1024 * 1024, 1);
    QVERIFY(pair.a->send(QByteArray("hello ")));
    QVERIFY(pair.a->send(big));
    QVERIFY(pair.a->send(QByteArray(" bye")));
    const QByteArray expected = QByteArray("hello ") + big + QByteArray(" bye");
    QTRY_COMPARE(collected.size(), expected.size());
    QCOMPARE(collected, expected);
}

void tst_BlightSocket::rawDataIsCopiedWhenQueued()
{
    // fromRawData arrays do not own their bytes: whatever waits in the queue
    // must be a copy, so that the caller may reuse its memory at once.
    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    socket->setReadingPaused(true);
    const QByteArray filler(4 * 1024 * 1024, 'f');
    QVERIFY(socket->sendMessage(MessageType::Ack, 1, filler)); // fills the socket buffer
    QVERIFY(socket->queuedBytes() > 0);
    QByteArray userBuffer(8192, 'a');
    QVERIFY(
        socket->sendMessage(MessageType::Ack, 2, QByteArray::fromRawData(userBuffer.constData(), userBuffer.size())));
    userBuffer.fill('z'); // the caller reuses its memory
    QByteArray wire;
    const qsizetype expected = 2 * HeaderSize + filler.size() + 8192;
    QVERIFY(QTest::qWaitFor(
        [&] {
            bool eof = false;
            wire += TestUtil::readAvailable(peer, &eof);
            return wire.size() == expected;
        },
        10000));
    const QByteArray second = wire.mid(HeaderSize + filler.size() + HeaderSize);
    QCOMPARE(second, QByteArray(8192, 'a'));
    ::close(peer);
}

void tst_BlightSocket::pausedReadingHoldsMessages()
{
    auto pair = makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    QSignalSpy received(pair.b.get(), &BlightSocket::messageReceived);
    pair.b->setReadingPaused(true);
    for (quint32 i = 0; i < 10; ++i)
        QVERIFY(pair.a->sendMessage(MessageType::Focus, i, {}));
    QTRY_COMPARE(pair.a->messagesSent(), 10u);
    // Give the receiver turns of the event loop to (wrongly) read.
    QTest::qWait(50);
    QCOMPARE(received.size(), 0);
    pair.b->setReadingPaused(false);
    QTRY_COMPARE(received.size(), 10);
    for (int i = 0; i < 10; ++i)
        QCOMPARE(received.at(i).at(0).value<Message>().ackid(), quint32(i));
}

void tst_BlightSocket::unixEndpointThroughServer()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString endpoint = QStringLiteral("unix:") + dir.filePath(QStringLiteral("blight.sock"));
    BlightServer server;
    QVERIFY2(server.listen(endpoint), qPrintable(server.errorString()));
    QCOMPARE(server.endpoint(), endpoint);
    BlightSocket client;
    QSignalSpy connected(&client, &BlightSocket::connected);
    QSignalSpy accepted(&server, &BlightServer::newConnection);
    client.connectToEndpoint(endpoint);
    QVERIFY(connected.wait(5000));
    QTRY_COMPARE(accepted.size(), 1);
    BlightSocket *peer = server.nextPendingConnection();
    QVERIFY(peer);
    QCOMPARE(client.kind(), BlightSocket::SocketKind::UnixStream);
    QVERIFY(!client.isZeroCopySupported());
    QCOMPARE(client.zeroCopyState(), BlightSocket::ZeroCopyState::Unsupported);
    QVERIFY(client.zeroCopyReason().contains(u"AF_UNIX"));
    QSignalSpy received(peer, &BlightSocket::messageReceived);
    QVERIFY(client.sendMessage(MessageType::Delete, 3, encode(SurfacePayload{9})));
    QTRY_COMPARE(received.size(), 1);
}

void tst_BlightSocket::connectErrors_data()
{
    QTest::addColumn<QString>("endpoint");
    QTest::addColumn<BlightSocket::Error>("error");
    QTest::addRow("garbage") << QStringLiteral("nonsense") << BlightSocket::Error::InvalidEndpoint;
    QTest::addRow("no-unix-server") << QStringLiteral("unix:/nonexistent/blight.sock")
                                    << BlightSocket::Error::ConnectionRefused;
    QTest::addRow("tcp-refused") << QStringLiteral("tcp://127.0.0.1:1") << BlightSocket::Error::ConnectionRefused;
    QTest::addRow("bad-fd") << QStringLiteral("fd:987654") << BlightSocket::Error::InvalidDescriptor;
}

void tst_BlightSocket::connectErrors()
{
    QFETCH(QString, endpoint);
    QFETCH(BlightSocket::Error, error);
    BlightSocket socket;
    QSignalSpy errors(&socket, &BlightSocket::errorOccurred);
    QSignalSpy disconnected(&socket, &BlightSocket::disconnected);
    socket.connectToEndpoint(endpoint);
    QCOMPARE(errors.size(), 0); // always reported asynchronously
    QTRY_COMPARE(errors.size(), 1);
    QCOMPARE(errors.at(0).at(0).value<BlightSocket::Error>(), error);
    QVERIFY(!errors.at(0).at(1).toString().isEmpty());
    QTRY_COMPARE(disconnected.size(), 1);
    QCOMPARE(socket.state(), BlightSocket::State::Unconnected);
}

void tst_BlightSocket::udpDatagrams()
{
    auto pair = makePair(QStringLiteral("udp4"));
    QVERIFY(pair.ok);
    QCOMPARE(pair.a->kind(), BlightSocket::SocketKind::Udp4);
    QSignalSpy received(pair.b.get(), &BlightSocket::messageReceived);
    for (quint32 i = 0; i < 20; ++i)
        QVERIFY(pair.a->sendMessage(MessageType::Ack, i, TestUtil::pattern(1000 + i, int(i))));
    QTRY_COMPARE(received.size(), 20);
    for (int i = 0; i < 20; ++i) {
        const auto message = received.at(i).at(0).value<Message>();
        QCOMPARE(message.ackid(), quint32(i));
        QCOMPARE(message.payload, TestUtil::pattern(1000 + i, i));
    }
    // One message per datagram: one that cannot fit is refused, clearly.
    QVERIFY(!pair.a->sendMessage(MessageType::Ack, 99, QByteArray(65507 - HeaderSize + 1, 'x')));
    QCOMPARE(pair.a->lastSendError(), BlightSocket::Error::MessageTooLarge);
    QVERIFY(pair.a->sendMessage(MessageType::Ack, 100, QByteArray(65507 - HeaderSize, 'y')));
    QTRY_COMPARE(received.size(), 21);
    QCOMPARE(received.at(20).at(0).value<Message>().payload.size(), 65507 - HeaderSize);
    // Replies go back to the first peer.
    QSignalSpy back(pair.a.get(), &BlightSocket::messageReceived);
    QVERIFY(pair.b->sendMessage(MessageType::Focus, 5, {}));
    QTRY_COMPARE(back.size(), 1);
}

class Producer : public QObject
{
    Q_OBJECT
public:
    void produce(int count)
    {
        for (int i = 0; i < count; ++i)
            Q_EMIT message(MessageType::Wait, quint32(i), encode(WaitPayload{quint32(i)}));
    }
Q_SIGNALS:
    void message(Blight::MessageType type, quint32 ackid, const QByteArray &payload);
};

void tst_BlightSocket::crossThreadQueuedSends()
{
    // A service thread emits; the socket lives in the main thread. The
    // queued connection delivers every message, in order.
    auto pair = makePair(QStringLiteral("unix"));
    QVERIFY(pair.ok);
    QList<quint32> ackids;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&](const Message &m) { ackids.append(m.ackid()); });
    QThread thread;
    Producer producer;
    producer.moveToThread(&thread);
    connect(&producer, &Producer::message, pair.a.get(),
            qOverload<MessageType, quint32, const QByteArray &>(&BlightSocket::sendMessage), Qt::QueuedConnection);
    thread.start();
    constexpr int Count = 5000;
    QMetaObject::invokeMethod(&producer, [&] { producer.produce(Count); });
    QTRY_COMPARE_WITH_TIMEOUT(ackids.size(), Count, 20000);
    for (int i = 0; i < Count; ++i)
        QCOMPARE(ackids.at(i), quint32(i));
    thread.quit();
    thread.wait();
    // Far fewer system calls than messages: queued sends coalesce per turn.
    QVERIFY2(pair.a->statistics().sendCalls < Count / 4, qPrintable(QString::number(pair.a->statistics().sendCalls)));
}

void tst_BlightSocket::socketInWorkerThread()
{
    // The socket object moved to a worker thread does all its I/O there.
    int fds[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    BlightSocket receiver;
    QVERIFY(receiver.setSocketDescriptor(fds[1]));
    QSignalSpy received(&receiver, &BlightSocket::messageReceived);
    QThread thread;
    auto *sender = new BlightSocket;
    sender->moveToThread(&thread);
    connect(&thread, &QThread::finished, sender, &QObject::deleteLater);
    thread.start();
    QMetaObject::invokeMethod(sender, [sender, fd = fds[0]] {
        sender->setSocketDescriptor(fd);
        for (quint32 i = 0; i < 300; ++i)
            sender->sendMessage(MessageType::Ack, i, QByteArray(int(i % 50) * 100, char(i)));
    });
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 300, 20000);
    for (int i = 0; i < 300; ++i) {
        const auto message = received.at(i).at(0).value<Message>();
        QCOMPARE(message.ackid(), quint32(i));
        QCOMPARE(message.payload, QByteArray((i % 50) * 100, char(i)));
    }
    thread.quit();
    thread.wait();
}

QTEST_GUILESS_MAIN(tst_BlightSocket)
#include "tst_blightsocket.moc"
