// SPDX-License-Identifier: MIT
// tst_sharedmemorytcp: shared memory between two sockets of this library on
// TCP loopback, where the pool descriptors go through the descriptor channel
// (docs/shared-memory.md, "Over TCP on loopback"), and one socket against a
// hostile TCP peer written here: it reads the socket's Channel message off
// the stream and then lies about the channel. Every test counts the
// process's descriptors before and after.
#include "hostilepeer.h"

#include <testutil.h>

#include <BlightTransport/blightbufferpool.h>
#include <BlightTransport/blightsocket.h>

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <cerrno>
#include <fcntl.h>
#include <cstring>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace Blight;
namespace Peer = HostilePeer;

namespace {

constexpr qsizetype FrameBytes = 512 * 1024 + 17;
constexpr qint64 PoolBytes = 64 * 1024;
// The socket's first bytes on a TCP connection with shared memory on: its
// Offer (12 + 24) and its Channel (12 + 88).
constexpr qsizetype OfferAndChannelBytes = 36 + 100;

// A TCP connection on loopback: a BlightSocket on one end, a plain
// descriptor on the other.
struct RawTcp
{
    std::unique_ptr<BlightSocket> socket;
    int peer = -1;
    ~RawTcp()
    {
        if (peer >= 0)
            ::close(peer);
    }
};

bool makeRawTcp(RawTcp *out, bool sharedMemory)
{
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    const bool listening = listener >= 0 && ::bind(listener, reinterpret_cast<sockaddr *>(&address), length) == 0
        && ::listen(listener, 1) == 0 && ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) == 0;
    const int client = listening ? ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
    const bool connected = client >= 0 && ::connect(client, reinterpret_cast<sockaddr *>(&address), length) == 0;
    const int accepted = connected ? ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC) : -1;
    if (listener >= 0)
        ::close(listener);
    if (accepted < 0) {
        if (client >= 0)
            ::close(client);
        return false;
    }
    out->peer = client;
    out->socket = std::make_unique<BlightSocket>();
    out->socket->setSharedMemoryEnabled(sharedMemory);
    return out->socket->setSocketDescriptor(accepted);
}

// Reads exactly \a size bytes from the raw peer, letting the socket's event
// loop run meanwhile (its first bytes leave from the loop).
QByteArray readExactly(int fd, qsizetype size)
{
    QByteArray bytes;
    (void)QTest::qWaitFor([&] { // the caller compares the size
        char chunk[4096];
        const ssize_t got = ::recv(fd, chunk, size_t(qMin<qsizetype>(sizeof(chunk), size - bytes.size())),
                                   MSG_DONTWAIT);
        if (got > 0)
            bytes.append(chunk, got);
        return bytes.size() == size || got == 0;
    });
    return bytes;
}

// A connection to the abstract AF_UNIX socket a Channel message names by
// \a name (its payload's bytes 16..31); -1 if refused.
int connectToChannel(const QByteArray &name)
{
    const QByteArray path = QByteArrayLiteral("blight-fd-") + name.toHex();
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, path.constData(), size_t(path.size()));
    const int fd = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    const socklen_t length = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + size_t(path.size()));
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr *>(&address), length) == 0)
        return fd;
    if (fd >= 0)
        ::close(fd);
    return -1;
}

bool sendRecord(int channel, const QByteArray &bytes, const QList<int> &descriptors = {})
{
    return Peer::send(channel, bytes, descriptors);
}

// One record from a SEQPACKET socket: its bytes and descriptors (owned by
// the caller).
QByteArray receiveRecord(int fd, QList<int> *descriptors)
{
    char data[256];
    alignas(cmsghdr) char control[CMSG_SPACE(4 * sizeof(int))];
    iovec vector{data, sizeof(data)};
    msghdr message{};
    message.msg_iov = &vector;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof(control);
    const ssize_t got = ::recvmsg(fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    for (cmsghdr *c = CMSG_FIRSTHDR(&message); got >= 0 && c; c = CMSG_NXTHDR(&message, c)) {
        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i) {
            int descriptor;
            std::memcpy(&descriptor, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            descriptors->append(descriptor);
        }
    }
    return got > 0 ? QByteArray(data, got) : QByteArray();
}

// The socket's Channel message, as the raw peer read it off the stream.
struct SocketChannel
{
    QByteArray name, token, local, peer;
    bool ok = false;
};

SocketChannel readSocketChannel(int fd)
{
    SocketChannel channel;
    const QByteArray first = readExactly(fd, OfferAndChannelBytes);
    const QByteArray payload = first.mid(36 + 12);
    if (first.size() != OfferAndChannelBytes || payload.mid(8, 4) != QByteArray("\x05\0\0\0", 4))
        return channel; // kind 5 right behind the offer
    channel.name = payload.mid(16, 16);
    channel.token = payload.mid(32, 16);
    channel.local = payload.mid(48, 20);
    channel.peer = payload.mid(68, 20);
    channel.ok = true;
    return channel;
}

// What a connector sends first: the token, its own endpoint, its peer's.
QByteArray proofFrom(int tcpPeer, const QByteArray &token)
{
    return token + Peer::localEndpoint(tcpPeer) + Peer::peerEndpoint(tcpPeer);
}

// Sends a frame of a shared pool with ackid \a ackid and checks that the
// raw peer gets its bytes on TCP (the copy path), and the buffer comes back.
bool sendsCopied(RawTcp &tcp, quint32 ackid)
{
    BlightBufferPool pool(1, PoolBytes, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    if (frame.isNull())
        return false;
    const QByteArray pattern = TestUtil::pattern(PoolBytes, int(ackid));
    std::memcpy(frame.data(), pattern.constData(), size_t(PoolBytes));
    if (tcp.socket->sendBuffer(MessageType::Ack, ackid, frame) == 0)
        return false;
    frame = BlightBuffer();
    const QByteArray wire = readExactly(tcp.peer, 12 + PoolBytes);
    return wire.left(12) == TestUtil::headerBytes(1, ackid, quint32(PoolBytes)) && wire.mid(12) == pattern
        && tcp.socket->statistics().sharedMemoryFramesSent == 0
        && QTest::qWaitFor([&pool] { return pool.available() == 1; });
}

enum class Lie {
    NeverConnects,
    ConnectsWithoutDescriptor,
    TwoDescriptorsInOneRecord,
    SecondChannel,
    ProofForAnotherConnection,
    ImpostorsFirst,
};

} // namespace

Q_DECLARE_METATYPE(Lie)

class tst_SharedMemoryTcp : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { m_descriptors = TestUtil::openDescriptors(); }
    void cleanup()
    {
        // Deferred deletions (notifiers) first: then every descriptor a
        // test opened, channels and listeners included, must be closed.
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
        QCOMPARE(TestUtil::openDescriptors(), m_descriptors);
    }

    void framesCrossOverTcp_data();
    void framesCrossOverTcp();
    void oneSideOnlyCopies();
    void bothWaysFromTwoPools();
    void enabledAfterThePeersChannel();
    void sendsThroughThePeersChannel();
    void channelLies_data();
    void channelLies();
    void echoedChannelIsRefused();
    void unreachableChannelTakesCopyPath();

private:
    int m_descriptors = 0;
};
void tst_SharedMemoryTcp::framesCrossOverTcp_data()
{
    QTest::addColumn<QString>("kind");
    QTest::newRow("IPv4 loopback") << QStringLiteral("tcp4");
    QTest::newRow("IPv6 loopback") << QStringLiteral("tcp6");
}

void tst_SharedMemoryTcp::framesCrossOverTcp()
{
    QFETCH(QString, kind);
    TestUtil::Pair pair = TestUtil::makePair(kind);
    if (!pair.ok && kind == u"tcp6")
        QSKIP("no IPv6 loopback on this machine");
    QVERIFY(pair.ok);
    pair.a->setSharedMemoryEnabled(true);
    pair.b->setSharedMemoryEnabled(true);
    QTRY_VERIFY(pair.a->isSharedMemoryActive() && pair.b->isSharedMemoryActive());
    QCOMPARE(pair.a->zeroCopyState(), BlightSocket::ZeroCopyState::SharedMemory);

    QList<BlightBuffer> frames;
    connect(pair.b.get(), &BlightSocket::bufferReceived, this,
            [&](MessageType, quint32, const BlightBuffer &frame) { frames.append(frame); });
    QList<SendIdRange> releases;
    connect(pair.a.get(), &BlightSocket::sendsReleased, this,
            [&](const QList<SendIdRange> &ranges) { releases += ranges; });

    BlightBufferPool pool(2, FrameBytes, BlightBufferPool::Backing::SharedMemory);
    for (int round = 0; round < 3; ++round) { // the pool's region is announced once
        for (int i = 0; i < 2; ++i) {
            BlightBuffer frame = pool.acquire();
            QVERIFY(!frame.isNull());
            const QByteArray pattern = TestUtil::pattern(FrameBytes, round * 2 + i);
            std::memcpy(frame.data(), pattern.constData(), size_t(FrameBytes));
            QVERIFY(pair.a->sendBuffer(MessageType::Ack, quint32(round * 2 + i + 1), frame) != 0);
        }
        QTRY_COMPARE(frames.size(), 2);
        for (int i = 0; i < 2; ++i) {
            QVERIFY(frames.at(i).isShared());
            QCOMPARE(QByteArray(frames.at(i).constData(), frames.at(i).size()),
                     TestUtil::pattern(FrameBytes, round * 2 + i));
        }
        frames.clear(); // the releases go back over TCP
        QTRY_COMPARE(pool.available(), 2);
    }
    QVERIFY(!releases.isEmpty());
    for (const SendIdRange &range : releases)
        QVERIFY(range.delivered);
    const SocketStatistics sent = pair.a->statistics();
    QCOMPARE(sent.sharedMemoryFramesSent, quint64(6));
    QCOMPARE(sent.userSpaceCopies, quint64(0));
    QVERIFY2(sent.bytesSent < 1024, qPrintable(QString::number(sent.bytesSent))); // no frame bytes on TCP
    QCOMPARE(pair.b->statistics().mappedPools, 1);
}

void tst_SharedMemoryTcp::oneSideOnlyCopies()
{
    // Only the sender enabled it: no channel is used, the frame is copied.
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setSharedMemoryEnabled(true);
    QList<QByteArray> payloads;
    connect(pair.b.get(), &BlightSocket::messageReceived, this,
            [&](const Message &message) { payloads.append(message.payload); });
    pair.b->sendMessage(MessageType::Focus, 1, {}); // after it, nothing more comes
    QTRY_COMPARE(pair.a->messagesReceived(), quint64(1));
    QVERIFY(!pair.a->isSharedMemoryActive());
    QVERIFY2(pair.a->zeroCopyReason().contains(u"has not offered shared memory"), qPrintable(pair.a->zeroCopyReason()));
    BlightBufferPool pool(1, FrameBytes, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    std::memcpy(frame.data(), TestUtil::pattern(FrameBytes, 3).constData(), size_t(FrameBytes));
    QVERIFY(pair.a->sendBuffer(MessageType::Ack, 5, frame) != 0);
    QTRY_COMPARE(payloads.size(), 1);
    QCOMPARE(payloads.first(), TestUtil::pattern(FrameBytes, 3));
    QCOMPARE(pair.a->statistics().sharedMemoryFramesSent, quint64(0));
    frame = BlightBuffer();
    QTRY_COMPARE(pool.available(), 1); // the socket let go: nothing outlives the test
}

// Sends one frame of \a pool with \a seed from \a socket; true if accepted.
bool sendFrom(BlightSocket *socket, BlightBufferPool &pool, int seed)
{
    BlightBuffer frame = pool.acquire();
    if (frame.isNull())
        return false;
    const QByteArray pattern = TestUtil::pattern(frame.size(), seed);
    std::memcpy(frame.data(), pattern.constData(), size_t(pattern.size()));
    return socket->sendBuffer(MessageType::Ack, quint32(seed), frame) != 0;
}

void tst_SharedMemoryTcp::bothWaysFromTwoPools()
{
    // Each side announces two pools: every Pool message must find its own
    // descriptor on the channel, in order, in both directions at once.
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setSharedMemoryEnabled(true);
    pair.b->setSharedMemoryEnabled(true);
    QTRY_VERIFY(pair.a->isSharedMemoryActive() && pair.b->isSharedMemoryActive());
    QMap<quint32, QByteArray> atA;
    QMap<quint32, QByteArray> atB;
    connect(pair.a.get(), &BlightSocket::bufferReceived, this, [&](MessageType, quint32 ackid, const BlightBuffer &f) {
        QVERIFY(f.isShared());
        atA.insert(ackid, QByteArray(f.constData(), f.size()));
    });
    connect(pair.b.get(), &BlightSocket::bufferReceived, this, [&](MessageType, quint32 ackid, const BlightBuffer &f) {
        QVERIFY(f.isShared());
        atB.insert(ackid, QByteArray(f.constData(), f.size()));
    });
    BlightBufferPool smallA(1, 4096, BlightBufferPool::Backing::SharedMemory);
    BlightBufferPool largeA(1, 256 * 1024, BlightBufferPool::Backing::SharedMemory);
    BlightBufferPool smallB(1, 8192, BlightBufferPool::Backing::SharedMemory);
    BlightBufferPool largeB(1, 128 * 1024, BlightBufferPool::Backing::SharedMemory);
    QVERIFY(sendFrom(pair.a.get(), smallA, 1) && sendFrom(pair.a.get(), largeA, 2));
    QVERIFY(sendFrom(pair.b.get(), smallB, 3) && sendFrom(pair.b.get(), largeB, 4));
    QTRY_COMPARE(atB.size(), 2);
    QTRY_COMPARE(atA.size(), 2);
    QCOMPARE(atB.value(1), TestUtil::pattern(4096, 1));
    QCOMPARE(atB.value(2), TestUtil::pattern(256 * 1024, 2));
    QCOMPARE(atA.value(3), TestUtil::pattern(8192, 3));
    QCOMPARE(atA.value(4), TestUtil::pattern(128 * 1024, 4));
    QCOMPARE(pair.a->statistics().mappedPools, 2);
    QCOMPARE(pair.b->statistics().mappedPools, 2);
    QTRY_VERIFY(smallA.available() == 1 && largeA.available() == 1 && smallB.available() == 1
                && largeB.available() == 1);
}

void tst_SharedMemoryTcp::enabledAfterThePeersChannel()
{
    // Off at first: the peer's Offer and Channel are kept (they do not reach
    // the application), and enabling it later completes the agreement.
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    QList<Message> messages;
    connect(pair.b.get(), &BlightSocket::messageReceived, this,
            [&](const Message &message) { messages.append(message); });
    pair.a->setSharedMemoryEnabled(true);
    pair.a->sendMessage(MessageType::Focus, 1, {}); // behind the offer and the channel
    QTRY_COMPARE(messages.size(), 1);
    QCOMPARE(messages.first().type(), MessageType::Focus); // nothing of them reached the application
    QVERIFY2(pair.b->zeroCopyReason().contains(u"offered shared memory, which is off"),
             qPrintable(pair.b->zeroCopyReason()));
    QList<BlightBuffer> frames;
    connect(pair.b.get(), &BlightSocket::bufferReceived, this,
            [&](MessageType, quint32, const BlightBuffer &frame) { frames.append(frame); });
    pair.b->setSharedMemoryEnabled(true);
    QTRY_VERIFY(pair.a->isSharedMemoryActive() && pair.b->isSharedMemoryActive());
    BlightBufferPool pool(1, FrameBytes, BlightBufferPool::Backing::SharedMemory);
    QVERIFY(sendFrom(pair.a.get(), pool, 6));
    QTRY_COMPARE(frames.size(), 1);
    QVERIFY(frames.first().isShared());
    QCOMPARE(QByteArray(frames.first().constData(), frames.first().size()), TestUtil::pattern(FrameBytes, 6));
    frames.clear();
    QTRY_COMPARE(pool.available(), 1);
}

void tst_SharedMemoryTcp::sendsThroughThePeersChannel()
{
    // The sending side against a peer written from docs/shared-memory.md: the
    // socket connects to the channel the peer names, proves itself, and the
    // pool's descriptor arrives there before the Pool message on TCP.
    RawTcp tcp;
    QVERIFY(makeRawTcp(&tcp, true));
    const SocketChannel own = readSocketChannel(tcp.peer);
    QVERIFY(own.ok);
    QCOMPARE(own.local, Peer::peerEndpoint(tcp.peer)); // the connection as the socket sees it
    QCOMPARE(own.peer, Peer::localEndpoint(tcp.peer));

    const QByteArray name = QByteArray("peer-channel-16b");
    const QByteArray token = QByteArray("peer-token-16bts");
    const QByteArray path = QByteArrayLiteral("blight-fd-") + name.toHex();
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path + 1, path.constData(), size_t(path.size()));
    const int listener = ::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    QVERIFY(listener >= 0);
    QVERIFY(::bind(listener, reinterpret_cast<sockaddr *>(&address),
                   socklen_t(offsetof(sockaddr_un, sun_path) + 1 + size_t(path.size())))
            == 0);
    QVERIFY(::listen(listener, 4) == 0);
    QVERIFY(Peer::send(tcp.peer,
                       Peer::offer()
                           + Peer::channel(name, token, Peer::localEndpoint(tcp.peer), Peer::peerEndpoint(tcp.peer))));
    QTRY_VERIFY(tcp.socket->isSharedMemoryActive());
    const int channel = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    ::close(listener);
    QVERIFY(channel >= 0); // connected as soon as the Channel message was read
    QList<int> none;
    QCOMPARE(receiveRecord(channel, &none), token + Peer::peerEndpoint(tcp.peer) + Peer::localEndpoint(tcp.peer));
    QVERIFY(none.isEmpty());

    BlightBufferPool pool(1, PoolBytes, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    std::memcpy(frame.data(), TestUtil::pattern(PoolBytes, 4).constData(), size_t(PoolBytes));
    QVERIFY(tcp.socket->sendBuffer(MessageType::Ack, 3, frame) != 0);
    frame = BlightBuffer();
    QList<int> descriptors;
    QCOMPARE(receiveRecord(channel, &descriptors), QByteArray("D"));
    QCOMPARE(descriptors.size(), 1);
    const int region = descriptors.first();
    QCOMPARE(::fcntl(region, F_GETFL) & O_ACCMODE, O_RDONLY);
    QVERIFY((::fcntl(region, F_GET_SEALS) & Peer::requiredSeals()) == Peer::requiredSeals());

    const QByteArray wire = readExactly(tcp.peer, (12 + 32) + (12 + 48));
    QCOMPARE(wire.size(), (12 + 32) + (12 + 48));
    const QByteArray poolMessage = wire.left(12 + 32);
    QCOMPARE(poolMessage.mid(12 + 8, 4), QByteArray("\x02\0\0\0", 4));
    quint64 poolSize = 0;
    std::memcpy(&poolSize, poolMessage.constData() + 12 + 24, 8);
    const QByteArray frameMessage = wire.mid(12 + 32);
    QCOMPARE(frameMessage.mid(12 + 8, 4), QByteArray("\x03\0\0\0", 4));
    quint32 frameToken = 0;
    quint64 offset = 0;
    quint64 length = 0;
    std::memcpy(&frameToken, frameMessage.constData() + 12 + 20, 4);
    std::memcpy(&offset, frameMessage.constData() + 12 + 24, 8);
    std::memcpy(&length, frameMessage.constData() + 12 + 32, 8);
    QCOMPARE(length, quint64(PoolBytes));
    QVERIFY(offset + length <= poolSize);
    void *mapped = ::mmap(nullptr, size_t(poolSize), PROT_READ, MAP_SHARED, region, 0);
    ::close(region);
    QVERIFY(mapped != MAP_FAILED);
    QCOMPARE(QByteArray(static_cast<const char *>(mapped) + offset, qsizetype(length)),
             TestUtil::pattern(PoolBytes, 4));
    ::munmap(mapped, size_t(poolSize));
    QCOMPARE(pool.available(), 0); // held until the peer's release
    QVERIFY(Peer::send(tcp.peer, Peer::release({frameToken})));
    QTRY_COMPARE(pool.available(), 1);
    ::close(channel);
}

void tst_SharedMemoryTcp::channelLies_data()
{
    QTest::addColumn<Lie>("lie");
    QTest::addColumn<QString>("reason"); // a part of the error; empty: the frame is taken
    QTest::newRow("a pool, the channel never connected")
        << Lie::NeverConnects << QStringLiteral("has not connected to the descriptor channel");
    QTest::newRow("a pool, no descriptor on the channel")
        << Lie::ConnectsWithoutDescriptor << QStringLiteral("its descriptor is not on the descriptor channel");
    QTest::newRow("two descriptors in one record")
        << Lie::TwoDescriptorsInOneRecord << QStringLiteral("not one descriptor");
    QTest::newRow("a second channel") << Lie::SecondChannel << QStringLiteral("a second descriptor channel");
    QTest::newRow("the token with another connection's endpoints")
        << Lie::ProofForAnotherConnection << QStringLiteral("has not connected to the descriptor channel");
    QTest::newRow("impostors connect first") << Lie::ImpostorsFirst << QString();
}

void tst_SharedMemoryTcp::channelLies()
{
    // The receiving side: the peer announces a pool on TCP and lies about
    // its descriptor on the channel.
    QFETCH(Lie, lie);
    QFETCH(QString, reason);
    RawTcp tcp;
    QVERIFY(makeRawTcp(&tcp, true));
    const SocketChannel own = readSocketChannel(tcp.peer);
    QVERIFY(own.ok);

    QList<BlightBuffer> held;
    connect(tcp.socket.get(), &BlightSocket::bufferReceived, this,
            [&](MessageType, quint32, const BlightBuffer &frame) { held.append(frame); });
    QSignalSpy errors(tcp.socket.get(), &BlightSocket::errorOccurred);
    // A channel the socket cannot use: taking frames needs none.
    QVERIFY(Peer::send(tcp.peer, Peer::offer() + Peer::channel("nobody", "none")));

    const int region = Peer::memfd(PoolBytes, Peer::requiredSeals());
    QVERIFY(region >= 0);
    const QByteArray proof = proofFrom(tcp.peer, own.token);
    QList<int> impostors;
    int channel = -1;
    switch (lie) {
    case Lie::NeverConnects:
        break;
    case Lie::ConnectsWithoutDescriptor:
        channel = connectToChannel(own.name);
        QVERIFY(channel >= 0 && sendRecord(channel, proof));
        break;
    case Lie::TwoDescriptorsInOneRecord:
        channel = connectToChannel(own.name);
        QVERIFY(channel >= 0 && sendRecord(channel, proof) && sendRecord(channel, "D", {region, region}));
        break;
    case Lie::SecondChannel:
        QVERIFY(Peer::send(tcp.peer, Peer::channel("again", "again")));
        break;
    case Lie::ProofForAnotherConnection:
        // What the socket itself would send if its channel came back to it.
        channel = connectToChannel(own.name);
        QVERIFY(channel >= 0 && sendRecord(channel, own.token + own.local + own.peer)
                && sendRecord(channel, "D", {region}));
        break;
    case Lie::ImpostorsFirst:
        // One knows nothing, one the token but not the connection; the
        // peer, connecting after them, knows both.
        impostors = {connectToChannel(own.name), connectToChannel(own.name)};
        QVERIFY(impostors[0] >= 0 && impostors[1] >= 0);
        QVERIFY(sendRecord(impostors[0], QByteArray(proof.size(), 'x')) && sendRecord(impostors[0], "D", {region}));
        QVERIFY(sendRecord(impostors[1], own.token + QByteArray(40, '\0')) && sendRecord(impostors[1], "D", {region}));
        channel = connectToChannel(own.name);
        QVERIFY(channel >= 0 && sendRecord(channel, proof) && sendRecord(channel, "D", {region}));
        break;
    }
    if (lie != Lie::SecondChannel)
        QVERIFY(Peer::send(tcp.peer, Peer::pool(0, PoolBytes) + Peer::frame(0, 1, 0, 100)));
    ::close(region);
    if (reason.isEmpty()) {
        QTRY_COMPARE(held.size(), 1);
        QVERIFY(held.first().isShared());
        QVERIFY(errors.isEmpty());
        QCOMPARE(tcp.socket->statistics().mappedPools, 1); // the peer's pool, no impostor's
        for (int impostor : impostors) {
            // Disconnected: an orderly end, or a reset for its unread records.
            char byte;
            const ssize_t got = ::recv(impostor, &byte, 1, MSG_DONTWAIT);
            QVERIFY2(got == 0 || (got < 0 && errno == ECONNRESET), qPrintable(QString::number(got)));
        }
    } else {
        QTRY_COMPARE(errors.size(), 1);
        QCOMPARE(errors.first().at(0).value<BlightSocket::Error>(), BlightSocket::Error::ProtocolError);
        QVERIFY2(errors.first().at(1).toString().contains(reason), qPrintable(errors.first().at(1).toString()));
        QVERIFY(held.isEmpty());
    }
    impostors.append(channel);
    for (int fd : std::as_const(impostors)) {
        if (fd >= 0)
            ::close(fd);
    }
}

void tst_SharedMemoryTcp::echoedChannelIsRefused()
{
    // A peer that hands the socket its own channel back (or another
    // socket's): the socket would send its pools to itself and take them for
    // the peer's. It refuses the channel, and frames are copied.
    RawTcp tcp;
    QVERIFY(makeRawTcp(&tcp, true));
    const SocketChannel own = readSocketChannel(tcp.peer);
    QVERIFY(own.ok);
    QSignalSpy states(tcp.socket.get(), &BlightSocket::zeroCopyStateChanged);
    QVERIFY(Peer::send(tcp.peer, Peer::offer() + Peer::channel(own.name, own.token, own.local, own.peer)));
    QTRY_COMPARE(states.size(), 1); // told with the channel
    QVERIFY(!tcp.socket->isSharedMemoryActive());
    QVERIFY2(tcp.socket->zeroCopyReason().contains(u"names another TCP connection"),
             qPrintable(tcp.socket->zeroCopyReason()));
    QVERIFY(sendsCopied(tcp, 8));
    QCOMPARE(tcp.socket->statistics().mappedPools, 0);
}

void tst_SharedMemoryTcp::unreachableChannelTakesCopyPath()
{
    // A peer that offers and names a channel nobody listens on (as a peer on
    // another host behind a forward would): frames are copied.
    RawTcp tcp;
    QVERIFY(makeRawTcp(&tcp, true));
    QVERIFY(readSocketChannel(tcp.peer).ok);
    QVERIFY(Peer::send(tcp.peer,
                       Peer::offer()
                           + Peer::channel("nobody listens", "token", Peer::localEndpoint(tcp.peer),
                                           Peer::peerEndpoint(tcp.peer))));
    QTRY_VERIFY2(tcp.socket->zeroCopyReason().contains(u"descriptor channel cannot be reached"),
                 qPrintable(tcp.socket->zeroCopyReason()));
    QVERIFY(!tcp.socket->isSharedMemoryActive());
    QVERIFY(sendsCopied(tcp, 7));
}

QTEST_GUILESS_MAIN(tst_SharedMemoryTcp)
#include "tst_sharedmemorytcp.moc"
