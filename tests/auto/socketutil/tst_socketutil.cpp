// SPDX-License-Identifier: MIT
// Tests of SocketUtil: socket kinds, datagram limits, errno meanings and the /proc and rlimit parsing.
#include "socketutil_p.h"

#include <QtCore/QByteArray>
#include <QtTest/QTest>

#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <sys/socket.h>

using namespace Blight;
using Kind = SocketUtil::Kind;
using Error = BlightSocket::Error;

// Names instead of QMetaEnum: BlightSocket's metaobject is not linked here.
namespace QTest {
template<> char *toString(const Kind &kind)
{
    static const char *const names[] = {"None", "UnixStream", "UnixSeqPacket", "Tcp4", "Tcp6", "Udp4", "Udp6"};
    const int index = int(kind);
    return qstrdup(index >= 0 && index < 7 ? names[index] : "invalid");
}
template<> char *toString(const Error &error)
{
    return qstrdup(QByteArray("Error(" + QByteArray::number(int(error)) + ')').constData());
}
} // namespace QTest

namespace {

// The kernel's own layout of /proc/self/status, cut down to the lines around CapEff.
QByteArray statusWith(const QByteArray &capEffLine)
{
    return QByteArrayLiteral("Name:\ttst_socketutil\nUmask:\t0022\nState:\tR (running)\n"
                             "CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n")
        + capEffLine + QByteArrayLiteral("CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\n");
}

} // namespace

class tst_SocketUtil : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void kindOf_data();
    void kindOf();
    void kindPredicates_data();
    void kindPredicates();
    void maxUdpDatagram();
    void maxSeqPacketRecord_data();
    void maxSeqPacketRecord();
    void meaningOf_data();
    void meaningOf();
    void isDatagramError_data();
    void isDatagramError();
    void hasEffectiveCapability_data();
    void hasEffectiveCapability();
    void parseProcInteger_data();
    void parseProcInteger();
    void pendingBytesLimitFor_data();
    void pendingBytesLimitFor();
    void pendingBuffersLimitFor_data();
    void pendingBuffersLimitFor();
    void isRawData_data();
    void isRawData();
    void rawDataCopyDetaches();
};

void tst_SocketUtil::kindOf_data()
{
    QTest::addColumn<int>("domain");
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("kind"); // int: a Q_ENUM column would need BlightSocket's metaobject

    QTest::addRow("unix-stream") << int(AF_UNIX) << int(SOCK_STREAM) << int(Kind::UnixStream);
    QTest::addRow("unix-seqpacket") << int(AF_UNIX) << int(SOCK_SEQPACKET) << int(Kind::UnixSeqPacket);
    QTest::addRow("unix-dgram") << int(AF_UNIX) << int(SOCK_DGRAM) << int(Kind::None);
    QTest::addRow("unix-raw") << int(AF_UNIX) << int(SOCK_RAW) << int(Kind::None);
    QTest::addRow("inet-stream") << int(AF_INET) << int(SOCK_STREAM) << int(Kind::Tcp4);
    QTest::addRow("inet-dgram") << int(AF_INET) << int(SOCK_DGRAM) << int(Kind::Udp4);
    QTest::addRow("inet-seqpacket") << int(AF_INET) << int(SOCK_SEQPACKET) << int(Kind::None);
    QTest::addRow("inet-raw") << int(AF_INET) << int(SOCK_RAW) << int(Kind::None);
    QTest::addRow("inet6-stream") << int(AF_INET6) << int(SOCK_STREAM) << int(Kind::Tcp6);
    QTest::addRow("inet6-dgram") << int(AF_INET6) << int(SOCK_DGRAM) << int(Kind::Udp6);
    QTest::addRow("inet6-seqpacket") << int(AF_INET6) << int(SOCK_SEQPACKET) << int(Kind::None);
    QTest::addRow("inet6-raw") << int(AF_INET6) << int(SOCK_RAW) << int(Kind::None);
    QTest::addRow("packet-raw") << int(AF_PACKET) << int(SOCK_RAW) << int(Kind::None);
    QTest::addRow("netlink-dgram") << int(AF_NETLINK) << int(SOCK_DGRAM) << int(Kind::None);
    QTest::addRow("unspec-stream") << int(AF_UNSPEC) << int(SOCK_STREAM) << int(Kind::None);
    QTest::addRow("negative") << -1 << -1 << int(Kind::None);
}

void tst_SocketUtil::kindOf()
{
    QFETCH(int, domain);
    QFETCH(int, type);
    QFETCH(int, kind);
    QCOMPARE(SocketUtil::kindOf(domain, type), Kind(kind));
}

void tst_SocketUtil::kindPredicates_data()
{
    QTest::addColumn<int>("kindValue");
    QTest::addColumn<bool>("tcp");
    QTest::addColumn<bool>("udp");
    QTest::addColumn<bool>("inet");
    QTest::addColumn<bool>("unixKind");
    QTest::addColumn<bool>("datagram");

    QTest::addRow("none") << int(Kind::None) << false << false << false << false << false;
    QTest::addRow("unix-stream") << int(Kind::UnixStream) << false << false << false << true << false;
    QTest::addRow("unix-seqpacket") << int(Kind::UnixSeqPacket) << false << false << false << true << true;
    QTest::addRow("tcp4") << int(Kind::Tcp4) << true << false << true << false << false;
    QTest::addRow("tcp6") << int(Kind::Tcp6) << true << false << true << false << false;
    QTest::addRow("udp4") << int(Kind::Udp4) << false << true << true << false << true;
    QTest::addRow("udp6") << int(Kind::Udp6) << false << true << true << false << true;
}

void tst_SocketUtil::kindPredicates()
{
    QFETCH(int, kindValue);
    const Kind kind = Kind(kindValue);
    QFETCH(bool, tcp);
    QFETCH(bool, udp);
    QFETCH(bool, inet);
    QFETCH(bool, unixKind);
    QFETCH(bool, datagram);
    QCOMPARE(SocketUtil::isTcp(kind), tcp);
    QCOMPARE(SocketUtil::isUdp(kind), udp);
    QCOMPARE(SocketUtil::isInet(kind), inet);
    QCOMPARE(SocketUtil::isUnix(kind), unixKind);
    QCOMPARE(SocketUtil::isDatagram(kind), datagram);
}

void tst_SocketUtil::maxUdpDatagram()
{
    // 65535 minus the UDP header, and for IPv4 also the 20-byte IP header
    // (IPv6's header is not counted in its payload length).
    QCOMPARE(SocketUtil::maxUdpDatagram(Kind::Udp4), qsizetype(65535 - 20 - 8));
    QCOMPARE(SocketUtil::maxUdpDatagram(Kind::Udp6), qsizetype(65535 - 8));
}

void tst_SocketUtil::maxSeqPacketRecord_data()
{
    QTest::addColumn<int>("sndbuf");
    QTest::addColumn<qsizetype>("record");

    QTest::addRow("debian-default") << 212992 << qsizetype(212992 - 32);
    QTest::addRow("small") << 4608 << qsizetype(4576);
    QTest::addRow("just-over-overhead") << 33 << qsizetype(1);
    QTest::addRow("overhead-only") << 32 << qsizetype(0);
    QTest::addRow("zero") << 0 << qsizetype(0);
    QTest::addRow("negative") << -1 << qsizetype(0);
    QTest::addRow("int-max") << INT_MAX << qsizetype(INT_MAX) - 32;
}

void tst_SocketUtil::maxSeqPacketRecord()
{
    QFETCH(int, sndbuf);
    QFETCH(qsizetype, record);
    QCOMPARE(SocketUtil::maxSeqPacketRecord(sndbuf), record);
}

void tst_SocketUtil::meaningOf_data()
{
    QTest::addColumn<int>("errorNumber");
    QTest::addColumn<int>("error");
    QTest::addColumn<QString>("what");

    QTest::addRow("epipe") << int(EPIPE) << int(Error::BrokenPipe) << QStringLiteral("peer is gone (broken pipe)");
    QTest::addRow("econnreset") << int(ECONNRESET) << int(Error::ConnectionReset)
                                << QStringLiteral("connection reset by peer");
    QTest::addRow("econnrefused") << int(ECONNREFUSED) << int(Error::ConnectionRefused)
                                  << QStringLiteral("connection refused");
    // Any other errno is a network error described by strerror().
    QTest::addRow("etimedout") << int(ETIMEDOUT) << int(Error::NetworkError)
                               << QString::fromLocal8Bit(std::strerror(ETIMEDOUT));
    QTest::addRow("enobufs") << int(ENOBUFS) << int(Error::NetworkError)
                             << QString::fromLocal8Bit(std::strerror(ENOBUFS));
    QTest::addRow("ehostunreach") << int(EHOSTUNREACH) << int(Error::NetworkError)
                                  << QString::fromLocal8Bit(std::strerror(EHOSTUNREACH));
}

void tst_SocketUtil::meaningOf()
{
    QFETCH(int, errorNumber);
    QFETCH(int, error);
    QFETCH(QString, what);
    const SocketUtil::ErrnoMeaning meaning = SocketUtil::meaningOf(errorNumber);
    QCOMPARE(meaning.error, Error(error));
    QCOMPARE(meaning.what, what);
    QVERIFY(!meaning.what.isEmpty());
}

void tst_SocketUtil::isDatagramError_data()
{
    QTest::addColumn<int>("errorNumber");
    QTest::addColumn<bool>("datagramError");

    // ICMP reports and refusals of one datagram: the socket lives on.
    QTest::addRow("econnrefused") << int(ECONNREFUSED) << true;
    QTest::addRow("ehostunreach") << int(EHOSTUNREACH) << true;
    QTest::addRow("enetunreach") << int(ENETUNREACH) << true;
    QTest::addRow("ehostdown") << int(EHOSTDOWN) << true;
    QTest::addRow("enetdown") << int(ENETDOWN) << true;
    QTest::addRow("eproto") << int(EPROTO) << true;
    QTest::addRow("enonet") << int(ENONET) << true;
    QTest::addRow("eacces") << int(EACCES) << true;
    QTest::addRow("eperm") << int(EPERM) << true;
    QTest::addRow("emsgsize") << int(EMSGSIZE) << true;
    // Back-pressure and connection failures are not about one datagram.
    QTest::addRow("eagain") << int(EAGAIN) << false;
    QTest::addRow("enobufs") << int(ENOBUFS) << false;
    QTest::addRow("eintr") << int(EINTR) << false;
    QTest::addRow("epipe") << int(EPIPE) << false;
    QTest::addRow("econnreset") << int(ECONNRESET) << false;
    QTest::addRow("ebadf") << int(EBADF) << false;
    QTest::addRow("enotconn") << int(ENOTCONN) << false;
    QTest::addRow("zero") << 0 << false;
}

void tst_SocketUtil::isDatagramError()
{
    QFETCH(int, errorNumber);
    QFETCH(bool, datagramError);
    QCOMPARE(SocketUtil::isDatagramError(errorNumber), datagramError);
}

void tst_SocketUtil::hasEffectiveCapability_data()
{
    QTest::addColumn<QByteArray>("status");
    QTest::addColumn<int>("bit");
    QTest::addColumn<bool>("granted");

    const QByteArray root = statusWith("CapEff:\t000001ffffffffff\n");
    const QByteArray user = statusWith("CapEff:\t0000000000000000\n");
    const QByteArray ipcLockOnly = statusWith("CapEff:\t0000000000004000\n");
    const QByteArray allButIpcLock = statusWith("CapEff:\t000001ffffffbfff\n");

    QTest::addRow("root-ipc-lock") << root << SocketUtil::CapIpcLock << true;
    QTest::addRow("root-bit-0") << root << 0 << true;
    QTest::addRow("root-bit-40") << root << 40 << true;
    QTest::addRow("root-bit-41-unset") << root << 41 << false;
    QTest::addRow("user-ipc-lock") << user << SocketUtil::CapIpcLock << false;
    QTest::addRow("ipc-lock-only") << ipcLockOnly << SocketUtil::CapIpcLock << true;
    QTest::addRow("ipc-lock-only-other-bit") << ipcLockOnly << 13 << false;
    QTest::addRow("all-but-ipc-lock") << allButIpcLock << SocketUtil::CapIpcLock << false;
    QTest::addRow("all-but-ipc-lock-bit-15") << allButIpcLock << 15 << true;
    // CapPrm grants everything, but only CapEff counts.
    QTest::addRow("missing-capeff") << statusWith(QByteArray()) << SocketUtil::CapIpcLock << false;
    QTest::addRow("empty") << QByteArray() << SocketUtil::CapIpcLock << false;
    QTest::addRow("garbage-value") << statusWith("CapEff:\tzzzz\n") << SocketUtil::CapIpcLock << false;
    QTest::addRow("empty-value") << statusWith("CapEff:\n") << SocketUtil::CapIpcLock << false;
    QTest::addRow("binary-garbage") << QByteArray("\x01\xff\n\n\x7f CapEff", 12) << SocketUtil::CapIpcLock << false;
    QTest::addRow("last-line-no-newline")
        << QByteArray("Name:\tx\nCapEff:\t0000000000004000") << SocketUtil::CapIpcLock << true;
    QTest::addRow("key-not-at-line-start")
        << QByteArray("Name:\tCapEff:\t0000000000004000\n") << SocketUtil::CapIpcLock << false;
    QTest::addRow("bit-negative") << root << -1 << false;
    QTest::addRow("bit-64") << statusWith("CapEff:\tffffffffffffffff\n") << 64 << false;
    QTest::addRow("bit-63") << statusWith("CapEff:\tffffffffffffffff\n") << 63 << true;
}

void tst_SocketUtil::hasEffectiveCapability()
{
    QFETCH(QByteArray, status);
    QFETCH(int, bit);
    QFETCH(bool, granted);
    QCOMPARE(SocketUtil::hasEffectiveCapability(status, bit), granted);
}

void tst_SocketUtil::parseProcInteger_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<qint64>("fallback");
    QTest::addColumn<qint64>("value");

    QTest::addRow("optmem") << QByteArray("20480\n") << qint64(7) << qint64(20480);
    QTest::addRow("spaces") << QByteArray("  131072 \n") << qint64(7) << qint64(131072);
    QTest::addRow("no-newline") << QByteArray("65536") << qint64(7) << qint64(65536);
    QTest::addRow("int64-max") << QByteArray("9223372036854775807\n") << qint64(7)
                               << std::numeric_limits<qint64>::max();
    QTest::addRow("overflow") << QByteArray("9223372036854775808\n") << qint64(7) << qint64(7);
    QTest::addRow("empty") << QByteArray() << qint64(7) << qint64(7);
    QTest::addRow("zero") << QByteArray("0\n") << qint64(7) << qint64(7);
    QTest::addRow("negative") << QByteArray("-1\n") << qint64(7) << qint64(7);
    QTest::addRow("word") << QByteArray("unlimited\n") << qint64(7) << qint64(7);
    QTest::addRow("trailing-garbage") << QByteArray("123abc\n") << qint64(7) << qint64(7);
    QTest::addRow("two-numbers") << QByteArray("4096 16384\n") << qint64(9) << qint64(9);
}

void tst_SocketUtil::parseProcInteger()
{
    QFETCH(QByteArray, text);
    QFETCH(qint64, fallback);
    QFETCH(qint64, value);
    QCOMPARE(SocketUtil::parseProcInteger(text, fallback), value);
}

void tst_SocketUtil::pendingBytesLimitFor_data()
{
    QTest::addColumn<qint64>("memlock");
    QTest::addColumn<bool>("ipcLock");
    QTest::addColumn<qint64>("limit");

    constexpr qint64 KiB = 1024;
    constexpr qint64 MiB = 1024 * KiB;
    QTest::addRow("unlimited") << qint64(-1) << false << 64 * MiB;
    QTest::addRow("unlimited-ipc-lock") << qint64(-1) << true << 64 * MiB;
    QTest::addRow("ipc-lock-small-limit") << 64 * KiB << true << 64 * MiB;
    QTest::addRow("ipc-lock-zero") << qint64(0) << true << 64 * MiB;
    // Three quarters of RLIMIT_MEMLOCK, a quarter kept for the kernel's overhead.
    QTest::addRow("8-mib") << 8 * MiB << false << 6 * MiB;
    QTest::addRow("1-mib") << 1 * MiB << false << 768 * KiB;
    QTest::addRow("not-multiple-of-4") << qint64(100003) << false << qint64(100003 / 4 * 3);
    // Around the floor: 87384 / 4 * 3 = 65538 is above it, 87380 / 4 * 3 = 65535 below.
    QTest::addRow("just-above-floor") << qint64(87384) << false << qint64(65538);
    QTest::addRow("just-below-floor") << qint64(87380) << false << 64 * KiB;
    // Small limits get a 64 KiB floor.
    QTest::addRow("64-kib") << 64 * KiB << false << 64 * KiB;
    QTest::addRow("4-kib") << 4 * KiB << false << 64 * KiB;
    QTest::addRow("zero") << qint64(0) << false << 64 * KiB;
    QTest::addRow("huge") << std::numeric_limits<qint64>::max() << false << std::numeric_limits<qint64>::max() / 4 * 3;
}

void tst_SocketUtil::pendingBytesLimitFor()
{
    QFETCH(qint64, memlock);
    QFETCH(bool, ipcLock);
    QFETCH(qint64, limit);
    QCOMPARE(SocketUtil::pendingBytesLimitFor(memlock, ipcLock), limit);
}

void tst_SocketUtil::pendingBuffersLimitFor_data()
{
    QTest::addColumn<qint64>("optmem");
    QTest::addColumn<int>("limit");

    // One pending send per KiB of optmem, between 1 and 4096.
    QTest::addRow("debian-default") << qint64(20480) << 20;
    QTest::addRow("raised") << qint64(131072) << 128;
    QTest::addRow("not-multiple") << qint64(20479) << 19;
    QTest::addRow("one-kib") << qint64(1024) << 1;
    QTest::addRow("below-one-kib") << qint64(1023) << 1;
    QTest::addRow("zero") << qint64(0) << 1;
    QTest::addRow("negative") << qint64(-4096) << 1;
    QTest::addRow("just-below-cap") << qint64(4095 * 1024) << 4095;
    QTest::addRow("at-cap") << qint64(4096 * 1024) << 4096;
    QTest::addRow("above-cap") << qint64(4097 * 1024) << 4096;
    QTest::addRow("huge") << std::numeric_limits<qint64>::max() << 4096;
}

void tst_SocketUtil::pendingBuffersLimitFor()
{
    QFETCH(qint64, optmem);
    QFETCH(int, limit);
    QCOMPARE(SocketUtil::pendingBuffersLimitFor(optmem), limit);
}

void tst_SocketUtil::isRawData_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<bool>("raw");

    static const char text[] = "caller's bytes";
    QTest::addRow("from-raw-data") << QByteArray::fromRawData(text, 14) << true;
    QTest::addRow("from-raw-data-one-byte") << QByteArray::fromRawData(text, 1) << true;
    QTest::addRow("literal") << QByteArrayLiteral("a literal") << true;
    QTest::addRow("owned-copy") << QByteArray(text, 14) << false;
    QTest::addRow("owned-filled") << QByteArray(4096, 'x') << false;
    QTest::addRow("owned-number") << QByteArray::number(12345) << false;
    QTest::addRow("detached-raw") << QByteArray::fromRawData(text, 14).append('!') << false;
    // Nothing to reference, nothing to copy.
    QTest::addRow("null") << QByteArray() << false;
    QTest::addRow("empty-owned") << QByteArray("") << false;
    QTest::addRow("empty-raw") << QByteArray::fromRawData(text, 0) << false;
}

void tst_SocketUtil::isRawData()
{
    QFETCH(QByteArray, bytes);
    QFETCH(bool, raw);
    QCOMPARE(SocketUtil::isRawData(bytes), raw);
}

void tst_SocketUtil::rawDataCopyDetaches()
{
    // A copy of a raw array still references the caller's bytes; writing to
    // it detaches it into an owned one.
    static const char text[] = "0123456789";
    const QByteArray raw = QByteArray::fromRawData(text, 10);
    QByteArray copy = raw;
    QVERIFY(SocketUtil::isRawData(copy));
    QCOMPARE(copy.constData(), text);
    copy.data()[0] = 'x';
    QVERIFY(copy.constData() != text);
    QVERIFY(!SocketUtil::isRawData(copy));
    QVERIFY(SocketUtil::isRawData(raw));
}

QTEST_APPLESS_MAIN(tst_SocketUtil)
#include "tst_socketutil.moc"
