// SPDX-License-Identifier: MIT
// Tests of the error-queue reader: ErrorQueue::parse on control messages built
// by hand with the CMSG_* macros, buildControlMessage round trips, and drain()
// on real sockets (a zero-copy completion and an ICMP error on loopback).
#include "errorqueue_p.h"

#include <QtTest/QTest>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <vector>

using namespace Blight;

namespace {

using Kind = ErrorQueueEvent::Kind;

// Builds a control buffer of several cmsgs exactly as recvmsg() fills one,
// walking it with CMSG_FIRSTHDR/CMSG_NXTHDR.
class ControlBuffer
{
public:
    ControlBuffer() { std::memset(m_buffer, 0, sizeof(m_buffer)); }

    // Appends a cmsg carrying \a size bytes of \a data; \a claimed overrides
    // the payload length written into cmsg_len (for malformed cases).
    void add(int level, int type, const void *data, size_t size, qsizetype claimed = -1)
    {
        msghdr walker{};
        walker.msg_control = m_buffer;
        walker.msg_controllen = sizeof(m_buffer);
        cmsghdr *cmsg = CMSG_FIRSTHDR(&walker);
        for (cmsghdr *last = m_last; last; last = nullptr)
            cmsg = CMSG_NXTHDR(&walker, last);
        QVERIFY(cmsg);
        cmsg->cmsg_level = level;
        cmsg->cmsg_type = type;
        cmsg->cmsg_len = CMSG_LEN(claimed >= 0 ? size_t(claimed) : size);
        std::memcpy(CMSG_DATA(cmsg), data, size);
        m_last = cmsg;
        m_used = size_t(reinterpret_cast<char *>(cmsg) - m_buffer) + CMSG_SPACE(size);
    }

    msghdr message() const
    {
        msghdr message{};
        message.msg_control = const_cast<char *>(m_buffer);
        message.msg_controllen = m_used;
        return message;
    }
    size_t used() const { return m_used; }

private:
    alignas(cmsghdr) char m_buffer[1024];
    cmsghdr *m_last = nullptr;
    size_t m_used = 0;
};

sock_extended_err zeroCopyError(quint32 lo, quint32 hi, bool copied)
{
    sock_extended_err error{};
    error.ee_errno = 0;
    error.ee_origin = SO_EE_ORIGIN_ZEROCOPY;
    error.ee_code = copied ? SO_EE_CODE_ZEROCOPY_COPIED : 0;
    error.ee_info = lo;
    error.ee_data = hi;
    return error;
}

// An extended error followed by the offender's address, as the kernel queues
// it for ICMP.
template<typename Address> std::vector<char> withOffender(const sock_extended_err &error, const Address &address)
{
    std::vector<char> bytes(sizeof(error) + sizeof(address));
    std::memcpy(bytes.data(), &error, sizeof(error));
    std::memcpy(bytes.data() + sizeof(error), &address, sizeof(address));
    return bytes;
}

sockaddr_in ipv4Address(const char *text)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    inet_pton(AF_INET, text, &address.sin_addr);
    return address;
}

sockaddr_in6 ipv6Address(const char *text)
{
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    inet_pton(AF_INET6, text, &address.sin6_addr);
    return address;
}

// Closes a descriptor at the end of a scope.
struct Fd
{
    int fd = -1;
    explicit Fd(int f)
        : fd(f)
    {
    }
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
    Fd(const Fd &) = delete;
    Fd &operator=(const Fd &) = delete;
};

} // namespace

class tst_ErrorQueue : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void zeroCopyRange_data();
    void zeroCopyRange();
    void zeroCopyOriginWithErrnoIsNotARange();
    void icmpError_data();
    void icmpError();
    void otherLevelsSkipped_data();
    void otherLevelsSkipped();
    void truncatedSkipped();
    void truncatedByKernel();
    void cmsgLongerThanControlBuffer();
    void twoControlMessages();
    void emptyControl();
    void buildControlMessageRoundTrip_data();
    void buildControlMessageRoundTrip();
    void buildControlMessageTooSmall();

    void kernelZeroCopyCompletion();
    void kernelRangesCoverEverySend();
    void kernelIcmpIsASocketError();
};

void tst_ErrorQueue::zeroCopyRange_data()
{
    QTest::addColumn<bool>("ipv6");
    QTest::addColumn<quint32>("lo");
    QTest::addColumn<quint32>("hi");
    QTest::addColumn<bool>("copied");

    for (const bool ipv6 : {false, true}) {
        const char *family = ipv6 ? "ipv6" : "ipv4";
        QTest::addRow("%s-single", family) << ipv6 << 0u << 0u << false;
        QTest::addRow("%s-range", family) << ipv6 << 5u << 17u << false;
        QTest::addRow("%s-copied", family) << ipv6 << 5u << 17u << true;
        QTest::addRow("%s-wraps", family) << ipv6 << UINT32_MAX - 1 << 2u << false;
        QTest::addRow("%s-max", family) << ipv6 << UINT32_MAX << UINT32_MAX << true;
    }
}

void tst_ErrorQueue::zeroCopyRange()
{
    QFETCH(bool, ipv6);
    QFETCH(quint32, lo);
    QFETCH(quint32, hi);
    QFETCH(bool, copied);

    const sock_extended_err error = zeroCopyError(lo, hi, copied);
    ControlBuffer control;
    control.add(ipv6 ? SOL_IPV6 : SOL_IP, ipv6 ? IPV6_RECVERR : IP_RECVERR, &error, sizeof(error));
    const ErrorQueue::Events events = ErrorQueue::parse(control.message());
    QCOMPARE(events.size(), 1);
    const ErrorQueueEvent &event = events.first();
    QCOMPARE(event.kind, Kind::ZeroCopyRange);
    QCOMPARE(event.lo, lo);
    QCOMPARE(event.hi, hi);
    QCOMPARE(event.copied, copied);
}

void tst_ErrorQueue::zeroCopyOriginWithErrnoIsNotARange()
{
    // Only ee_errno == 0 makes a completion; anything else is an error report.
    sock_extended_err error = zeroCopyError(3, 9, false);
    error.ee_errno = ENOBUFS;
    ControlBuffer control;
    control.add(SOL_IP, IP_RECVERR, &error, sizeof(error));
    const ErrorQueue::Events events = ErrorQueue::parse(control.message());
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().kind, Kind::SocketError);
    QCOMPARE(events.first().errorNumber, ENOBUFS);
    QCOMPARE(events.first().origin, quint8(SO_EE_ORIGIN_ZEROCOPY));
}

void tst_ErrorQueue::icmpError_data()
{
    QTest::addColumn<bool>("ipv6");
    QTest::addColumn<int>("errorNumber");
    QTest::addColumn<int>("icmpType");
    QTest::addColumn<int>("icmpCode");
    QTest::addColumn<QString>("offender");

    QTest::addRow("ipv4-port-unreachable") << false << int(ECONNREFUSED) << 3 << 3 << QStringLiteral("192.0.2.1");
    QTest::addRow("ipv4-host-unreachable") << false << int(EHOSTUNREACH) << 3 << 1 << QStringLiteral("198.51.100.7");
    QTest::addRow("ipv6-port-unreachable") << true << int(ECONNREFUSED) << 1 << 4 << QStringLiteral("2001:db8::1");
    QTest::addRow("ipv6-too-big") << true << int(EMSGSIZE) << 2 << 0 << QStringLiteral("2001:db8::ff");
}

void tst_ErrorQueue::icmpError()
{
    QFETCH(bool, ipv6);
    QFETCH(int, errorNumber);
    QFETCH(int, icmpType);
    QFETCH(int, icmpCode);
    QFETCH(QString, offender);

    sock_extended_err error{};
    error.ee_errno = quint32(errorNumber);
    error.ee_origin = ipv6 ? SO_EE_ORIGIN_ICMP6 : SO_EE_ORIGIN_ICMP;
    error.ee_type = quint8(icmpType);
    error.ee_code = quint8(icmpCode);
    // Values that would look like a range if the parser mixed the kinds up.
    error.ee_info = 0;
    error.ee_data = 5;
    const QByteArray text = offender.toLatin1();
    const std::vector<char> data = ipv6 ? withOffender(error, ipv6Address(text.constData()))
                                        : withOffender(error, ipv4Address(text.constData()));
    ControlBuffer control;
    control.add(ipv6 ? SOL_IPV6 : SOL_IP, ipv6 ? IPV6_RECVERR : IP_RECVERR, data.data(), data.size());

    const ErrorQueue::Events events = ErrorQueue::parse(control.message());
    QCOMPARE(events.size(), 1);
    const ErrorQueueEvent &event = events.first();
    QVERIFY2(event.kind == Kind::SocketError, "an ICMP error was taken for a zero-copy completion");
    QCOMPARE(event.errorNumber, errorNumber);
    QCOMPARE(event.origin, quint8(ipv6 ? SO_EE_ORIGIN_ICMP6 : SO_EE_ORIGIN_ICMP));
    QCOMPARE(event.type, quint8(icmpType));
    QCOMPARE(event.code, quint8(icmpCode));
    QCOMPARE(event.offender, offender);

    // Without the offender address the error is still reported, just anonymous.
    ControlBuffer bare;
    bare.add(ipv6 ? SOL_IPV6 : SOL_IP, ipv6 ? IPV6_RECVERR : IP_RECVERR, &error, sizeof(error));
    const ErrorQueue::Events bareEvents = ErrorQueue::parse(bare.message());
    QCOMPARE(bareEvents.size(), 1);
    QCOMPARE(bareEvents.first().kind, Kind::SocketError);
    QCOMPARE(bareEvents.first().errorNumber, errorNumber);
    QVERIFY(bareEvents.first().offender.isEmpty());
}

void tst_ErrorQueue::otherLevelsSkipped_data()
{
    QTest::addColumn<int>("level");
    QTest::addColumn<int>("type");
    QTest::addRow("sol-socket-scm-timestamp") << int(SOL_SOCKET) << int(SCM_TIMESTAMP);
    QTest::addRow("sol-ip-ip-pktinfo") << int(SOL_IP) << int(IP_PKTINFO);
    QTest::addRow("sol-ipv6-wrong-type") << int(SOL_IPV6) << int(IP_RECVERR);
    QTest::addRow("sol-ip-ipv6-type") << int(SOL_IP) << int(IPV6_RECVERR);
}

void tst_ErrorQueue::otherLevelsSkipped()
{
    QFETCH(int, level);
    QFETCH(int, type);

    // The foreign cmsg carries what would be a valid completion if read as one.
    const sock_extended_err bogus = zeroCopyError(100, 200, false);
    const sock_extended_err real = zeroCopyError(1, 2, true);

    ControlBuffer only;
    only.add(level, type, &bogus, sizeof(bogus));
    QCOMPARE(ErrorQueue::parse(only.message()).size(), 0);

    ControlBuffer mixed;
    if (level == SOL_SOCKET) {
        timeval stamp{};
        stamp.tv_sec = 1234;
        mixed.add(level, type, &stamp, sizeof(stamp));
    } else {
        mixed.add(level, type, &bogus, sizeof(bogus));
    }
    mixed.add(SOL_IP, IP_RECVERR, &real, sizeof(real));
    const ErrorQueue::Events events = ErrorQueue::parse(mixed.message());
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().kind, Kind::ZeroCopyRange);
    QCOMPARE(events.first().lo, 1u);
    QCOMPARE(events.first().hi, 2u);
    QVERIFY(events.first().copied);
}

void tst_ErrorQueue::truncatedSkipped()
{
    // A cmsg too short to hold a sock_extended_err, followed by a good one.
    const sock_extended_err shortOne = zeroCopyError(40, 50, false);
    const sock_extended_err good = zeroCopyError(7, 8, false);
    ControlBuffer control;
    control.add(SOL_IP, IP_RECVERR, &shortOne, 8); // ee_errno..ee_pad, no range
    control.add(SOL_IPV6, IPV6_RECVERR, &good, sizeof(good));
    const ErrorQueue::Events events = ErrorQueue::parse(control.message());
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().lo, 7u);
    QCOMPARE(events.first().hi, 8u);

    // The same with the bytes present but cmsg_len saying they are not.
    ControlBuffer claimed;
    claimed.add(SOL_IP, IP_RECVERR, &shortOne, sizeof(shortOne), 12);
    QCOMPARE(ErrorQueue::parse(claimed.message()).size(), 0);
}

void tst_ErrorQueue::truncatedByKernel()
{
    // recvmsg() with too small a control buffer: the kernel sets MSG_CTRUNC
    // and cuts cmsg_len to what fit.
    const sock_extended_err error = zeroCopyError(3, 4, false);
    ControlBuffer control;
    control.add(SOL_IP, IP_RECVERR, &error, sizeof(error));
    msghdr message = control.message();
    const size_t cut = CMSG_LEN(sizeof(error) - 4);
    reinterpret_cast<cmsghdr *>(message.msg_control)->cmsg_len = cut;
    message.msg_controllen = cut;
    message.msg_flags = MSG_CTRUNC;
    QCOMPARE(ErrorQueue::parse(message).size(), 0);
}

void tst_ErrorQueue::cmsgLongerThanControlBuffer()
{
    // A cmsg whose cmsg_len claims more than msg_controllen holds must not be
    // read past the control buffer: here the bytes beyond it form a valid
    // completion, which must not be reported.
    const sock_extended_err error = zeroCopyError(3, 4, false);
    ControlBuffer control;
    control.add(SOL_IP, IP_RECVERR, &error, sizeof(error));
    msghdr message = control.message();
    message.msg_controllen = CMSG_LEN(sizeof(error) - 8);
    const ErrorQueue::Events events = ErrorQueue::parse(message);
    QVERIFY2(events.isEmpty(),
             qPrintable(QStringLiteral("parse() read beyond msg_controllen and reported a range %1..%2")
                            .arg(events.isEmpty() ? 0u : events.first().lo)
                            .arg(events.isEmpty() ? 0u : events.first().hi)));
}

void tst_ErrorQueue::twoControlMessages()
{
    const sock_extended_err range = zeroCopyError(10, 12, false);
    sock_extended_err icmp{};
    icmp.ee_errno = ECONNREFUSED;
    icmp.ee_origin = SO_EE_ORIGIN_ICMP;
    icmp.ee_type = 3;
    icmp.ee_code = 3;
    const std::vector<char> icmpData = withOffender(icmp, ipv4Address("127.0.0.1"));
    const sock_extended_err copied = zeroCopyError(13, 13, true);

    ControlBuffer control;
    control.add(SOL_IP, IP_RECVERR, &range, sizeof(range));
    control.add(SOL_IP, IP_RECVERR, icmpData.data(), icmpData.size());
    control.add(SOL_IPV6, IPV6_RECVERR, &copied, sizeof(copied));
    const ErrorQueue::Events events = ErrorQueue::parse(control.message());
    QCOMPARE(events.size(), 3);
    QCOMPARE(events.at(0).kind, Kind::ZeroCopyRange);
    QCOMPARE(events.at(0).lo, 10u);
    QCOMPARE(events.at(0).hi, 12u);
    QVERIFY(!events.at(0).copied);
    QCOMPARE(events.at(1).kind, Kind::SocketError);
    QCOMPARE(events.at(1).errorNumber, int(ECONNREFUSED));
    QCOMPARE(events.at(1).offender, QStringLiteral("127.0.0.1"));
    QCOMPARE(events.at(2).kind, Kind::ZeroCopyRange);
    QCOMPARE(events.at(2).lo, 13u);
    QCOMPARE(events.at(2).hi, 13u);
    QVERIFY(events.at(2).copied);
}

void tst_ErrorQueue::emptyControl()
{
    msghdr message{};
    QCOMPARE(ErrorQueue::parse(message).size(), 0);
    char tiny[4] = {};
    message.msg_control = tiny;
    message.msg_controllen = sizeof(tiny); // shorter than a cmsghdr
    QCOMPARE(ErrorQueue::parse(message).size(), 0);
}

void tst_ErrorQueue::buildControlMessageRoundTrip_data()
{
    QTest::addColumn<bool>("ipv6");
    QTest::addColumn<bool>("isRange");
    QTest::addColumn<quint32>("lo");
    QTest::addColumn<quint32>("hi");
    QTest::addColumn<bool>("copied");
    QTest::addColumn<int>("errorNumber");

    for (const bool ipv6 : {false, true}) {
        const char *family = ipv6 ? "ipv6" : "ipv4";
        QTest::addRow("%s-range", family) << ipv6 << true << 1u << 9u << false << 0;
        QTest::addRow("%s-range-copied", family) << ipv6 << true << 1u << 9u << true << 0;
        QTest::addRow("%s-range-wraps", family) << ipv6 << true << UINT32_MAX << 0u << false << 0;
        QTest::addRow("%s-icmp", family) << ipv6 << false << 0u << 0u << false << int(ECONNREFUSED);
    }
}

void tst_ErrorQueue::buildControlMessageRoundTrip()
{
    QFETCH(bool, ipv6);
    QFETCH(bool, isRange);
    QFETCH(quint32, lo);
    QFETCH(quint32, hi);
    QFETCH(bool, copied);
    QFETCH(int, errorNumber);

    ErrorQueueEvent event;
    event.kind = isRange ? Kind::ZeroCopyRange : Kind::SocketError;
    event.lo = lo;
    event.hi = hi;
    event.copied = copied;
    event.errorNumber = errorNumber;
    if (!isRange) {
        event.origin = ipv6 ? SO_EE_ORIGIN_ICMP6 : SO_EE_ORIGIN_ICMP;
        event.type = 3;
        event.code = 3;
    }

    alignas(cmsghdr) char buffer[256];
    std::memset(buffer, 0x77, sizeof(buffer));
    const qsizetype written = ErrorQueue::buildControlMessage(buffer, sizeof(buffer), ipv6, event);
    QCOMPARE(written, qsizetype(CMSG_SPACE(sizeof(sock_extended_err))));

    // What the kernel would have queued, read back with the CMSG_* macros.
    msghdr message{};
    message.msg_control = buffer;
    message.msg_controllen = size_t(written);
    const cmsghdr *cmsg = CMSG_FIRSTHDR(&message);
    QVERIFY(cmsg);
    QCOMPARE(cmsg->cmsg_level, ipv6 ? int(SOL_IPV6) : int(SOL_IP));
    QCOMPARE(cmsg->cmsg_type, ipv6 ? int(IPV6_RECVERR) : int(IP_RECVERR));
    QCOMPARE(size_t(cmsg->cmsg_len), size_t(CMSG_LEN(sizeof(sock_extended_err))));
    sock_extended_err raw;
    std::memcpy(&raw, CMSG_DATA(cmsg), sizeof(raw));
    if (isRange) {
        QCOMPARE(raw.ee_errno, 0u);
        QCOMPARE(raw.ee_origin, quint8(SO_EE_ORIGIN_ZEROCOPY));
        QCOMPARE(raw.ee_info, lo);
        QCOMPARE(raw.ee_data, hi);
        QCOMPARE(raw.ee_code, quint8(copied ? SO_EE_CODE_ZEROCOPY_COPIED : 0));
    } else {
        QCOMPARE(raw.ee_errno, quint32(errorNumber));
        QCOMPARE(raw.ee_origin, event.origin);
    }

    const ErrorQueue::Events events = ErrorQueue::parse(message);
    QCOMPARE(events.size(), 1);
    const ErrorQueueEvent &back = events.first();
    QCOMPARE(back.kind, event.kind);
    if (isRange) {
        QCOMPARE(back.lo, lo);
        QCOMPARE(back.hi, hi);
        QCOMPARE(back.copied, copied);
    } else {
        QCOMPARE(back.errorNumber, errorNumber);
        QCOMPARE(back.origin, event.origin);
        QCOMPARE(back.type, event.type);
        QCOMPARE(back.code, event.code);
    }
}

void tst_ErrorQueue::buildControlMessageTooSmall()
{
    alignas(cmsghdr) char buffer[64];
    std::memset(buffer, 0x33, sizeof(buffer));
    ErrorQueueEvent event;
    event.kind = Kind::ZeroCopyRange;
    const qsizetype needed = qsizetype(CMSG_SPACE(sizeof(sock_extended_err)));
    QVERIFY(needed <= qsizetype(sizeof(buffer)));
    QCOMPARE(ErrorQueue::buildControlMessage(buffer, needed - 1, false, event), qsizetype(0));
    for (const char byte : buffer)
        QVERIFY2(byte == 0x33, "buildControlMessage wrote into a buffer it said was too small");
}

// -- Real kernel --------------------------------------------------------------

namespace {
// A UDP receiver on 127.0.0.1 and a sender connected to it.
struct UdpPair
{
    Fd receiver{::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    Fd sender{::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)};
    sockaddr_in address = ipv4Address("127.0.0.1");

    bool open(QString *why)
    {
        if (receiver.fd < 0 || sender.fd < 0) {
            *why = QStringLiteral("socket: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
            return false;
        }
        socklen_t length = sizeof(address);
        if (::bind(receiver.fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0
            || ::getsockname(receiver.fd, reinterpret_cast<sockaddr *>(&address), &length) != 0
            || ::connect(sender.fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
            *why = QStringLiteral("bind/connect: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
            return false;
        }
        return true;
    }
};

// Waits (bounded) for the error queue of \a fd to hold something.
bool waitForError(int fd, int timeoutMs)
{
    pollfd entry{};
    entry.fd = fd;
    entry.events = 0; // POLLERR is always reported
    const int ready = ::poll(&entry, 1, timeoutMs);
    return ready == 1 && (entry.revents & POLLERR);
}
} // namespace

void tst_ErrorQueue::kernelZeroCopyCompletion()
{
    UdpPair pair;
    QString why;
    QVERIFY2(pair.open(&why), qPrintable(why));
    const int one = 1;
    if (::setsockopt(pair.sender.fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) != 0)
        QSKIP(qPrintable(
            QStringLiteral("SO_ZEROCOPY refused on UDP: %1").arg(QString::fromLocal8Bit(std::strerror(errno)))));

    QByteArray payload(4000, Qt::Uninitialized);
    for (qsizetype i = 0; i < payload.size(); ++i)
        payload[i] = char(i % 251);
    const ssize_t sent = ::send(pair.sender.fd, payload.constData(), size_t(payload.size()), MSG_ZEROCOPY);
    QVERIFY2(sent == payload.size(), qPrintable(QString::fromLocal8Bit(std::strerror(errno))));

    QVERIFY2(waitForError(pair.sender.fd, 5000), "no POLLERR for the zero-copy completion within 5 s");
    QList<ErrorQueueEvent> events;
    const ErrorQueue::DrainResult result = ErrorQueue::drain(pair.sender.fd, [&events](const ErrorQueueEvent &event) {
        events.append(event);
    });
    QCOMPARE(result.errorNumber, 0);
    QVERIFY2(result.calls >= 2, "drain() stopped before it saw EAGAIN");
    QCOMPARE(events.size(), 1);
    QCOMPARE(events.first().kind, Kind::ZeroCopyRange);
    QCOMPARE(events.first().lo, 0u);
    QCOMPARE(events.first().hi, 0u);
    QVERIFY2(events.first().copied, "loopback delivery must report SO_EE_CODE_ZEROCOPY_COPIED");

    // The queue is empty now: one call, EAGAIN, nothing reported.
    int more = 0;
    const ErrorQueue::DrainResult again = ErrorQueue::drain(pair.sender.fd,
                                                            [&more](const ErrorQueueEvent &) { ++more; });
    QCOMPARE(again.calls, 1);
    QCOMPARE(again.errorNumber, 0);
    QCOMPARE(more, 0);

    char received[8192];
    QCOMPARE(::recv(pair.receiver.fd, received, sizeof(received), MSG_DONTWAIT), ssize_t(payload.size()));
    QVERIFY(std::memcmp(received, payload.constData(), size_t(payload.size())) == 0);
}

void tst_ErrorQueue::kernelRangesCoverEverySend()
{
    UdpPair pair;
    QString why;
    QVERIFY2(pair.open(&why), qPrintable(why));
    const int one = 1;
    if (::setsockopt(pair.sender.fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) != 0)
        QSKIP("SO_ZEROCOPY refused on UDP");

    const int sends = 5;
    const QByteArray payload(2000, 'z');
    for (int i = 0; i < sends; ++i)
        QCOMPARE(::send(pair.sender.fd, payload.constData(), size_t(payload.size()), MSG_ZEROCOPY),
                 ssize_t(payload.size()));

    // Ranges may come coalesced or one by one; together they must name each
    // counter value 0..4 exactly once.
    QList<int> seen(sends, 0);
    int covered = 0;
    while (covered < sends) {
        QVERIFY2(waitForError(pair.sender.fd, 5000),
                 qPrintable(QStringLiteral("only %1 of %2 completions within 5 s").arg(covered).arg(sends)));
        const ErrorQueue::DrainResult result = ErrorQueue::drain(pair.sender.fd, [&](const ErrorQueueEvent &event) {
            QCOMPARE(event.kind, Kind::ZeroCopyRange);
            for (quint32 id = event.lo;; ++id) {
                QVERIFY2(id < quint32(sends), qPrintable(QStringLiteral("unexpected id %1").arg(id)));
                ++seen[id];
                ++covered;
                if (id == event.hi)
                    break;
            }
        });
        QCOMPARE(result.errorNumber, 0);
    }
    QCOMPARE(seen, QList<int>(sends, 1));
}

void tst_ErrorQueue::kernelIcmpIsASocketError()
{
    // A UDP send to a closed port on loopback comes back as ICMP port
    // unreachable; with IP_RECVERR it is queued on the error queue.
    UdpPair pair;
    QString why;
    QVERIFY2(pair.open(&why), qPrintable(why));
    ::close(pair.receiver.fd); // nobody listens on that port any more
    pair.receiver.fd = -1;
    const int one = 1;
    QCOMPARE(::setsockopt(pair.sender.fd, SOL_IP, IP_RECVERR, &one, sizeof(one)), 0);
    QCOMPARE(::send(pair.sender.fd, "ping", 4, 0), ssize_t(4));

    QVERIFY2(waitForError(pair.sender.fd, 5000), "no ICMP error within 5 s");
    QList<ErrorQueueEvent> events;
    const ErrorQueue::DrainResult result = ErrorQueue::drain(pair.sender.fd, [&events](const ErrorQueueEvent &event) {
        events.append(event);
    });
    QCOMPARE(result.errorNumber, 0);
    QCOMPARE(events.size(), 1);
    QVERIFY2(events.first().kind == Kind::SocketError, "ICMP error reported as a zero-copy range");
    QCOMPARE(events.first().errorNumber, int(ECONNREFUSED));
    QCOMPARE(events.first().origin, quint8(SO_EE_ORIGIN_ICMP));
    QCOMPARE(events.first().type, quint8(3)); // destination unreachable
    QCOMPARE(events.first().code, quint8(3)); // port unreachable
    QCOMPARE(events.first().offender, QStringLiteral("127.0.0.1"));
}

QTEST_GUILESS_MAIN(tst_ErrorQueue)
#include "tst_errorqueue.moc"
