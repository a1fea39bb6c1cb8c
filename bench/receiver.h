// SPDX-License-Identifier: MIT
// The receiving side shared by every contender: a thread that reads in large
// chunks and checks each blight message (optionally answering each with an
// Ack, for round trips), and one that checks a raw stream of frames.
#pragma once

#include "harness.h"
#include "workload.h"

#include <QtCore/QString>

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

namespace Bench {

struct ReceiveResult
{
    bool ok = false;
    QString error;
    quint64 messages = 0; //!< messages or frames verified
    quint64 bytes = 0;
    std::chrono::steady_clock::time_point doneAt;
    double cpuSeconds = 0; //!< CPU of the receiving thread
};

/*! Fills \a s from what the receiver got: its counts, and an error when the
    sender failed (\a senderError), the receiver failed, or fewer than \a
    expected arrived. Returns whether the sample is good. */
bool finishSample(Sample *s, const ReceiveResult &r, quint64 expected, const QString &senderError);

class ReceiverThread
{
public:
    ReceiverThread(const ReceiverThread &) = delete;
    ReceiverThread &operator=(const ReceiverThread &) = delete;
    virtual ~ReceiverThread();

    /*! \a onDone runs in the receiving thread when it stops, for any reason,
        with whether everything arrived intact. */
    void start(std::function<void(bool ok)> onDone = {});
    /*! Unblocks a receiver that waits for bytes that will not come. */
    void abort();
    /*! Joins the thread and returns what it saw. */
    const ReceiveResult &wait();
    bool finished() const { return m_finished.load(std::memory_order_acquire); }

protected:
    explicit ReceiverThread(int fd);
    virtual void receive() = 0;
    bool fail(const QString &error);

    int m_fd;
    ReceiveResult m_result;

private:
    std::thread m_thread;
    std::atomic<bool> m_finished{false};
};

/*!
    Reads Repaint messages (12-byte header + 36 bytes) in chunks of 256 KiB
    and compares every byte of each with what was sent (rebuilding the
    expected message costs less than a checksum of the received one and of
    the expected one did). With answer, each message is answered at once
    with an Ack carrying its ackid.
*/
class MessageReceiver : public ReceiverThread
{
public:
    MessageReceiver(int fd, quint64 expected, bool answer = false);

protected:
    void receive() override;

private:
    quint64 m_expected;
    bool m_answer;
};

/*! Reads a raw stream of pool frames, 1 MiB per read, checksumming each frame
    (fullCheck: comparing every byte with the pool). */
class FrameReceiver : public ReceiverThread
{
public:
    FrameReceiver(int fd, const ColdPool &pool, quint64 frames, bool fullCheck);

protected:
    void receive() override;

private:
    const ColdPool &m_pool;
    quint64 m_frames;
    bool m_fullCheck;
};

} // namespace Bench
