// Temporary: serve-compositor until the fake compositor lands.
#include "commands.h"
#include "cliutil.h"

namespace Blight::Cli {
int runServeCompositor(const QStringList &)
{
    printError(QStringLiteral("serve-compositor is not built"));
    return 2;
}
} // namespace Blight::Cli
