// SPDX-License-Identifier: MIT
// Helpers shared by the blight-transport subcommands.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QJsonObject>
#include <QtCore/QString>

#include <optional>

class QCommandLineOption;
class QCommandLineParser;

namespace Blight::Cli {

/*! One exit status convention for every subcommand. */
enum ExitCode : int {
    ExitOk = 0,      //!< the command did what was asked
    ExitFailure = 1, //!< it ran and failed (connection, peer, timeout, files)
    ExitUsage = 2,   //!< bad command line: nothing was done
};

/*! The sentence every --help ends with. */
QString exitStatusHelp();
/*! "blight-transport 0.1.0". */
QString versionText();

/*! Payload byte i of message k is (k + i) % 251, so any peer can check it. */
QByteArray patternPayload(quint64 k, qsizetype size);
/*! Writes the \a size bytes of patternPayload(k, size) to \a out, without a QByteArray. */
void writePattern(quint64 k, char *out, qsizetype size);
/*! Index of the first byte of \a bytes that differs from the pattern, or -1. */
qsizetype firstPatternMismatch(QByteArrayView bytes, quint64 k, qsizetype offset = 0);

QString sha256Hex(QByteArrayView bytes);
void printJsonLine(const QJsonObject &object);
void printError(const QString &message);

std::optional<BlightSocket::ZeroCopyMode> parseZeroCopyMode(const QString &text);
QString zeroCopyStateName(BlightSocket::ZeroCopyState state);
QString kindName(BlightSocket::SocketKind kind);

/*!
    Parses \a arguments (argv[0] being "blight-transport <command>") after
    adding -h/--help, --version and -v/--verbose. Prints the error (exit 2),
    the help or the version (exit 0) and returns false when the command must
    stop with \a exitCode. Otherwise sets the library's logging: its
    categories (oxide.blight.*) are off below critical unless -v is given.
*/
bool parseOrExit(QCommandLineParser &parser, const QStringList &arguments, int *exitCode);

/*! Applies the filter rules for the library's categories (see parseOrExit()). */
void setLibraryLogging(bool verbose);

/*!
    The value of \a option as a whole number in [\a minimum, \a maximum];
    prints "--name needs ..." and returns nullopt when it is not one.
*/
std::optional<qint64> integerOption(const QCommandLineParser &parser, const QCommandLineOption &option, qint64 minimum,
                                    qint64 maximum);

/*! A progress bar on stderr, drawn only when stderr is a terminal. */
class ProgressBar
{
public:
    explicit ProgressBar(QString label);
    void update(double fraction, const QString &detail);
    /*! Draws the last state (\a fraction, normally 1: the bar ends at 100 %) and ends the line. */
    void finish(double fraction, const QString &detail);

private:
    QString m_label;
    bool m_terminal;
};

} // namespace Blight::Cli
