// SPDX-License-Identifier: MIT
// SignalWatcher: SIGINT and SIGTERM handed to the event loop through a self-pipe.
#pragma once

#include <QtCore/QObject>

#include <csignal>

class QSocketNotifier;

namespace Blight::Cli {

/*!
    Catches SIGINT and SIGTERM while it exists and emits signalReceived()
    from the event loop. The handler only writes the signal number to a
    pipe (async-signal-safe); everything else happens in the slot, so a
    command can close its sockets and remove its files normally. One
    watcher at a time; the previous handlers come back on destruction.
*/
class SignalWatcher : public QObject
{
    Q_OBJECT

public:
    explicit SignalWatcher(QObject *parent = nullptr);
    ~SignalWatcher() override;

    /*! False when the pipe could not be made; errorString() says why. */
    bool isValid() const { return m_notifier != nullptr; }
    QString errorString() const { return m_errorString; }

Q_SIGNALS:
    void signalReceived(int signalNumber);

private:
    void readPipe();

    QSocketNotifier *m_notifier = nullptr;
    QString m_errorString;
    struct sigaction m_previousInt = {};
    struct sigaction m_previousTerm = {};
};

} // namespace Blight::Cli
