// SPDX-License-Identifier: MIT
// The zero-copy policy: mode, state and reason, threshold, the COPIED
// back-off and its probes, the pinned budget and the ENOBUFS retry delay.
// The only code that changes the zero-copy state. No I/O, no timers: it says
// how long to wait and the socket runs the timer.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QString>

#include <utility>

namespace Blight {

/*
    States (BlightSocket::ZeroCopyState) and what moves between them:

                      detect(): AF_UNIX, or SO_ZEROCOPY refused
        (start) ───────────────────────────────────────────────► Unsupported
           │
           │ detect(): SO_ZEROCOPY set
           ▼              setMode(Off)
        Active ◄──────────────────────────────────────────────► Disabled
         │  ▲ ▲                 setMode(Auto/On)
         │  │ └──── budgetFreed(): completions came in ───┐
         │  │                                              │
         │  │ waitForCompletions(): pinned budget reached  │
         │  └──────────────────────────────────────► Budget┘
         │  │
         │  │ probe(): the back-off timer ran out (Active, probing)
         │  │
         │  └────────────────── BackedOff ◄──── onCompletion(copied): copiedBackOffCount
         │                         ▲              COPIED ranges in a row in Auto, or the
         └─────────────────────────┘              first COPIED one while probing;
                                                  the delay doubles each time, up to a
                                                  minute, and resets after a probe that
                                                  was not copied.

    In mode On the state never becomes BackedOff: the reason says that the
    kernel copies. Every call that can change the state or the reason marks
    it, and takeChange() tells the socket whether to emit zeroCopyStateChanged().
*/
class ZeroCopyPolicy
{
public:
    using Mode = BlightSocket::ZeroCopyMode;
    using State = BlightSocket::ZeroCopyState;

    static constexpr int MaxBackOffMs = 60000;
    static constexpr int MaxNoBuffersDelayMs = 64;

    /*! Sets the state for a new socket: \a inet is TCP or UDP; \a soZeroCopyError
        is 0 if setsockopt(SO_ZEROCOPY) succeeded, else its errno. */
    void detect(bool inet, int soZeroCopyError);
    /*! Back to the state of a socket that has none (between connections). */
    void restart();

    Mode mode() const { return m_mode; }
    void setMode(Mode mode);
    bool isSupported() const { return m_supported; }
    State state() const { return m_state; }
    QString reason() const { return m_reason; }
    /*! Whether an eligible payload goes with MSG_ZEROCOPY now. */
    bool isActive() const;
    /*! Whether a payload of \a size bytes may go zero-copy on this socket. */
    bool isEligible(qsizetype size) const { return m_supported && size >= m_threshold; }

    qint64 threshold() const { return m_threshold; }
    void setThreshold(qint64 bytes);
    int copiedBackOffCount() const { return m_copiedBackOffCount; }
    void setCopiedBackOffCount(int count) { m_copiedBackOffCount = qMax(count, 1); }
    int backOffInterval() const { return m_backOffInterval; }
    void setBackOffInterval(int msecs) { m_backOffInterval = qMax(msecs, 1); }

    // The pinned budget. Limits the user set are kept across connections;
    // setDefaultLimits() changes only those the user did not set.
    qint64 pendingBytesLimit() const { return m_pendingBytesLimit; }
    int pendingBuffersLimit() const { return m_pendingBuffersLimit; }
    void setPendingBytesLimit(qint64 bytes);
    void setPendingBuffersLimit(int count);
    void setDefaultLimits(qint64 bytes, int count);
    /*! Whether a zero-copy send must wait for completions first. */
    bool mustWait(qint64 pendingBytes, qint64 pendingSends) const
    {
        return pendingSends > 0 && (pendingBytes >= m_pendingBytesLimit || pendingSends >= m_pendingBuffersLimit);
    }
    /*! Bytes a stream batch may still pin (at least 1: a send after
        everything was released may exceed the budget alone). */
    qint64 budgetLeft(qint64 pendingBytes) const { return qMax<qint64>(m_pendingBytesLimit - pendingBytes, 1); }
    void waitForCompletions(qint64 pendingBytes, qint64 pendingSends);
    bool isWaitingForCompletions() const { return m_waiting; }
    /*! Completions came in (or the limits rose): sends may go on. Returns
        whether they had been waiting. */
    bool budgetFreed();

    /*!
        A completion range of \a sends sends came in; \a hi is its last kernel
        counter value. Returns the delay (ms) after which to call probe(), or
        0 when no back-off began.
    */
    int onCompletion(bool copied, quint32 sends, quint32 hi);
    /*! The back-off delay ran out; \a nextId is the counter value the next
        zero-copy send will take. */
    void probe(quint32 nextId);
    bool isProbing() const { return m_probing; }
    int currentBackOff() const { return m_currentBackOff; }

    /*! ENOBUFS met: the delay (ms) before retrying; doubles to a cap. */
    int noBuffersDelay();
    /*! A send went through: the next ENOBUFS starts with a short delay again. */
    void resetNoBuffersDelay() { m_noBuffersDelay = 1; }

    /*! Something the socket's reason includes changed (the backend). */
    void markChanged() { m_changed = true; }
    /*! Whether the state or reason changed since the last call. */
    bool takeChange() { return std::exchange(m_changed, false); }

private:
    void set(State state, const QString &reason);
    QString activeReason() const;

    Mode m_mode = Mode::Auto;
    State m_state = State::Unsupported;
    QString m_reason = QStringLiteral("not connected");
    bool m_supported = false;
    bool m_changed = false;
    qint64 m_threshold = 16 * 1024;
    int m_copiedBackOffCount = 3;
    int m_backOffInterval = 1000;
    qint64 m_pendingBytesLimit = 64 * 1024 * 1024;
    int m_pendingBuffersLimit = 20;
    bool m_userBytesLimit = false;
    bool m_userBuffersLimit = false;
    bool m_waiting = false;
    int m_consecutiveCopied = 0;
    bool m_probing = false;
    quint32 m_probeStartId = 0;
    int m_currentBackOff = 0;
    int m_noBuffersDelay = 1;
};

} // namespace Blight
