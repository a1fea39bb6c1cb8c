// SPDX-License-Identifier: MIT
// frames-unix: the frames' content, their checksum, and the receiving tally.
#include "framesunix.h"

#include <cstring>
#include <vector>

using namespace Qt::StringLiterals;

namespace Bench {

UnixFrameContent::UnixFrameContent()
    : m_reference(qsizetype(UnixFrameBytes), Qt::Uninitialized)
{
    char *data = m_reference.data();
    quint64 state = 0x9e3779b97f4a7c15ull;
    for (size_t offset = 0; offset < UnixFrameBytes; offset += 8) {
        // xorshift64: every word differs, so a misplaced piece shows.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::memcpy(data + offset, &state, 8);
    }
    std::memset(data, 0, 8);
    m_restSum = frameChecksum(data, UnixFrameBytes);
}

const UnixFrameContent &UnixFrameContent::instance()
{
    static const UnixFrameContent content;
    return content;
}

void UnixFrameContent::fill(char *data) const
{
    std::memcpy(data, m_reference.constData(), UnixFrameBytes);
}

bool UnixFrameContent::matches(const char *data, size_t size, size_t position, quint64 frame) const
{
    if (position + size > UnixFrameBytes)
        return false;
    size_t i = 0;
    for (; i < size && position + i < 8; ++i) {
        const auto expected = static_cast<unsigned char>(frame >> (8 * (position + i)));
        if (static_cast<unsigned char>(data[i]) != expected)
            return false;
    }
    return std::memcmp(data + i, m_reference.constData() + position + i, size - i) == 0;
}

void writeFrameNumber(char *data, quint64 frame)
{
    std::memcpy(data, &frame, sizeof frame); // little-endian on every target of Oxide
}

quint64 frameChecksum(const char *data, size_t size)
{
    // Four sums so that the adds do not wait on each other; the loop is
    // bound by memory bandwidth, not by the adds.
    quint64 a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;
    for (; i + 32 <= size; i += 32) {
        quint64 w[4];
        std::memcpy(w, data + i, sizeof w);
        a += w[0];
        b += w[1];
        c += w[2];
        d += w[3];
    }
    quint64 sum = a + b + c + d;
    return positionalChecksum(data + i, size - i, i, sum);
}

std::unique_ptr<Blight::BlightBufferPool> makeFramePool(PoolMemory memory, QString *error)
{
    const auto backing = memory == PoolMemory::Shared ? Blight::BlightBufferPool::Backing::SharedMemory
                                                      : Blight::BlightBufferPool::Backing::Anonymous;
    auto pool = std::make_unique<Blight::BlightBufferPool>(UnixFramePoolCount, qsizetype(UnixFrameBytes), backing);
    if (memory == PoolMemory::Shared && !pool->isShared()) {
        *error = u"the pool is not in shared memory"_s;
        return nullptr;
    }
    if (!pool->isValid()) {
        *error = u"the buffer pool could not allocate its memory"_s;
        return nullptr;
    }
    std::vector<Blight::BlightBuffer> buffers;
    for (int i = 0; i < pool->count(); ++i) {
        Blight::BlightBuffer buffer = pool->acquire();
        if (buffer.isNull() || size_t(buffer.size()) != UnixFrameBytes) {
            *error = u"pool buffer %1 of %2 missing or of the wrong size"_s.arg(i).arg(pool->count());
            return nullptr;
        }
        UnixFrameContent::instance().fill(buffer.data());
        buffers.push_back(std::move(buffer));
    }
    buffers.clear(); // every buffer back in the pool
    return pool;
}

BufferRotation::BufferRotation(Blight::BlightBufferPool &pool)
    : m_pool(pool)
{
}

Blight::BlightBuffer BufferRotation::next(quint64 frame)
{
    while (!m_kept.empty() && qsizetype(m_kept.size()) >= qsizetype(m_pool.count()) - 1)
        m_kept.pop_front();
    Blight::BlightBuffer buffer = m_pool.acquire();
    if (buffer.isNull())
        return buffer;
    writeFrameNumber(buffer.data(), frame); // before the kept copy shares it
    m_kept.push_back(buffer);
    return buffer;
}

FrameTally::FrameTally(quint64 expected, bool fullCheck)
    : m_content(UnixFrameContent::instance())
    , m_expected(expected)
    , m_fullCheck(fullCheck)
{
}

bool FrameTally::fail(const QString &error)
{
    if (m_error.isEmpty())
        m_error = error;
    return false;
}

bool FrameTally::finishFrame(quint64 sum)
{
    if (sum != m_content.expectedChecksum(m_frames))
        return fail(u"frame %1: checksum mismatch (wrong frame number or bytes)"_s.arg(m_frames));
    ++m_frames;
    m_bytes += UnixFrameBytes;
    return true;
}

bool FrameTally::addFrame(const char *data, size_t size)
{
    if (!m_error.isEmpty())
        return false;
    if (m_frames >= m_expected)
        return fail(u"a frame beyond the %1 expected"_s.arg(m_expected));
    if (size != UnixFrameBytes)
        return fail(u"frame %1: %2 bytes, expected %3"_s.arg(m_frames).arg(size).arg(UnixFrameBytes));
    if (m_fullCheck && !m_content.matches(data, size, 0, m_frames))
        return fail(u"frame %1: bytes differ from what was sent"_s.arg(m_frames));
    const double cpu0 = threadCpuNow();
    const quint64 sum = frameChecksum(data, size);
    m_checksumCpu += threadCpuNow() - cpu0;
    return finishFrame(sum);
}

bool FrameTally::addPiece(const char *data, size_t size)
{
    if (!m_error.isEmpty())
        return false;
    const double cpu0 = threadCpuNow();
    double checkCpu = 0; // the full byte check is not the checksum
    bool ok = true;
    while (size > 0 && ok) {
        if (m_frames >= m_expected) {
            ok = fail(u"%1 bytes beyond the last frame"_s.arg(size));
            break;
        }
        const size_t take = std::min(size, UnixFrameBytes - m_position);
        if (m_fullCheck) {
            const double check0 = threadCpuNow();
            if (!m_content.matches(data, take, m_position, m_frames))
                ok = fail(u"frame %1: bytes at %2.. differ from what was sent"_s.arg(m_frames).arg(m_position));
            checkCpu += threadCpuNow() - check0;
        }
        m_sum = positionalChecksum(data, take, m_position, m_sum);
        m_position += take;
        data += take;
        size -= take;
        if (ok && m_position == UnixFrameBytes) {
            ok = finishFrame(m_sum);
            m_position = 0;
            m_sum = 0;
        }
    }
    m_checksumCpu += threadCpuNow() - cpu0 - checkCpu;
    return ok;
}

FramesReceiverThread::FramesReceiverThread(int fd, quint64 frames, bool fullCheck)
    : ReceiverThread(fd)
    , m_tally(frames, fullCheck)
{
}

void FramesReceiverThread::receive()
{
    m_cpuStart = threadCpuNow();
    serve();
    if (!m_reported)
        m_cpuToDone = threadCpuNow() - m_cpuStart;
    m_result.messages = m_tally.frames();
    m_result.bytes = m_tally.bytes();
    if (!m_tally.error().isEmpty())
        fail(u"receiver: "_s + m_tally.error());
    else if (!m_tally.done())
        fail(u"receiver: connection ended after %1 frames"_s.arg(m_tally.frames()));
}

bool FramesReceiverThread::noteProgress()
{
    if (m_reported || !m_tally.done())
        return false;
    m_reported = true;
    m_result.doneAt = std::chrono::steady_clock::now();
    m_cpuToDone = threadCpuNow() - m_cpuStart;
    m_allDone.store(true, std::memory_order_release);
    if (m_allReceived)
        m_allReceived();
    return true;
}

void addFrameFigures(Sample *s, double receiverCpu, double checksumCpu, quint64 frames)
{
    if (frames == 0)
        return;
    const double perFrame = 1e6 / double(frames);
    s->extra[u"sender_cpu_us_per_frame"_s] = s->threadCpuSeconds * perFrame;
    s->extra[u"process_cpu_us_per_frame"_s] = s->processCpuSeconds * perFrame;
    s->extra[u"receiver_cpu_us_per_frame"_s] = receiverCpu * perFrame;
    s->extra[u"receiver_own_cpu_us_per_frame"_s] = (receiverCpu - checksumCpu) * perFrame;
    if (checksumCpu > 0)
        s->extra[u"checksum_gb_per_s"_s] = double(frames) * double(UnixFrameBytes) / checksumCpu / 1e9;
}

void addFrameFigures(Sample *s, const FramesReceiverThread &receiver)
{
    addFrameFigures(s, receiver.cpuToDoneSeconds(), receiver.checksumCpuSeconds(), s->messages);
}

} // namespace Bench
