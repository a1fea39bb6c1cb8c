// SPDX-License-Identifier: MIT
// The work every contender does: Repaint messages derived from a sequence
// number, their checksums, the cold pool of frames, and socket helpers.
#pragma once

#include <BlightTransport/blightbuffer.h>
#include <BlightTransport/protocol.h>

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <cstddef>
#include <memory>
#include <vector>

namespace Blight {
class BlightBufferPool;
} // namespace Blight

namespace Bench {

inline constexpr size_t RepaintMessageSize = 12 + sizeof(Blight::RepaintPayload); // 48

/*! The Repaint payload for message \a seq: every field derived from it. */
Blight::RepaintPayload repaintFor(quint64 seq);
/*! The ackid carried by message \a seq (never 0). */
inline quint32 ackidFor(quint64 seq)
{
    return quint32(seq % 0xfffffffeu) + 1;
}
/*! Header and payload of message \a seq as they go on the wire, 48 bytes. */
void writeRepaintMessage(quint64 seq, char *out);

/*!
    The messages of writeRepaintMessage() for seq = 0, 1, ... in turn, each
    field kept as a counter instead of divided out of seq, and compared as
    six 64-bit words made in registers: what the receiver checks every
    message against (building the 48 bytes in memory and comparing them
    stalled on store forwarding, and the receiver, not the sender, set the
    pace). Every 4096th message next() also checks the sequence against
    writeRepaintMessage() and returns false if they differ.
*/
class RepaintSequence
{
public:
    quint64 seq() const { return m_seq; }
    quint32 ackid() const { return m_ackid; }
    /*! Whether the 48 bytes at \a received are message seq(), every byte. */
    bool matches(const char *received) const;
    /*! Moves on to the next message. */
    bool next();

private:
    quint64 m_seq = 0;
    quint32 m_ackid = 1;
    quint32 m_x = 0;
    quint32 m_y = 0;
    quint32 m_contentType = 0;
    quint32 m_mode = 0;
};

/*! A 64-bit sum of little-endian words, by position in the frame, so that a
    frame can be summed in pieces of any size. */
quint64 positionalChecksum(const char *data, size_t size, size_t position, quint64 sum);

/*!
    Frames of one size filling at least totalBytes, each in its own QByteArray
    (so that a zero-copy sender can hold a reference without copying), filled
    with pseudo-random bytes. Frame i of a run is pool[i % size()]: rotating
    through more memory than the caches hold keeps the source cold.
*/
class ColdPool
{
public:
    ColdPool() = default;
    ColdPool(size_t totalBytes, size_t frameSize);

    size_t size() const { return m_frames.size(); }
    size_t frameSize() const { return m_frameSize; }
    size_t totalBytes() const { return m_frameSize * m_frames.size(); }
    const QByteArray &frame(quint64 index) const { return m_frames[size_t(index % m_frames.size())]; }
    quint64 checksum(quint64 index) const { return m_checksums[size_t(index % m_checksums.size())]; }
    bool isEmpty() const { return m_frames.empty(); }

private:
    size_t m_frameSize = 0;
    std::vector<QByteArray> m_frames;
    std::vector<quint64> m_checksums;
};

/*!
    The frames of a ColdPool copied once into a BlightBufferPool of as many
    buffers, each held here for the pool's life: the same bytes and the same
    amount of memory as the ColdPool, but in one pool region that an io_uring
    socket registers, so that each frame leaves as one fixed SEND_ZC. The
    handles are never written after the copy, so sends may share them.
*/
class PooledFrames
{
public:
    explicit PooledFrames(const ColdPool &source);
    ~PooledFrames();
    PooledFrames(const PooledFrames &) = delete;
    PooledFrames &operator=(const PooledFrames &) = delete;

    /*! Empty when the pool's memory could not be had. */
    QString error() const { return m_error; }
    size_t size() const { return m_buffers.size(); }
    size_t frameSize() const { return m_source.frameSize(); }
    const ColdPool &source() const { return m_source; }
    /*! Holds the same bytes as source().frame(index). */
    const Blight::BlightBuffer &frame(quint64 index) const { return m_buffers[size_t(index % m_buffers.size())]; }

private:
    const ColdPool &m_source;
    std::unique_ptr<Blight::BlightBufferPool> m_pool;
    std::vector<Blight::BlightBuffer> m_buffers;
    QString m_error;
};

/*! Both ends of an AF_UNIX socketpair(SOCK_STREAM); closes what it still owns. */
struct SocketPair
{
    SocketPair();
    ~SocketPair();
    SocketPair(const SocketPair &) = delete;
    SocketPair &operator=(const SocketPair &) = delete;
    /*! Gives up ownership of the sender's end (a Qt object adopted it). */
    int releaseSender();
    bool valid() const { return sender >= 0 && receiver >= 0; }

    int sender = -1;
    int receiver = -1;
    QString error;
};

/*! A connected TCP pair on 127.0.0.1 (client sends, accepted end receives). */
struct TcpPair
{
    TcpPair();
    ~TcpPair();
    TcpPair(const TcpPair &) = delete;
    TcpPair &operator=(const TcpPair &) = delete;
    int releaseSender();
    bool valid() const { return sender >= 0 && receiver >= 0; }

    int sender = -1;
    int receiver = -1;
    QString error;
};

bool setNonBlocking(int fd, bool nonBlocking);
QString errnoText(int error);
/*! A blocking send() of all \a size bytes, counting calls in \a calls;
    false (and \a error) if the socket fails. */
bool sendAll(int fd, const char *data, size_t size, quint64 *calls, QString *error);

} // namespace Bench
