// SPDX-License-Identifier: MIT
// Messages, checksums, the cold pool and socket helpers shared by all contenders.
#include "workload.h"

#include <BlightTransport/blightbufferpool.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

using namespace Qt::StringLiterals;

namespace Bench {

Blight::RepaintPayload repaintFor(quint64 seq)
{
    Blight::RepaintPayload p;
    p.x = qint32(seq % 1404);
    p.y = qint32((seq * 7) % 1872);
    p.width = quint32(1 + seq % 512);
    p.height = quint32(1 + (seq >> 9) % 512);
    p.waveform = qint32(seq % 8);
    p.contentType = qint32(seq % 3);
    p.mode = qint32(seq % 5);
    p.marker = quint32(seq);
    p.identifier = Blight::SurfaceId(seq * 2654435761u >> 16);
    return p;
}

void writeRepaintMessage(quint64 seq, char *out)
{
    const Blight::Header header{qint32(Blight::MessageType::Repaint), ackidFor(seq),
                                quint32(sizeof(Blight::RepaintPayload))};
    std::memcpy(out, &header, sizeof header);
    const Blight::RepaintPayload payload = repaintFor(seq);
    std::memcpy(out + sizeof header, &payload, sizeof payload);
    // The two bytes of padding go out as zeros, as Blight::encode() writes them.
    std::memset(out + sizeof header + offsetof(Blight::RepaintPayload, identifier) + 2, 0, 2);
}

// The words below follow the wire layout of a Repaint message on a
// little-endian host, as blight's own peers are.
static_assert(Q_BYTE_ORDER == Q_LITTLE_ENDIAN);
static_assert(offsetof(Blight::RepaintPayload, x) == 0 && offsetof(Blight::RepaintPayload, y) == 4
              && offsetof(Blight::RepaintPayload, width) == 8 && offsetof(Blight::RepaintPayload, height) == 12
              && offsetof(Blight::RepaintPayload, waveform) == 16 && offsetof(Blight::RepaintPayload, contentType) == 20
              && offsetof(Blight::RepaintPayload, mode) == 24 && offsetof(Blight::RepaintPayload, marker) == 28
              && offsetof(Blight::RepaintPayload, identifier) == 32 && sizeof(Blight::SurfaceId) == 2
              && sizeof(Blight::RepaintPayload) == 36);

bool RepaintSequence::matches(const char *received) const
{
    const auto pair = [](quint64 low, quint64 high) { return (low & 0xffffffffu) | high << 32; };
    const quint64 expected[6] = {
        pair(quint32(Blight::MessageType::Repaint), m_ackid),
        pair(sizeof(Blight::RepaintPayload), m_x),
        pair(m_y, 1 + (m_seq & 511)),
        pair(1 + ((m_seq >> 9) & 511), m_seq & 7),
        pair(m_contentType, m_mode),
        pair(quint32(m_seq), Blight::SurfaceId(m_seq * 2654435761u >> 16)), // then two zero bytes of padding
    };
    quint64 words[6];
    std::memcpy(words, received, sizeof(words));
    quint64 difference = 0;
    for (int i = 0; i < 6; ++i)
        difference |= words[i] ^ expected[i];
    return difference == 0;
}

bool RepaintSequence::next()
{
    ++m_seq;
    m_ackid = m_ackid == 0xfffffffeu ? 1 : m_ackid + 1;
    m_x = m_x + 1 == 1404 ? 0 : m_x + 1;
    m_y = m_y + 7 >= 1872 ? m_y + 7 - 1872 : m_y + 7;
    m_contentType = m_contentType == 2 ? 0 : m_contentType + 1;
    m_mode = m_mode == 4 ? 0 : m_mode + 1;
    if ((m_seq & 4095) != 0)
        return true;
    char reference[RepaintMessageSize];
    writeRepaintMessage(m_seq, reference);
    return matches(reference);
}

quint64 positionalChecksum(const char *data, size_t size, size_t position, quint64 sum)
{
    const auto *p = reinterpret_cast<const unsigned char *>(data);
    // A byte at position k adds byte << 8*(k mod 8): the same as adding the
    // little-endian word it belongs to, whatever the split.
    while (size > 0 && (position & 7) != 0) {
        sum += quint64(*p++) << (8 * (position & 7));
        ++position;
        --size;
    }
    const size_t words = size / 8;
    for (size_t i = 0; i < words; ++i) {
        quint64 word;
        std::memcpy(&word, p + 8 * i, 8);
        sum += word;
    }
    p += 8 * words;
    position += 8 * words;
    size -= 8 * words;
    while (size > 0) {
        sum += quint64(*p++) << (8 * (position & 7));
        ++position;
        --size;
    }
    return sum;
}

ColdPool::ColdPool(size_t totalBytes, size_t frameSize)
    : m_frameSize(frameSize)
{
    const size_t count = (totalBytes + frameSize - 1) / frameSize;
    m_frames.reserve(count);
    m_checksums.reserve(count);
    quint64 state = 0x9e3779b97f4a7c15ull;
    for (size_t i = 0; i < count; ++i) {
        QByteArray frame(qsizetype(frameSize), Qt::Uninitialized);
        char *data = frame.data();
        size_t offset = 0;
        for (; offset + 8 <= frameSize; offset += 8) {
            // xorshift64: fast, and no page is left untouched.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            std::memcpy(data + offset, &state, 8);
        }
        for (; offset < frameSize; ++offset)
            data[offset] = char(offset * 31 + i);
        m_checksums.push_back(positionalChecksum(data, frameSize, 0, 0));
        m_frames.push_back(std::move(frame));
    }
}

PooledFrames::PooledFrames(const ColdPool &source)
    : m_source(source)
{
    m_pool = std::make_unique<Blight::BlightBufferPool>(int(source.size()), qsizetype(source.frameSize()));
    if (!m_pool->isValid()) {
        m_error = u"BlightBufferPool of %1 x %2 bytes: no memory"_s.arg(source.size()).arg(source.frameSize());
        return;
    }
    m_buffers.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        Blight::BlightBuffer buffer = m_pool->acquire();
        if (buffer.isNull()) {
            m_error = u"BlightBufferPool gave %1 of %2 buffers"_s.arg(i).arg(source.size());
            m_buffers.clear();
            return;
        }
        std::memcpy(buffer.data(), source.frame(i).constData(), source.frameSize());
        m_buffers.push_back(std::move(buffer));
    }
}

PooledFrames::~PooledFrames()
{
    m_buffers.clear(); // before the pool, although the pool would wait for them
}

SocketPair::SocketPair()
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
        error = u"socketpair: "_s + errnoText(errno);
        return;
    }
    sender = fds[0];
    receiver = fds[1];
}

SocketPair::~SocketPair()
{
    if (sender >= 0)
        ::close(sender);
    if (receiver >= 0)
        ::close(receiver);
}

int SocketPair::releaseSender()
{
    const int fd = sender;
    sender = -1;
    return fd;
}

TcpPair::TcpPair()
{
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0) {
        error = u"socket: "_s + errnoText(errno);
        return;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    const auto *sa = reinterpret_cast<sockaddr *>(&address);
    if (::bind(listener, sa, sizeof address) != 0 || ::listen(listener, 1) != 0
        || ::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        error = u"bind/listen on 127.0.0.1: "_s + errnoText(errno);
        ::close(listener);
        return;
    }
    sender = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sender < 0 || ::connect(sender, sa, sizeof address) != 0) {
        error = u"connect to 127.0.0.1: "_s + errnoText(errno);
        ::close(listener);
        return;
    }
    receiver = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (receiver < 0)
        error = u"accept: "_s + errnoText(errno);
    ::close(listener);
}

TcpPair::~TcpPair()
{
    if (sender >= 0)
        ::close(sender);
    if (receiver >= 0)
        ::close(receiver);
}

int TcpPair::releaseSender()
{
    const int fd = sender;
    sender = -1;
    return fd;
}

bool setNonBlocking(int fd, bool nonBlocking)
{
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags < 0)
        return false;
    const int wanted = nonBlocking ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    return ::fcntl(fd, F_SETFL, wanted) == 0;
}

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

bool sendAll(int fd, const char *data, size_t size, quint64 *calls, QString *error)
{
    size_t offset = 0;
    while (offset < size) {
        const ssize_t n = ::send(fd, data + offset, size - offset, MSG_NOSIGNAL);
        ++*calls;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *error = u"send: "_s + errnoText(errno);
            return false;
        }
        offset += size_t(n);
    }
    return true;
}

} // namespace Bench
