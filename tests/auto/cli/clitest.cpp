// SPDX-License-Identifier: MIT
// Helpers for the blight-transport command-line tests.
#include "clitest.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QStandardPaths>

#include <csignal>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

namespace CliTest {

QString tool()
{
    return QStringLiteral(BLIGHT_TRANSPORT_CLI);
}

Result run(const QStringList &arguments, int timeoutMs)
{
    QProcess process;
    dieWithTest(process);
    process.start(tool(), arguments);
    Result result;
    result.finished = process.waitForFinished(timeoutMs);
    if (!result.finished) {
        process.kill();
        process.waitForFinished();
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

QList<QJsonObject> jsonLines(const QByteArray &output)
{
    QList<QJsonObject> lines;
    for (const QByteArray &line : output.split('\n')) {
        if (line.trimmed().isEmpty())
            continue;
        QJsonParseError error;
        const QJsonDocument document = QJsonDocument::fromJson(line, &error);
        if (error.error == QJsonParseError::NoError && document.isObject())
            lines.append(document.object());
    }
    return lines;
}

std::pair<int, int> inheritablePair()
{
    int fds[2] = {-1, -1};
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
        return {-1, -1};
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC); // the test's end stays here
    return {fds[0], fds[1]};
}

void dieWithTest(QProcess &process)
{
    process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
}

QString readLine(QProcess &process, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    while (!process.canReadLine()) {
        if (process.state() != QProcess::Running || !process.waitForReadyRead(int(deadline.remainingTime())))
            return process.canReadLine() ? QString::fromUtf8(process.readLine()).trimmed() : QString();
    }
    return QString::fromUtf8(process.readLine()).trimmed();
}

bool waitForStderr(QProcess &process, const QString &text, QString *seen, int timeoutMs)
{
    QDeadlineTimer deadline(timeoutMs);
    // waitForReadyRead() wakes for the current read channel only.
    const QProcess::ProcessChannel channel = process.readChannel();
    process.setReadChannel(QProcess::StandardError);
    bool found = false;
    for (;;) {
        *seen += QString::fromLocal8Bit(process.readAllStandardError());
        found = seen->contains(text);
        if (found || deadline.hasExpired() || process.state() != QProcess::Running)
            break;
        process.waitForReadyRead(int(deadline.remainingTime()));
    }
    process.setReadChannel(channel);
    return found;
}

PrivateBus::~PrivateBus()
{
    if (m_daemon.state() != QProcess::NotRunning) {
        m_daemon.terminate();
        if (!m_daemon.waitForFinished(5000))
            m_daemon.kill();
        m_daemon.waitForFinished(5000);
    }
}

bool PrivateBus::isInstalled() const
{
    return !QStandardPaths::findExecutable(QStringLiteral("dbus-daemon")).isEmpty();
}

bool PrivateBus::start()
{
    const QString daemon = QStandardPaths::findExecutable(QStringLiteral("dbus-daemon"));
    if (daemon.isEmpty()) {
        m_errorString = QStringLiteral("dbus-daemon is not installed (Debian package dbus-daemon)");
        return false;
    }
    if (!m_dir.isValid()) {
        m_errorString = m_dir.errorString();
        return false;
    }
    QFile config(m_dir.filePath(QStringLiteral("bus.conf")));
    if (!config.open(QIODevice::WriteOnly)) {
        m_errorString = config.errorString();
        return false;
    }
    config.write(QStringLiteral("<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                                " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                                "<busconfig>\n"
                                "  <type>session</type>\n"
                                "  <listen>unix:dir=%1</listen>\n"
                                "  <auth>EXTERNAL</auth>\n"
                                "  <policy context=\"default\">\n"
                                "    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
                                "    <allow eavesdrop=\"true\"/>\n"
                                "    <allow own=\"*\"/>\n"
                                "  </policy>\n"
                                "</busconfig>\n")
                     .arg(m_dir.path())
                     .toUtf8());
    config.close();
    m_daemon.setProgram(daemon);
    dieWithTest(m_daemon);
    m_daemon.setArguments({QStringLiteral("--nofork"), QStringLiteral("--print-address"),
                           QStringLiteral("--config-file=") + config.fileName()});
    m_daemon.setReadChannel(QProcess::StandardOutput);
    m_daemon.start();
    if (!m_daemon.waitForStarted()) {
        m_errorString = m_daemon.errorString();
        return false;
    }
    m_address = readLine(m_daemon);
    if (m_address.isEmpty()) {
        m_errorString = QStringLiteral("dbus-daemon printed no address: ")
            + QString::fromLocal8Bit(m_daemon.readAllStandardError());
        return false;
    }
    return true;
}

QProcessEnvironment PrivateBus::environment() const
{
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("DBUS_SESSION_BUS_ADDRESS"), m_address);
    return environment;
}

} // namespace CliTest
