// SPDX-License-Identifier: MIT
// The scenarios of tst_deletion: each sets up real sockets, arms the deleter and triggers the emission.
#include "tst_deletion.h"

#include <testutil.h>

#include <BlightTransport/blightbufferpool.h>

#include <QtCore/QEventLoop>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTimer>
#include <QtTest/QTest>

#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;
using namespace DeletionRows;

namespace {

QByteArray message(MessageType type, quint32 ackid = 0)
{
    return TestUtil::headerBytes(qint32(type), ackid, 0);
}

} // namespace

void tst_Deletion::run(Scenario scenario)
{
    // The io_uring rows run the MSG_ZEROCOPY rows' scenarios on the other
    // backend (UringBurst has its own): the same emission sites, reached
    // from the ring's completions.
    bool uring = true;
    switch (scenario) {
    case Scenario::UringBurst:
        break;
    case Scenario::UringSend:
        scenario = Scenario::ZeroCopySend;
        break;
    case Scenario::UringBackOff:
        scenario = Scenario::ZeroCopyBackOff;
        break;
    case Scenario::CloseAfterUring:
        scenario = Scenario::CloseAfterZeroCopy;
        break;
    default:
        uring = false;
        break;
    }
    const auto needZeroCopy = [this, uring] {
        if (!m_socket->isZeroCopySupported()) {
            m_skip = QStringLiteral("zero-copy is not supported here: ") + m_socket->zeroCopyReason();
            return false;
        }
        m_skip = TestUtil::useZeroCopyBackend(*m_socket,
                                              uring ? BlightSocket::ZeroCopyBackend::IoUring
                                                    : BlightSocket::ZeroCopyBackend::MsgZeroCopy);
        return m_skip.isEmpty();
    };
    const auto closeRawPeer = [this] {
        m_fds.removeOne(m_rawFd);
        ::close(std::exchange(m_rawFd, -1));
    };
    // Sends while the socket lives: a slot may delete it in the middle.
    const auto sendSome = [this](int count, const QByteArray &payload) {
        for (int i = 0; i < count && m_socket; ++i)
            m_socket->sendMessage(MessageType::Focus, quint32(i), payload);
    };

    switch (scenario) {
    case Scenario::ConnectToTcp:
        m_server = std::make_unique<BlightServer>();
        QVERIFY(m_server->listen(QStringLiteral("tcp://127.0.0.1:0")));
        m_socket = new BlightSocket;
        arm();
        call([this] { m_socket->connectToEndpoint(m_server->endpoint()); });
        return;
    case Scenario::ConnectToUnix:
    case Scenario::ConnectToLocalhost: {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        m_server = std::make_unique<BlightServer>();
        const bool overUnix = scenario == Scenario::ConnectToUnix;
        QVERIFY(m_server->listen(overUnix ? QStringLiteral("unix:") + dir.filePath(QStringLiteral("s"))
                                          : QStringLiteral("tcp://127.0.0.1:0")));
        const QString endpoint = overUnix ? m_server->endpoint()
                                          : QStringLiteral("tcp://localhost:") + m_server->endpoint().section(u':', -1);
        m_socket = new BlightSocket;
        arm();
        call([this, endpoint] { m_socket->connectToEndpoint(endpoint); });
        QTRY_VERIFY(m_fired); // before the directory goes
        return;
    }
    case Scenario::AbortWithQueue:
        QVERIFY(adoptUnixPair());
        QVERIFY(fillQueueBehindSlowReader(8));
        arm();
        call([this] { m_socket->abort(); });
        return;
    case Scenario::AbortConnected:
        QVERIFY(adoptUnixPair());
        arm();
        call([this] { m_socket->abort(); });
        return;
    case Scenario::CloseAfterZeroCopy:
        QVERIFY(takeTcpPair());
        if (!needZeroCopy())
            return;
        m_socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
        m_socket->setZeroCopyThreshold(1024);
        sendSome(1, TestUtil::pattern(256 * 1024, 4));
        QVERIFY(m_socket->pendingBuffers() > 0);
        arm();
        call([this] { m_socket->close(); });
        return;
    case Scenario::AdoptDescriptor:
    case Scenario::ConnectToFd: {
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        m_fds.append(fds[1]);
        m_rawFd = fds[1];
        m_socket = new BlightSocket;
        arm();
        if (scenario == Scenario::AdoptDescriptor)
            call([this, fd = fds[0]] { QVERIFY(m_socket->setSocketDescriptor(fd)); });
        else
            call([this, fd = fds[0]] { m_socket->connectToEndpoint(QStringLiteral("fd:%1").arg(fd)); });
        return;
    }
    case Scenario::CloseWithLinger:
        QVERIFY(adoptUnixPair());
        QVERIFY(fillQueueBehindSlowReader(8));
        arm();
        call([this] { m_socket->close(); });
        m_peer->setReadingPaused(false); // the peer reads and the queue drains
        return;
    case Scenario::CloseIdle:
        QVERIFY(adoptUnixPair());
        arm();
        call([this] { m_socket->close(); });
        return;
    case Scenario::AbortWhileConnecting:
        m_server = std::make_unique<BlightServer>();
        QVERIFY(m_server->listen(QStringLiteral("tcp://127.0.0.1:0")));
        m_socket = new BlightSocket;
        m_socket->connectToEndpoint(m_server->endpoint());
        QCOMPARE(m_socket->state(), BlightSocket::State::Connecting);
        arm();
        call([this] { m_socket->abort(); });
        return;
    case Scenario::UdpServerFirstDatagram:
        QVERIFY(listenUdp(BlightSocket::Mode::Messages));
        arm();
        QVERIFY(writeToPeer(message(MessageType::Focus)));
        return;
    case Scenario::PeerHangUp:
        QVERIFY(adoptRawPeer());
        arm();
        closeRawPeer();
        return;
    case Scenario::MalformedHeader:
        QVERIFY(adoptRawPeer());
        arm();
        QVERIFY(writeToPeer(TestUtil::headerBytes(999, 0, 0)));
        return;
    case Scenario::ConnectRefused: {
        const int port = unusedPort(SOCK_STREAM);
        QVERIFY(port > 0);
        m_socket = new BlightSocket;
        arm();
        call([this, port] { m_socket->connectToEndpoint(QStringLiteral("tcp://127.0.0.1:%1").arg(port)); });
        return;
    }
    case Scenario::InvalidEndpoint:
        m_socket = new BlightSocket;
        arm();
        call([this] { m_socket->connectToEndpoint(QStringLiteral("nonsense:zzz")); });
        return;
    case Scenario::CloseTimesOut:
        QVERIFY(adoptUnixPair());
        QVERIFY(fillQueueBehindSlowReader(8));
        m_socket->setLingerTime(100);
        arm();
        call([this] { m_socket->close(); });
        return;
    case Scenario::SendToClosedPeer:
        QVERIFY(adoptRawPeer());
        closeRawPeer();
        arm();
        call([this] { m_socket->sendMessage(MessageType::Focus, 0, {}); });
        return;
    case Scenario::UdpMalformedDatagram:
        QVERIFY(adoptUdpPair(BlightSocket::Mode::Messages));
        arm();
        QVERIFY(writeToPeer(QByteArrayLiteral("xyz")));
        return;
    case Scenario::UdpIcmpUnreachable: {
        const int port = unusedPort(SOCK_DGRAM);
        QVERIFY(port > 0);
        QVERIFY(adoptUdpPair(BlightSocket::Mode::Messages, quint16(port)));
        arm();
        call([this] { m_socket->sendMessage(MessageType::Focus, 0, {}); });
        return;
    }
    case Scenario::PeerSendsMessage:
    case Scenario::ReadMessage:
        QVERIFY(adoptRawPeer());
        arm();
        QVERIFY(writeToPeer(message(MessageType::Focus)));
        return;
    case Scenario::ResumeReading:
        QVERIFY(adoptRawPeer());
        m_socket->setReadingPaused(true);
        QVERIFY(writeToPeer(message(MessageType::Focus) + message(MessageType::Focus, 1)));
        arm();
        call([this] { m_socket->setReadingPaused(false); });
        return;
    case Scenario::NestedEventLoop: {
        QVERIFY(adoptRawPeer());
        // Connected before the deleter, so it runs first: the second message
        // arrives, and the socket is deleted, inside its nested loop.
        auto nested = std::make_shared<bool>(false);
        connect(m_socket, &BlightSocket::messageReceived, this, [this, nested] {
            if (std::exchange(*nested, true))
                return;
            QEventLoop loop;
            connect(m_socket, &QObject::destroyed, &loop, &QEventLoop::quit);
            QTimer::singleShot(5000, &loop, &QEventLoop::quit);
            if (writeToPeer(message(MessageType::Focus, 2)))
                loop.exec();
            m_deletedInNestedLoop = m_fired;
        });
        arm();
        QVERIFY(writeToPeer(message(MessageType::Focus, 1)));
        QTRY_VERIFY(m_fired);
        QTRY_VERIFY2(m_deletedInNestedLoop, "the socket was not deleted inside the nested loop");
        return;
    }
    case Scenario::PeerSendsAck:
        QVERIFY(adoptRawPeer());
        arm();
        QVERIFY(writeToPeer(message(MessageType::Ack, 7)));
        return;
    case Scenario::AckForPendingReply: {
        QVERIFY(adoptRawPeer());
        BlightReply *reply = m_socket->request(MessageType::Focus);
        QVERIFY(reply);
        arm();
        QVERIFY(writeToPeer(message(MessageType::Ack, reply->ackid())));
        return;
    }
    case Scenario::PingAnswered:
    case Scenario::PingNotAnswered:
        QVERIFY(adoptRawPeer());
        m_socket->setAutoAnswerPings(scenario == Scenario::PingAnswered);
        arm();
        QVERIFY(writeToPeer(message(MessageType::Ping, 5)));
        return;
    case Scenario::RawStreamData:
        QVERIFY(adoptRawPeer(BlightSocket::Mode::RawStream));
        arm();
        QVERIFY(writeToPeer(QByteArrayLiteral("raw bytes")));
        return;
    case Scenario::RawUdpData:
        QVERIFY(adoptUdpPair(BlightSocket::Mode::RawStream));
        arm();
        QVERIFY(writeToPeer(QByteArrayLiteral("raw datagram")));
        return;
    case Scenario::ZeroCopySend:
    case Scenario::ZeroCopyBurst:
    case Scenario::ZeroCopyBackOff:
    case Scenario::ZeroCopyProbe:
        QVERIFY(takeTcpPair());
        if (!needZeroCopy())
            return;
        if (scenario == Scenario::ZeroCopySend || scenario == Scenario::ZeroCopyBurst)
            m_socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
        else
            m_socket->setCopiedBackOffCount(1); // Auto: loopback copies, so it backs off at once
        m_socket->setBackOffInterval(10);
        m_socket->setZeroCopyThreshold(1024);
        arm();
        if (scenario == Scenario::ZeroCopyBurst) {
            // Loopback completes a send once the peer has read it: a small
            // receive buffer makes the first completions come while later
            // sends still wait in the kernel, and the heir must wait for those.
            const int small = 128 * 1024;
            QVERIFY(::setsockopt(m_peer->socketDescriptor(), SOL_SOCKET, SO_RCVBUF, &small, sizeof(small)) == 0);
            call([&] { sendSome(8, TestUtil::pattern(256 * 1024, 1)); });
            return;
        }
        call([&] { sendSome(1, TestUtil::pattern(256 * 1024, 1)); });
        return;
    case Scenario::UringBurst:
        // On TCP io_uring keeps one send in flight, and its release comes
        // before the next goes; datagrams go many per submission.
        QVERIFY(adoptUdpPair(BlightSocket::Mode::Messages));
        if (!needZeroCopy())
            return;
        m_socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
        m_socket->setZeroCopyThreshold(1024);
        arm();
        call([&] { sendSome(8, TestUtil::pattern(32 * 1024, 1)); });
        return;
    case Scenario::ZeroCopyBudgetThresholdFlush:
    case Scenario::RaisePendingBuffersLimit:
        QVERIFY(takeTcpPair());
        if (!needZeroCopy())
            return;
        m_socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
        m_socket->setZeroCopyThreshold(1024);
        m_socket->setPendingBuffersLimit(1);
        m_socket->setFlushThreshold(1);
        if (scenario == Scenario::ZeroCopyBudgetThresholdFlush) {
            arm();
            call([&] { sendSome(4, TestUtil::pattern(64 * 1024, 2)); });
            return;
        }
        // No turn of the event loop in between: no completion frees it first.
        sendSome(4, TestUtil::pattern(64 * 1024, 2));
        QCOMPARE(m_socket->zeroCopyState(), BlightSocket::ZeroCopyState::Budget);
        arm();
        call([this] { m_socket->setPendingBuffersLimit(100); });
        return;
    case Scenario::QueueFullInSend:
    case Scenario::DrainAtEndOfTurn:
    case Scenario::RaiseQueueLimit:
        QVERIFY(adoptUnixPair());
        m_socket->setSendQueueLimit(1000);
        if (scenario == Scenario::QueueFullInSend) {
            arm();
            call([&] { sendSome(4, QByteArray(600, 'q')); });
            return;
        }
        // The first leaves at once, the second queues, the third is refused.
        sendSome(3, QByteArray(600, 'q'));
        QVERIFY(!m_socket->canSend());
        arm();
        if (scenario == Scenario::RaiseQueueLimit)
            call([this] { m_socket->setSendQueueLimit(100000); });
        return;
    case Scenario::DrainOnWritable:
        QVERIFY(adoptUnixPair());
        QVERIFY(fillQueueBehindSlowReader(8));
        m_socket->setSendQueueLimit(m_socket->queuedBytes() + 1);
        QVERIFY(!m_socket->sendMessage(MessageType::Focus, 0, QByteArray(1024, 'x')));
        QVERIFY(!m_socket->canSend());
        arm();
        call([this] { m_peer->setReadingPaused(false); });
        return;
    case Scenario::QueueEmptyAtEndOfTurn:
    case Scenario::EndOfTurnFlush:
        QVERIFY(adoptUnixPair());
        arm();
        call([&] { sendSome(2, QByteArray(100, 'e')); });
        return;
    case Scenario::QueueEmptyOnWritable:
    case Scenario::WritableFlush:
        QVERIFY(adoptUnixPair());
        QVERIFY(fillQueueBehindSlowReader(8));
        arm();
        call([this] { m_peer->setReadingPaused(false); });
        return;
    case Scenario::ImmediateSend:
        QVERIFY(adoptUnixPair());
        arm();
        call([&] { sendSome(1, {}); });
        return;
    case Scenario::ResetStatistics:
        QVERIFY(adoptUnixPair());
        arm();
        call([this] { m_socket->resetStatistics(); });
        return;
    case Scenario::SetZeroCopyModeOff:
        QVERIFY(takeTcpPair());
        if (!needZeroCopy())
            return;
        arm();
        call([this] { m_socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::Off); });
        return;
    case Scenario::SharedMemoryAgreement:
    case Scenario::PeerOffersWhileOff:
    case Scenario::SharedMemoryFrame: {
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) == 0);
        m_socket = new BlightSocket;
        m_peer = std::make_unique<BlightSocket>();
        m_socket->setSharedMemoryEnabled(scenario != Scenario::PeerOffersWhileOff);
        m_peer->setSharedMemoryEnabled(true);
        if (scenario != Scenario::SharedMemoryFrame)
            arm();
        QVERIFY(m_socket->setSocketDescriptor(fds[0]));
        QVERIFY(m_peer->setSocketDescriptor(fds[1]));
        if (scenario != Scenario::SharedMemoryFrame)
            return;
        QTRY_VERIFY(m_socket->isSharedMemoryActive() && m_peer->isSharedMemoryActive());
        arm();
        // The pool may go before its buffer: the buffer keeps its memory.
        BlightBufferPool pool(1, 4096, BlightBufferPool::Backing::SharedMemory);
        QVERIFY(m_peer->sendBuffer(MessageType::Ack, 1, pool.acquire()) > 0);
        return;
    }
    case Scenario::SharedMemoryChannel:
        // This side offers first; the peer's Offer then changes nothing it
        // reports, its Channel (read right after) does.
        QVERIFY(takeTcpPair());
        m_socket->setSharedMemoryEnabled(true);
        m_peer->setSharedMemoryEnabled(true);
        arm();
        return;
    default:
        break;
    }

    // The setters, on a TCP connection (the zero-copy ones do more after the emit).
    QVERIFY(takeTcpPair());
    arm();
    BlightSocket *s = m_socket;
    call([&] {
        switch (scenario) {
        case Scenario::SetZeroCopyMode:
            s->setZeroCopyMode(BlightSocket::ZeroCopyMode::Off);
            break;
        case Scenario::SetZeroCopyThreshold:
            s->setZeroCopyThreshold(s->zeroCopyThreshold() + 1);
            break;
        case Scenario::SetPendingBytesLimit:
            s->setPendingBytesLimit(s->pendingBytesLimit() + 1);
            break;
        case Scenario::SetPendingBuffersLimit:
            s->setPendingBuffersLimit(s->pendingBuffersLimit() + 1);
            break;
        case Scenario::SetCopiedBackOffCount:
            s->setCopiedBackOffCount(s->copiedBackOffCount() + 1);
            break;
        case Scenario::SetBackOffInterval:
            s->setBackOffInterval(s->backOffInterval() + 1);
            break;
        case Scenario::SetLingerTime:
            s->setLingerTime(s->lingerTime() + 1);
            break;
        case Scenario::SetSendQueueLimit:
            s->setSendQueueLimit(s->sendQueueLimit() + 1);
            break;
        case Scenario::SetFlushThreshold:
            s->setFlushThreshold(s->flushThreshold() + 1);
            break;
        case Scenario::SetMaxPayloadSize:
            s->setMaxPayloadSize(s->maxPayloadSize() - 1);
            break;
        case Scenario::SetAutoAnswerPings:
            s->setAutoAnswerPings(!s->autoAnswerPings());
            break;
        case Scenario::SetReadingPaused:
            s->setReadingPaused(!s->isReadingPaused());
            break;
        case Scenario::SetSharedMemoryEnabled:
            s->setSharedMemoryEnabled(!s->isSharedMemoryEnabled());
            break;
        case Scenario::SetSharedMemoryLimit:
            s->setSharedMemoryLimit(s->sharedMemoryLimit() + 1);
            break;
        default:
            QFAIL("a scenario without code");
            break;
        }
    });
}
