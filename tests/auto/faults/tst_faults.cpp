// SPDX-License-Identifier: MIT
// Fault injection: peers that hang up or reset mid-message or with zero-copy
// buffers in flight, a reader that stops for seconds, ENOBUFS storms,
// descriptors that must be refused, malformed input next to healthy
// connections, and the CLI's listen facing a hostile peer. Each checks that
// nothing is lost or freed early and that the error says what happened.
#include "netns.h"
#include "testutil.h"

#include <BlightTransport/blightserver.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

#include <arpa/inet.h>
#include <cstring>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;
using TestUtil::headerBytes;
using TestUtil::makePair;

namespace {

quint16 portOf(const QString &endpoint)
{
    return Endpoint::parse(endpoint).port();
}

// A plain TCP client (for writing exact bytes, resetting, not reading).
int rawTcpConnect(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

quint16 localPort(int fd)
{
    sockaddr_in address{};
    socklen_t length = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length);
    return ntohs(address.sin_port);
}

// Closing with SO_LINGER {1, 0} sends a RST instead of a FIN.
void resetAndClose(int fd)
{
    const linger hard{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &hard, sizeof(hard));
    ::close(fd);
}

bool writeAll(int fd, const QByteArray &bytes)
{
    return ::send(fd, bytes.constData(), size_t(bytes.size()), MSG_NOSIGNAL) == bytes.size();
}

// A BlightSocket accepted by a server from a raw TCP client.
struct RawTcpPeer
{
    std::unique_ptr<BlightServer> server;
    BlightSocket *socket = nullptr; // child of server
    int fd = -1;
};

RawTcpPeer rawTcpPeer()
{
    RawTcpPeer peer;
    peer.server = std::make_unique<BlightServer>();
    if (!peer.server->listen(QStringLiteral("tcp://127.0.0.1:0")))
        return peer;
    QSignalSpy accepted(peer.server.get(), &BlightServer::newConnection);
    peer.fd = rawTcpConnect(portOf(peer.server->endpoint()));
    if (peer.fd < 0 || (accepted.isEmpty() && !accepted.wait(5000)))
        return peer;
    peer.socket = peer.server->nextPendingConnection();
    return peer;
}

QByteArray message(MessageType type, quint32 ackid, const QByteArray &payload = {})
{
    return headerBytes(qint32(type), ackid, quint32(payload.size())) + payload;
}

} // namespace

class tst_Faults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();

    void peerHangsUpMidMessage_data();
    void peerHangsUpMidMessage();
    void hangUpReasonCountsBytesReceived_data();
    void hangUpReasonCountsBytesReceived();
    void peerResetsWithZeroCopyBuffersPending();
    void readerStopsForSeconds_data();
    void readerStopsForSeconds();
    void noBuffersStorm();
    void refusedDescriptors_data();
    void refusedDescriptors();
    void descriptorAlreadyAdopted();
    void malformedPeerOthersCarryOn_data();
    void malformedPeerOthersCarryOn();
    void cliSurvivesHostilePeer_data();
    void cliSurvivesHostilePeer();

private:
    bool m_inNamespace = false;
    QString m_namespaceWhy;
    int m_originalOptmem = -1;
};

void tst_Faults::initTestCase()
{
    qRegisterMetaType<Message>();
    // The ENOBUFS storm changes optmem_max, which is per network namespace:
    // only inside a private one. Everything else runs anywhere.
    m_inNamespace = TestUtil::enterPrivateNetworkNamespace(&m_namespaceWhy);
    if (m_inNamespace)
        m_originalOptmem = TestUtil::optmemMax();
    else
        qInfo("the ENOBUFS storm will be skipped: %s", qPrintable(m_namespaceWhy));
}

void tst_Faults::cleanupTestCase()
{
    if (m_inNamespace && m_originalOptmem > 0) {
        QString why;
        TestUtil::setOptmemMax(m_originalOptmem, &why);
    }
}

void tst_Faults::peerHangsUpMidMessage_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QByteArray>("tail");
    QTest::addColumn<bool>("reset");
    QTest::addColumn<BlightSocket::Error>("error");
    QTest::addColumn<QString>("reason");
    const QByteArray repaint = headerBytes(qint32(MessageType::Repaint), 9, 36) + QByteArray(36, 'r');
    for (const QString &kind : {QStringLiteral("unix"), QStringLiteral("tcp4")}) {
        QTest::addRow("%s-close-mid-header", qPrintable(kind))
            << kind << repaint.left(7) << false << BlightSocket::Error::RemoteClosed
            << QStringLiteral("middle of a message");
        QTest::addRow("%s-close-mid-payload", qPrintable(kind))
            << kind << repaint.left(HeaderSize + 20) << false << BlightSocket::Error::RemoteClosed
            << QStringLiteral("middle of a message");
    }
    QTest::addRow("tcp4-reset-mid-header") << QStringLiteral("tcp4") << repaint.left(5) << true
                                           << BlightSocket::Error::ConnectionReset << QStringLiteral("reset");
    QTest::addRow("tcp4-reset-mid-payload") << QStringLiteral("tcp4") << repaint.left(HeaderSize + 30) << true
                                            << BlightSocket::Error::ConnectionReset << QStringLiteral("reset");
}

void tst_Faults::peerHangsUpMidMessage()
{
    QFETCH(QString, kind);
    QFETCH(QByteArray, tail);
    QFETCH(bool, reset);
    QFETCH(BlightSocket::Error, error);
    QFETCH(QString, reason);

    std::unique_ptr<BlightSocket> unixSocket;
    RawTcpPeer tcp;
    BlightSocket *socket = nullptr;
    int peer = -1;
    if (kind == u"unix") {
        auto raw = TestUtil::makeRawPeer();
        unixSocket = std::move(raw.first);
        socket = unixSocket.get();
        peer = raw.second;
    } else {
        tcp = rawTcpPeer();
        socket = tcp.socket;
        peer = tcp.fd;
    }
    QVERIFY(socket && peer >= 0);
    QList<quint32> ackids;
    connect(socket, &BlightSocket::messageReceived, this, [&](const Message &m) { ackids.append(m.ackid()); });
    QSignalSpy errors(socket, &BlightSocket::errorOccurred);
    QSignalSpy disconnected(socket, &BlightSocket::disconnected);

    // Complete messages first: every one of them must arrive before the error.
    QByteArray wire;
    for (quint32 i = 0; i < 5; ++i)
        wire += message(MessageType::Wait, i, encode(WaitPayload{i}));
    QVERIFY(writeAll(peer, wire + tail));
    QTRY_COMPARE(socket->bytesReceived(), quint64(wire.size() + tail.size()));
    if (reset)
        resetAndClose(peer);
    else
        ::close(peer);

    QTRY_COMPARE(disconnected.size(), 1);
    QCOMPARE(ackids, (QList<quint32>{0, 1, 2, 3, 4}));
    QCOMPARE(errors.size(), 1);
    QCOMPARE(errors.at(0).at(0).value<BlightSocket::Error>(), error);
    const QString text = errors.at(0).at(1).toString();
    QVERIFY2(text.contains(reason), qPrintable(text));
    QCOMPARE(socket->errorString(), text);
    QCOMPARE(socket->state(), BlightSocket::State::Unconnected);
    QCOMPARE(socket->socketDescriptor(), -1);
}

void tst_Faults::hangUpReasonCountsBytesReceived_data()
{
    QTest::addColumn<QByteArray>("tail");
    const QByteArray repaint = headerBytes(qint32(MessageType::Repaint), 9, 36) + QByteArray(36, 'r');
    QTest::addRow("mid-header-7") << repaint.left(7);
    QTest::addRow("header-only-12") << repaint.left(HeaderSize);
    QTest::addRow("mid-payload-32") << repaint.left(HeaderSize + 20);
}

void tst_Faults::hangUpReasonCountsBytesReceived()
{
    // The reason names how much of the unfinished message arrived: all of
    // it, header included, or the number misleads whoever reads the log.
    QFETCH(QByteArray, tail);
    auto [socket, peer] = TestUtil::makeRawPeer();
    QVERIFY(socket);
    QSignalSpy errors(socket.get(), &BlightSocket::errorOccurred);
    QVERIFY(writeAll(peer, tail));
    QTRY_COMPARE(socket->bytesReceived(), quint64(tail.size()));
    ::close(peer);
    QTRY_COMPARE(errors.size(), 1);
    const QString reason = errors.at(0).at(1).toString();
    QVERIFY2(reason.contains(QStringLiteral("(%1 bytes of it received)").arg(tail.size())), qPrintable(reason));
}

void tst_Faults::peerResetsWithZeroCopyBuffersPending()
{
    // A peer that stops reading, then resets, while zero-copy frames wait in
    // the kernel. The socket must hold every frame until the kernel released
    // it or the teardown made it drop the data, and report the reset.
    RawTcpPeer peer = rawTcpPeer();
    QVERIFY(peer.socket && peer.fd >= 0);
    BlightSocket *socket = peer.socket;
    socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    QVERIFY(socket->isZeroCopyActive());

    QList<QByteArray> frames;
    auto detachedCount = [&frames] {
        return int(std::count_if(frames.cbegin(), frames.cend(), [](const QByteArray &f) { return f.isDetached(); }));
    };
    for (int i = 0; i < 8; ++i) {
        frames.append(TestUtil::pattern(4 * 1024 * 1024, i));
        QVERIFY(socket->sendMessage(MessageType::Ack, quint32(i), frames.last()));
    }
    QTRY_VERIFY(socket->pendingBuffers() > 0);
    // The peer reads nothing: the kernel keeps the pages, and so does the socket.
    QTest::qWait(100);
    QVERIFY(socket->pendingBuffers() > 0);
    QVERIFY(detachedCount() < frames.size());

    // A frame may become the caller's alone only when the socket reported a
    // release or ended; watch for it at every turn of the event loop.
    int allowedDetached = detachedCount();
    QString early;
    auto check = [&](const char *when) {
        if (detachedCount() > allowedDetached && early.isEmpty())
            early = QStringLiteral("%1 frames let go before a release (%2)")
                        .arg(detachedCount() - allowedDetached)
                        .arg(QLatin1StringView(when));
    };
    connect(socket, &BlightSocket::buffersReleased, this, [&] { allowedDetached = detachedCount(); });
    connect(socket, &BlightSocket::disconnected, this, [&] { allowedDetached = detachedCount(); });
    connect(socket, &BlightSocket::errorOccurred, this, [&] { check("at the error"); });
    QTimer watcher;
    connect(&watcher, &QTimer::timeout, this, [&] { check("between events"); });
    watcher.start(0);

    QSignalSpy errors(socket, &BlightSocket::errorOccurred);
    QSignalSpy disconnected(socket, &BlightSocket::disconnected);
    resetAndClose(peer.fd);
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, 10000);
    watcher.stop();
    QVERIFY2(early.isEmpty(), qPrintable(early));
    QCOMPARE(errors.size(), 1);
    const auto error = errors.at(0).at(0).value<BlightSocket::Error>();
    const QString reason = errors.at(0).at(1).toString();
    QVERIFY2(error == BlightSocket::Error::ConnectionReset || error == BlightSocket::Error::BrokenPipe,
             qPrintable(reason));
    QVERIFY2(reason.contains(u"reset") || reason.contains(u"broken pipe"), qPrintable(reason));

    // The reset made the kernel drop the data and report every range: all
    // released, none orphaned, the caller's arrays are its own again.
    const SocketStatistics stats = socket->statistics();
    QCOMPARE(socket->pendingBuffers(), 0);
    QCOMPARE(stats.releasedBuffers, stats.zeroCopySends);
    QCOMPARE(detachedCount(), frames.size());
}

void tst_Faults::readerStopsForSeconds_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<BlightSocket::ZeroCopyMode>("zeroCopy");
    QTest::addRow("unix") << QStringLiteral("unix") << BlightSocket::ZeroCopyMode::Auto;
    QTest::addRow("tcp4-auto") << QStringLiteral("tcp4") << BlightSocket::ZeroCopyMode::Auto;
    QTest::addRow("tcp4-zerocopy-on") << QStringLiteral("tcp4") << BlightSocket::ZeroCopyMode::On;
}

void tst_Faults::readerStopsForSeconds()
{
    QFETCH(QString, kind);
    QFETCH(BlightSocket::ZeroCopyMode, zeroCopy);
    bool ok = false;
    const int stopMs = qEnvironmentVariableIntValue("BLIGHT_FAULTS_STOP_MS", &ok);
    const int stopFor = ok && stopMs > 0 ? stopMs : 2000;
    constexpr qint64 QueueLimit = 1024 * 1024;
    constexpr qint64 PendingLimit = 512 * 1024;
    constexpr qsizetype FrameSize = 64 * 1024;

    auto pair = makePair(kind);
    QVERIFY(pair.ok);
    BlightSocket *sender = pair.a.get();
    BlightSocket *receiver = pair.b.get();
    sender->setSendQueueLimit(QueueLimit);
    sender->setZeroCopyMode(zeroCopy);
    sender->setPendingBytesLimit(PendingLimit);
    QList<quint32> ackids;
    int corrupt = 0;
    connect(receiver, &BlightSocket::messageReceived, this, [&](const Message &m) {
        ackids.append(m.ackid());
        if (m.payload != TestUtil::pattern(FrameSize, int(m.ackid())))
            ++corrupt;
    });

    // The reader stops; a timer starts it again after the stop time.
    receiver->setReadingPaused(true);
    bool resumed = false;
    QTimer::singleShot(stopFor, receiver, [&] {
        resumed = true;
        receiver->setReadingPaused(false);
    });

    // The sender keeps trying every few milliseconds, whatever the answer.
    int sent = 0;
    int refusedWhileStopped = 0;
    qint64 peakQueued = 0;
    qint64 peakPending = 0;
    QString failure;
    QTimer producer;
    connect(&producer, &QTimer::timeout, this, [&] {
        for (int n = 0; n < 8 && failure.isEmpty(); ++n) {
            if (resumed && sent >= 400)
                return;
            if (!sender->sendMessage(MessageType::Ack, quint32(sent), TestUtil::pattern(FrameSize, sent))) {
                if (sender->lastSendError() != BlightSocket::Error::QueueFull)
                    failure = QStringLiteral("send refused with error %1").arg(int(sender->lastSendError()));
                else if (!resumed)
                    ++refusedWhileStopped;
                break;
            }
            ++sent;
            peakQueued = qMax(peakQueued, sender->queuedBytes());
            peakPending = qMax(peakPending, sender->pendingBytes());
        }
    });
    producer.start(2);

    QVERIFY(QTest::qWaitFor([&] { return resumed; }, stopFor + 30000));
    // While the reader was stopped the cap held: the sender was refused and
    // never queued (or pinned) more than its limits.
    QVERIFY2(refusedWhileStopped > 0, "the send queue never filled: the test proves nothing");
    QVERIFY(!sender->canSend() || sender->queuedBytes() <= QueueLimit / 2);
    QVERIFY2(peakQueued <= QueueLimit, qPrintable(QString::number(peakQueued)));
    QVERIFY(sender->statistics().peakQueuedBytes <= QueueLimit);
    QVERIFY2(peakPending <= PendingLimit + 2 * HeaderSize, qPrintable(QString::number(peakPending)));
    QVERIFY(sender->statistics().peakPendingBytes <= PendingLimit + 2 * HeaderSize);

    QTRY_COMPARE_WITH_TIMEOUT(ackids.size(), 400, 30000);
    producer.stop();
    QVERIFY2(failure.isEmpty(), qPrintable(failure));
    QCOMPARE(sent, 400);
    for (int i = 0; i < ackids.size(); ++i)
        QCOMPARE(ackids.at(i), quint32(i));
    QCOMPARE(corrupt, 0);
    QTRY_COMPARE(sender->pendingBuffers(), 0);
    QCOMPARE(sender->queuedBytes(), 0);
    QVERIFY(sender->canSend());
    QCOMPARE(sender->errorCount(), 0u);
    QCOMPARE(receiver->errorCount(), 0u);
}

void tst_Faults::noBuffersStorm()
{
    if (!m_inNamespace)
        QSKIP(qPrintable(QStringLiteral("needs a private network namespace (root): ") + m_namespaceWhy));
    // optmem_max at 1 KiB: almost every zero-copy send meets ENOBUFS until
    // completions are read. Two connections at once, the readers pausing:
    // ENOBUFS is back-pressure, never a lost, doubled or damaged message.
    QString why;
    QVERIFY2(TestUtil::setOptmemMax(1024, &why), qPrintable(why));
    auto restore = qScopeGuard([&] { TestUtil::setOptmemMax(m_originalOptmem, &why); });
    constexpr int Count = 96;
    TestUtil::Pair pairs[2] = {makePair(QStringLiteral("tcp4")), makePair(QStringLiteral("tcp4"))};
    QList<QList<quint32>> ackids(2);
    int corrupt = 0;
    for (int p = 0; p < 2; ++p) {
        QVERIFY(pairs[p].ok);
        pairs[p].a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
        pairs[p].a->setPendingBuffersLimit(100000); // let the kernel refuse, not the budget
        connect(pairs[p].b.get(), &BlightSocket::messageReceived, this, [&, p](const Message &m) {
            ackids[p].append(m.ackid());
            if (m.payload != TestUtil::pattern(m.payload.size(), int(m.ackid()) + p))
                ++corrupt;
        });
    }
    QTimer pauser;
    int flips = 0;
    connect(&pauser, &QTimer::timeout, this, [&] {
        auto *reader = pairs[flips % 2].b.get();
        reader->setReadingPaused(!reader->isReadingPaused());
        ++flips;
    });
    pauser.start(7);
    for (int i = 0; i < Count; ++i) {
        for (int p = 0; p < 2; ++p) {
            const qsizetype size = 16 * 1024 + (i * 4099) % (200 * 1024);
            QVERIFY(pairs[p].a->sendMessage(MessageType::Ack, quint32(i), TestUtil::pattern(size, i + p)));
        }
    }
    const bool arrived = QTest::qWaitFor([&] { return ackids[0].size() >= Count && ackids[1].size() >= Count; }, 30000);
    pauser.stop();
    for (int p = 0; p < 2 && !arrived; ++p)
        pairs[p].b->setReadingPaused(false);
    QVERIFY2(arrived || QTest::qWaitFor([&] { return ackids[0].size() >= Count && ackids[1].size() >= Count; }, 10000),
             qPrintable(
                 QStringLiteral("%1 and %2 of %3 arrived").arg(ackids[0].size()).arg(ackids[1].size()).arg(Count)));
    for (int p = 0; p < 2; ++p) {
        pairs[p].b->setReadingPaused(false);
        QCOMPARE(ackids[p].size(), Count);
        for (int i = 0; i < Count; ++i)
            QCOMPARE(ackids[p].at(i), quint32(i));
        QTRY_COMPARE(pairs[p].a->pendingBuffers(), 0);
        QCOMPARE(pairs[p].a->queuedBytes(), 0);
        QCOMPARE(pairs[p].a->state(), BlightSocket::State::Connected);
        QCOMPARE(pairs[p].a->errorCount(), 0u);
    }
    QCOMPARE(corrupt, 0);
    const quint64 noBuffers = pairs[0].a->statistics().noBufferErrors + pairs[1].a->statistics().noBufferErrors;
    qInfo("ENOBUFS storm: %llu sends met ENOBUFS, %d messages each way arrived intact", noBuffers, Count);
    QVERIFY2(noBuffers > 0, "ENOBUFS never happened: the test proves nothing");
}

void tst_Faults::refusedDescriptors_data()
{
    // tst_blightsocket covers pipes, files, closed, negative, listening,
    // netlink and unconnected TCP; these are the remaining kinds.
    QTest::addColumn<QString>("what");
    QTest::addColumn<QString>("reason");
    QTest::addRow("unix-datagram") << QStringLiteral("unix-dgram") << QStringLiteral("only AF_UNIX stream/seqpacket");
    QTest::addRow("udp-unconnected") << QStringLiteral("udp") << QStringLiteral("not connected");
    QTest::addRow("packet") << QStringLiteral("packet") << QStringLiteral("only AF_UNIX");
    QTest::addRow("raw-inet") << QStringLiteral("raw") << QStringLiteral("only AF_UNIX");
}

void tst_Faults::refusedDescriptors()
{
    QFETCH(QString, what);
    QFETCH(QString, reason);
    int fd = -1;
    int other = -1;
    if (what == u"unix-dgram") {
        int fds[2];
        QCOMPARE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fds), 0);
        fd = fds[0];
        other = fds[1];
    } else if (what == u"udp") {
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    } else if (what == u"packet") {
        fd = ::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
    } else if (what == u"raw") {
        fd = ::socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_UDP);
    }
    if (fd < 0 && (what == u"packet" || what == u"raw"))
        QSKIP(qPrintable(QStringLiteral("cannot create the socket (%1): needs CAP_NET_RAW (root)")
                             .arg(QString::fromLocal8Bit(std::strerror(errno)))));
    QVERIFY(fd >= 0);
    BlightSocket socket;
    QSignalSpy errors(&socket, &BlightSocket::errorOccurred);
    QVERIFY(!socket.setSocketDescriptor(fd));
    QCOMPARE(socket.error(), BlightSocket::Error::InvalidDescriptor);
    QVERIFY2(socket.errorString().contains(reason), qPrintable(socket.errorString()));
    QVERIFY2(socket.errorString().contains(QString::number(fd)), qPrintable(socket.errorString()));
    QCOMPARE(socket.state(), BlightSocket::State::Unconnected);
    QCOMPARE(socket.socketDescriptor(), -1);
    QCOMPARE(errors.size(), 0); // a refusal is a return value, not a connection error
    // The refused descriptor stays the caller's.
    QVERIFY(::fcntl(fd, F_GETFD) != -1);
    ::close(fd);
    if (other >= 0)
        ::close(other);
}

void tst_Faults::descriptorAlreadyAdopted()
{
    // Two objects on one descriptor would both read from it (splitting the
    // stream between them) and both close it (possibly closing a descriptor
    // reused by someone else by then). The second adoption must be refused.
    int fds[2];
    QCOMPARE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    auto closePeer = qScopeGuard([&] { ::close(fds[1]); });
    BlightSocket first;
    QVERIFY(first.setSocketDescriptor(fds[0]));
    BlightSocket second;
    const bool adoptedTwice = second.setSocketDescriptor(fds[0], BlightSocket::Ownership::Borrow);
    auto release = qScopeGuard([&] { second.abort(); });
    QVERIFY2(!adoptedTwice, "a descriptor already adopted by another BlightSocket was adopted again");
    QCOMPARE(second.error(), BlightSocket::Error::InvalidDescriptor);
    QVERIFY2(second.errorString().contains(QString::number(fds[0])), qPrintable(second.errorString()));
    // A dup() of the descriptor is the same socket: refused as well.
    const int duplicate = ::fcntl(fds[0], F_DUPFD_CLOEXEC, 3);
    QVERIFY(duplicate >= 0);
    auto closeDuplicate = qScopeGuard([&] { ::close(duplicate); });
    BlightSocket third;
    QVERIFY(!third.setSocketDescriptor(duplicate, BlightSocket::Ownership::Borrow));
    QVERIFY2(third.errorString().contains(u"already used"), qPrintable(third.errorString()));
    // The first owner is undisturbed.
    QSignalSpy received(&first, &BlightSocket::messageReceived);
    const QByteArray wire = message(MessageType::Focus, 3);
    QVERIFY(writeAll(fds[1], wire));
    QTRY_COMPARE(received.size(), 1);
}

void tst_Faults::malformedPeerOthersCarryOn_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("validFirst");
    QTest::addColumn<QString>("reason");
    QTest::addRow("invalid-type") << headerBytes(42, 1, 0) << 0 << QStringLiteral("invalid message type 42");
    QTest::addRow("size-over-cap") << headerBytes(qint32(MessageType::Ack), 1, 4097) + QByteArray(4097, 'x') << 0
                                   << QStringLiteral("over the cap of 4096");
    QTest::addRow("move-without-payload")
        << headerBytes(qint32(MessageType::Move), 1, 0) << 0 << QStringLiteral("no payload");
    QTest::addRow("garbage-after-valid") << message(MessageType::Lower, 1, encode(SurfacePayload{2}))
            + QByteArray("\xde\xad\xbe\xef garbage!", 13)
                                         << 1 << QStringLiteral("invalid message type");
}

void tst_Faults::malformedPeerOthersCarryOn()
{
    QFETCH(QByteArray, bytes);
    QFETCH(int, validFirst);
    QFETCH(QString, reason);
    BlightServer server;
    QVERIFY2(server.listen(QStringLiteral("tcp://127.0.0.1:0")), qPrintable(server.errorString()));
    QList<BlightSocket *> accepted;
    QHash<BlightSocket *, QList<quint32>> receivedBy;
    connect(&server, &BlightServer::newConnection, this, [&] {
        while (BlightSocket *socket = server.nextPendingConnection()) {
            socket->setMaxPayloadSize(4096);
            accepted.append(socket);
            connect(socket, &BlightSocket::messageReceived, this,
                    [&receivedBy, socket](const Message &m) { receivedBy[socket].append(m.ackid()); });
        }
    });

    // Two healthy clients and one hostile one on the same server.
    BlightSocket good[2];
    for (BlightSocket &client : good) {
        QSignalSpy connected(&client, &BlightSocket::connected);
        client.connectToEndpoint(server.endpoint());
        QVERIFY(connected.wait(5000));
    }
    const int hostile = rawTcpConnect(portOf(server.endpoint()));
    QVERIFY(hostile >= 0);
    auto closeHostile = qScopeGuard([&] { ::close(hostile); });
    QTRY_COMPARE(accepted.size(), 3);
    const QString hostileEnd = QStringLiteral(":%1").arg(localPort(hostile));
    BlightSocket *victim = nullptr;
    for (BlightSocket *socket : std::as_const(accepted)) {
        if (socket->endpoint().endsWith(hostileEnd))
            victim = socket;
    }
    QVERIFY2(victim, qPrintable(hostileEnd));
    QSignalSpy victimErrors(victim, &BlightSocket::errorOccurred);
    QSignalSpy victimGone(victim, &BlightSocket::disconnected);

    auto sendSome = [&](quint32 from, quint32 count) {
        for (quint32 i = from; i < from + count; ++i) {
            for (BlightSocket &client : good)
                QVERIFY(client.sendMessage(MessageType::Wait, i, encode(WaitPayload{i})));
        }
    };
    sendSome(0, 50);
    QVERIFY(writeAll(hostile, bytes));
    sendSome(50, 50);
    QTRY_COMPARE(victimGone.size(), 1);
    sendSome(100, 50);

    // The hostile connection ended with the reason; the peer sees the end.
    QCOMPARE(victimErrors.size(), 1);
    QCOMPARE(victimErrors.at(0).at(0).value<BlightSocket::Error>(), BlightSocket::Error::ProtocolError);
    QVERIFY2(victimErrors.at(0).at(1).toString().contains(reason), qPrintable(victimErrors.at(0).at(1).toString()));
    QCOMPARE(receivedBy.value(victim).size(), validFirst);
    char byte;
    QTRY_COMPARE(::recv(hostile, &byte, 1, MSG_DONTWAIT), 0);

    // The others carried on: every message, in order, none lost.
    QList<quint32> expected;
    for (quint32 i = 0; i < 150; ++i)
        expected.append(i);
    for (BlightSocket *socket : std::as_const(accepted)) {
        if (socket == victim)
            continue;
        QTRY_COMPARE(receivedBy.value(socket).size(), 150);
        QCOMPARE(receivedBy.value(socket), expected);
        QCOMPARE(socket->state(), BlightSocket::State::Connected);
        QCOMPARE(socket->errorCount(), 0u);
    }
    for (BlightSocket &client : good)
        QCOMPARE(client.errorCount(), 0u);
    // And the server still accepts.
    QVERIFY(server.isListening());
    BlightSocket late;
    late.connectToEndpoint(server.endpoint());
    QTRY_COMPARE(accepted.size(), 4);
}

void tst_Faults::cliSurvivesHostilePeer_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("hangUp");
    QTest::addColumn<int>("validFirst");
    QTest::addColumn<QString>("reason");
    QTest::addRow("invalid-type") << headerBytes(-1, 1, 0) << false << 0 << QStringLiteral("invalid message type -1");
    QTest::addRow("size-over-cap") << headerBytes(qint32(MessageType::Ack), 2, 1 << 20) << false << 0
                                   << QStringLiteral("over the cap of 4096");
    QTest::addRow("repaint-without-payload")
        << headerBytes(qint32(MessageType::Repaint), 3, 0) << false << 0 << QStringLiteral("no payload");
    QTest::addRow("garbage-after-valid") << message(MessageType::Focus, 4) + QByteArray(16, '\xff') << false << 1
                                         << QStringLiteral("invalid message type -1");
    QTest::addRow("hang-up-mid-payload") << headerBytes(qint32(MessageType::Ack), 5, 100) + QByteArray(40, 'h') << true
                                         << 0 << QStringLiteral("middle of a message");
}

void tst_Faults::cliSurvivesHostilePeer()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, hangUp);
    QFETCH(int, validFirst);
    QFETCH(QString, reason);
    QProcess cli;
    QByteArray errorText;
    QByteArray outputText;
    connect(&cli, &QProcess::readyReadStandardError, this, [&] { errorText += cli.readAllStandardError(); });
    connect(&cli, &QProcess::readyReadStandardOutput, this, [&] { outputText += cli.readAllStandardOutput(); });
    cli.start(QStringLiteral(BLIGHT_CLI),
              {QStringLiteral("listen"), QStringLiteral("tcp://127.0.0.1:0"), QStringLiteral("--keep-listening"),
               QStringLiteral("--max-payload"), QStringLiteral("4096")});
    QVERIFY2(cli.waitForStarted(10000), qPrintable(cli.errorString()));
    auto stop = qScopeGuard([&] {
        cli.kill();
        cli.waitForFinished(10000);
    });
    static const QRegularExpression listening(QStringLiteral("listening on tcp://127\\.0\\.0\\.1:(\\d+)"));
    QRegularExpressionMatch match;
    QTRY_VERIFY_WITH_TIMEOUT((match = listening.match(QString::fromLocal8Bit(errorText))).hasMatch(), 20000);
    const quint16 port = quint16(match.captured(1).toUInt());
    QVERIFY(port != 0);

    // The hostile peer.
    const int hostile = rawTcpConnect(port);
    QVERIFY(hostile >= 0);
    QVERIFY(writeAll(hostile, bytes));
    if (hangUp)
        ::shutdown(hostile, SHUT_WR);
    QTRY_VERIFY_WITH_TIMEOUT(QString::fromLocal8Bit(errorText).contains(u"waiting for the next connection"), 10000);
    const QString log = QString::fromLocal8Bit(errorText);
    QVERIFY2(log.contains(QStringLiteral("connection ended: ")) && log.contains(reason), qPrintable(log));
    char byte;
    QTRY_COMPARE(::recv(hostile, &byte, 1, MSG_DONTWAIT), 0); // the CLI ended that connection
    ::close(hostile);
    QCOMPARE(cli.state(), QProcess::Running);

    // The next connection is accepted and works.
    BlightSocket client;
    QSignalSpy connected(&client, &BlightSocket::connected);
    client.connectToEndpoint(QStringLiteral("tcp://127.0.0.1:%1").arg(port));
    QVERIFY(connected.wait(10000));
    RepaintPayload repaint;
    repaint.width = 640;
    repaint.height = 480;
    repaint.marker = 17;
    const QByteArray payload = encode(repaint);
    QVERIFY(client.sendMessage(MessageType::Repaint, 77, payload));
    QTRY_COMPARE_WITH_TIMEOUT(outputText.count('\n'), validFirst + 1, 10000);
    const QList<QByteArray> lines = outputText.trimmed().split('\n');
    const QJsonObject last = QJsonDocument::fromJson(lines.last()).object();
    QCOMPARE(last.value(u"type").toString(), QStringLiteral("repaint"));
    QCOMPARE(last.value(u"ackid").toInteger(), 77);
    QCOMPARE(last.value(u"size").toInteger(), 36);
    QCOMPARE(last.value(u"sha256").toString(),
             QString::fromLatin1(QCryptographicHash::hash(payload, QCryptographicHash::Sha256).toHex()));
    QCOMPARE(cli.state(), QProcess::Running);
}

QTEST_GUILESS_MAIN(tst_Faults)
#include "tst_faults.moc"
