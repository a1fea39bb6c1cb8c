// SPDX-License-Identifier: MIT
// SignalWatcher: the self-pipe behind SIGINT and SIGTERM.
#include "signalwatcher.h"

#include <QtCore/QPointer>
#include <QtCore/QSocketNotifier>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace Blight::Cli {

namespace {

int g_pipe[2] = {-1, -1};

void onSignal(int signalNumber)
{
    // Only async-signal-safe calls here; errno belongs to the interrupted code.
    const int savedErrno = errno;
    const auto byte = char(signalNumber);
    [[maybe_unused]] const ssize_t written = ::write(g_pipe[1], &byte, 1);
    errno = savedErrno;
}

} // namespace

SignalWatcher::SignalWatcher(QObject *parent)
    : QObject(parent)
{
    Q_ASSERT(g_pipe[0] < 0); // one watcher at a time
    if (::pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC) != 0) {
        m_errorString
            = QStringLiteral("cannot make a pipe for signals: %1").arg(QString::fromLocal8Bit(std::strerror(errno)));
        g_pipe[0] = g_pipe[1] = -1;
        return;
    }
    m_notifier = new QSocketNotifier(g_pipe[0], QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &SignalWatcher::readPipe);
    struct sigaction action = {};
    action.sa_handler = onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    ::sigaction(SIGINT, &action, &m_previousInt);
    ::sigaction(SIGTERM, &action, &m_previousTerm);
}

SignalWatcher::~SignalWatcher()
{
    if (!m_notifier)
        return;
    ::sigaction(SIGINT, &m_previousInt, nullptr);
    ::sigaction(SIGTERM, &m_previousTerm, nullptr);
    delete m_notifier;
    ::close(g_pipe[0]);
    ::close(g_pipe[1]);
    g_pipe[0] = g_pipe[1] = -1;
}

void SignalWatcher::readPipe()
{
    char bytes[16];
    const QPointer<SignalWatcher> self(this); // a slot may delete the watcher
    for (;;) {
        const ssize_t n = ::read(g_pipe[0], bytes, sizeof(bytes));
        if (n <= 0)
            return; // EAGAIN: drained
        for (ssize_t i = 0; i < n; ++i) {
            Q_EMIT signalReceived(int(bytes[i]));
            if (!self)
                return;
        }
    }
}

} // namespace Blight::Cli
