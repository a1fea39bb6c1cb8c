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

} // namespace CliTest
