// SPDX-License-Identifier: MIT
// The frames-unix scenario (issue 13, point 7): 1404x1872x4 frames over an
// AF_UNIX stream socketpair, their content, receivers and contenders.
#pragma once

#include "harness.h"
#include "receiver.h"

#include <BlightTransport/blightbufferpool.h>

#include <QtCore/QByteArray>
#include <QtCore/QString>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>

namespace Blight {
class BlightSocket;
}

namespace Bench {

/*! One frame of the reMarkable 2's screen: 1404 x 1872 pixels, 4 bytes each. */
inline constexpr size_t UnixFrameBytes = size_t(1404) * 1872 * 4;
/*! Buffers per pool: 4 frames, 42 MB, more than the caches and within the
    receiver's default 64 MiB map cap. */
inline constexpr int UnixFramePoolCount = 4;

/*!
    What every frame holds: word 0 (the first 8 bytes, little-endian) is the
    frame number, written by the sender for each frame; words 1.. are a fixed
    pattern written once into every buffer. So the checksum of frame n (the
    sum of its 8-byte words) is restSum() + n, whichever buffer carried it.
*/
class UnixFrameContent
{
public:
    static const UnixFrameContent &instance();

    quint64 expectedChecksum(quint64 frame) const { return m_restSum + frame; }
    /*! Fills \a size bytes (a whole frame) with the pattern, word 0 zero. */
    void fill(char *data) const;
    /*! Whether \a size bytes at \a position of frame \a frame are what the
        sender wrote (the warm-up's full byte check). */
    bool matches(const char *data, size_t size, size_t position, quint64 frame) const;

private:
    UnixFrameContent();
    QByteArray m_reference; //!< the pattern, word 0 zero
    quint64 m_restSum = 0;
};

/*! Writes \a frame into the first 8 bytes of \a data: all a sender renders. */
void writeFrameNumber(char *data, quint64 frame);
/*! The sum of the 8-byte words of a whole frame. */
quint64 frameChecksum(const char *data, size_t size);
enum class PoolMemory { Anonymous, Shared };
/*! A pool of UnixFramePoolCount frames, every buffer filled with the
    pattern once; null (and \a error) when it cannot be had. */
std::unique_ptr<Blight::BlightBufferPool> makeFramePool(PoolMemory memory, QString *error);

/*!
    Hands out a pool's buffers in turn, the way a sender with every buffer in
    flight gets them back: it keeps the last count() - 1 buffers, so that the
    pool's one free buffer is always the oldest. Without it a sender that
    drops each buffer at once would reuse one buffer, 10.5 MB that stay in
    the cache, where the transport contenders go through all 42 MB.
*/
class BufferRotation
{
public:
    explicit BufferRotation(Blight::BlightBufferPool &pool);
    /*! The next buffer with \a frame written into its first 8 bytes; null
        when the pool has none. The handle shares its bytes with the one kept. */
    Blight::BlightBuffer next(quint64 frame);

private:
    Blight::BlightBufferPool &m_pool;
    std::deque<Blight::BlightBuffer> m_kept;
};

/*!
    The receiver's side of every contender: checks frames (whole, or as
    stream pieces of any size) and adds up the thread CPU spent in the
    checksum, so that what the transport costs is the rest.
*/
class FrameTally
{
public:
    FrameTally(quint64 expected, bool fullCheck);

    /*! A whole frame in memory; false (and error()) when it is wrong. */
    bool addFrame(const char *data, size_t size);
    /*! The next \a size bytes of a raw stream of frames. */
    bool addPiece(const char *data, size_t size);

    bool done() const { return m_frames == m_expected; }
    quint64 frames() const { return m_frames; }
    quint64 bytes() const { return m_bytes; }
    double checksumCpuSeconds() const { return m_checksumCpu; }
    QString error() const { return m_error; }

private:
    bool fail(const QString &error);
    bool finishFrame(quint64 sum);

    const UnixFrameContent &m_content;
    quint64 m_expected;
    bool m_fullCheck;
    quint64 m_frames = 0;
    quint64 m_bytes = 0;
    size_t m_position = 0; //!< within the current frame of a stream
    quint64 m_sum = 0;
    double m_checksumCpu = 0;
    QString m_error;
};

/*!
    A receiver thread built on FrameTally. allReceived(), set before
    start(), runs in the receiving thread when the last frame was verified;
    some receivers keep serving their socket after it (a release may still
    have to go back) until abort().
*/
class FramesReceiverThread : public ReceiverThread
{
public:
    void setAllReceived(std::function<void()> fn) { m_allReceived = std::move(fn); }
    double checksumCpuSeconds() const { return m_tally.checksumCpuSeconds(); }
    /*! Receiving thread's CPU from its start to the last verified frame. */
    double cpuToDoneSeconds() const { return m_cpuToDone; }
    /*! Whether the last frame was verified; doneAt() is valid then. Safe
        from any thread. */
    bool allReceived() const { return m_allDone.load(std::memory_order_acquire); }
    std::chrono::steady_clock::time_point doneAt() const { return m_result.doneAt; }

protected:
    FramesReceiverThread(int fd, quint64 frames, bool fullCheck);
    void receive() final;
    /*! Receives until the tally is done (or fails), or later: see above. */
    virtual void serve() = 0;
    /*! Call after each tally step; true when the last frame just arrived. */
    bool noteProgress();

    FrameTally m_tally;

private:
    std::function<void()> m_allReceived;
    double m_cpuStart = 0;
    double m_cpuToDone = 0;
    bool m_reported = false;
    std::atomic<bool> m_allDone{false};
};

/*! The per-frame CPU figures every frames-unix contender reports (needs the
    sample's messages and thread CPU filled in). */
void addFrameFigures(Sample *s, double receiverCpu, double checksumCpu, quint64 frames);
void addFrameFigures(Sample *s, const FramesReceiverThread &receiver);

class EventLoopRun;

/*! Waits in \a run's loop until \a socket and its peer agreed on shared
    memory (both offers crossed), so that no timed frame takes the copy path;
    false with \a error set if they did not. */
bool awaitAgreement(Blight::BlightSocket &socket, EventLoopRun &run, QString *error);

Sample runFramesUnixPlain(const RunRequest &request);
Sample runFramesUnixQLocalSocket(const RunRequest &request);
/*! BlightSocket on both ends; \a sharedMemory: a Backing::SharedMemory pool and
    sharedMemoryEnabled on both sockets, frames taken from bufferReceived. */
Sample runFramesUnixTransport(bool sharedMemory, const RunRequest &request);
Sample runFramesUnixChecksumOnly(const RunRequest &request);

} // namespace Bench
