// SPDX-License-Identifier: MIT
// Helpers for the blight-transport command-line tests: running the tool,
// reading its JSON lines, socket pairs a child inherits (and, from
// tests/shared/testprocess.h, child processes and a private D-Bus).
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QJsonObject>
#include <QtCore/QList>
#include <QtCore/QProcess>
#include <QtCore/QString>
#include <QtCore/QStringList>
#include "testprocess.h"

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

/*! Waits until \a process has written a line to stderr that contains \a text;
    everything read is appended to \a seen. */
bool waitForStderr(QProcess &process, const QString &text, QString *seen, int timeoutMs = 10000);

using TestProcess::dieWithTest;
using TestProcess::PrivateBus;
using TestProcess::readLine;

} // namespace CliTest
