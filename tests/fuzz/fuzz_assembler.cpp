// SPDX-License-Identifier: MIT
// libFuzzer target for the receive path: the bytes a peer sends, cut into
// pieces chosen by the input, go through MessageAssembler exactly as
// BlightSocket feeds it (readTargets, one copy into the spans, commit, next
// until NeedMore). Every result is checked against a plain whole-buffer
// parser written independently here. parseDatagram has its own target
// (fuzz_datagram.cpp).
//
// Input layout (see make_corpus.py): one run of the assembler per input, its
// configuration taken from the first four bytes, so every configuration stays
// reachable without paying for all of them on every input.
//   byte 0      flags: bit 2 clear, the tight run: a small cap and staging
//               buffer (bytes 1 and 2) that wraps often, with bit 0 one byte
//               per piece (the first BytewisePieces pieces); bit 2 set, the
//               socket's 64 KiB staging buffer with, by bits 3 to 5, a 4 KiB
//               cap (none set), the default 16 MiB cap (all set) or LargeCap
//               (the others). Bit 1: pieces up to 64 KiB, else up to 300 bytes
//   byte 1      the tight run's cap: (byte * 97) payload bytes
//   byte 2      the tight run's staging size: 24 + byte
//   byte 3      seed of the piece sizes
//   bytes 4..   the byte stream from the peer
//
// Speed: a header may claim up to the cap; the assembler allocates 64 KiB of
// a larger payload until those bytes arrived, then the claimed size, which at
// the 16 MiB cap is megabytes (libFuzzer's comparison tracing keeps feeding
// the cap into the size field), so that run takes a sixteenth of flag values,
// as it did when every input ran twice. The 16 MiB boundary itself is cheap
// in fuzz_datagram, which checks it without allocating. Byte by byte, a loop
// turn per byte, is the tight run's mode only. The reference keeps offsets
// into the input, not copies of the payloads, and the staging buffer of the
// socket's configuration is sized to the stream where that changes nothing
// (socketStaging()).
#include "fuzzcheck.h"
#include "fuzztargets.h"
#include "protocolreference.h"

#include <BlightTransport/protocol.h>

#include <cstring>
#include <vector>

using namespace Blight;

namespace {

// A cap over the 64 KiB staging buffer (payloads larger than it are read
// straight into the payload) whose allocations stay in ASan's size-class
// allocator, unlike the mmap of a 16 MiB one.
constexpr quint32 LargeCap = 96 * 1024;

constexpr qsizetype SocketStaging = 64 * 1024;

// The socket's 64 KiB staging buffer, or a smaller one that behaves the same
// for this stream: with room for the whole stream and a header more, the
// buffer is never compacted and always offers more than is left to feed, so
// every piece, span and result is what 64 KiB gives. Saves an allocation and
// its shadow poisoning per input: most inputs are a few hundred bytes.
qsizetype socketStaging(qsizetype streamSize)
{
    return streamSize + HeaderSize <= SocketStaging ? qMax(streamSize + HeaderSize, 2 * HeaderSize) : SocketStaging;
}

struct ExpectedMessage
{
    Header header;
    qsizetype offset = 0; // of the payload in the stream
};

struct Expected
{
    std::vector<ExpectedMessage> messages;
    HeaderError error = HeaderError::None;
    bool midMessage = false; // bytes of an unfinished message remain
    qsizetype consumed = 0;  // bytes taken by complete messages
};

// Fills \a expected (its vector reused from input to input, so no growth per
// input) with what a whole-buffer parse of \a data finds.
void referenceParse(const char *data, qsizetype size, quint32 cap, Expected *expected)
{
    expected->messages.clear();
    expected->error = HeaderError::None;
    expected->midMessage = false;
    qsizetype at = 0;
    for (;;) {
        const qsizetype left = size - at;
        if (left < HeaderSize) {
            expected->midMessage = left > 0;
            break;
        }
        Header header;
        std::memcpy(&header, data + at, sizeof(header));
        expected->error = BlightFuzz::referenceValidate(header, cap);
        if (expected->error != HeaderError::None) {
            expected->midMessage = true;
            break;
        }
        if (quint64(left - HeaderSize) < header.size) {
            expected->midMessage = true;
            break;
        }
        expected->messages.push_back({header, at + HeaderSize});
        at += HeaderSize + qsizetype(header.size);
    }
    expected->consumed = at;
}

// Byte by byte beyond this many pieces only repeats what the first ones did
// (the small staging buffer has wrapped many times by then) at a loop turn
// per byte; the rest of a long stream comes in the usual pieces.
constexpr int BytewisePieces = 1024;

// A tiny deterministic generator for the piece sizes: the input decides.
struct PieceSizes
{
    quint32 state;
    quint8 flags;
    int bytewise = BytewisePieces;
    qsizetype next()
    {
        if ((flags & 1) && bytewise > 0) {
            --bytewise;
            return 1;
        }
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        const quint32 limit = (flags & 2) ? 65536u : 300u;
        return qsizetype(state % limit) + 1;
    }
};

void checkMessage(const Message &got, const ExpectedMessage &want, const char *stream)
{
    FUZZ_CHECK(got.payload.size() == qsizetype(got.header.size));
    // No more memory than the message needs (resize() once doubled it).
    FUZZ_CHECK(got.payload.capacity() == got.payload.size());
    FUZZ_CHECK(got.header.type == want.header.type);
    FUZZ_CHECK(got.header.ackid == want.header.ackid);
    FUZZ_CHECK(got.header.size == want.header.size);
    FUZZ_CHECK(std::memcmp(got.payload.constData(), stream + want.offset, size_t(want.header.size)) == 0);
    FUZZ_CHECK(validateHeader(got.header, DefaultMaxPayloadSize) != HeaderError::InvalidType);
}

void runAssembler(const char *data, qsizetype size, quint32 cap, qsizetype staging, PieceSizes pieces)
{
    static Expected expected;
    referenceParse(data, size, cap, &expected);
    MessageAssembler assembler(cap, staging);
    FUZZ_CHECK(!assembler.midMessage());
    FUZZ_CHECK(assembler.bufferedBytes() == 0);

    qsizetype fed = 0;
    qsizetype consumed = 0;
    size_t delivered = 0;
    bool failed = false;
    while (!failed) {
        // Drain first, as the socket does after every read.
        for (;;) {
            Message message;
            const MessageAssembler::Status status = assembler.next(&message);
            if (status == MessageAssembler::Status::NeedMore)
                break;
            if (status == MessageAssembler::Status::Error) {
                failed = true;
                break;
            }
            FUZZ_CHECK(delivered < expected.messages.size());
            checkMessage(message, expected.messages[delivered], data);
            consumed += HeaderSize + message.payload.size();
            ++delivered;
        }
        if (failed || fed == size)
            break;
        // Where the next bytes land, then one copy into the spans.
        MessageAssembler::Span spans[2];
        const int count = assembler.readTargets(spans);
        FUZZ_CHECK(count >= 1 && count <= 2);
        qsizetype offered = 0;
        for (int i = 0; i < count; ++i) {
            FUZZ_CHECK(spans[i].data != nullptr && spans[i].size > 0);
            offered += spans[i].size;
        }
        const qsizetype piece = qMin(qMin(pieces.next(), offered), size - fed);
        qsizetype copied = 0;
        for (int i = 0; i < count && copied < piece; ++i) {
            const qsizetype part = qMin(piece - copied, spans[i].size);
            std::memcpy(spans[i].data, data + fed + copied, size_t(part));
            copied += part;
        }
        assembler.commit(copied);
        fed += copied;
        // What is held is exactly what was fed and not yet handed out,
        // the header of a message being filled included.
        FUZZ_CHECK(assembler.bufferedBytes() == fed - consumed);
    }

    FUZZ_CHECK(delivered == expected.messages.size());
    FUZZ_CHECK(consumed == expected.consumed);
    FUZZ_CHECK(failed == (expected.error != HeaderError::None));
    if (failed) {
        // Errors are sticky: the same error, the same reason, no message.
        const QString reason = assembler.errorString();
        FUZZ_CHECK(!reason.isEmpty());
        FUZZ_CHECK(assembler.error() == expected.error);
        for (int i = 0; i < 3; ++i) {
            Message message;
            FUZZ_CHECK(assembler.next(&message) == MessageAssembler::Status::Error);
            FUZZ_CHECK(assembler.error() == expected.error);
            FUZZ_CHECK(assembler.errorString() == reason);
        }
    } else {
        FUZZ_CHECK(assembler.error() == HeaderError::None);
        FUZZ_CHECK(assembler.errorString().isEmpty());
        FUZZ_CHECK(assembler.midMessage() == expected.midMessage);
        FUZZ_CHECK(assembler.midMessage() == (fed != consumed));
    }
}

} // namespace

int BlightFuzz::assemblerOneInput(const uint8_t *input, size_t length)
{
    if (length < 4)
        return 0;
    const quint8 flags = input[0];
    const quint32 smallCap = quint32(input[1]) * 97u;
    const qsizetype smallStaging = 24 + qsizetype(input[2]);
    const quint32 seed = 0x9e3779b9u ^ (quint32(input[3]) * 0x01000193u) ^ quint32(flags);
    const char *stream = reinterpret_cast<const char *>(input + 4);
    const qsizetype size = qsizetype(length - 4);

    if (!(flags & 4)) {
        // Tight: the staging buffer wraps often and most sizes are over the cap.
        runAssembler(stream, size, smallCap, smallStaging, PieceSizes{seed | 1u, flags});
    } else {
        // The socket's staging buffer, never byte by byte.
        const quint8 capBits = flags & 56;
        const quint32 cap = capBits == 56 ? DefaultMaxPayloadSize : capBits == 0 ? 4096u : LargeCap;
        runAssembler(stream, size, cap, socketStaging(size), PieceSizes{seed | 1u, quint8(flags & ~1)});
    }
    return 0;
}

BLIGHT_FUZZ_ENTRY(BlightFuzz::assemblerOneInput)
