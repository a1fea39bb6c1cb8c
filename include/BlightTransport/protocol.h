// SPDX-License-Identifier: MIT
// The blight wire protocol: header, payload layouts, validation and the
// incremental message assembler. No I/O here.
#pragma once

#include <BlightTransport/blighttransport_global.h>
#include <BlightTransport/wirelayout.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QMetaType>
#include <QtCore/QObject>
#include <QtCore/QString>

#include <cstddef>
#include <cstring>
#include <optional>
#include <type_traits>

namespace Blight {
Q_NAMESPACE_EXPORT(BLIGHTTRANSPORT_EXPORT)

/*! Message types, numbered exactly as Oxide's libblight_protocol does. */
enum class MessageType : qint32 {
    Invalid = 0,
    Ack = 1,
    Ping = 2,
    Repaint = 3,
    Move = 4,
    Info = 5,
    Delete = 6,
    List = 7,
    Raise = 8,
    Lower = 9,
    Wait = 10,
    Focus = 11,
};
Q_ENUM_NS(MessageType)

/*! Bytes of a Header on the wire. */
inline constexpr qsizetype HeaderSize = 12;
// wirelayout.h spells the fields with <cstdint> types: they must be Qt's, so that
// code written against qint32/quint16 fields keeps compiling and overloading alike.
static_assert(
    std::is_same_v<
        qint32,
        std::
            int32_t> && std::is_same_v<quint32, std::uint32_t> && std::is_same_v<SurfaceId, quint16> && HeaderSize == sizeof(Header));
/*! Default cap on a payload: a 1872x1404 RGB32 frame (10.5 MB) fits. */
inline constexpr quint32 DefaultMaxPayloadSize = 16u * 1024u * 1024u;

/*! Why a header was rejected; None when it is acceptable. */
enum class HeaderError {
    None,
    InvalidType,
    MissingPayload,
    PayloadTooLarge,
};
Q_ENUM_NS(HeaderError)

/*! True for the types Oxide accepts, 1 (Ack) to 11 (Focus). */
inline bool isValidType(qint32 type)
{
    return type >= qint32(MessageType::Ack) && type <= qint32(MessageType::Focus);
}
/*! True for the types that Oxide requires to carry a payload. */
BLIGHTTRANSPORT_EXPORT bool requiresPayload(MessageType type);
/*! Checks \a header as Oxide's reader does: type, payload presence, size under \a maxPayloadSize. */
BLIGHTTRANSPORT_EXPORT HeaderError validateHeader(const Header &header, quint32 maxPayloadSize = DefaultMaxPayloadSize);
/*! A sentence that says what is wrong with \a header, for logs and errors. */
BLIGHTTRANSPORT_EXPORT QString describeHeaderError(HeaderError error, const Header &header, quint32 maxPayloadSize);

/*! "repaint", "ack", ... ; "invalid(42)" for anything else. */
BLIGHTTRANSPORT_EXPORT QString typeName(qint32 type);
/*! Accepts a name (any case) or a decimal number in 1..11. */
BLIGHTTRANSPORT_EXPORT std::optional<MessageType> typeFromString(QStringView text);

template<typename T>
concept WireStruct = std::is_trivially_copyable_v<T> && std::is_standard_layout_v<T>;

/*! Writes the bytes of \a value as they go on the wire (padding zeroed) to \a out. */
template<WireStruct T> void encodeInto(char *out, const T &value)
{
    std::memcpy(out, &value, sizeof(T));
    if constexpr (std::is_same_v<T, RepaintPayload>)
        std::memset(out + offsetof(RepaintPayload, identifier) + sizeof(SurfaceId), 0, 2);
    if constexpr (std::is_same_v<T, MovePayload>)
        std::memset(out + sizeof(SurfaceId), 0, 2);
}

/*! The bytes of \a value as they go on the wire (padding zeroed). */
template<WireStruct T> QByteArray encode(const T &value)
{
    QByteArray bytes(qsizetype(sizeof(T)), Qt::Uninitialized);
    encodeInto(bytes.data(), value);
    return bytes;
}

/*! Decodes \a bytes when they have exactly the size of \a T. */
template<WireStruct T> std::optional<T> decode(QByteArrayView bytes)
{
    if (bytes.size() != qsizetype(sizeof(T)))
        return std::nullopt;
    T value;
    std::memcpy(&value, bytes.data(), sizeof(T));
    return value;
}

/*! A header for a message of \a type with \a ackid and \a size bytes of payload. */
inline Header makeHeader(MessageType type, quint32 ackid, quint32 size)
{
    return Header{qint32(type), ackid, size};
}

/*! Writes \a header's 12 bytes to \a out. */
inline void writeHeader(char *out, const Header &header)
{
    std::memcpy(out, &header, sizeof(Header));
}

/*! Reads a header from the 12 bytes at \a in. */
inline Header readHeader(const char *in)
{
    Header header;
    std::memcpy(&header, in, sizeof(Header));
    return header;
}

/*! One received blight message. */
struct Message
{
    Header header;      //!< the header as received
    QByteArray payload; //!< header.size bytes

    /*! The header's type. */
    MessageType type() const { return static_cast<MessageType>(header.type); }
    /*! The header's ackid. */
    quint32 ackid() const { return header.ackid; }

    /*! The payload as \a T when its size is exactly sizeof(T). */
    template<WireStruct T> std::optional<T> payloadAs() const { return decode<T>(payload); }
};

/*!
    Assembles messages from a byte stream that arrives in arbitrary pieces.

    The reader asks readTargets() where the next bytes should land, reads into
    those spans (one readv), and reports how many arrived with commit(). A
    payload's bytes go straight into the QByteArray that is handed out, so a
    large payload is not copied in user space. The payload array is allocated
    only after the header passed validation, and a payload over 64 KiB gets
    64 KiB first and its full size only once that much of it arrived: a
    header alone never makes the assembler allocate what it merely claims.
    The socket object and the fuzzer use exactly this code.
*/
class BLIGHTTRANSPORT_EXPORT MessageAssembler
{
public:
    /*! Where the next bytes may land. */
    struct Span
    {
        char *data = nullptr; //!< start of the free space
        qsizetype size = 0;   //!< bytes free there
    };
    /*! What next() found: nothing complete yet, a message, or a framing error. */
    enum class Status { NeedMore, Message, Error };

    /*! An assembler that refuses payloads over \a maxPayloadSize and reads
        small messages through a staging buffer of \a stagingSize bytes. */
    explicit MessageAssembler(quint32 maxPayloadSize = DefaultMaxPayloadSize, qsizetype stagingSize = 64 * 1024);

    /*! Fills \a spans (at most 2) and returns how many; the total is never 0. */
    int readTargets(Span spans[2]);
    /*! \a bytes arrived in the spans from readTargets(), in order. */
    void commit(qsizetype bytes);
    /*! Extracts the next complete message into \a out. */
    Status next(Message *out);

    /*! Why next() returned Error. */
    HeaderError error() const { return m_error; }
    /*! The error as a sentence (describeHeaderError()). */
    QString errorString() const { return m_errorString; }
    /*! True when part of a header or payload is waiting for more bytes. */
    bool midMessage() const;
    /*! Bytes of the message in progress received so far, header included,
        plus any bytes after it that are already buffered. */
    qsizetype bufferedBytes() const { return m_end - m_begin + (m_haveHeader ? HeaderSize + m_payloadFilled : 0); }

    /*! The cap on a payload; a larger header is an error. */
    quint32 maxPayloadSize() const { return m_maxPayloadSize; }
    /*! Sets the cap to \a size, for headers not yet read. */
    void setMaxPayloadSize(quint32 size) { m_maxPayloadSize = size; }

    /*! Parses one datagram that holds exactly one message. */
    static Status parseDatagram(QByteArrayView datagram, quint32 maxPayloadSize, Message *out, QString *errorString);

private:
    void reservePayload(qsizetype needed);

    QByteArray m_staging;
    qsizetype m_begin = 0;
    qsizetype m_end = 0;
    bool m_haveHeader = false;
    Header m_header;
    QByteArray m_payload;
    qsizetype m_payloadFilled = 0;
    quint32 m_maxPayloadSize;
    HeaderError m_error = HeaderError::None;
    QString m_errorString;
};

} // namespace Blight

Q_DECLARE_METATYPE(Blight::Message)
