// SPDX-License-Identifier: MIT
// The zero-copy policy (see the state diagram in zerocopypolicy_p.h).
#include "zerocopypolicy_p.h"

#include <cstring>

namespace Blight {

void ZeroCopyPolicy::set(State state, const QString &reason)
{
    if (m_state == state && m_reason == reason)
        return;
    m_state = state;
    m_reason = reason;
    m_changed = true;
}

QString ZeroCopyPolicy::activeReason() const
{
    return QStringLiteral("payloads of %1 bytes or more go zero-copy").arg(m_threshold);
}

void ZeroCopyPolicy::detect(bool inet, int soZeroCopyError)
{
    restart();
    m_supported = inet && soZeroCopyError == 0;
    if (!inet) {
        set(State::Unsupported,
            QStringLiteral("AF_UNIX socket: the kernel has no MSG_ZEROCOPY for it, "
                           "so every send takes the copy path"));
    } else if (soZeroCopyError != 0) {
        set(State::Unsupported,
            QStringLiteral("the kernel refused SO_ZEROCOPY (%1): copy path")
                .arg(QString::fromLocal8Bit(std::strerror(soZeroCopyError))));
    } else if (m_mode == Mode::Off) {
        set(State::Disabled, QStringLiteral("zero-copy switched off"));
    } else {
        set(State::Active, activeReason());
    }
    m_changed = true; // a new socket always reports its state
}

void ZeroCopyPolicy::restart()
{
    m_supported = false;
    m_waiting = false;
    m_consecutiveCopied = 0;
    m_probing = false;
    m_probeStartId = 0;
    m_currentBackOff = 0;
    m_noBuffersDelay = 1;
    set(State::Unsupported, QStringLiteral("not connected"));
}

void ZeroCopyPolicy::setMode(Mode mode)
{
    m_mode = mode;
    if (!m_supported)
        return;
    m_probing = false;
    m_consecutiveCopied = 0;
    m_currentBackOff = 0;
    if (mode == Mode::Off)
        set(State::Disabled, QStringLiteral("zero-copy switched off"));
    else
        set(State::Active, activeReason());
}

bool ZeroCopyPolicy::isActive() const
{
    if (!m_supported || m_mode == Mode::Off)
        return false;
    return m_mode == Mode::On || m_state == State::Active || m_state == State::Budget;
}

void ZeroCopyPolicy::setThreshold(qint64 bytes)
{
    m_threshold = qMax<qint64>(bytes, 1);
    if (m_state == State::Active && !m_probing)
        set(State::Active, activeReason());
}

void ZeroCopyPolicy::setPendingBytesLimit(qint64 bytes)
{
    m_pendingBytesLimit = qMax<qint64>(bytes, 1);
    m_userBytesLimit = true;
}

void ZeroCopyPolicy::setPendingBuffersLimit(int count)
{
    m_pendingBuffersLimit = qMax(count, 1);
    m_userBuffersLimit = true;
}

void ZeroCopyPolicy::setDefaultLimits(qint64 bytes, int count)
{
    if (!m_userBytesLimit)
        m_pendingBytesLimit = qMax<qint64>(bytes, 1);
    if (!m_userBuffersLimit)
        m_pendingBuffersLimit = qMax(count, 1);
}

void ZeroCopyPolicy::waitForCompletions(qint64 pendingBytes, qint64 pendingSends)
{
    m_waiting = true;
    if (m_state == State::Active)
        set(State::Budget,
            QStringLiteral("waiting for completions: %1 bytes in %2 sends pinned").arg(pendingBytes).arg(pendingSends));
}

bool ZeroCopyPolicy::budgetFreed()
{
    if (!std::exchange(m_waiting, false))
        return false;
    if (m_state == State::Budget)
        set(State::Active, activeReason());
    return true;
}

int ZeroCopyPolicy::onCompletion(bool copied, quint32 sends, quint32 hi)
{
    if (!copied) {
        m_consecutiveCopied = 0;
        if (m_probing) {
            m_probing = false;
            m_currentBackOff = 0;
            set(m_state, QStringLiteral("zero-copy works again after a probe"));
        } else if (m_mode == Mode::On && m_state == State::Active) {
            set(State::Active, activeReason()); // the kernel stopped copying
        }
        return 0;
    }
    // Saturating: a huge range must not wrap the count.
    m_consecutiveCopied = int(qMin<qint64>(qint64(m_consecutiveCopied) + qMax<quint32>(sends, 1), 1 << 20));
    // Completions of sends made before a probe say nothing about it.
    const bool countsForProbe = !m_probing || quint32(hi - m_probeStartId) < 0x80000000u;
    const bool active = m_state == State::Active || m_state == State::Budget;
    if (m_mode == Mode::Auto && countsForProbe && active
        && (m_probing || m_consecutiveCopied >= m_copiedBackOffCount)) {
        m_probing = false;
        m_currentBackOff = qMin(m_currentBackOff > 0 ? m_currentBackOff * 2 : m_backOffInterval, MaxBackOffMs);
        const QString what = m_consecutiveCopied == 1
            ? QStringLiteral("the kernel copied a zero-copy probe")
            : QStringLiteral("the kernel copied %1 zero-copy sends in a row").arg(m_consecutiveCopied);
        set(State::BackedOff,
            QStringLiteral("%1 (loopback or local delivery): copy path, next probe in %2 ms")
                .arg(what)
                .arg(m_currentBackOff));
        return m_currentBackOff;
    }
    if (m_mode == Mode::On && m_consecutiveCopied >= m_copiedBackOffCount) {
        set(m_state,
            QStringLiteral("forced on, but the kernel copies (delivery to a local "
                           "socket or loopback): zero-copy only adds cost here"));
    }
    return 0;
}

void ZeroCopyPolicy::probe(quint32 nextId)
{
    if (m_state != State::BackedOff)
        return;
    m_probing = true;
    m_probeStartId = nextId;
    m_consecutiveCopied = 0;
    set(State::Active, QStringLiteral("probing: trying zero-copy again after %1 ms of copies").arg(m_currentBackOff));
}

int ZeroCopyPolicy::noBuffersDelay()
{
    const int delay = m_noBuffersDelay;
    m_noBuffersDelay = qMin(m_noBuffersDelay * 2, MaxNoBuffersDelayMs);
    return delay;
}

} // namespace Blight
