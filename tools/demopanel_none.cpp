// The demo's panel hooks for builds without the QML module.
#include "cliutil.h"
#include "demo.h"

#include <QtCore/QCoreApplication>

namespace Blight::Cli {

std::unique_ptr<QCoreApplication> createDemoApplication(int &argc, char **argv, bool gui)
{
    if (gui) {
        printError(QStringLiteral("this build has no QML panel (configured with BLIGHT_BUILD_QML=OFF)"));
        return nullptr;
    }
    return std::make_unique<QCoreApplication>(argc, argv);
}

int runDemoPanel(const QList<DemoLink *> &, const QString &)
{
    printError(QStringLiteral("this build has no QML panel (configured with BLIGHT_BUILD_QML=OFF)"));
    return 2;
}

} // namespace Blight::Cli
