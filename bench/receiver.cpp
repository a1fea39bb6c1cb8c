// SPDX-License-Identifier: MIT
// Receiver threads: blight messages (with optional Ack answers) and frames.
#include "receiver.h"

#include "harness.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

using namespace Qt::StringLiterals;

namespace Bench {

ReceiverThread::ReceiverThread(int fd)
    : m_fd(fd)
{
}

ReceiverThread::~ReceiverThread()
{
    if (m_thread.joinable()) {
        abort();
        m_thread.join();
    }
}

void ReceiverThread::start(std::function<void(bool ok)> onDone)
{
    m_thread = std::thread([this, onDone = std::move(onDone)] {
        const double cpu0 = threadCpuNow();
        receive();
        m_result.cpuSeconds = threadCpuNow() - cpu0;
        if (m_result.error.isEmpty())
            m_result.ok = true;
        m_finished.store(true, std::memory_order_release);
        if (onDone)
            onDone(m_result.ok);
    });
}

void ReceiverThread::abort()
{
    ::shutdown(m_fd, SHUT_RDWR);
}

const ReceiveResult &ReceiverThread::wait()
{
    if (m_thread.joinable())
        m_thread.join();
    return m_result;
}

bool ReceiverThread::fail(const QString &error)
{
    if (m_result.error.isEmpty())
        m_result.error = error;
    return false;
}

MessageReceiver::MessageReceiver(int fd, quint64 expected, bool answer)
    : ReceiverThread(fd)
    , m_expected(expected)
    , m_answer(answer)
{
}

void MessageReceiver::receive()
{
    constexpr size_t Capacity = 256 * 1024;
    std::vector<char> buffer(Capacity);
    char *buf = buffer.data();
    size_t have = 0;
    quint64 seq = 0;
    RepaintSequence expected; // message seq, without a division per message

    while (seq < m_expected) {
        const ssize_t n = ::recv(m_fd, buf + have, Capacity - have, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail(u"receiver: recv: "_s + errnoText(errno));
            return;
        }
        if (n == 0) {
            fail(u"receiver: connection closed after %1 of %2 messages"_s.arg(seq).arg(m_expected));
            return;
        }
        have += size_t(n);
        m_result.bytes += quint64(n);
        size_t pos = 0;
        while (have - pos >= 12) {
            Blight::Header header;
            std::memcpy(&header, buf + pos, sizeof header);
            if (header.type != qint32(Blight::MessageType::Repaint) || header.size != sizeof(Blight::RepaintPayload)) {
                fail(u"receiver: message %1: bad header (type %2, size %3)"_s.arg(seq)
                         .arg(header.type)
                         .arg(header.size));
                return;
            }
            if (have - pos < RepaintMessageSize)
                break;
            if (header.ackid != expected.ackid()) {
                fail(u"receiver: message %1: ackid %2, expected %3 (lost or reordered)"_s.arg(seq)
                         .arg(header.ackid)
                         .arg(ackidFor(seq)));
                return;
            }
            if (!expected.matches(buf + pos)) {
                fail(u"receiver: message %1: bytes differ from what was sent"_s.arg(seq));
                return;
            }
            if (m_answer) {
                const Blight::Header ack{qint32(Blight::MessageType::Ack), header.ackid, 0};
                size_t sent = 0;
                while (sent < sizeof ack) {
                    const ssize_t w = ::send(m_fd, reinterpret_cast<const char *>(&ack) + sent, sizeof ack - sent,
                                             MSG_NOSIGNAL);
                    if (w < 0 && errno == EINTR)
                        continue;
                    if (w <= 0) {
                        fail(u"peer: send Ack: "_s + errnoText(errno));
                        return;
                    }
                    sent += size_t(w);
                }
            }
            ++seq;
            m_result.messages = seq;
            pos += RepaintMessageSize;
            if (!expected.next()) {
                fail(u"receiver: the expected message %1 differs from writeRepaintMessage()"_s.arg(seq));
                return;
            }
        }
        std::memmove(buf, buf + pos, have - pos);
        have -= pos;
    }
    m_result.doneAt = std::chrono::steady_clock::now();
    if (have != 0)
        fail(u"receiver: %1 bytes beyond the last expected message"_s.arg(have));
}

FrameReceiver::FrameReceiver(int fd, const ColdPool &pool, quint64 frames, bool fullCheck)
    : ReceiverThread(fd)
    , m_pool(pool)
    , m_frames(frames)
    , m_fullCheck(fullCheck)
{
}

void FrameReceiver::receive()
{
    constexpr size_t Capacity = 1024 * 1024;
    std::vector<char> buffer(Capacity);
    const size_t frameSize = m_pool.frameSize();
    quint64 frame = 0;
    size_t position = 0; // within the current frame
    quint64 sum = 0;

    while (frame < m_frames) {
        const ssize_t n = ::recv(m_fd, buffer.data(), Capacity, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fail(u"receiver: recv: "_s + errnoText(errno));
            return;
        }
        if (n == 0) {
            fail(u"receiver: connection closed after %1 of %2 frames"_s.arg(frame).arg(m_frames));
            return;
        }
        m_result.bytes += quint64(n);
        const char *p = buffer.data();
        size_t left = size_t(n);
        while (left > 0) {
            if (frame >= m_frames) {
                fail(u"receiver: %1 bytes beyond the last frame"_s.arg(left));
                return;
            }
            const size_t take = std::min(left, frameSize - position);
            if (m_fullCheck) {
                if (std::memcmp(p, m_pool.frame(frame).constData() + position, take) != 0) {
                    fail(u"receiver: frame %1: bytes at %2.. differ from what was sent"_s.arg(frame).arg(position));
                    return;
                }
            } else {
                sum = positionalChecksum(p, take, position, sum);
            }
            position += take;
            p += take;
            left -= take;
            if (position == frameSize) {
                if (!m_fullCheck && sum != m_pool.checksum(frame)) {
                    fail(u"receiver: frame %1: checksum mismatch"_s.arg(frame));
                    return;
                }
                ++frame;
                m_result.messages = frame;
                position = 0;
                sum = 0;
            }
        }
    }
    m_result.doneAt = std::chrono::steady_clock::now();
}

bool finishSample(Sample *s, const ReceiveResult &r, quint64 expected, const QString &senderError)
{
    s->messages = r.messages;
    s->bytes = r.bytes;
    if (!senderError.isEmpty())
        s->error = senderError;
    else if (!r.ok)
        s->error = r.error;
    else if (r.messages != expected)
        s->error = u"%1 of %2 arrived"_s.arg(r.messages).arg(expected);
    s->ok = s->error.isEmpty();
    return s->ok;
}

} // namespace Bench
