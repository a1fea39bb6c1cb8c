// SPDX-License-Identifier: MIT
// Helpers for the blight-transport command-line tests: running the tool,
// reading its JSON lines, socket pairs a child inherits, a private D-Bus.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QProcess>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include <QtCore/QTemporaryDir>

#include <utility>

namespace CliTest {

/*! The blight-transport executable under test. */
QString tool();

struct Result
{
    bool finished = false;
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

/*! Runs the tool with \a arguments, waiting up to \a timeoutMs. */
Result run(const QStringList &arguments, int timeoutMs = 20000);

/*! Every line of \a output that is a JSON object. */
QList<QJsonObject> jsonLines(const QByteArray &output);

/*! A socket pair whose second end a child inherits (no CLOEXEC); {-1, -1} on failure. */
std::pair<int, int> inheritablePair();

/*! Kills \a process when the test process dies, so that nothing outlives a crashed test. */
void dieWithTest(QProcess &process);

/*! Reads one line of \a process's stdout, event driven, or an empty string. */
QString readLine(QProcess &process, int timeoutMs = 10000);

/*! Waits until \a process has written a line to stderr that contains \a text;
    everything read is appended to \a seen. */
bool waitForStderr(QProcess &process, const QString &text, QString *seen, int timeoutMs = 10000);

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

} // namespace CliTest
