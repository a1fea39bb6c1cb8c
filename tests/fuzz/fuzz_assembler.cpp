// libFuzzer target for the receive path: the bytes a peer sends, cut into
// pieces chosen by the input, go through MessageAssembler exactly as
// BlightSocket feeds it (readTargets, one copy into the spans, commit, next
// until NeedMore), and through parseDatagram. Every result is checked against
// a plain whole-buffer parser written independently here.
//
// Input layout (see make_corpus.py):
//   byte 0      flags: bit 0 one byte per piece, bit 1 pieces up to 64 KiB
//               (else up to 300 bytes), bit 2 also fuzz with the default cap
//   byte 1      cap for the small-cap run: (byte * 97) payload bytes
//   byte 2      staging size for the small-cap run: 24 + byte
//   byte 3      seed of the piece sizes
//   bytes 4..   the byte stream from the peer
//
// Built two ways: with -fsanitize=fuzzer (libFuzzer supplies main), and as a
// plain object for tst_fuzzreplay, which replays corpus/ and regressions/.
#include <BlightTransport/protocol.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

using namespace Blight;

namespace {

[[noreturn]] void failCheck(const char *what, const char *file, int line)
{
    std::fprintf(stderr, "fuzz_assembler: invariant violated: %s (%s:%d)\n", what, file, line);
    std::abort();
}

// A failed invariant aborts, which libFuzzer and the replay test both report.
#define FUZZ_CHECK(condition)                                 \
    do {                                                      \
        if (!(condition))                                     \
            failCheck(#condition, __FILE__, __LINE__);        \
    } while (false)

struct Expected
{
    std::vector<Message> messages;
    HeaderError error = HeaderError::None;
    bool midMessage = false;    // bytes of an unfinished message remain
    qsizetype consumed = 0;     // bytes taken by complete messages
};

// The reference: Oxide's framing rules, written out again rather than
// calling validateHeader(), so that the two can disagree.
HeaderError referenceValidate(const Header &header, quint32 cap)
{
    if (header.type < 1 || header.type > 11)
        return HeaderError::InvalidType;
    static constexpr bool needsPayload[12] = {false, false, false, true, true, true,
                                              true,  false, true,  true, true, false};
    if (header.size == 0 && needsPayload[header.type])
        return HeaderError::MissingPayload;
    if (header.size > cap)
        return HeaderError::PayloadTooLarge;
    return HeaderError::None;
}

Expected referenceParse(const char *data, qsizetype size, quint32 cap)
{
    Expected expected;
    qsizetype at = 0;
    for (;;) {
        const qsizetype left = size - at;
        if (left < HeaderSize) {
            expected.midMessage = left > 0;
            break;
        }
        Header header;
        std::memcpy(&header, data + at, sizeof(header));
        expected.error = referenceValidate(header, cap);
        if (expected.error != HeaderError::None) {
            expected.midMessage = true;
            break;
        }
        if (quint64(left - HeaderSize) < header.size) {
            expected.midMessage = true;
            break;
        }
        Message message;
        message.header = header;
        message.payload = QByteArray(data + at + HeaderSize, qsizetype(header.size));
        expected.messages.push_back(std::move(message));
        at += HeaderSize + qsizetype(header.size);
    }
    expected.consumed = at;
    return expected;
}

// A tiny deterministic generator for the piece sizes: the input decides.
struct PieceSizes
{
    quint32 state;
    quint8 flags;
    qsizetype next()
    {
        if (flags & 1)
            return 1;
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        const quint32 limit = (flags & 2) ? 65536u : 300u;
        return qsizetype(state % limit) + 1;
    }
};

void checkMessage(const Message &got, const Message &want)
{
    FUZZ_CHECK(got.payload.size() == qsizetype(got.header.size));
    FUZZ_CHECK(got.header.type == want.header.type);
    FUZZ_CHECK(got.header.ackid == want.header.ackid);
    FUZZ_CHECK(got.header.size == want.header.size);
    FUZZ_CHECK(got.payload == want.payload);
    FUZZ_CHECK(validateHeader(got.header, DefaultMaxPayloadSize) != HeaderError::InvalidType);
}

void runAssembler(const char *data, qsizetype size, quint32 cap, qsizetype staging, PieceSizes pieces)
{
    const Expected expected = referenceParse(data, size, cap);
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
            checkMessage(message, expected.messages[delivered]);
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

void runDatagram(const char *data, qsizetype size, quint32 cap)
{
    Message message;
    QString reason;
    const MessageAssembler::Status status
        = MessageAssembler::parseDatagram(QByteArrayView(data, size), cap, &message, &reason);
    FUZZ_CHECK(status != MessageAssembler::Status::NeedMore);
    bool valid = size >= HeaderSize;
    Header header;
    if (valid) {
        std::memcpy(&header, data, sizeof(header));
        valid = referenceValidate(header, cap) == HeaderError::None && quint64(size - HeaderSize) == header.size;
    }
    FUZZ_CHECK((status == MessageAssembler::Status::Message) == valid);
    if (valid) {
        FUZZ_CHECK(message.payload.size() == qsizetype(message.header.size));
        FUZZ_CHECK(message.header.type == header.type && message.header.ackid == header.ackid);
        FUZZ_CHECK(message.payload == QByteArray(data + HeaderSize, size - HeaderSize));
    } else {
        FUZZ_CHECK(!reason.isEmpty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *input, size_t length)
{
    if (length < 4)
        return 0;
    const quint8 flags = input[0];
    const quint32 smallCap = quint32(input[1]) * 97u;
    const qsizetype smallStaging = 24 + qsizetype(input[2]);
    const quint32 seed = 0x9e3779b9u ^ (quint32(input[3]) * 0x01000193u) ^ quint32(flags);
    const char *stream = reinterpret_cast<const char *>(input + 4);
    const qsizetype size = qsizetype(length - 4);

    // The socket's configuration, and a tight one where the staging buffer
    // wraps often and most sizes are over the cap.
    runAssembler(stream, size, smallCap, smallStaging, PieceSizes{seed | 1u, flags});
    if (flags & 4)
        runAssembler(stream, size, DefaultMaxPayloadSize, 64 * 1024, PieceSizes{seed | 1u, flags});
    else
        runAssembler(stream, size, 4096, 64 * 1024, PieceSizes{seed | 1u, quint8(flags ^ 2)});

    runDatagram(stream, size, smallCap);
    runDatagram(stream, size, DefaultMaxPayloadSize);
    return 0;
}
