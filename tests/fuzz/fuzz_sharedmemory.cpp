// SPDX-License-Identifier: MIT
// libFuzzer target for the shared-memory messages a peer sends (Offer, Pool,
// Frame, Release, Channel; docs/shared-memory.md) and the receiver's checks of them:
// SharedMemoryWire::isSharedMemoryMessage() and decode(), then the session's
// checkPool()/checkFrame() and its frame and token bookkeeping, fed from the
// input, with the map limit, payload cap and pool sizes the input chooses.
// Every decision is checked against a reference written here from the
// document: fields read at byte offsets, the bounds checked another way round.
// Pools are "mapped" from regions made once (the descriptor checks of
// MappedRegion::map() run in tst_sharedmemoryhostile on real descriptors;
// one record kind here makes a memfd with seals and a size from the input
// and checks map()'s verdict against the reference).
//
// Input layout (see make_corpus.py):
//   byte 0      payload cap: 4 KiB << (byte % 10)
//   byte 1      map limit: 4 KiB << (byte % 12)
//   then records: [kind byte][length byte][length bytes]
//     kind % 3 == 0: a message payload, as if after an Ack header with ackid 0
//     kind % 3 == 1: the application drops the frame numbered by the first byte
//     kind % 3 == 2: a descriptor: seals (bits of byte 0), size (u16 at 1) * 64,
//                    the size its Pool claims (u16 at 3) * 64
#include "fuzzcheck.h"
#include "fuzztargets.h"

#include "mappedregion_p.h"
#include "sharedmemorysession_p.h"
#include "sharedmemorywire_p.h"

#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/mman.h>
#include <unistd.h>
#include <vector>

using namespace Blight;
using namespace Blight::SharedMemoryWire;

namespace {

template<typename T> T readAt(const char *bytes, size_t offset)
{
    T value;
    std::memcpy(&value, bytes + offset, sizeof(T));
    return value;
}

// Regions the fuzzed pools map: the session keeps one reference per pool.
constexpr qsizetype RegionSizes[] = {4096, 65536, 1 << 20};

MappedRegion *regionOfSize(quint64 size)
{
    static MappedRegion *regions[3] = {};
    for (size_t i = 0; i < 3; ++i) {
        if (quint64(RegionSizes[i]) != size)
            continue;
        if (!regions[i]) {
            const int fd = ::memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
            FUZZ_CHECK(fd >= 0 && ::ftruncate(fd, RegionSizes[i]) == 0);
            FUZZ_CHECK(::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) == 0);
            QString why;
            regions[i] = MappedRegion::map(fd, quint64(RegionSizes[i]), &why);
            FUZZ_CHECK(regions[i]);
        }
        regions[i]->ref();
        return regions[i];
    }
    return nullptr;
}

bool needsPayload(qint32 type)
{
    return type == 3 || type == 4 || type == 5 || type == 6 || type == 8 || type == 9 || type == 10;
}

// The receiving side's state as the reference sees it.
struct Model
{
    std::vector<quint64> pools; // sizes
    std::set<quint32> out;      // tokens the application holds
    qint64 mapped = 0;
};

void checkMessage(const char *payload, size_t size, quint32 cap, qint64 limit, SharedMemorySession &session,
                  Model &model)
{
    const QByteArrayView view(payload, qsizetype(size));
    const Header header{1, 0, quint32(size)};
    const bool magic = size >= 16 && std::memcmp(payload, "BlightSM", 8) == 0;
    FUZZ_CHECK(isSharedMemoryMessage(header, view) == magic);
    FUZZ_CHECK(!isSharedMemoryMessage(Header{1, 1, quint32(size)}, view));
    FUZZ_CHECK(!isSharedMemoryMessage(Header{11, 0, quint32(size)}, view));
    if (!magic)
        return;
    const quint32 kind = readAt<quint32>(payload, 8);
    const quint32 version = readAt<quint32>(payload, 12);
    size_t expected = 0;
    quint32 count = 0;
    if (kind == 1)
        expected = 24;
    else if (kind == 2)
        expected = 32;
    else if (kind == 3)
        expected = 48;
    else if (kind == 5)
        expected = 88;
    else if (kind == 4 && size >= 20) {
        count = readAt<quint32>(payload, 16);
        expected = count >= 1 && count <= 4096 ? 20 + 4 * size_t(count) : 0;
    }
    const bool valid = version == 1 && expected != 0 && size == expected
        && !(kind == 2 && readAt<quint32>(payload, 20));
    Decoded decoded;
    QString why;
    const Result result = decode(view, &decoded, &why);
    FUZZ_CHECK((result == Result::Ok) == valid);
    FUZZ_CHECK(valid || !why.isEmpty());
    if (!valid)
        return;
    FUZZ_CHECK(quint32(decoded.kind) == kind);
    switch (decoded.kind) {
    case Kind::Offer: {
        FUZZ_CHECK(decoded.offer.mapLimit == readAt<quint64>(payload, 16));
        char again[HeaderSize + OfferSize];
        encodeOffer(again, decoded.offer);
        FUZZ_CHECK(std::memcmp(again + HeaderSize, payload, size) == 0);
        break;
    }
    case Kind::Pool: {
        const quint32 number = readAt<quint32>(payload, 16);
        const quint64 poolSize = readAt<quint64>(payload, 24);
        FUZZ_CHECK(decoded.pool.pool == number && decoded.pool.size == poolSize);
        const bool fits = poolSize > 0 && poolSize <= quint64(limit - model.mapped);
        const bool accepted = number == model.pools.size() && model.pools.size() < 16 && fits;
        FUZZ_CHECK(session.checkPool(decoded.pool, limit).isEmpty() == accepted);
        if (!accepted)
            break;
        // map() refuses a descriptor whose size is not the announced one.
        if (MappedRegion *region = regionOfSize(poolSize)) {
            session.addPool(region, poolSize);
            model.pools.push_back(poolSize);
            model.mapped += qint64(poolSize);
        }
        FUZZ_CHECK(session.mappedPools() == int(model.pools.size()) && session.mappedBytes() == model.mapped);
        break;
    }
    case Kind::Frame: {
        const FrameRef &frame = decoded.frame;
        FUZZ_CHECK(frame.pool == readAt<quint32>(payload, 16) && frame.token == readAt<quint32>(payload, 20));
        FUZZ_CHECK(frame.offset == readAt<quint64>(payload, 24) && frame.length == readAt<quint64>(payload, 32));
        FUZZ_CHECK(frame.type == readAt<qint32>(payload, 40) && frame.ackid == readAt<quint32>(payload, 44));
        bool accepted = frame.pool < model.pools.size();
        if (accepted) { // inside, as the length first (the library checks the offset first)
            const quint64 poolSize = model.pools[frame.pool];
            accepted = frame.length <= poolSize && frame.offset <= poolSize - frame.length;
        }
        accepted = accepted && frame.length <= cap && frame.type >= 1 && frame.type <= 11
            && !(frame.length == 0 && needsPayload(frame.type)) && frame.token != 0
            && model.out.count(frame.token) == 0;
        MappedRegion *region = nullptr;
        const QString refused = session.checkFrame(frame, cap, &region);
        FUZZ_CHECK(refused.isEmpty() == accepted);
        if (!accepted)
            break;
        FUZZ_CHECK(region && quint64(region->size()) == model.pools[frame.pool]);
        FUZZ_CHECK(frame.offset + frame.length <= quint64(region->size()));
        // The frame's bytes are where the mapping says (ASan sees a read past it).
        if (frame.length > 0) {
            volatile char edge = region->data()[frame.offset + frame.length - 1];
            (void)edge;
        }
        session.frameReceived(frame.token);
        model.out.insert(frame.token);
        char again[HeaderSize + FrameSize];
        encodeFrame(again, frame);
        FUZZ_CHECK(std::memcmp(again + HeaderSize, payload, size) == 0);
        break;
    }
    case Kind::Channel: {
        FUZZ_CHECK(std::memcmp(decoded.channel.name, payload + 16, ChannelAddress::NameSize) == 0);
        FUZZ_CHECK(std::memcmp(decoded.channel.token, payload + 32, ChannelAddress::TokenSize) == 0);
        FUZZ_CHECK(std::memcmp(decoded.channel.local, payload + 48, ChannelAddress::EndpointSize) == 0);
        FUZZ_CHECK(std::memcmp(decoded.channel.peer, payload + 68, ChannelAddress::EndpointSize) == 0);
        char again[HeaderSize + ChannelSize];
        encodeChannel(again, decoded.channel);
        FUZZ_CHECK(std::memcmp(again + HeaderSize, payload, size) == 0);
        break;
    }
    case Kind::Release:
        FUZZ_CHECK(decoded.releaseCount == count);
        for (quint32 i = 0; i < count; ++i)
            FUZZ_CHECK(decoded.releaseToken(i) == readAt<quint32>(payload, 20 + 4 * size_t(i)));
        break;
    }
}

void checkDescriptor(const char *bytes, size_t size)
{
    if (size < 5)
        return;
    // Not F_SEAL_WRITE: whether a read-only shared mapping of a write-sealed
    // memfd opened read-write is allowed depends on the kernel version.
    const int seals = bytes[0] & (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW);
    const qint64 actual = qint64(readAt<quint16>(bytes, 1)) * 64;
    const quint64 claimed = quint64(readAt<quint16>(bytes, 3)) * 64;
    const int fd = ::memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    FUZZ_CHECK(fd >= 0 && ::ftruncate(fd, actual) == 0);
    if (seals)
        FUZZ_CHECK(::fcntl(fd, F_ADD_SEALS, seals) == 0);
    const bool expected = (seals & (F_SEAL_SHRINK | F_SEAL_GROW)) == (F_SEAL_SHRINK | F_SEAL_GROW)
        && quint64(actual) == claimed && claimed > 0;
    QString why;
    MappedRegion *region = MappedRegion::map(fd, claimed, &why); // closes fd
    FUZZ_CHECK((region != nullptr) == expected);
    FUZZ_CHECK(region || !why.isEmpty());
    FUZZ_CHECK(::fcntl(fd, F_GETFD) == -1); // closed on every path
    if (region) {
        FUZZ_CHECK(region->size() == actual);
        region->deref();
    }
}

} // namespace

namespace BlightFuzz {

int sharedMemoryOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const auto *bytes = reinterpret_cast<const char *>(data);
    const quint32 cap = quint32(4096) << (data[0] % 10);
    const qint64 limit = qint64(4096) << (data[1] % 12);
    SharedMemorySession session;
    Model model;
    bool madeDescriptor = false;
    size_t at = 2;
    while (at + 2 <= size) {
        const uint8_t kind = data[at];
        const size_t length = qMin<size_t>(data[at + 1], size - at - 2);
        const char *record = bytes + at + 2;
        at += 2 + length;
        switch (kind % 3) {
        case 0:
            checkMessage(record, length, cap, limit, session, model);
            break;
        case 1:
            if (length > 0 && !model.out.empty()) {
                auto token = model.out.begin();
                std::advance(token, uint8_t(record[0]) % model.out.size());
                FUZZ_CHECK(session.frameReleased(*token));
                FUZZ_CHECK(!session.frameReleased(*token));
                model.out.erase(token);
            }
            break;
        default:
            if (!std::exchange(madeDescriptor, true)) // system calls: once per input
                checkDescriptor(record, length);
            break;
        }
    }
    return 0;
}

} // namespace BlightFuzz

BLIGHT_FUZZ_ENTRY(BlightFuzz::sharedMemoryOneInput)
