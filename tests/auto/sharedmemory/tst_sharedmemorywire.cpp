// SPDX-License-Identifier: MIT
// tst_sharedmemorywire: the shared-memory messages' encoding against the
// layout docs/shared-memory.md gives, strict decoding, and the session's
// bookkeeping and checks, without sockets.
#include "mappedregion_p.h"
#include "sharedmemorysession_p.h"
#include "sharedmemorywire_p.h"

#include <QtTest/QTest>

#include <cstring>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace Blight;
using namespace Blight::SharedMemoryWire;

namespace {

template<typename T> T at(const QByteArray &bytes, qsizetype offset)
{
    T value;
    std::memcpy(&value, bytes.constData() + offset, sizeof(T));
    return value;
}

template<typename T> void put(QByteArray &bytes, qsizetype offset, T value)
{
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

// The payload of an encoded message (its header checked on the way).
QByteArray payloadOf(const char *message, qsizetype size)
{
    const QByteArray bytes(message, size);
    if (at<qint32>(bytes, 0) != 1 || at<quint32>(bytes, 4) != 0 || at<quint32>(bytes, 8) != quint32(size - HeaderSize))
        return {};
    return bytes.mid(HeaderSize);
}

Header ackZero(qsizetype size)
{
    return makeHeader(MessageType::Ack, 0, quint32(size));
}

// A sealed memfd mapped as a peer's region would be.
MappedRegion *mappedRegion(qint64 size)
{
    const int fd = ::memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ::ftruncate(fd, size) != 0 || ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0)
        return nullptr;
    QString why;
    return MappedRegion::map(fd, quint64(size), &why);
}

} // namespace

class tst_SharedMemoryWire : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void layoutAsDocumented();
    void roundTrip();
    void recognisedOnlyAsAckZeroWithMagic_data();
    void recognisedOnlyAsAckZeroWithMagic();
    void refused_data();
    void refused();
    void tokensStayUniqueAcrossWrap();
    void releaseTakesTheFrame();
    void framesOutInSendOrder();
    void poolChecks();
    void frameChecks_data();
    void frameChecks();
};

void tst_SharedMemoryWire::layoutAsDocumented()
{
    char bytes[HeaderSize + FrameSize];
    FrameRef frame{3, 99, 4096, 1000, 8, 1234};
    QCOMPARE(encodeFrame(bytes, frame), HeaderSize + FrameSize);
    const QByteArray payload = payloadOf(bytes, sizeof(bytes));
    QCOMPARE(payload.size(), FrameSize);
    QCOMPARE(payload.left(8), QByteArrayLiteral("BlightSM"));
    QCOMPARE(at<quint32>(payload, 8), quint32(Kind::Frame));
    QCOMPARE(at<quint32>(payload, 12), Version);
    QCOMPARE(at<quint32>(payload, 16), quint32(3));
    QCOMPARE(at<quint32>(payload, 20), quint32(99));
    QCOMPARE(at<quint64>(payload, 24), quint64(4096));
    QCOMPARE(at<quint64>(payload, 32), quint64(1000));
    QCOMPARE(at<qint32>(payload, 40), qint32(8));
    QCOMPARE(at<quint32>(payload, 44), quint32(1234));

    char pool[HeaderSize + PoolSize];
    encodePool(pool, PoolAnnounce{2, 1 << 20});
    const QByteArray poolPayload = payloadOf(pool, sizeof(pool));
    QCOMPARE(at<quint32>(poolPayload, 8), quint32(Kind::Pool));
    QCOMPARE(at<quint32>(poolPayload, 16), quint32(2));
    QCOMPARE(at<quint32>(poolPayload, 20), quint32(0));
    QCOMPARE(at<quint64>(poolPayload, 24), quint64(1 << 20));

    char offer[HeaderSize + OfferSize];
    encodeOffer(offer, Offer{12345});
    const QByteArray offerPayload = payloadOf(offer, sizeof(offer));
    QCOMPARE(offerPayload.size(), OfferSize);
    QCOMPARE(at<quint64>(offerPayload, 16), quint64(12345));

    char release[HeaderSize + ReleaseHeadSize + 8];
    const quint32 tokens[] = {7, 9};
    QCOMPARE(encodeRelease(release, tokens, 2), qsizetype(sizeof(release)));
    const QByteArray releasePayload = payloadOf(release, sizeof(release));
    QCOMPARE(at<quint32>(releasePayload, 16), quint32(2));
    QCOMPARE(at<quint32>(releasePayload, 20), quint32(7));
    QCOMPARE(at<quint32>(releasePayload, 24), quint32(9));

    ChannelAddress address;
    for (int i = 0; i < ChannelAddress::NameSize; ++i)
        address.name[i] = char(i + 1);
    for (int i = 0; i < ChannelAddress::TokenSize; ++i)
        address.token[i] = char(0xf0 - i);
    for (int i = 0; i < ChannelAddress::EndpointSize; ++i) {
        address.local[i] = char(0x40 + i);
        address.peer[i] = char(0x80 + i);
    }
    char channel[HeaderSize + ChannelSize];
    QCOMPARE(encodeChannel(channel, address), HeaderSize + ChannelSize);
    const QByteArray channelPayload = payloadOf(channel, sizeof(channel));
    QCOMPARE(channelPayload.size(), ChannelSize);
    QCOMPARE(at<quint32>(channelPayload, 8), quint32(Kind::Channel));
    QCOMPARE(channelPayload.mid(16, 16), QByteArray(address.name, 16));
    QCOMPARE(channelPayload.mid(32, 16), QByteArray(address.token, 16));
    QCOMPARE(channelPayload.mid(48, 20), QByteArray(address.local, 20));
    QCOMPARE(channelPayload.mid(68, 20), QByteArray(address.peer, 20));
    Decoded decoded;
    QString why;
    QCOMPARE(decode(channelPayload, &decoded, &why), Result::Ok);
    QCOMPARE(decoded.kind, Kind::Channel);
    QCOMPARE(QByteArray(decoded.channel.name, 16), QByteArray(address.name, 16));
    QCOMPARE(QByteArray(decoded.channel.token, 16), QByteArray(address.token, 16));
    QCOMPARE(QByteArray(decoded.channel.local, 20), QByteArray(address.local, 20));
    QCOMPARE(QByteArray(decoded.channel.peer, 20), QByteArray(address.peer, 20));
}

void tst_SharedMemoryWire::roundTrip()
{
    char bytes[HeaderSize + FrameSize];
    encodeFrame(bytes, FrameRef{1, 2, 3, 4, 5, 6});
    const QByteArray payload(bytes + HeaderSize, FrameSize);
    QVERIFY(isSharedMemoryMessage(ackZero(payload.size()), payload));
    Decoded decoded;
    QString why;
    QCOMPARE(decode(payload, &decoded, &why), Result::Ok);
    QCOMPARE(decoded.kind, Kind::Frame);
    QCOMPARE(decoded.frame.pool, quint32(1));
    QCOMPARE(decoded.frame.token, quint32(2));
    QCOMPARE(decoded.frame.offset, quint64(3));
    QCOMPARE(decoded.frame.length, quint64(4));
    QCOMPARE(decoded.frame.type, qint32(5));
    QCOMPARE(decoded.frame.ackid, quint32(6));

    std::vector<quint32> tokens(MaxReleaseCount);
    for (quint32 i = 0; i < MaxReleaseCount; ++i)
        tokens[i] = i * 3 + 1;
    QByteArray release(HeaderSize + MaxReleaseSize, Qt::Uninitialized);
    QCOMPARE(encodeRelease(release.data(), tokens.data(), MaxReleaseCount), release.size());
    const QByteArray releasePayload = release.mid(HeaderSize); // the tokens stay a view into it
    QCOMPARE(decode(releasePayload, &decoded, &why), Result::Ok);
    QCOMPARE(decoded.releaseCount, MaxReleaseCount);
    for (quint32 i = 0; i < MaxReleaseCount; ++i)
        QCOMPARE(decoded.releaseToken(i), tokens[i]);
}

void tst_SharedMemoryWire::recognisedOnlyAsAckZeroWithMagic_data()
{
    QTest::addColumn<qint32>("type");
    QTest::addColumn<quint32>("ackid");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<bool>("recognised");
    const QByteArray preamble = QByteArrayLiteral("BlightSM") + QByteArray(8, '\0');
    QTest::newRow("Ack 0 with the magic") << 1 << 0u << preamble << true;
    QTest::newRow("Ack 5 with the magic") << 1 << 5u << preamble << false;
    QTest::newRow("Focus 0 with the magic") << 11 << 0u << preamble << false;
    QTest::newRow("Ack 0, another magic") << 1 << 0u << (QByteArrayLiteral("BlightSm") + QByteArray(8, '\0')) << false;
    QTest::newRow("Ack 0, shorter than the preamble") << 1 << 0u << preamble.left(15) << false;
    QTest::newRow("Ack 0, no payload") << 1 << 0u << QByteArray() << false;
}

void tst_SharedMemoryWire::recognisedOnlyAsAckZeroWithMagic()
{
    QFETCH(qint32, type);
    QFETCH(quint32, ackid);
    QFETCH(QByteArray, payload);
    QFETCH(bool, recognised);
    QCOMPARE(isSharedMemoryMessage(Header{type, ackid, quint32(payload.size())}, payload), recognised);
}

void tst_SharedMemoryWire::refused_data()
{
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<QString>("reason");
    char offer[HeaderSize + OfferSize];
    encodeOffer(offer, Offer{1});
    const QByteArray good(offer + HeaderSize, OfferSize);
    QByteArray version = good;
    put(version, 12, quint32(2));
    QTest::newRow("version 2") << version << QStringLiteral("version 2");
    QByteArray kind = good;
    put(kind, 8, quint32(0));
    QTest::newRow("kind 0") << kind << QStringLiteral("unknown kind 0");
    put(kind, 8, quint32(6));
    QTest::newRow("kind 6") << kind << QStringLiteral("unknown kind 6");
    char channel[HeaderSize + ChannelSize];
    encodeChannel(channel, ChannelAddress{});
    QTest::newRow("channel too short") << QByteArray(channel + HeaderSize, ChannelSize - 1)
                                       << QStringLiteral("with 87 bytes");
    QTest::newRow("offer too long") << good + QByteArray(1, '\0') << QStringLiteral("with 25 bytes");
    QTest::newRow("offer too short") << good.left(20) << QStringLiteral("with 20 bytes");
    char pool[HeaderSize + PoolSize];
    encodePool(pool, PoolAnnounce{0, 4096});
    QByteArray reserved(pool + HeaderSize, PoolSize);
    put(reserved, 20, quint32(1));
    QTest::newRow("pool with reserved set") << reserved << QStringLiteral("reserved");
    char release[HeaderSize + ReleaseHeadSize + 4];
    const quint32 token = 1;
    encodeRelease(release, &token, 1);
    QByteArray count(release + HeaderSize, ReleaseHeadSize + 4);
    put(count, 16, quint32(2));
    QTest::newRow("release count beyond the payload") << count << QStringLiteral("it has 28");
    put(count, 16, MaxReleaseCount + 1);
    QTest::newRow("release count over the cap") << count << QStringLiteral("1..4096");
    QTest::newRow("release head cut") << count.left(18) << QStringLiteral("release message of 18 bytes");
}

void tst_SharedMemoryWire::refused()
{
    QFETCH(QByteArray, payload);
    QFETCH(QString, reason);
    Decoded decoded;
    QString why;
    QCOMPARE(decode(payload, &decoded, &why), Result::Error);
    QVERIFY2(why.contains(reason), qPrintable(why));
}

void tst_SharedMemoryWire::tokensStayUniqueAcrossWrap()
{
    SharedMemorySession session;
    QSet<quint32> tokens;
    for (int i = 0; i < 100; ++i)
        tokens.insert(session.addFrame(quint64(i + 1), BufferHold()));
    QCOMPARE(tokens.size(), 100);
    QVERIFY(!tokens.contains(0));
    // Release all but a few, then give out many more: never a token still out.
    const QList<quint32> kept{3, 50, 77};
    for (quint32 token : std::as_const(tokens)) {
        if (!kept.contains(token))
            QVERIFY(session.release(token).sendId != 0);
    }
    for (int i = 0; i < 300; ++i) {
        const quint32 token = session.addFrame(quint64(1000 + i), BufferHold());
        QVERIFY(token != 0);
        QVERIFY(!kept.contains(token));
        QVERIFY(session.release(token).sendId != 0);
    }
    QCOMPARE(session.framesOut(), 3);
}

void tst_SharedMemoryWire::releaseTakesTheFrame()
{
    SharedMemorySession session;
    const quint32 token = session.addFrame(42, BufferHold());
    QCOMPARE(session.release(token + 1).sendId, quint64(0)); // not out
    QCOMPARE(session.release(token).sendId, quint64(42));
    QCOMPARE(session.release(token).sendId, quint64(0)); // released once
}

void tst_SharedMemoryWire::framesOutInSendOrder()
{
    SharedMemorySession session;
    for (quint64 id : {5, 2, 9, 7})
        session.addFrame(id, BufferHold());
    const std::vector<SharedMemorySession::OutFrame> out = session.takeFramesOut();
    QCOMPARE(out.size(), size_t(4));
    QCOMPARE(out[0].sendId, quint64(2));
    QCOMPARE(out[1].sendId, quint64(5));
    QCOMPARE(out[2].sendId, quint64(7));
    QCOMPARE(out[3].sendId, quint64(9));
    QCOMPARE(session.framesOut(), 0);
}

void tst_SharedMemoryWire::poolChecks()
{
    SharedMemorySession session;
    const qint64 limit = 3 * 4096;
    QVERIFY(session.checkPool(PoolAnnounce{1, 4096}, limit).contains(QStringLiteral("the next is 0")));
    QVERIFY(session.checkPool(PoolAnnounce{0, 0}, limit).contains(QStringLiteral("0 bytes")));
    QVERIFY(session.checkPool(PoolAnnounce{0, 4 * 4096}, limit).contains(QStringLiteral("more than the limit")));
    QVERIFY(session.checkPool(PoolAnnounce{0, ~quint64(0)}, limit).contains(QStringLiteral("more than the limit")));
    QVERIFY(session.checkPool(PoolAnnounce{0, 2 * 4096}, limit).isEmpty());
    MappedRegion *region = mappedRegion(2 * 4096);
    QVERIFY(region);
    session.addPool(region, 2 * 4096);
    QCOMPARE(session.mappedBytes(), 2 * 4096);
    QVERIFY(session.checkPool(PoolAnnounce{1, 2 * 4096}, limit).contains(QStringLiteral("(8192 mapped)")));
    QVERIFY(session.checkPool(PoolAnnounce{1, 4096}, limit).isEmpty());
    // The session's reference goes with reset(); nothing else holds it.
    session.reset();
    QCOMPARE(session.mappedPools(), 0);
}

void tst_SharedMemoryWire::frameChecks_data()
{
    QTest::addColumn<quint32>("pool");
    QTest::addColumn<quint32>("token");
    QTest::addColumn<quint64>("offset");
    QTest::addColumn<quint64>("length");
    QTest::addColumn<qint32>("type");
    QTest::addColumn<QString>("reason"); // empty: accepted
    const quint64 size = 16384;
    QTest::newRow("inside") << 0u << 1u << quint64(4096) << quint64(4096) << 1 << QString();
    QTest::newRow("the cap, at the end") << 0u << 1u << size - 12288 << quint64(12288) << 1 << QString();
    QTest::newRow("empty Ack") << 0u << 1u << size << quint64(0) << 1 << QString();
    QTest::newRow("one byte past") << 0u << 1u << quint64(1) << size << 1 << QStringLiteral("lies outside");
    QTest::newRow("offset past the end") << 0u << 1u << size + 1 << quint64(0) << 1 << QStringLiteral("lies outside");
    QTest::newRow("end wraps") << 0u << 1u << ~quint64(0) << quint64(2) << 1 << QStringLiteral("lies outside");
    QTest::newRow("length wraps") << 0u << 1u << quint64(8) << ~quint64(0) << 1 << QStringLiteral("lies outside");
    QTest::newRow("unknown pool") << 1u << 1u << quint64(0) << quint64(1) << 1 << QStringLiteral("not announced");
    QTest::newRow("over the cap") << 0u << 1u << quint64(0) << quint64(12289) << 1 << QStringLiteral("payload cap");
    QTest::newRow("type 0") << 0u << 1u << quint64(0) << quint64(1) << 0 << QStringLiteral("invalid message type");
    QTest::newRow("type 12") << 0u << 1u << quint64(0) << quint64(1) << 12 << QStringLiteral("invalid message type");
    QTest::newRow("Repaint without payload")
        << 0u << 1u << quint64(0) << quint64(0) << 3 << QStringLiteral("without payload");
    QTest::newRow("token 0") << 0u << 0u << quint64(0) << quint64(1) << 1 << QStringLiteral("already out");
    QTest::newRow("token out") << 0u << 7u << quint64(0) << quint64(1) << 1 << QStringLiteral("already out");
}

void tst_SharedMemoryWire::frameChecks()
{
    QFETCH(quint32, pool);
    QFETCH(quint32, token);
    QFETCH(quint64, offset);
    QFETCH(quint64, length);
    QFETCH(qint32, type);
    QFETCH(QString, reason);
    SharedMemorySession session;
    MappedRegion *region = mappedRegion(16384);
    QVERIFY(region);
    session.addPool(region, 16384);
    session.frameReceived(7);
    MappedRegion *named = nullptr;
    const QString why = session.checkFrame(FrameRef{pool, token, offset, length, type, 0}, 12288, &named);
    if (reason.isEmpty()) {
        QVERIFY2(why.isEmpty(), qPrintable(why));
        QCOMPARE(named, region);
    } else {
        QVERIFY2(why.contains(reason), qPrintable(why));
    }
}

QTEST_APPLESS_MAIN(tst_SharedMemoryWire)
#include "tst_sharedmemorywire.moc"
