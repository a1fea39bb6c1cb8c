// SPDX-License-Identifier: MIT
// The subcommands of blight-transport; each parses its own options.
#pragma once

#include <QtCore/QStringList>

namespace Blight::Cli {

int runDemo(const QStringList &arguments);
int runListen(const QStringList &arguments);
int runSend(const QStringList &arguments);
int runServeCompositor(const QStringList &arguments); // compositor.cpp (tools)
int runBench(const QStringList &arguments);

} // namespace Blight::Cli
