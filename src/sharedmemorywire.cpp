// SPDX-License-Identifier: MIT
// The shared-memory messages on the wire (see sharedmemorywire_p.h).
#include "sharedmemorywire_p.h"

#include <cstring>

namespace Blight::SharedMemoryWire {

namespace {

template<typename T> T load(const char *at)
{
    T value;
    std::memcpy(&value, at, sizeof(T));
    return value;
}

template<typename T> void store(char *at, T value)
{
    std::memcpy(at, &value, sizeof(T));
}

qsizetype sizeOf(Kind kind)
{
    switch (kind) {
    case Kind::Offer:
        return OfferSize;
    case Kind::Pool:
        return PoolSize;
    case Kind::Frame:
        return FrameSize;
    case Kind::Channel:
        return ChannelSize;
    case Kind::Release:
        break;
    }
    return 0;
}

// The header and the preamble of a message of \a payloadSize bytes.
char *begin(char *out, Kind kind, qsizetype payloadSize)
{
    writeHeader(out, makeHeader(MessageType::Ack, 0, quint32(payloadSize)));
    char *payload = out + HeaderSize;
    std::memcpy(payload, Magic, sizeof(Magic));
    store(payload + 8, quint32(kind));
    store(payload + 12, Version);
    return payload;
}

} // namespace

quint32 Decoded::releaseToken(quint32 index) const
{
    return load<quint32>(releaseTokens.data() + 4 * qsizetype(index));
}

bool isSharedMemoryMessage(const Header &header, QByteArrayView payload)
{
    return header.type == qint32(MessageType::Ack) && header.ackid == 0 && payload.size() >= PreambleSize
        && std::memcmp(payload.data(), Magic, sizeof(Magic)) == 0;
}

Result decode(QByteArrayView payload, Decoded *out, QString *why)
{
    const char *at = payload.data();
    const quint32 kind = load<quint32>(at + 8);
    const quint32 version = load<quint32>(at + 12);
    if (version != Version) {
        *why = QStringLiteral("shared-memory message of version %1 (this side speaks %2)").arg(version).arg(Version);
        return Result::Error;
    }
    if (kind < quint32(Kind::Offer) || kind > quint32(Kind::Channel)) {
        *why = QStringLiteral("shared-memory message of unknown kind %1").arg(kind);
        return Result::Error;
    }
    out->kind = Kind(kind);
    qsizetype expected = sizeOf(out->kind);
    if (out->kind == Kind::Release) {
        if (payload.size() < ReleaseHeadSize) {
            *why = QStringLiteral("release message of %1 bytes").arg(payload.size());
            return Result::Error;
        }
        out->releaseCount = load<quint32>(at + 16);
        if (out->releaseCount == 0 || out->releaseCount > MaxReleaseCount) {
            *why = QStringLiteral("release message for %1 frames (1..%2)").arg(out->releaseCount).arg(MaxReleaseCount);
            return Result::Error;
        }
        expected = ReleaseHeadSize + 4 * qsizetype(out->releaseCount);
    }
    if (payload.size() != expected) {
        *why = QStringLiteral("shared-memory message of kind %1 with %2 bytes (it has %3)")
                   .arg(kind)
                   .arg(payload.size())
                   .arg(expected);
        return Result::Error;
    }
    switch (out->kind) {
    case Kind::Offer:
        out->offer.mapLimit = load<quint64>(at + 16);
        break;
    case Kind::Pool:
        out->pool.pool = load<quint32>(at + 16);
        out->pool.size = load<quint64>(at + 24);
        if (load<quint32>(at + 20) != 0) {
            *why = QStringLiteral("pool message with a reserved field set");
            return Result::Error;
        }
        break;
    case Kind::Frame:
        out->frame.pool = load<quint32>(at + 16);
        out->frame.token = load<quint32>(at + 20);
        out->frame.offset = load<quint64>(at + 24);
        out->frame.length = load<quint64>(at + 32);
        out->frame.type = load<qint32>(at + 40);
        out->frame.ackid = load<quint32>(at + 44);
        break;
    case Kind::Release:
        out->releaseTokens = payload.sliced(ReleaseHeadSize);
        break;
    case Kind::Channel:
        std::memcpy(out->channel.name, at + 16, ChannelAddress::NameSize);
        std::memcpy(out->channel.token, at + 32, ChannelAddress::TokenSize);
        std::memcpy(out->channel.local, at + 48, ChannelAddress::EndpointSize);
        std::memcpy(out->channel.peer, at + 68, ChannelAddress::EndpointSize);
        break;
    }
    return Result::Ok;
}

qsizetype encodeOffer(char *out, const Offer &offer)
{
    char *payload = begin(out, Kind::Offer, OfferSize);
    store(payload + 16, offer.mapLimit);
    return HeaderSize + OfferSize;
}

qsizetype encodePool(char *out, const PoolAnnounce &pool)
{
    char *payload = begin(out, Kind::Pool, PoolSize);
    store(payload + 16, pool.pool);
    store(payload + 20, quint32(0));
    store(payload + 24, pool.size);
    return HeaderSize + PoolSize;
}

qsizetype encodeChannel(char *out, const ChannelAddress &channel)
{
    char *payload = begin(out, Kind::Channel, ChannelSize);
    std::memcpy(payload + 16, channel.name, ChannelAddress::NameSize);
    std::memcpy(payload + 32, channel.token, ChannelAddress::TokenSize);
    std::memcpy(payload + 48, channel.local, ChannelAddress::EndpointSize);
    std::memcpy(payload + 68, channel.peer, ChannelAddress::EndpointSize);
    return HeaderSize + ChannelSize;
}

qsizetype encodeFrame(char *out, const FrameRef &frame)
{
    char *payload = begin(out, Kind::Frame, FrameSize);
    store(payload + 16, frame.pool);
    store(payload + 20, frame.token);
    store(payload + 24, frame.offset);
    store(payload + 32, frame.length);
    store(payload + 40, frame.type);
    store(payload + 44, frame.ackid);
    return HeaderSize + FrameSize;
}

qsizetype encodeRelease(char *out, const quint32 *tokens, quint32 count)
{
    const qsizetype size = ReleaseHeadSize + 4 * qsizetype(count);
    char *payload = begin(out, Kind::Release, size);
    store(payload + 16, count);
    std::memcpy(payload + ReleaseHeadSize, tokens, 4 * size_t(count));
    return HeaderSize + size;
}

} // namespace Blight::SharedMemoryWire
