// SPDX-License-Identifier: MIT
// The zero-copy path end to end, once per backend (MSG_ZEROCOPY and
// io_uring SEND_ZC, a global data column): capability detection, TCP
// loopback with COPIED reports and the back-off, true zero-copy through a
// dropping veth peer, ENOBUFS back-pressure, and closing with buffers in
// flight.
#include "netns.h"
#include "testutil.h"

#include <BlightTransport/blightbufferpool.h>
#include <BlightTransport/blightserver.h>
#include <BlightTransport/blightsocket.h>

#include <QtTest/QtTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;
using TestUtil::makePair;

class tst_ZeroCopy : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase_data();
    void initTestCase();
    void capabilityDetection_data();
    void capabilityDetection();
    void tcpLoopbackFramesReleased();
    void autoBacksOffOnCopiedAndProbesAgain();
    void thresholdKeepsSmallMessagesOnCopyPath();
    void completionsWhileReadingPaused();
    void callerWritesDoNotDisturbBytesInFlight();
    void rawDataNeverGoesZeroCopy();
    void budgetMakesSendsWait();
    void closeWithBuffersPendingWaitsThenTearsDown();
    void destroyWithBuffersPendingKeepsThemUntilReleased();
    void icmpErrorIsNotACompletion();
    void trueZeroCopyThroughVeth();
    void poolBuffersThroughVeth();
    void noBuffersIsBackPressure();
    void cleanupTestCase();

private:
    bool useRowBackend(BlightSocket &socket, QString *why);
    static bool onUring();

    TestUtil::NetworkSandbox m_net;
};

// Each test asks its sending socket for the row's backend before its first
// send; the row skips, with the socket's reason, where that backend is
// missing (a kernel or build without io_uring).
#define USE_BACKEND(socket) \
  do { \
    QString backendMissing; \
    if (!useRowBackend(socket, &backendMissing)) \
      QSKIP(qPrintable(backendMissing)); \
  } while (false)

void tst_ZeroCopy::initTestCase_data()
{
    QTest::addColumn<BlightSocket::ZeroCopyBackend>("backend");
    QTest::addRow("msg_zerocopy") << BlightSocket::ZeroCopyBackend::MsgZeroCopy;
    QTest::addRow("io_uring") << BlightSocket::ZeroCopyBackend::IoUring;
}

bool tst_ZeroCopy::onUring()
{
    QFETCH_GLOBAL(BlightSocket::ZeroCopyBackend, backend);
    return backend == BlightSocket::ZeroCopyBackend::IoUring;
}

bool tst_ZeroCopy::useRowBackend(BlightSocket &socket, QString *why)
{
    QFETCH_GLOBAL(BlightSocket::ZeroCopyBackend, backend);
    *why = TestUtil::useZeroCopyBackend(socket, backend);
    return why->isEmpty();
}

void tst_ZeroCopy::initTestCase()
{
    qRegisterMetaType<Message>();
    // A private network namespace isolates the veth pair and the optmem
    // setting; without the privilege the loopback tests still run here.
    m_net.setUp();
}

void tst_ZeroCopy::cleanupTestCase()
{
    if (m_net.inNamespace && m_net.originalOptmem > 0) {
        QString why;
        TestUtil::setOptmemMax(m_net.originalOptmem, &why);
    }
}

void tst_ZeroCopy::capabilityDetection_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<bool>("supported");
    QTest::addRow("unix") << QStringLiteral("unix") << false;
    QTest::addRow("tcp4") << QStringLiteral("tcp4") << true;
    QTest::addRow("tcp6") << QStringLiteral("tcp6") << true;
    QTest::addRow("udp4") << QStringLiteral("udp4") << true;
}

void tst_ZeroCopy::capabilityDetection()
{
    QFETCH(QString, kind);
    QFETCH(bool, supported);
    auto pair = makePair(kind);
    QVERIFY(pair.ok);
    QCOMPARE(pair.a->isZeroCopySupported(), supported);
    QCOMPARE(pair.a->isZeroCopyActive(), supported);
    QCOMPARE(pair.a->zeroCopyState(),
             supported ? BlightSocket::ZeroCopyState::Active : BlightSocket::ZeroCopyState::Unsupported);
    QVERIFY(!pair.a->zeroCopyReason().isEmpty());
    if (!supported)
        QVERIFY(pair.a->zeroCopyReason().contains(u"AF_UNIX"));
    QSignalSpy stateChanged(pair.a.get(), &BlightSocket::zeroCopyStateChanged);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::Off);
    QVERIFY(!pair.a->isZeroCopyActive());
    if (supported) {
        QCOMPARE(pair.a->zeroCopyState(), BlightSocket::ZeroCopyState::Disabled);
        QCOMPARE(stateChanged.size(), 1);
        pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
        USE_BACKEND(*pair.a);
        const QString reason = pair.a->zeroCopyReason();
        QVERIFY2(reason.contains(onUring() ? u"io_uring SEND_ZC" : u"MSG_ZEROCOPY"), qPrintable(reason));
    }
}

void tst_ZeroCopy::tcpLoopbackFramesReleased()
{
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(*pair.a);
    QList<QByteArray> received;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&](const Message &m) { received.append(m.payload); });
    QSignalSpy released(pair.a.get(), &BlightSocket::buffersReleased);
    QSignalSpy completions(pair.a.get(), &BlightSocket::completionReceived);
    constexpr int Frames = 8;
    QList<QByteArray> frames;
    for (int i = 0; i < Frames; ++i) {
        frames.append(TestUtil::pattern(5 * 1024 * 1024, i));
        QVERIFY(pair.a->sendMessage(MessageType::Ack, quint32(i), frames.last()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), Frames, 20000);
    for (int i = 0; i < Frames; ++i)
        QVERIFY2(received.at(i) == frames.at(i), qPrintable(QStringLiteral("frame %1 differs").arg(i)));
    QTRY_COMPARE(pair.a->pendingBuffers(), 0);
    const SocketStatistics stats = pair.a->statistics();
    // Partial sends take several counter values. io_uring keeps one stream
    // send in flight and sends what queued behind it as one.
    QVERIFY(stats.zeroCopySends >= quint64(onUring() ? 1 : Frames));
    QCOMPARE(stats.releasedBuffers, stats.zeroCopySends);
    QVERIFY(!released.isEmpty());
    // Loopback always copies, and the kernel says so; forced on, the socket
    // keeps using zero-copy and explains why it is pointless here.
    QCOMPARE(stats.copiedCompletions, stats.completions);
    for (const auto &completion : completions)
        QVERIFY(completion.at(2).toBool());
    QCOMPARE(pair.a->zeroCopyState(), BlightSocket::ZeroCopyState::Active);
    // It says so after copiedBackOffCount copied sends in a row (io_uring,
    // sending queued frames together, may have made fewer).
    if (stats.copiedCompletions >= quint64(pair.a->copiedBackOffCount()))
        QVERIFY2(pair.a->zeroCopyReason().contains(u"copies"), qPrintable(pair.a->zeroCopyReason()));
    else
        QVERIFY2(onUring(), "fewer sends than frames on MSG_ZEROCOPY");
    QCOMPARE(stats.pendingBytes, 0);
    QVERIFY(stats.peakPendingBytes > 0);
    QVERIFY(stats.releaseLatencyP50 > 0);
    // Every buffer was let go: the test holds the only references again.
    for (const QByteArray &frame : std::as_const(frames))
        QVERIFY(frame.isDetached());
}

void tst_ZeroCopy::autoBacksOffOnCopiedAndProbesAgain()
{
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setBackOffInterval(100);
    QCOMPARE(pair.a->zeroCopyMode(), BlightSocket::ZeroCopyMode::Auto);
    USE_BACKEND(*pair.a);
    if (pair.a->zeroCopyReason().contains(u"cannot report copies"))
        QSKIP(qPrintable(QStringLiteral("no COPIED reports on this backend here: ") + pair.a->zeroCopyReason()));
    int received = 0;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&] { ++received; });
    const QByteArray frame = TestUtil::pattern(256 * 1024, 3);
    int sent = 0;
    auto sendSome = [&](int count) {
        for (int i = 0; i < count; ++i) {
            QVERIFY(pair.a->sendMessage(MessageType::Ack, quint32(sent), frame));
            ++sent;
        }
    };
    // One frame at a time, each released before the next, so that every
    // frame is a send of its own on either backend (io_uring would send the
    // frames queued behind a stream send in flight as one).
    while (sent < 16 && pair.a->zeroCopyState() != BlightSocket::ZeroCopyState::BackedOff) {
        sendSome(1);
        QTRY_COMPARE(pair.a->pendingBuffers(), 0);
    }
    QCOMPARE(pair.a->zeroCopyState(), BlightSocket::ZeroCopyState::BackedOff);
    QVERIFY(!pair.a->isZeroCopyActive());
    QVERIFY2(pair.a->zeroCopyReason().contains(u"copied"), qPrintable(pair.a->zeroCopyReason()));
    QCOMPARE(pair.a->statistics().backOffs, 1u);
    QTRY_COMPARE(received, sent);
    QTRY_COMPARE(pair.a->pendingBuffers(), 0);

    // While backed off, frames go as copies.
    const quint64 zeroCopyBefore = pair.a->statistics().zeroCopySends;
    sendSome(4);
    QTRY_COMPARE(received, sent);
    QCOMPARE(pair.a->statistics().zeroCopySends, zeroCopyBefore);

    // After the interval the socket probes again, finds copies again, and
    // backs off for twice as long: never for good, never on one bad patch.
    QTRY_COMPARE_WITH_TIMEOUT(pair.a->zeroCopyState(), BlightSocket::ZeroCopyState::Active, 5000);
    QVERIFY(pair.a->zeroCopyReason().contains(u"probing"));
    sendSome(2);
    QTRY_COMPARE(pair.a->zeroCopyState(), BlightSocket::ZeroCopyState::BackedOff);
    QCOMPARE(pair.a->statistics().backOffs, 2u);
    QVERIFY2(pair.a->zeroCopyReason().contains(u"200 ms"), qPrintable(pair.a->zeroCopyReason()));
    QTRY_COMPARE(received, sent);
}

void tst_ZeroCopy::thresholdKeepsSmallMessagesOnCopyPath()
{
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(*pair.a);
    pair.a->setZeroCopyThreshold(32 * 1024);
    int received = 0;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&] { ++received; });
    QVERIFY(pair.a->sendMessage(MessageType::Ack, 1, QByteArray(32 * 1024 - 1, 's')));
    QTRY_COMPARE(received, 1);
    QCOMPARE(pair.a->statistics().zeroCopySends, 0u);
    QVERIFY(pair.a->sendMessage(MessageType::Ack, 2, QByteArray(32 * 1024, 'b')));
    QTRY_COMPARE(received, 2);
    QCOMPARE(pair.a->statistics().zeroCopySends, 1u);
}

void tst_ZeroCopy::completionsWhileReadingPaused()
{
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(*pair.a);
    pair.a->setReadingPaused(true); // the sender's application stopped reading
    QSignalSpy released(pair.a.get(), &BlightSocket::buffersReleased);
    int received = 0;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&] { ++received; });
    for (int i = 0; i < 4; ++i)
        QVERIFY(pair.a->sendMessage(MessageType::Ack, quint32(i), QByteArray(128 * 1024, char(i))));
    QTRY_COMPARE(received, 4);
    QTRY_COMPARE(pair.a->pendingBuffers(), 0);
    QVERIFY(!released.isEmpty());
}

void tst_ZeroCopy::callerWritesDoNotDisturbBytesInFlight()
{
    // The socket shares the caller's array; a write by the caller detaches
    // it and leaves the bytes in flight as they were.
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(*pair.a);
    pair.b->setReadingPaused(true); // keep the frame in flight for a while
    QList<QByteArray> received;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&](const Message &m) { received.append(m.payload); });
    QByteArray frame = TestUtil::pattern(4 * 1024 * 1024, 5);
    const QByteArray original = frame;
    const char *sharedData = frame.constData();
    QVERIFY(pair.a->sendMessage(MessageType::Ack, 1, frame));
    QVERIFY(!frame.isDetached()); // shared with the socket, not copied
    frame.fill('X');              // the caller reuses its array
    QVERIFY(frame.constData() != sharedData);
    pair.b->setReadingPaused(false);
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 1, 10000);
    QCOMPARE(received.at(0), original);
}

void tst_ZeroCopy::rawDataNeverGoesZeroCopy()
{
    // fromRawData arrays do not own their bytes, so the kernel must not be
    // left holding them: they take the copy path even with zero-copy on.
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(*pair.a);
    QList<QByteArray> received;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&](const Message &m) { received.append(m.payload); });
    const QByteArray owner = TestUtil::pattern(1024 * 1024, 4);
    for (int i = 0; i < 3; ++i)
        QVERIFY(pair.a->sendMessage(MessageType::Ack, quint32(i),
                                    QByteArray::fromRawData(owner.constData(), owner.size())));
    QTRY_COMPARE(received.size(), 3);
    for (const QByteArray &payload : std::as_const(received))
        QCOMPARE(payload, owner);
    QCOMPARE(pair.a->statistics().zeroCopySends, 0u);
    // An owning array of the same size does go zero-copy.
    QVERIFY(pair.a->sendMessage(MessageType::Ack, 9, owner));
    QTRY_COMPARE(received.size(), 4);
    QVERIFY(pair.a->statistics().zeroCopySends > 0);
}

void tst_ZeroCopy::budgetMakesSendsWait()
{
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(*pair.a);
    pair.a->setPendingBytesLimit(1024 * 1024);
    pair.b->setReadingPaused(true);
    const QByteArray frame = TestUtil::pattern(512 * 1024, 1);
    for (int i = 0; i < 16; ++i)
        QVERIFY(pair.a->sendMessage(MessageType::Ack, quint32(i), frame));
    // The pinned bytes never exceed the budget; the rest waits in the queue.
    QTRY_VERIFY(pair.a->queuedBytes() > 0);
    QVERIFY(pair.a->pendingBytes() <= 1024 * 1024 + HeaderSize * 2);
    QVERIFY(pair.a->statistics().peakPendingBytes <= 1024 * 1024 + HeaderSize * 2);
    int received = 0;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&] { ++received; });
    pair.b->setReadingPaused(false);
    QTRY_COMPARE_WITH_TIMEOUT(received, 16, 10000);
    QTRY_COMPARE(pair.a->pendingBuffers(), 0);
    QVERIFY(pair.a->statistics().peakPendingBytes <= 1024 * 1024 + HeaderSize * 2);
}

void tst_ZeroCopy::closeWithBuffersPendingWaitsThenTearsDown()
{
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(*pair.a);
    pair.a->setLingerTime(300);
    pair.b->setReadingPaused(true); // a peer that stops reading
    QList<QByteArray> frames;
    for (int i = 0; i < 6; ++i) {
        frames.append(TestUtil::pattern(4 * 1024 * 1024, i));
        QVERIFY(pair.a->sendMessage(MessageType::Ack, quint32(i), frames.last()));
    }
    QTRY_VERIFY(pair.a->pendingBuffers() > 0);
    QSignalSpy disconnected(pair.a.get(), &BlightSocket::disconnected);
    QElapsedTimer clock;
    clock.start();
    pair.a->close();
    QCOMPARE(pair.a->state(), BlightSocket::State::Closing);
    // Nothing is freed before its release or the teardown: the socket still
    // shares some of the frames.
    const bool someStillShared = std::any_of(frames.cbegin(), frames.cend(),
                                             [](const QByteArray &f) { return !f.isDetached(); });
    QVERIFY(someStillShared);
    QVERIFY(pair.a->socketDescriptor() >= 0); // completions can still arrive
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, 10000);
    QVERIFY(clock.elapsed() >= 250); // waited for the linger time
    // The teardown made the kernel drop the data and report the ranges: every
    // buffer released, none orphaned.
    QCOMPARE(pair.a->pendingBuffers(), 0);
    const SocketStatistics stats = pair.a->statistics();
    QCOMPARE(stats.releasedBuffers, stats.zeroCopySends);
    for (const QByteArray &frame : std::as_const(frames))
        QVERIFY(frame.isDetached());
}

void tst_ZeroCopy::destroyWithBuffersPendingKeepsThemUntilReleased()
{
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(*pair.a);
    pair.a->setLingerTime(200);
    pair.b->setReadingPaused(true);
    QList<QByteArray> frames;
    for (int i = 0; i < 6; ++i) {
        frames.append(TestUtil::pattern(4 * 1024 * 1024, i + 10));
        QVERIFY(pair.a->sendMessage(MessageType::Ack, quint32(i), frames.last()));
    }
    QTRY_VERIFY(pair.a->pendingBuffers() > 0);
    pair.a.reset(); // destroyed with buffers in flight; must not block or free them
    const bool someStillShared = std::any_of(frames.cbegin(), frames.cend(),
                                             [](const QByteArray &f) { return !f.isDetached(); });
    QVERIFY(someStillShared);
    // The background close ends after the linger time and lets go of them all.
    QTRY_VERIFY_WITH_TIMEOUT(std::all_of(frames.cbegin(), frames.cend(),
                                         [](const QByteArray &f) { return f.isDetached(); }),
                             10000);
}

void tst_ZeroCopy::icmpErrorIsNotACompletion()
{
    // A connected UDP socket to a port nobody listens on: the kernel answers
    // with ICMP port unreachable. That is reported, and is no release.
    const int probe = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    QCOMPARE(::bind(probe, reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
    socklen_t length = sizeof(address);
    ::getsockname(probe, reinterpret_cast<sockaddr *>(&address), &length);
    ::close(probe); // the port is now free and closed
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    QCOMPARE(::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
    BlightSocket socket;
    QVERIFY(socket.setSocketDescriptor(fd));
    socket.setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(socket);
    QSignalSpy warnings(&socket, &BlightSocket::warning);
    QSignalSpy released(&socket, &BlightSocket::buffersReleased);
    QVERIFY(socket.sendMessage(MessageType::Ack, 1, QByteArray(32 * 1024, 'u')));
    QTRY_VERIFY(!warnings.isEmpty());
    QVERIFY2(warnings.at(0).at(0).toString().contains(u"unreachable", Qt::CaseInsensitive)
                 || warnings.at(0).at(0).toString().contains(u"refused", Qt::CaseInsensitive),
             qPrintable(warnings.at(0).at(0).toString()));
    QTRY_COMPARE(socket.pendingBuffers(), 0);
    QCOMPARE(released.size(), 1);
    QCOMPARE(socket.state(), BlightSocket::State::Connected); // UDP carries on
    QVERIFY(socket.sendMessage(MessageType::Focus, 2, {}));
}

static int udpToDroppingPeer()
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    // Bound to the namespace's veth: a setup step that failed cannot send a
    // datagram out through another route.
    static const char device[] = "zc0";
    if (::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, sizeof(device) - 1) != 0) {
        ::close(fd);
        return -1;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(9);
    ::inet_pton(AF_INET, "198.18.0.2", &address.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

void tst_ZeroCopy::trueZeroCopyThroughVeth()
{
    if (!m_net.inNamespace)
        QSKIP(qPrintable(QStringLiteral("needs a private network namespace: ") + m_net.namespaceWhy));
    if (!m_net.haveVeth)
        QSKIP(qPrintable(QStringLiteral("cannot make the veth pair: ") + m_net.vethWhy));
    const int fd = udpToDroppingPeer();
    QVERIFY(fd >= 0);
    BlightSocket socket;
    QVERIFY(socket.setSocketDescriptor(fd));
    socket.setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(socket);
    QSignalSpy completions(&socket, &BlightSocket::completionReceived);
    constexpr int Datagrams = 200;
    QList<QByteArray> payloads;
    for (int i = 0; i < Datagrams; ++i) {
        payloads.append(TestUtil::pattern(60 * 1000, i));
        QVERIFY(socket.sendMessage(MessageType::Ack, quint32(i), payloads.last()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(socket.messagesSent(), quint64(Datagrams), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(socket.pendingBuffers(), 0, 10000);
    const SocketStatistics stats = socket.statistics();
    QCOMPARE(stats.zeroCopySends, quint64(Datagrams));
    QCOMPARE(stats.releasedBuffers, quint64(Datagrams));
    QVERIFY(stats.completions > 0);
    // The one place on one machine where pages really leave without a copy.
    QCOMPARE(stats.copiedCompletions, 0u);
    for (const auto &completion : std::as_const(completions))
        QVERIFY(!completion.at(2).toBool());
    QCOMPARE(socket.zeroCopyState(), BlightSocket::ZeroCopyState::Active);
    for (const QByteArray &payload : std::as_const(payloads))
        QVERIFY(payload.isDetached());
}

void tst_ZeroCopy::poolBuffersThroughVeth()
{
    // Where the kernel really holds the pages: a pool of four buffers
    // streams 200 datagrams, each buffer reused only after its completion,
    // and no send is reported released before the kernel's completion for it.
    if (!m_net.inNamespace)
        QSKIP(qPrintable(QStringLiteral("needs a private network namespace: ") + m_net.namespaceWhy));
    if (!m_net.haveVeth)
        QSKIP(qPrintable(QStringLiteral("cannot make the veth pair: ") + m_net.vethWhy));
    const int fd = udpToDroppingPeer();
    QVERIFY(fd >= 0);
    BlightSocket socket;
    QVERIFY(socket.setSocketDescriptor(fd));
    socket.setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(socket);
    BlightBufferPool pool(4, 60 * 1000);
    quint64 kernelReleased = 0; // one kernel id per datagram
    quint64 copied = 0;
    connect(&socket, &BlightSocket::completionReceived, this, [&](quint32 lo, quint32 hi, bool wasCopied) {
        kernelReleased += quint64(quint32(hi - lo)) + 1;
        copied += wasCopied ? 1 : 0;
    });
    quint64 released = 0;
    quint64 early = 0;
    quint64 undelivered = 0;
    connect(&socket, &BlightSocket::sendsReleased, this, [&](const QList<SendIdRange> &ranges) {
        for (const SendIdRange &range : ranges) {
            released += range.count();
            undelivered += range.delivered ? 0 : range.count();
        }
        early += released > kernelReleased ? 1 : 0;
    });
    constexpr int Datagrams = 200;
    int sent = 0;
    const auto produce = [&] {
        for (BlightBuffer buffer = pool.acquire(); !buffer.isNull() && sent < Datagrams; buffer = pool.acquire()) {
            std::memset(buffer.data(), sent % 251, size_t(buffer.size()));
            QCOMPARE(socket.sendBuffer(MessageType::Ack, quint32(sent), buffer), quint64(sent) + 1);
            ++sent;
        }
    };
    connect(&pool, &BlightBufferPool::bufferAvailable, this, produce);
    produce();
    QTRY_COMPARE_WITH_TIMEOUT(released, quint64(Datagrams), 10000);
    QCOMPARE(early, quint64(0));
    QCOMPARE(undelivered, quint64(0));
    QCOMPARE(copied, quint64(0));
    QVERIFY(pool.waitingAcquires() > 0); // the pool really ran dry and refilled
    QCOMPARE(pool.peakInUse(), 4);
    QTRY_COMPARE(pool.available(), 4);
    QCOMPARE(socket.statistics().userSpaceCopies, quint64(0));
    QCOMPARE(socket.statistics().zeroCopySends, quint64(Datagrams));
}

void tst_ZeroCopy::noBuffersIsBackPressure()
{
    if (!m_net.inNamespace)
        QSKIP(qPrintable(QStringLiteral("needs a private network namespace: ") + m_net.namespaceWhy));
    // optmem_max is per namespace: at 1 KiB every zero-copy send after the
    // first fails with ENOBUFS until its completion is read.
    QString why;
    QVERIFY2(TestUtil::setOptmemMax(1024, &why), qPrintable(why));
    auto restore = qScopeGuard([&] { TestUtil::setOptmemMax(m_net.originalOptmem, &why); });
    auto pair = makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    pair.a->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    USE_BACKEND(*pair.a);
    pair.a->setPendingBuffersLimit(100000); // let the kernel refuse, not the budget
    QList<quint32> ackids;
    QList<QByteArray> payloads;
    connect(pair.b.get(), &BlightSocket::messageReceived, this, [&](const Message &m) {
        ackids.append(m.ackid());
        payloads.append(m.payload);
    });
    constexpr int Count = 64;
    for (int i = 0; i < Count; ++i)
        QVERIFY(pair.a->sendMessage(MessageType::Ack, quint32(i), TestUtil::pattern(64 * 1024, i)));
    QTRY_COMPARE_WITH_TIMEOUT(ackids.size(), Count, 20000);
    if (onUring()) {
        // io_uring's notifications are its own, not charged to the socket's
        // optmem: this limit holds nothing back there (its back-pressure, a
        // full ring, is tst_uringsender's).
        QCOMPARE(pair.a->statistics().noBufferErrors, 0u);
    } else {
        QVERIFY2(pair.a->statistics().noBufferErrors > 0, "ENOBUFS never happened: the test proves nothing");
    }
    // Every message arrived, in order, once, byte-exact.
    for (int i = 0; i < Count; ++i) {
        QCOMPARE(ackids.at(i), quint32(i));
        QCOMPARE(payloads.at(i), TestUtil::pattern(64 * 1024, i));
    }
    QTRY_COMPARE(pair.a->pendingBuffers(), 0);
    QCOMPARE(pair.a->state(), BlightSocket::State::Connected);
    QCOMPARE(pair.a->errorCount(), 0u);
}

QTEST_GUILESS_MAIN(tst_ZeroCopy)
#include "tst_zerocopy.moc"
