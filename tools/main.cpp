// blight-transport: the command-line tool. Subcommands: demo (default),
// listen, send, serve-compositor, bench.
#include "commands.h"
#include "cliutil.h"

#include <QtCore/QCoreApplication>
#include <QtCore/QTextStream>

#include <csignal>

using namespace Blight::Cli;

static void printUsage()
{
    QTextStream(stdout) << QStringLiteral(
        "Usage: blight-transport [command] [options]\n"
        "\n"
        "Speaks Oxide's blight wire protocol over a socket, with MSG_ZEROCOPY where the\n"
        "kernel can do it. Commands (each has --help):\n"
        "  demo              Sender and receiver in one process over an AF_UNIX socket pair\n"
        "                    and TCP on loopback; checks every byte (the default command)\n"
        "  listen <endpoint> Accept one connection, print one JSON line per message\n"
        "  send <endpoint>   Send --count messages of --type; --wait-acks prints the replies\n"
        "  serve-compositor  A fake blight compositor on D-Bus, for trying things out\n"
        "  bench             Run the benchmark (blight-transport-bench)\n"
        "\n"
        "Options: -h, --help (also: help), --version, and for every command -v, --verbose\n"
        "(the library's log, categories oxide.blight.*).\n"
        "\n"
        "Endpoints: unix:/path, tcp://host:port, tcp://[::1]:port, udp://host:port, fd:N,\n"
        "           blight: (system bus), blight:session\n"
        "\n") << exitStatusHelp();
}

int main(int argc, char *argv[])
{
    // Peers that vanish must give EPIPE, never kill the tool.
    std::signal(SIGPIPE, SIG_IGN);
    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments.append(QString::fromLocal8Bit(argv[i]));
    QString command = QStringLiteral("demo");
    if (arguments.size() > 1 && !arguments.at(1).startsWith(u'-'))
        command = arguments.takeAt(1);
    else if (arguments.size() > 1 && (arguments.at(1) == u"--help" || arguments.at(1) == u"-h")) {
        printUsage();
        return ExitOk;
    } else if (arguments.size() > 1 && arguments.at(1) == u"--version") {
        QTextStream(stdout) << versionText() << '\n';
        return ExitOk;
    }
    arguments[0] = QStringLiteral("blight-transport ") + command;

    if (command == u"demo")
        return runDemo(arguments);
    if (command == u"bench")
        return runBench(arguments);
    if (command == u"help") {
        printUsage();
        return ExitOk;
    }
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("blight-transport"));
    if (command == u"listen")
        return runListen(arguments);
    if (command == u"send")
        return runSend(arguments);
    if (command == u"serve-compositor")
        return runServeCompositor(arguments);
    printError(QStringLiteral("unknown command '%1'").arg(command));
    printUsage();
    return ExitUsage;
}
