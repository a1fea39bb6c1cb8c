// SPDX-License-Identifier: MIT
// Child processes in tests: one that dies with the test, reading its output
// event driven, and a private dbus-daemon that touches none of the user's buses.
#pragma once

#include <QtCore/QProcess>
#include <QtCore/QProcessEnvironment>
#include <QtCore/QString>
#include <QtCore/QTemporaryDir>

namespace TestProcess {

/*! Kills \a process when the test process dies, so that nothing outlives a crashed test. */
void dieWithTest(QProcess &process);

/*! Reads one line of \a process's stdout, event driven, or an empty string. */
QString readLine(QProcess &process, int timeoutMs = 10000);

/*!
    A dbus-daemon of our own, on a socket in a temporary directory: nothing
    here touches the user's buses. start() returns false with a reason in
    errorString(); the test then skips when dbus-daemon is not installed.
*/
class PrivateBus
{
public:
    ~PrivateBus();
    bool start();
    bool isInstalled() const;
    QString address() const { return m_address; }
    QString errorString() const { return m_errorString; }
    /*! The system environment with DBUS_SESSION_BUS_ADDRESS set to this bus. */
    QProcessEnvironment environment() const;

private:
    QTemporaryDir m_dir;
    QProcess m_daemon;
    QString m_address;
    QString m_errorString;
};

} // namespace TestProcess
