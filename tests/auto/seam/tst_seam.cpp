// SPDX-License-Identifier: MIT
// Kernel behaviours injected through the system-call seam (fakekernel.h):
// zero-copy ids that the kernel did or did not take for a failed send,
// completions in any order, ENOBUFS, EMSGSIZE, ICMP errors reported by a
// later send, and short writes. Each case names the kernel fact it stands
// for (DESIGN.md §2).
#include "fakekernel.h"

#include <BlightTransport/blightsocket.h>

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <arpa/inet.h>
#include <cerrno>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;
using FakeKernel::Step;

namespace {

struct Pair
{
    std::unique_ptr<BlightSocket> socket; // its descriptor goes through the fake kernel
    std::unique_ptr<BlightSocket> peer;
};

// Two connected loopback sockets of \a type, adopted by two BlightSockets;
// the first one's descriptor is faked.
Pair makePair(int type)
{
    Pair pair;
    const int listener = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0
        || ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return pair;
    int a = ::socket(AF_INET, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int b = -1;
    if (type == SOCK_STREAM) {
        if (::listen(listener, 1) != 0
            || (::connect(a, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0 && errno != EINPROGRESS))
            return pair;
        b = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        ::close(listener);
    } else {
        sockaddr_in own{};
        own.sin_family = AF_INET;
        own.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t ownLength = sizeof(own);
        if (::bind(a, reinterpret_cast<sockaddr *>(&own), sizeof(own)) != 0
            || ::getsockname(a, reinterpret_cast<sockaddr *>(&own), &ownLength) != 0
            || ::connect(a, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0
            || ::connect(listener, reinterpret_cast<sockaddr *>(&own), sizeof(own)) != 0)
            return pair;
        b = listener;
    }
    FakeKernel::install(a);
    pair.socket = std::make_unique<BlightSocket>();
    pair.peer = std::make_unique<BlightSocket>();
    // The fake kernel stands in for sendmsg() and the error queue: the
    // MSG_ZEROCOPY backend, whatever Auto would choose here.
    pair.socket->setZeroCopyBackend(BlightSocket::ZeroCopyBackend::MsgZeroCopy);
    if (!pair.socket->setSocketDescriptor(a) || !pair.peer->setSocketDescriptor(b)) {
        pair.socket.reset();
        pair.peer.reset();
    }
    return pair;
}

QByteArray payloadOf(qsizetype size, char seed)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char(seed + i % 97);
    return bytes;
}

// The socket reads its error queue when it wakes for data: the peer sends
// one message to make it look.
void nudge(Pair &pair)
{
    pair.peer->sendMessage(MessageType::Focus, 0, {});
}

} // namespace

class tst_Seam : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void failedZeroCopySendKeepsIdsInStep_data();
    void failedZeroCopySendKeepsIdsInStep();
    void completionsOutOfOrder();
    void zeroCopyDatagramTooLargeGoesAsCopy();
    void earlierIcmpErrorIsAWarningAndTheDatagramGoesAgain();
    void errorAboutThisDatagramRefusesItAlone_data();
    void errorAboutThisDatagramRefusesItAlone();
    void noBuffersOnTheCopyPathIsRetried();
    void shortWritesDeliverEveryByte();
};

void tst_Seam::initTestCase()
{
    qRegisterMetaType<Message>();
}

void tst_Seam::cleanup()
{
    FakeKernel::uninstall();
}

void tst_Seam::failedZeroCopySendKeepsIdsInStep_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("kind");
    QTest::addColumn<int>("errorNumber");
    // UDP with IP_RECVERR: a qdisc drop makes sendmsg fail with ENOBUFS after
    // the id was taken, and its completion still comes.
    QTest::addRow("udp-qdisc-drop-after-id") << int(SOCK_DGRAM) << int(Step::Kind::FailAfterId) << ENOBUFS;
    // UDP, optmem or RLIMIT_MEMLOCK exhausted: ENOBUFS before any id.
    QTest::addRow("udp-optmem-before-id") << int(SOCK_DGRAM) << int(Step::Kind::FailBeforeId) << ENOBUFS;
    // UDP, an ICMP error from an earlier datagram: the kernel aborts the id.
    QTest::addRow("udp-icmp-before-id") << int(SOCK_DGRAM) << int(Step::Kind::FailBeforeId) << ECONNREFUSED;
    // TCP: a send that queues nothing takes no id.
    QTest::addRow("tcp-eagain-no-id") << int(SOCK_STREAM) << int(Step::Kind::FailBeforeId) << EAGAIN;
    QTest::addRow("tcp-enobufs-no-id") << int(SOCK_STREAM) << int(Step::Kind::FailBeforeId) << ENOBUFS;
}

void tst_Seam::failedZeroCopySendKeepsIdsInStep()
{
    QFETCH(int, type);
    QFETCH(int, kind);
    QFETCH(int, errorNumber);
    Pair pair = makePair(type);
    QVERIFY(pair.socket);
    pair.socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    pair.socket->setZeroCopyThreshold(1024);
    QVERIFY(pair.socket->isZeroCopyActive());
    QSignalSpy received(pair.peer.get(), &BlightSocket::messageReceived);
    QSignalSpy released(pair.socket.get(), &BlightSocket::buffersReleased);
    QSignalSpy failed(pair.socket.get(), &BlightSocket::errorOccurred);

    FakeKernel::script({Step{Step::Kind(kind), errorNumber}});
    const QByteArray payload = payloadOf(4096, 'a');
    QVERIFY(pair.socket->sendMessage(MessageType::Ack, 1, payload));
    // The message is sent again after the failure and arrives once.
    QTRY_COMPARE(received.size(), 1);
    QCOMPARE(received.at(0).at(0).value<Message>().payload, payload);
    QCOMPARE(failed.size(), 0);
    const quint32 retriedId = FakeKernel::idsTaken() - 1;
    QCOMPARE(retriedId, Step::Kind(kind) == Step::Kind::FailAfterId ? 1u : 0u);

    // Whatever the kernel reported for the failed attempt has been read by
    // now (the socket drains its error queue before it reads the nudge); the
    // retried send is still in flight and must stay held.
    QSignalSpy nudges(pair.socket.get(), &BlightSocket::messageReceived);
    nudge(pair);
    QTRY_COMPARE(nudges.size(), 1);
    QCOMPARE(pair.socket->pendingBuffers(), 1);

    FakeKernel::complete(retriedId, retriedId);
    nudge(pair);
    QTRY_COMPARE(pair.socket->pendingBuffers(), 0);
    QVERIFY(!released.isEmpty());
    QCOMPARE(released.last().at(1).toUInt(), retriedId);
    // Every id the kernel took was released once: the dropped attempt's too.
    QCOMPARE(pair.socket->statistics().releasedBuffers, quint64(FakeKernel::idsTaken()));
}

void tst_Seam::completionsOutOfOrder()
{
    // Ranges are not guaranteed to arrive in order.
    Pair pair = makePair(SOCK_DGRAM);
    QVERIFY(pair.socket);
    pair.socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    pair.socket->setZeroCopyThreshold(1024);
    QSignalSpy received(pair.peer.get(), &BlightSocket::messageReceived);
    for (int i = 0; i < 3; ++i)
        QVERIFY(pair.socket->sendMessage(MessageType::Ack, quint32(i), payloadOf(2048, char('a' + i))));
    QTRY_COMPARE(received.size(), 3);
    QCOMPARE(FakeKernel::zeroCopyPasses(), 3);
    QCOMPARE(pair.socket->pendingBuffers(), 3);
    FakeKernel::complete(2, 2);
    nudge(pair);
    QTRY_COMPARE(pair.socket->pendingBuffers(), 2);
    FakeKernel::complete(0, 0);
    nudge(pair);
    QTRY_COMPARE(pair.socket->pendingBuffers(), 1);
    FakeKernel::complete(0, 2); // a repeated range releases nothing twice
    FakeKernel::complete(1, 1);
    nudge(pair);
    QTRY_COMPARE(pair.socket->pendingBuffers(), 0);
    QCOMPARE(pair.socket->statistics().releasedBuffers, 3u);
}

void tst_Seam::zeroCopyDatagramTooLargeGoesAsCopy()
{
    // Linux refuses MSG_ZEROCOPY datagrams above about 63,500 bytes with
    // EMSGSIZE, before taking an id: the datagram goes as a copy.
    Pair pair = makePair(SOCK_DGRAM);
    QVERIFY(pair.socket);
    pair.socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    pair.socket->setZeroCopyThreshold(1024);
    QSignalSpy received(pair.peer.get(), &BlightSocket::messageReceived);
    QSignalSpy warnings(pair.socket.get(), &BlightSocket::warning);
    FakeKernel::script({Step{Step::Kind::FailBeforeId, EMSGSIZE}});
    const QByteArray payload = payloadOf(60000, 'z');
    QVERIFY(pair.socket->sendMessage(MessageType::Ack, 9, payload));
    QTRY_COMPARE(received.size(), 1);
    QCOMPARE(received.at(0).at(0).value<Message>().payload, payload);
    QCOMPARE(FakeKernel::zeroCopyPasses(), 0);
    QCOMPARE(pair.socket->pendingBuffers(), 0);
    QCOMPARE(pair.socket->statistics().zeroCopySends, 0u);
    QCOMPARE(warnings.size(), 0);
}

void tst_Seam::earlierIcmpErrorIsAWarningAndTheDatagramGoesAgain()
{
    // On a connected UDP socket the ICMP port-unreachable for an earlier
    // datagram is returned by the next sendmsg as ECONNREFUSED.
    Pair pair = makePair(SOCK_DGRAM);
    QVERIFY(pair.socket);
    QSignalSpy received(pair.peer.get(), &BlightSocket::messageReceived);
    QSignalSpy warnings(pair.socket.get(), &BlightSocket::warning);
    QSignalSpy failed(pair.socket.get(), &BlightSocket::errorOccurred);
    FakeKernel::script({Step{Step::Kind::FailBeforeId, ECONNREFUSED}});
    QVERIFY(pair.socket->sendMessage(MessageType::Focus, 5, {}));
    QCOMPARE(pair.socket->lastSendError(), BlightSocket::Error::NoError);
    QTRY_COMPARE(received.size(), 1);
    QCOMPARE(received.at(0).at(0).value<Message>().ackid(), 5u);
    QCOMPARE(warnings.size(), 1);
    QCOMPARE(failed.size(), 0);
    QCOMPARE(pair.socket->state(), BlightSocket::State::Connected);
    QCOMPARE(FakeKernel::sendCalls(), 2);
}

void tst_Seam::errorAboutThisDatagramRefusesItAlone_data()
{
    QTest::addColumn<bool>("queued");
    QTest::addColumn<int>("first");
    QTest::addColumn<int>("second");
    QTest::addColumn<BlightSocket::Error>("error");
    // No route: the error is about this datagram, so the retry fails too.
    QTest::addRow("no-route-immediate") << false << EHOSTUNREACH << EHOSTUNREACH << BlightSocket::Error::NetworkError;
    QTest::addRow("no-route-queued") << true << ENETUNREACH << ENETUNREACH << BlightSocket::Error::NetworkError;
    // Too large for the route (path MTU discovery set on the descriptor).
    QTest::addRow("emsgsize-immediate") << false << EMSGSIZE << 0 << BlightSocket::Error::MessageTooLarge;
    QTest::addRow("emsgsize-queued") << true << EMSGSIZE << 0 << BlightSocket::Error::MessageTooLarge;
}

void tst_Seam::errorAboutThisDatagramRefusesItAlone()
{
    QFETCH(bool, queued);
    QFETCH(int, first);
    QFETCH(int, second);
    QFETCH(BlightSocket::Error, error);
    Pair pair = makePair(SOCK_DGRAM);
    QVERIFY(pair.socket);
    QSignalSpy received(pair.peer.get(), &BlightSocket::messageReceived);
    QSignalSpy warnings(pair.socket.get(), &BlightSocket::warning);
    QSignalSpy failed(pair.socket.get(), &BlightSocket::errorOccurred);
    if (queued)
        QVERIFY(pair.socket->sendMessage(MessageType::Focus, 1, {})); // takes the turn's immediate send
    if (second)
        FakeKernel::script({Step{Step::Kind::FailBeforeId, first}, Step{Step::Kind::FailBeforeId, second}});
    else
        FakeKernel::script({Step{Step::Kind::FailBeforeId, first}});
    const bool accepted = pair.socket->sendMessage(MessageType::Focus, 2, {});
    // A refusal inside the call returns false; a queued datagram is refused
    // when it would leave, with the same error and a warning.
    QCOMPARE(accepted, queued);
    const auto refusedWarning = [&warnings] {
        return !warnings.isEmpty() && warnings.last().at(0).toString().contains(u"refused");
    };
    QTRY_VERIFY(refusedWarning());
    QCOMPARE(pair.socket->lastSendError(), error);
    QVERIFY(pair.socket->sendMessage(MessageType::Focus, 3, {}));
    QTRY_COMPARE(received.size(), queued ? 2 : 1);
    QCOMPARE(received.last().at(0).value<Message>().ackid(), 3u);
    QCOMPARE(failed.size(), 0);
    QCOMPARE(pair.socket->state(), BlightSocket::State::Connected);
}

void tst_Seam::noBuffersOnTheCopyPathIsRetried()
{
    // ENOBUFS with nothing pending never raises POLLERR: a timer retries.
    Pair pair = makePair(SOCK_DGRAM);
    QVERIFY(pair.socket);
    pair.socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::Off);
    QSignalSpy received(pair.peer.get(), &BlightSocket::messageReceived);
    FakeKernel::script({Step{Step::Kind::FailBeforeId, ENOBUFS}, Step{Step::Kind::FailBeforeId, ENOBUFS},
                        Step{Step::Kind::FailBeforeId, ENOBUFS}});
    QVERIFY(pair.socket->sendMessage(MessageType::Ack, 4, payloadOf(3000, 'n')));
    QTRY_COMPARE(received.size(), 1);
    QCOMPARE(received.at(0).at(0).value<Message>().payload, payloadOf(3000, 'n'));
    QCOMPARE(pair.socket->statistics().noBufferErrors, 3u);
    QCOMPARE(pair.socket->errorCount(), 0u);
}

void tst_Seam::shortWritesDeliverEveryByte()
{
    // A stream socket may take fewer bytes than offered at any point.
    Pair pair = makePair(SOCK_STREAM);
    QVERIFY(pair.socket);
    FakeKernel::setMaxBytesPerSend(777);
    QSignalSpy received(pair.peer.get(), &BlightSocket::messageReceived);
    constexpr int Count = 40;
    for (int i = 0; i < Count; ++i)
        QVERIFY(pair.socket->sendMessage(MessageType::Ack, quint32(i), payloadOf(5000 + i * 13, char(i))));
    QTRY_COMPARE(received.size(), Count);
    for (int i = 0; i < Count; ++i) {
        const Message message = received.at(i).at(0).value<Message>();
        QCOMPARE(message.ackid(), quint32(i));
        QCOMPARE(message.payload, payloadOf(5000 + i * 13, char(i)));
    }
    QVERIFY(FakeKernel::sendCalls() > Count * 5);
}

QTEST_GUILESS_MAIN(tst_Seam)
#include "tst_seam.moc"
