// blight-transport bench: runs the benchmark program installed beside this one.
#include "commands.h"
#include "cliutil.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QFileInfo>
#include <QtCore/QProcess>

#include <unistd.h>

namespace Blight::Cli {

int runBench(const QStringList &arguments)
{
    // Beside this executable in an install; in bench/ of a build tree.
    const QString self = QFileInfo(QStringLiteral("/proc/self/exe")).canonicalFilePath();
    const QString dir = QFileInfo(self).absolutePath();
    const QStringList candidates = {dir + QStringLiteral("/blight-transport-bench"),
                                    dir + QStringLiteral("/../bench/blight-transport-bench")};
    for (const QString &candidate : candidates) {
        if (!QFileInfo(candidate).isExecutable())
            continue;
        // argv[0] names the command as the user typed it: the benchmark's
        // usage line then reads "Usage: blight-transport bench [options]".
        QList<QByteArray> storage;
        storage.append("blight-transport bench");
        for (qsizetype i = 1; i < arguments.size(); ++i)
            storage.append(arguments.at(i).toLocal8Bit());
        QList<char *> argv;
        for (QByteArray &argument : storage)
            argv.append(argument.data());
        argv.append(nullptr);
        const QByteArray program = QFile::encodeName(candidate);
        ::execv(program.constData(), argv.data());
        printError(QStringLiteral("cannot run %1").arg(candidate));
        return ExitFailure;
    }
    printError(
        QStringLiteral("blight-transport-bench not found beside %1 (build with BLIGHT_BUILD_BENCH=ON)").arg(self));
    return ExitFailure;
}

} // namespace Blight::Cli
