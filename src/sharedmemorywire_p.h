// SPDX-License-Identifier: MIT
// The shared-memory messages on the wire (docs/shared-memory.md): encoding
// and strict decoding of Offer, Pool, Frame, Release and Channel. Pure, no I/O; the
// fuzzer and the socket use exactly this code.
#pragma once

#include <BlightTransport/protocol.h>

#include <QtCore/QByteArrayView>
#include <QtCore/QString>

namespace Blight::SharedMemoryWire {

enum class Kind : quint32 { Offer = 1, Pool = 2, Frame = 3, Release = 4, Channel = 5 };

inline constexpr char Magic[8] = {'B', 'l', 'i', 'g', 'h', 't', 'S', 'M'};
inline constexpr quint32 Version = 1;
inline constexpr qsizetype PreambleSize = 16;
inline constexpr qsizetype OfferSize = 24;
inline constexpr qsizetype PoolSize = 32;
inline constexpr qsizetype FrameSize = 48;
inline constexpr qsizetype ReleaseHeadSize = 20;
inline constexpr qsizetype ChannelSize = 88;
inline constexpr quint32 MaxReleaseCount = 4096;
inline constexpr qsizetype MaxReleaseSize = ReleaseHeadSize + 4 * qsizetype(MaxReleaseCount);

struct Offer
{
    quint64 mapLimit = 0;
};

/*! Over TCP, where descriptors cannot travel: the abstract AF_UNIX socket
    at which this side takes the peer's pool descriptors, the secret the
    peer proves itself with there, and the TCP connection as this side sees
    it, so that the channel serves this connection only
    (descriptorchannel_p.h). */
struct ChannelAddress
{
    static constexpr int NameSize = 16;
    static constexpr int TokenSize = 16;
    /*! An endpoint: uint16 family (AF_INET or AF_INET6), uint16 port in
        network order, 16 bytes of address (IPv4 in the first 4). */
    static constexpr int EndpointSize = 20;
    char name[NameSize] = {};
    char token[TokenSize] = {};
    char local[EndpointSize] = {};
    char peer[EndpointSize] = {};
};

struct PoolAnnounce
{
    quint32 pool = 0;
    quint64 size = 0;
};

struct FrameRef
{
    quint32 pool = 0;
    quint32 token = 0;
    quint64 offset = 0;
    quint64 length = 0;
    qint32 type = 0;
    quint32 ackid = 0;
};

/*! A decoded message; the release tokens stay in the payload. */
struct Decoded
{
    Kind kind = Kind::Offer;
    Offer offer;
    ChannelAddress channel;
    PoolAnnounce pool;
    FrameRef frame;
    quint32 releaseCount = 0;
    QByteArrayView releaseTokens; // releaseCount little blocks of 4 bytes
    quint32 releaseToken(quint32 index) const;
};

/*! Whether a message is one of these: an Ack with ackid 0 whose payload
    starts with the magic. Everything else is the application's. */
bool isSharedMemoryMessage(const Header &header, QByteArrayView payload);

enum class Result { Ok, Error };
/*! Decodes a message isSharedMemoryMessage() accepted; on Error \a why says
    what is wrong (unknown kind or version, a size not the kind's). */
Result decode(QByteArrayView payload, Decoded *out, QString *why);

/*! Writes a whole message (header and payload) into \a out, which has room
    for its size; returns the bytes written. */
qsizetype encodeOffer(char *out, const Offer &offer);
qsizetype encodePool(char *out, const PoolAnnounce &pool);
qsizetype encodeChannel(char *out, const ChannelAddress &channel);
qsizetype encodeFrame(char *out, const FrameRef &frame);
/*! \a count (1..MaxReleaseCount) tokens; \a out has HeaderSize +
    ReleaseHeadSize + 4 * count bytes. */
qsizetype encodeRelease(char *out, const quint32 *tokens, quint32 count);

} // namespace Blight::SharedMemoryWire
