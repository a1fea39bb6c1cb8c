// Helpers shared by the blight-transport subcommands.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QJsonObject>
#include <QtCore/QString>

class QCommandLineParser;

namespace Blight::Cli {

/*! Payload byte i of message k is (k + i) % 251, so any peer can check it. */
QByteArray patternPayload(quint64 k, qsizetype size);
/*! Index of the first byte of \a bytes that differs from the pattern, or -1. */
qsizetype firstPatternMismatch(QByteArrayView bytes, quint64 k, qsizetype offset = 0);

QString sha256Hex(QByteArrayView bytes);
void printJsonLine(const QJsonObject &object);
void printError(const QString &message);

std::optional<BlightSocket::ZeroCopyMode> parseZeroCopyMode(const QString &text);
QString zeroCopyStateName(BlightSocket::ZeroCopyState state);
QString kindName(BlightSocket::SocketKind kind);

/*! Parses \a arguments (argv[0] being the subcommand name); prints the error
    or help and returns false when the command must stop with \a exitCode. */
bool parseOrExit(QCommandLineParser &parser, const QStringList &arguments, int *exitCode);

/*! A progress bar on stderr, drawn only when stderr is a terminal. */
class ProgressBar
{
public:
    explicit ProgressBar(QString label);
    void update(double fraction, const QString &detail);
    void finish();

private:
    QString m_label;
    bool m_terminal;
    bool m_drawn = false;
};

} // namespace Blight::Cli
