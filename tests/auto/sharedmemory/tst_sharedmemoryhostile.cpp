// SPDX-License-Identifier: MIT
// tst_sharedmemoryhostile: a BlightSocket with shared memory on, against a
// hostile peer on a real socket pair (hostilepeer.cpp writes every message
// by hand). Each row is one lie the peer tells; the socket must refuse it
// with a clear error, or ignore it, and the process must hold exactly the
// descriptors it held before: none leaked, none mapped for good.
#include "hostilepeer.h"

#include <testutil.h>

#include <BlightTransport/blightsocket.h>

#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;
namespace Peer = HostilePeer;

namespace {

enum class Lie {
    PipeAsPool,
    FileAsPool,
    UnsealedMemfd,
    ShrinkSealOnly,
    HugetlbMemfd,
    SizeDiffers,
    OverMapLimit,
    TooManyPools,
    WrongPoolNumber,
    PoolWithoutDescriptor,
    DescriptorOnPlainMessage,
    DescriptorSplitFromPool,
    TooManyDescriptors,
    FrameOutsidePool,
    FrameOffsetOverflow,
    FrameInUnknownPool,
    FrameOverPayloadCap,
    FrameOfInvalidType,
    FrameWithoutNeededPayload,
    FrameTokenAlreadyOut,
    ReleaseNotOut,
    FrameBeforeAgreement,
    SecondOffer,
    ChannelInBand,
    UnknownVersion,
    UnknownKind,
    OfferOfWrongSize,
    ReleaseOfNothing,
};

constexpr qint64 PoolBytes = 64 * 1024;

} // namespace

Q_DECLARE_METATYPE(Lie)

class tst_SharedMemoryHostile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void refused_data();
    void refused();
    void offIgnoresDescriptors();
    void validPoolKeepsNoDescriptor();
};

void tst_SharedMemoryHostile::refused_data()
{
    QTest::addColumn<Lie>("lie");
    QTest::addColumn<QString>("reason"); // a part of the error's text
    QTest::newRow("a pipe as the pool") << Lie::PipeAsPool << QStringLiteral("not a memfd");
    QTest::newRow("a regular file as the pool") << Lie::FileAsPool << QStringLiteral("not a memfd");
    QTest::newRow("an unsealed memfd") << Lie::UnsealedMemfd << QStringLiteral("not sealed");
    QTest::newRow("sealed against shrinking only") << Lie::ShrinkSealOnly << QStringLiteral("not sealed");
    QTest::newRow("a hugetlb memfd") << Lie::HugetlbMemfd << QStringLiteral("not in tmpfs shared memory");
    QTest::newRow("a size other than announced") << Lie::SizeDiffers << QStringLiteral("the pool message said");
    QTest::newRow("more than the map limit") << Lie::OverMapLimit << QStringLiteral("more than the limit");
    QTest::newRow("more pools than the cap") << Lie::TooManyPools << QStringLiteral("more than 16 pools");
    QTest::newRow("a pool number out of order") << Lie::WrongPoolNumber << QStringLiteral("the next is 0");
    QTest::newRow("a pool without descriptor") << Lie::PoolWithoutDescriptor << QStringLiteral("without a descriptor");
    QTest::newRow("a descriptor on a plain message")
        << Lie::DescriptorOnPlainMessage << QStringLiteral("came with messages that carry none");
    QTest::newRow("a descriptor a read before its pool")
        << Lie::DescriptorSplitFromPool << QStringLiteral("came with messages that carry none");
    QTest::newRow("too many descriptors") << Lie::TooManyDescriptors << QStringLiteral("more descriptors");
    QTest::newRow("a frame outside its pool") << Lie::FrameOutsidePool << QStringLiteral("lies outside");
    QTest::newRow("a frame whose end overflows") << Lie::FrameOffsetOverflow << QStringLiteral("lies outside");
    QTest::newRow("a frame in an unknown pool") << Lie::FrameInUnknownPool << QStringLiteral("was not announced");
    QTest::newRow("a frame over the payload cap")
        << Lie::FrameOverPayloadCap << QStringLiteral("exceeds the payload cap");
    QTest::newRow("a frame of an invalid type") << Lie::FrameOfInvalidType << QStringLiteral("invalid message type");
    QTest::newRow("a Move frame without payload")
        << Lie::FrameWithoutNeededPayload << QStringLiteral("without payload");
    QTest::newRow("a token already out") << Lie::FrameTokenAlreadyOut << QStringLiteral("already out");
    QTest::newRow("a release of a frame not out") << Lie::ReleaseNotOut << QStringLiteral("which is not out");
    QTest::newRow("a frame before the peer's offer")
        << Lie::FrameBeforeAgreement << QStringLiteral("before both sides offered");
    QTest::newRow("a second offer") << Lie::SecondOffer << QStringLiteral("a second shared-memory offer");
    QTest::newRow("a descriptor channel on AF_UNIX")
        << Lie::ChannelInBand << QStringLiteral("a descriptor channel on a socket that carries descriptors");
    QTest::newRow("an unknown version") << Lie::UnknownVersion << QStringLiteral("version 2");
    QTest::newRow("an unknown kind") << Lie::UnknownKind << QStringLiteral("unknown kind 9");
    QTest::newRow("an offer of the wrong size") << Lie::OfferOfWrongSize << QStringLiteral("with 28 bytes");
    QTest::newRow("a release of no frame") << Lie::ReleaseOfNothing << QStringLiteral("for 0 frames");
}

void tst_SharedMemoryHostile::refused()
{
    QFETCH(Lie, lie);
    QFETCH(QString, reason);
    const int before = TestUtil::openDescriptors();
    {
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        const int peer = fds[1];
        BlightSocket socket;
        socket.setSharedMemoryEnabled(true);
        socket.setSharedMemoryLimit(lie == Lie::OverMapLimit ? PoolBytes / 2 : 64 * 1024 * 1024);
        socket.setMaxPayloadSize(lie == Lie::FrameOverPayloadCap ? 1000 : socket.maxPayloadSize());
        QList<BlightBuffer> held; // frames stay out: the peer may lie about them
        connect(&socket, &BlightSocket::bufferReceived, this,
                [&](MessageType, quint32, const BlightBuffer &frame) { held.append(frame); });
        QSignalSpy errors(&socket, &BlightSocket::errorOccurred);
        QVERIFY(socket.setSocketDescriptor(fds[0]));

        if (lie != Lie::FrameBeforeAgreement)
            QVERIFY(Peer::send(peer, Peer::offer()));
        // Sends a sealed pool with its descriptor (the descriptor is the
        // peer's to close: the kernel gave the socket its own).
        const auto goodPool = [peer](quint32 number) {
            const int region = Peer::memfd(PoolBytes, Peer::requiredSeals());
            const bool sent = region >= 0 && Peer::send(peer, Peer::pool(number, PoolBytes), {region});
            ::close(region);
            return sent;
        };
        const auto poolOf = [peer](int region, quint64 size) {
            const bool sent = region >= 0 && Peer::send(peer, Peer::pool(0, size), {region});
            ::close(region);
            return sent;
        };
        switch (lie) {
        case Lie::PipeAsPool: {
            int pipeEnds[2];
            QVERIFY(::pipe2(pipeEnds, O_CLOEXEC) == 0);
            ::close(pipeEnds[1]);
            QVERIFY(poolOf(pipeEnds[0], PoolBytes));
            break;
        }
        case Lie::FileAsPool:
            QVERIFY(poolOf(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC), PoolBytes));
            break;
        case Lie::UnsealedMemfd:
            QVERIFY(poolOf(Peer::memfd(PoolBytes, 0), PoolBytes));
            break;
        case Lie::ShrinkSealOnly:
            QVERIFY(poolOf(Peer::memfd(PoolBytes, F_SEAL_SHRINK), PoolBytes));
            break;
        case Lie::HugetlbMemfd: {
            constexpr qint64 HugePage = 2 * 1024 * 1024;
            const int region = ::memfd_create("hostile", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB);
            if (region < 0 || ::ftruncate(region, HugePage) != 0
                || ::fcntl(region, F_ADD_SEALS, Peer::requiredSeals()) != 0) {
                const QString error = QString::fromLocal8Bit(std::strerror(errno));
                if (region >= 0)
                    ::close(region);
                ::close(peer);
                QSKIP(qPrintable(QStringLiteral("no sealed hugetlb memfd on this kernel: ") + error));
            }
            QVERIFY(poolOf(region, quint64(HugePage)));
            break;
        }
        case Lie::SizeDiffers:
            QVERIFY(poolOf(Peer::memfd(PoolBytes, Peer::requiredSeals()), PoolBytes / 2));
            break;
        case Lie::OverMapLimit:
            QVERIFY(goodPool(0));
            break;
        case Lie::TooManyPools:
            for (quint32 number = 0; number < 17; ++number)
                QVERIFY(goodPool(number));
            break;
        case Lie::WrongPoolNumber:
            QVERIFY(goodPool(3));
            break;
        case Lie::PoolWithoutDescriptor:
            QVERIFY(Peer::send(peer, Peer::pool(0, PoolBytes)));
            break;
        case Lie::DescriptorOnPlainMessage: {
            const int region = Peer::memfd(PoolBytes, Peer::requiredSeals());
            QVERIFY(Peer::send(peer, Peer::header(11, 0, 0), {region}));
            ::close(region);
            break;
        }
        case Lie::DescriptorSplitFromPool: {
            // The descriptor rides on a Focus message; its pool comes in a
            // later write with none: the descriptor belongs to no pool.
            const int region = Peer::memfd(PoolBytes, Peer::requiredSeals());
            QVERIFY(Peer::send(peer, Peer::header(11, 0, 0), {region}));
            ::close(region);
            QVERIFY(Peer::send(peer, Peer::pool(0, PoolBytes)));
            break;
        }
        case Lie::TooManyDescriptors: {
            QList<int> regions;
            for (int i = 0; i < 6; ++i)
                regions.append(Peer::memfd(PoolBytes, Peer::requiredSeals()));
            QVERIFY(Peer::send(peer, Peer::pool(0, PoolBytes), regions));
            for (int region : regions)
                ::close(region);
            break;
        }
        case Lie::FrameOutsidePool:
            QVERIFY(goodPool(0));
            QVERIFY(Peer::send(peer, Peer::frame(0, 1, PoolBytes - 10, 100)));
            break;
        case Lie::FrameOffsetOverflow:
            QVERIFY(goodPool(0));
            QVERIFY(Peer::send(peer, Peer::frame(0, 1, ~quint64(0) - 15, 32)));
            break;
        case Lie::FrameInUnknownPool:
            QVERIFY(goodPool(0));
            QVERIFY(Peer::send(peer, Peer::frame(1, 1, 0, 100)));
            break;
        case Lie::FrameOverPayloadCap:
            QVERIFY(goodPool(0));
            QVERIFY(Peer::send(peer, Peer::frame(0, 1, 0, 2000)));
            break;
        case Lie::FrameOfInvalidType:
            QVERIFY(goodPool(0));
            QVERIFY(Peer::send(peer, Peer::frame(0, 1, 0, 100, 99)));
            break;
        case Lie::FrameWithoutNeededPayload:
            QVERIFY(goodPool(0));
            QVERIFY(Peer::send(peer, Peer::frame(0, 1, 0, 0, 4)));
            break;
        case Lie::FrameTokenAlreadyOut:
            QVERIFY(goodPool(0));
            QVERIFY(Peer::send(peer, Peer::frame(0, 7, 0, 100) + Peer::frame(0, 7, 4096, 100)));
            break;
        case Lie::ReleaseNotOut:
            QVERIFY(Peer::send(peer, Peer::release({42})));
            break;
        case Lie::FrameBeforeAgreement:
            QVERIFY(Peer::send(peer, Peer::frame(0, 1, 0, 100)));
            break;
        case Lie::SecondOffer:
            QVERIFY(Peer::send(peer, Peer::offer()));
            break;
        case Lie::ChannelInBand:
            QVERIFY(Peer::send(peer, Peer::channel("name", "token")));
            break;
        case Lie::UnknownVersion:
            QVERIFY(Peer::send(peer, Peer::message(1, QByteArray(8, '\0'), 2)));
            break;
        case Lie::UnknownKind:
            QVERIFY(Peer::send(peer, Peer::message(9, QByteArray(8, '\0'))));
            break;
        case Lie::OfferOfWrongSize:
            QVERIFY(Peer::send(peer, Peer::message(1, QByteArray(12, '\0'))));
            break;
        case Lie::ReleaseOfNothing:
            QVERIFY(Peer::send(peer, Peer::release({})));
            break;
        }
        QVERIFY(errors.size() > 0 || errors.wait());
        QCOMPARE(errors.first().at(0).value<BlightSocket::Error>(), BlightSocket::Error::ProtocolError);
        const QString text = errors.first().at(1).toString();
        QVERIFY2(text.contains(reason), qPrintable(text));
        QCOMPARE(socket.state(), BlightSocket::State::Unconnected);
        held.clear();
        ::close(peer);
    }
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QCOMPARE(TestUtil::openDescriptors(), before);
}

void tst_SharedMemoryHostile::offIgnoresDescriptors()
{
    // Shared memory off: a descriptor on a message is dropped by the kernel
    // (no room for it), the message is the application's, nothing leaks.
    const int before = TestUtil::openDescriptors();
    {
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        BlightSocket socket;
        QSignalSpy messages(&socket, &BlightSocket::messageReceived);
        QSignalSpy errors(&socket, &BlightSocket::errorOccurred);
        QVERIFY(socket.setSocketDescriptor(fds[0]));
        const int region = Peer::memfd(PoolBytes, Peer::requiredSeals());
        QVERIFY(Peer::send(fds[1], Peer::offer() + Peer::header(11, 5, 0), {region}));
        ::close(region);
        QVERIFY(messages.wait());
        QCOMPARE(messages.size(), 1); // the offer is not the application's
        QCOMPARE(messages.first().at(0).value<Message>().ackid(), quint32(5));
        QVERIFY(errors.isEmpty());
        QVERIFY2(socket.zeroCopyReason().contains(QStringLiteral("offered shared memory")),
                 qPrintable(socket.zeroCopyReason()));
        ::close(fds[1]);
    }
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QCOMPARE(TestUtil::openDescriptors(), before);
}

void tst_SharedMemoryHostile::validPoolKeepsNoDescriptor()
{
    // An honest pool from a peer that is not this library: mapped, its
    // descriptor closed; the frame reads the peer's bytes; the release goes
    // back with the token; the socket's descriptor count returns to before.
    const int before = TestUtil::openDescriptors();
    {
        int fds[2];
        QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
        BlightSocket socket;
        socket.setSharedMemoryEnabled(true);
        QList<BlightBuffer> frames;
        connect(&socket, &BlightSocket::bufferReceived, this,
                [&](MessageType type, quint32 ackid, const BlightBuffer &frame) {
                    QCOMPARE(type, MessageType::Ack);
                    QCOMPARE(ackid, quint32(77));
                    frames.append(frame);
                });
        QVERIFY(socket.setSocketDescriptor(fds[0]));
        const int region = Peer::memfd(PoolBytes, Peer::requiredSeals());
        QVERIFY(::pwrite(region, "hostile bytes", 13, 4096) == 13);
        QVERIFY(Peer::send(fds[1], Peer::offer() + Peer::pool(0, PoolBytes), {region}));
        const int afterPool = TestUtil::openDescriptors();
        QVERIFY(Peer::send(fds[1], Peer::frame(0, 5, 4096, 13, 1, 77)));
        QTRY_COMPARE(frames.size(), 1);
        QCOMPARE(TestUtil::openDescriptors(), afterPool); // nothing kept but the mapping
        QCOMPARE(QByteArray(frames.first().constData(), 13), QByteArrayLiteral("hostile bytes"));
        QCOMPARE(socket.mappedBytes(), PoolBytes);
        // The sender can still change the bytes: the transport never looks.
        QVERIFY(::pwrite(region, "HOSTILE", 7, 4096) == 7);
        QCOMPARE(QByteArray(frames.first().constData(), 7), QByteArrayLiteral("HOSTILE"));
        ::close(region);
        frames.clear();
        // The release arrives: our offer, then a Release naming token 5.
        const QByteArray expected = Peer::release({5});
        QByteArray received;
        while (!received.contains(expected)) {
            QCoreApplication::processEvents();
            char chunk[512];
            const ssize_t got = ::recv(fds[1], chunk, sizeof(chunk), MSG_DONTWAIT);
            if (got > 0)
                received.append(chunk, got);
            else
                QVERIFY(QTest::qWaitFor([&] { return ::recv(fds[1], chunk, 1, MSG_PEEK | MSG_DONTWAIT) > 0; }));
        }
        QVERIFY(received.startsWith(Peer::header(1, 0, 24)));
        ::close(fds[1]);
    }
    QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
    QCOMPARE(TestUtil::openDescriptors(), before);
}

QTEST_GUILESS_MAIN(tst_SharedMemoryHostile)
#include "tst_sharedmemoryhostile.moc"
