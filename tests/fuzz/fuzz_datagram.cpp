// SPDX-License-Identifier: MIT
// libFuzzer target for MessageAssembler::parseDatagram, the parser of every
// UDP datagram a peer sends: one message, exactly the size its header claims.
// Checked against the independent header rules in protocolreference.h.
//
// Input layout (see make_corpus.py):
//   byte 0      cap: (byte * 97) payload bytes; each datagram is also parsed
//               with the default 16 MiB cap
//   bytes 1..   the datagram
#include "fuzzcheck.h"
#include "fuzztargets.h"
#include "protocolreference.h"

#include <BlightTransport/protocol.h>

#include <cstring>

using namespace Blight;

namespace {

void runDatagram(const char *data, qsizetype size, quint32 cap)
{
    // A sentinel: on an error the message must be left as it was.
    Message message;
    message.header = Header{-7, 7, 7};
    QString reason;
    const MessageAssembler::Status status = MessageAssembler::parseDatagram(QByteArrayView(data, size), cap, &message,
                                                                            &reason);
    FUZZ_CHECK(status != MessageAssembler::Status::NeedMore);

    bool valid = size >= HeaderSize;
    Header header;
    if (valid) {
        std::memcpy(&header, data, sizeof(header));
        valid = BlightFuzz::referenceValidate(header, cap) == HeaderError::None
            && quint64(size - HeaderSize) == header.size;
    }
    FUZZ_CHECK((status == MessageAssembler::Status::Message) == valid);
    if (valid) {
        FUZZ_CHECK(reason.isEmpty());
        FUZZ_CHECK(message.payload.size() == qsizetype(message.header.size));
        FUZZ_CHECK(message.header.type == header.type);
        FUZZ_CHECK(message.header.ackid == header.ackid);
        FUZZ_CHECK(message.header.size == header.size);
        FUZZ_CHECK(std::memcmp(message.payload.constData(), data + HeaderSize, size_t(header.size)) == 0);
    } else {
        FUZZ_CHECK(!reason.isEmpty());
        FUZZ_CHECK(message.header.type == -7 && message.header.ackid == 7 && message.header.size == 7);
        FUZZ_CHECK(message.payload.isEmpty());
    }
}

} // namespace

int BlightFuzz::datagramOneInput(const uint8_t *input, size_t length)
{
    if (length < 1)
        return 0;
    const quint32 cap = quint32(input[0]) * 97u;
    const char *datagram = reinterpret_cast<const char *>(input + 1);
    const qsizetype size = qsizetype(length - 1);
    runDatagram(datagram, size, cap);
    runDatagram(datagram, size, DefaultMaxPayloadSize);
    return 0;
}

BLIGHT_FUZZ_ENTRY(BlightFuzz::datagramOneInput)
