// SPDX-License-Identifier: MIT
// The demo's panel hooks for builds without the QML module.
#include "cliutil.h"
#include "demo.h"

#include <QtCore/QCoreApplication>

namespace Blight::Cli {

class DemoPanel
{ };

std::unique_ptr<QCoreApplication> createDemoApplication(int &argc, char **argv, bool gui, bool)
{
    if (gui) {
        printError(QStringLiteral("this build has no QML panel (configured with BLIGHT_BUILD_QML=OFF)"));
        return nullptr;
    }
    return std::make_unique<QCoreApplication>(argc, argv);
}

std::shared_ptr<DemoPanel> openDemoPanel(const QList<DemoLink *> &, bool)
{
    printError(QStringLiteral("this build has no QML panel (configured with BLIGHT_BUILD_QML=OFF)"));
    return nullptr;
}

bool saveDemoPanel(DemoPanel *, const QString &)
{
    return false;
}

} // namespace Blight::Cli
