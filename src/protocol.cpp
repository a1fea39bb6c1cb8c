// SPDX-License-Identifier: MIT
// The blight wire codec: validation, names and the message assembler.
#include <BlightTransport/protocol.h>

#include <QtCore/QMetaEnum>

#include <array>

namespace Blight {

namespace {
constexpr std::array<const char *, 12> typeNames = {
    "invalid", "ack", "ping", "repaint", "move", "info", "delete", "list", "raise", "lower", "wait", "focus",
};
} // namespace

bool requiresPayload(MessageType type)
{
    switch (type) {
    case MessageType::Move:
    case MessageType::Repaint:
    case MessageType::Info:
    case MessageType::Delete:
    case MessageType::Raise:
    case MessageType::Lower:
    case MessageType::Wait:
        return true;
    default:
        return false;
    }
}

HeaderError validateHeader(const Header &header, quint32 maxPayloadSize)
{
    if (!isValidType(header.type))
        return HeaderError::InvalidType;
    if (header.size == 0 && requiresPayload(MessageType(header.type)))
        return HeaderError::MissingPayload;
    if (header.size > maxPayloadSize)
        return HeaderError::PayloadTooLarge;
    return HeaderError::None;
}

QString describeHeaderError(HeaderError error, const Header &header, quint32 maxPayloadSize)
{
    switch (error) {
    case HeaderError::None:
        return {};
    case HeaderError::InvalidType:
        return QStringLiteral("invalid message type %1 (ackid %2, size %3): valid types are 1..11")
            .arg(header.type)
            .arg(header.ackid)
            .arg(header.size);
    case HeaderError::MissingPayload:
        return QStringLiteral("%1 message (ackid %2) has no payload, which that type requires")
            .arg(typeName(header.type))
            .arg(header.ackid);
    case HeaderError::PayloadTooLarge:
        return QStringLiteral("%1 message (ackid %2) claims %3 payload bytes, over the cap of %4")
            .arg(typeName(header.type))
            .arg(header.ackid)
            .arg(header.size)
            .arg(maxPayloadSize);
    }
    return {};
}

QString typeName(qint32 type)
{
    if (type >= 0 && type < qint32(typeNames.size()))
        return QString::fromLatin1(typeNames[size_t(type)]);
    return QStringLiteral("invalid(%1)").arg(type);
}

std::optional<MessageType> typeFromString(QStringView text)
{
    bool isNumber = false;
    const int number = text.toInt(&isNumber);
    if (isNumber)
        return isValidType(number) ? std::optional(MessageType(number)) : std::nullopt;
    for (size_t i = 1; i < typeNames.size(); ++i) {
        if (text.compare(QLatin1StringView(typeNames[i]), Qt::CaseInsensitive) == 0)
            return MessageType(i);
    }
    return std::nullopt;
}

MessageAssembler::MessageAssembler(quint32 maxPayloadSize, qsizetype stagingSize)
    : m_staging(qMax(stagingSize, HeaderSize * 2), Qt::Uninitialized)
    , m_maxPayloadSize(maxPayloadSize)
{
}

bool MessageAssembler::midMessage() const
{
    return m_haveHeader || m_end > m_begin;
}

namespace {

// A payload up to this size is allocated whole when its header arrives; a
// larger one gets this much first and its full size once that much of it
// arrived: a header alone never costs more than this, and growing copies at
// most these bytes once (doubling would copy the frame itself again and
// again, where realloc cannot move it with mremap()).
constexpr qsizetype WholePayloadLimit = 64 * 1024;

} // namespace

void MessageAssembler::reservePayload(qsizetype needed)
{
    const qsizetype claimed = qsizetype(m_header.size);
    if (m_payload.size() >= needed || m_payload.size() == claimed)
        return;
    const qsizetype grown = qMin(m_payload.isEmpty() ? qMax(needed, WholePayloadLimit) : claimed, claimed);
    // Exactly that size: QByteArray::resize() rounds a growing array's
    // capacity up to a power of two, which made the first 64 KiB an
    // allocation of 128 KiB and a 16 MiB frame one of 32 MiB.
    QByteArray payload(grown, Qt::Uninitialized);
    if (m_payloadFilled > 0)
        std::memcpy(payload.data(), m_payload.constData(), size_t(m_payloadFilled));
    m_payload = std::move(payload);
}

int MessageAssembler::readTargets(Span spans[2])
{
    int count = 0;
    if (m_haveHeader && m_payloadFilled < qsizetype(m_header.size)) {
        // The staging buffer is empty while a payload is being filled: next()
        // moved everything it held into the payload.
        Q_ASSERT(m_begin == m_end);
        reservePayload(m_payloadFilled + 1);
        spans[count++] = {m_payload.data() + m_payloadFilled, m_payload.size() - m_payloadFilled};
        // Bytes past a payload that is still growing are its own: they go
        // into it after the next growth, never through staging (a copy).
        if (m_payload.size() < qsizetype(m_header.size))
            return count;
    }
    if (m_begin == m_end) {
        m_begin = m_end = 0;
    } else if (m_begin > 0 && m_staging.size() - m_end < HeaderSize) {
        std::memmove(m_staging.data(), m_staging.constData() + m_begin, size_t(m_end - m_begin));
        m_end -= m_begin;
        m_begin = 0;
    }
    if (m_end < m_staging.size())
        spans[count++] = {m_staging.data() + m_end, m_staging.size() - m_end};
    Q_ASSERT(count > 0);
    return count;
}

void MessageAssembler::commit(qsizetype bytes)
{
    if (m_haveHeader) {
        const qsizetype intoPayload = qMin(bytes, m_payload.size() - m_payloadFilled);
        m_payloadFilled += intoPayload;
        bytes -= intoPayload;
    }
    Q_ASSERT(bytes <= m_staging.size() - m_end);
    m_end += bytes;
}

MessageAssembler::Status MessageAssembler::next(Message *out)
{
    if (m_error != HeaderError::None)
        return Status::Error;
    if (!m_haveHeader) {
        if (m_end - m_begin < HeaderSize)
            return Status::NeedMore;
        m_header = readHeader(m_staging.constData() + m_begin);
        m_error = validateHeader(m_header, m_maxPayloadSize);
        if (m_error != HeaderError::None) {
            m_errorString = describeHeaderError(m_error, m_header, m_maxPayloadSize);
            return Status::Error;
        }
        m_begin += HeaderSize;
        m_haveHeader = true;
        m_payload = QByteArray();
        m_payloadFilled = 0;
        // Bounded by the cap that validateHeader() just checked, and past
        // WholePayloadLimit by what arrived.
        if (m_header.size <= quint32(WholePayloadLimit))
            m_payload = QByteArray(qsizetype(m_header.size), Qt::Uninitialized);
    }
    const qsizetype wanted = qsizetype(m_header.size) - m_payloadFilled;
    const qsizetype staged = qMin(wanted, m_end - m_begin);
    if (staged > 0) {
        reservePayload(m_payloadFilled + staged);
        std::memcpy(m_payload.data() + m_payloadFilled, m_staging.constData() + m_begin, size_t(staged));
        m_payloadFilled += staged;
        m_begin += staged;
    }
    if (m_payloadFilled < qsizetype(m_header.size))
        return Status::NeedMore;
    out->header = m_header;
    out->payload = std::move(m_payload);
    m_payload = QByteArray();
    m_payloadFilled = 0;
    m_haveHeader = false;
    return Status::Message;
}

MessageAssembler::Status MessageAssembler::parseDatagram(QByteArrayView datagram, quint32 maxPayloadSize, Message *out,
                                                         QString *errorString)
{
    if (datagram.size() < HeaderSize) {
        *errorString = QStringLiteral("datagram of %1 bytes is shorter than a header").arg(datagram.size());
        return Status::Error;
    }
    const Header header = readHeader(datagram.data());
    const HeaderError error = validateHeader(header, maxPayloadSize);
    if (error != HeaderError::None) {
        *errorString = describeHeaderError(error, header, maxPayloadSize);
        return Status::Error;
    }
    if (qsizetype(header.size) != datagram.size() - HeaderSize) {
        *errorString = QStringLiteral("datagram carries %1 payload bytes but its header claims %2")
                           .arg(datagram.size() - HeaderSize)
                           .arg(header.size);
        return Status::Error;
    }
    out->header = header;
    out->payload = datagram.sliced(HeaderSize).toByteArray();
    return Status::Message;
}

} // namespace Blight
