// SPDX-License-Identifier: MIT
// libFuzzer target for ErrorQueue::parse: the input is the control buffer of
// one recvmsg(MSG_ERRQUEUE) result, as the kernel would fill it (IP_RECVERR
// and IPV6_RECVERR messages with a sock_extended_err: zero-copy ranges,
// copied or not, ICMP errors with an offender address) or as it must never be
// (truncated and oversized cmsg_len, other levels and types, garbage).
// Every result is checked against a decoder written here from the kernel's
// layout, which reads bytes at offsets and uses none of the CMSG_* macros.
//
// Input layout: the whole input is the control buffer, msg_controllen its
// size, in an allocation of exactly that size so that ASan sees any read past
// it. Seeds: make_corpus.py.
#include "fuzzcheck.h"
#include "fuzztargets.h"

#include "errorqueue_p.h"

#include <QtCore/QString>

#include <arpa/inet.h>
#include <cstring>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <new>
#include <sys/socket.h>
#include <vector>

using namespace Blight;

namespace {

// The kernel's ABI on x86-64, written out: a cmsghdr is an 8-byte length and
// two ints, data and the next header are 8-byte aligned.
constexpr size_t CmsgHeaderSize = 16;
constexpr size_t CmsgAlign = 8;
constexpr int LevelIp = 0;
constexpr int LevelIpv6 = 41;
constexpr int TypeIpRecverr = 11;
constexpr int TypeIpv6Recverr = 25;
constexpr size_t ExtendedErrorSize = 16; // errno, origin, type, code, pad, info, data
constexpr quint8 OriginZeroCopy = 5;
constexpr quint8 CodeZeroCopyCopied = 1;
constexpr quint16 FamilyInet = 2;
constexpr quint16 FamilyInet6 = 10;
constexpr size_t SockaddrInSize = 16;
constexpr size_t SockaddrIn6Size = 28;

// Only to catch a wrong number above, not used to decode.
static_assert(sizeof(cmsghdr) == CmsgHeaderSize && CMSG_LEN(0) == CmsgHeaderSize);
static_assert(SOL_IP == LevelIp && SOL_IPV6 == LevelIpv6);
static_assert(IP_RECVERR == TypeIpRecverr && IPV6_RECVERR == TypeIpv6Recverr);
static_assert(sizeof(sock_extended_err) == ExtendedErrorSize);
static_assert(SO_EE_ORIGIN_ZEROCOPY == OriginZeroCopy && SO_EE_CODE_ZEROCOPY_COPIED == CodeZeroCopyCopied);
static_assert(AF_INET == FamilyInet && AF_INET6 == FamilyInet6);
static_assert(sizeof(sockaddr_in) == SockaddrInSize && sizeof(sockaddr_in6) == SockaddrIn6Size);

template<typename T> T readAt(const unsigned char *bytes, size_t offset)
{
    T value;
    std::memcpy(&value, bytes + offset, sizeof(T));
    return value;
}

struct ExpectedOffender
{
    quint16 family = 0; // 0: none expected
    unsigned char address[16] = {};
    quint32 scopeId = 0;
};

struct ExpectedEvent
{
    ErrorQueueEvent event; // offender left empty; see below
    ExpectedOffender offender;
    bool ipv6 = false;
};

// The rules: a control message starts at an 8-byte aligned offset, has its
// whole 16-byte header in the buffer, a length of at least 16 and no more
// than what is left of the buffer; the first one that breaks a rule ends the
// walk. Only IP_RECVERR/IPV6_RECVERR with a whole sock_extended_err count.
void referenceDecode(const unsigned char *buffer, size_t size, std::vector<ExpectedEvent> *out)
{
    out->clear();
    size_t at = 0;
    while (size - at >= CmsgHeaderSize) {
        const auto length = readAt<quint64>(buffer, at);
        if (length < CmsgHeaderSize || length > size - at)
            break;
        const auto level = readAt<qint32>(buffer, at + 8);
        const auto type = readAt<qint32>(buffer, at + 12);
        const size_t available = size_t(length) - CmsgHeaderSize;
        const bool v4 = level == LevelIp && type == TypeIpRecverr;
        const bool v6 = level == LevelIpv6 && type == TypeIpv6Recverr;
        if ((v4 || v6) && available >= ExtendedErrorSize) {
            const unsigned char *error = buffer + at + CmsgHeaderSize;
            const auto errorNumber = readAt<quint32>(error, 0);
            const auto origin = readAt<quint8>(error, 4);
            ExpectedEvent expected;
            expected.ipv6 = v6;
            ErrorQueueEvent &event = expected.event;
            if (origin == OriginZeroCopy && errorNumber == 0) {
                event.kind = ErrorQueueEvent::Kind::ZeroCopyRange;
                event.lo = readAt<quint32>(error, 8);
                event.hi = readAt<quint32>(error, 12);
                event.copied = (readAt<quint8>(error, 6) & CodeZeroCopyCopied) != 0;
            } else {
                event.kind = ErrorQueueEvent::Kind::SocketError;
                event.errorNumber = int(errorNumber);
                event.origin = origin;
                event.type = readAt<quint8>(error, 5);
                event.code = readAt<quint8>(error, 6);
                // The offender's sockaddr follows the extended error.
                const size_t after = available - ExtendedErrorSize;
                const unsigned char *address = error + ExtendedErrorSize;
                const auto family = after >= 2 ? readAt<quint16>(address, 0) : quint16(0);
                if (family == FamilyInet && after >= SockaddrInSize) {
                    expected.offender.family = FamilyInet;
                    std::memcpy(expected.offender.address, address + 4, 4);
                } else if (family == FamilyInet6 && after >= SockaddrIn6Size) {
                    expected.offender.family = FamilyInet6;
                    std::memcpy(expected.offender.address, address + 8, 16);
                    expected.offender.scopeId = readAt<quint32>(address, 24);
                }
            }
            out->push_back(expected);
        }
        // The next header starts after this one's padding.
        const size_t padded = (size_t(length) + CmsgAlign - 1) & ~(CmsgAlign - 1);
        if (padded > size - at)
            break;
        at += padded;
    }
}

// The offender text must name exactly the address in the buffer: parsed back
// with inet_pton, not compared with any one way of printing it.
void checkOffender(const QString &text, const ExpectedOffender &want)
{
    if (want.family == 0) {
        FUZZ_CHECK(text.isEmpty());
        return;
    }
    FUZZ_CHECK(!text.isEmpty());
    QString address = text;
    QString scope;
    const qsizetype percent = text.indexOf(u'%');
    if (percent >= 0) {
        address = text.left(percent);
        scope = text.mid(percent + 1);
    }
    const QByteArray latin = address.toLatin1();
    unsigned char parsed[16] = {};
    if (want.family == FamilyInet) {
        FUZZ_CHECK(scope.isEmpty());
        FUZZ_CHECK(inet_pton(AF_INET, latin.constData(), parsed) == 1);
        FUZZ_CHECK(std::memcmp(parsed, want.address, 4) == 0);
    } else {
        FUZZ_CHECK(inet_pton(AF_INET6, latin.constData(), parsed) == 1);
        FUZZ_CHECK(std::memcmp(parsed, want.address, 16) == 0);
        // Qt 6.4's QHostAddress(sockaddr *) drops sin6_scope_id, so a scope
        // may be missing; one that is there must be the buffer's.
        FUZZ_CHECK(scope.isEmpty() || (want.scopeId && scope == QString::number(want.scopeId)));
    }
}

void checkEvent(const ErrorQueueEvent &got, const ExpectedEvent &want)
{
    const ErrorQueueEvent &event = want.event;
    FUZZ_CHECK(got.kind == event.kind);
    FUZZ_CHECK(got.lo == event.lo);
    FUZZ_CHECK(got.hi == event.hi);
    FUZZ_CHECK(got.copied == event.copied);
    FUZZ_CHECK(got.errorNumber == event.errorNumber);
    FUZZ_CHECK(got.origin == event.origin);
    FUZZ_CHECK(got.type == event.type);
    FUZZ_CHECK(got.code == event.code);
    checkOffender(got.offender, want.offender);
    FUZZ_CHECK(!got.describe().isEmpty());
}

// What the test-side builder writes, parse() reads back unchanged.
void checkRoundTrip(const ExpectedEvent &want)
{
    alignas(cmsghdr) char buffer[CMSG_SPACE(sizeof(sock_extended_err))];
    FUZZ_CHECK(ErrorQueue::buildControlMessage(buffer, qsizetype(sizeof(buffer)) - 1, want.ipv6, want.event) == 0);
    const qsizetype written = ErrorQueue::buildControlMessage(buffer, qsizetype(sizeof(buffer)), want.ipv6, want.event);
    FUZZ_CHECK(written == qsizetype(sizeof(buffer)));
    msghdr message{};
    message.msg_control = buffer;
    message.msg_controllen = size_t(written);
    const ErrorQueue::Events events = ErrorQueue::parse(message);
    FUZZ_CHECK(events.size() == 1);
    ExpectedEvent noOffender = want;
    noOffender.offender = ExpectedOffender();
    checkEvent(events.first(), noOffender);
}

} // namespace

int BlightFuzz::errorQueueOneInput(const uint8_t *input, size_t length)
{
    // Exactly the input's size, aligned as the kernel's callers align it.
    constexpr std::align_val_t alignment{alignof(cmsghdr)};
    auto *control = static_cast<unsigned char *>(::operator new(length ? length : 1, alignment));
    if (length)
        std::memcpy(control, input, length);
    msghdr message{};
    message.msg_control = control;
    message.msg_controllen = length;

    const ErrorQueue::Events events = ErrorQueue::parse(message);
    static std::vector<ExpectedEvent> expected;
    referenceDecode(control, length, &expected);
    FUZZ_CHECK(size_t(events.size()) == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
        checkEvent(events[qsizetype(i)], expected[i]);
        checkRoundTrip(expected[i]);
    }
    ::operator delete(control, alignment);
    return 0;
}

BLIGHT_FUZZ_ENTRY(BlightFuzz::errorQueueOneInput)
