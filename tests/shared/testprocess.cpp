// SPDX-License-Identifier: MIT
// Child processes in tests (see testprocess.h).
#include "testprocess.h"

#include <QtCore/QDeadlineTimer>
#include <QtCore/QFile>
#include <QtCore/QStandardPaths>

#include <csignal>
#include <sys/prctl.h>

namespace TestProcess {

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

} // namespace TestProcess
