// SPDX-License-Identifier: MIT
// Helpers shared by the blight-transport subcommands.
#include "cliutil.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonDocument>
#include <QtCore/QLoggingCategory>
#include <QtCore/QTextStream>

#include <array>
#include <cstdio>
#include <cstring>
#include <limits>
#include <unistd.h>

namespace Blight::Cli {

namespace {

// The pattern repeats every 251 bytes: any run of it is a slice of this
// table, so generating and checking are memcpy/memcmp, not a loop per byte.
constexpr qsizetype PatternPeriod = 251;
constexpr qsizetype PatternChunk = 4096;

const char *patternTable()
{
    static const auto table = [] {
        std::array<char, PatternPeriod + PatternChunk> bytes{};
        for (qsizetype i = 0; i < qsizetype(bytes.size()); ++i)
            bytes[size_t(i)] = char(i % PatternPeriod);
        return bytes;
    }();
    return table.data();
}

} // namespace

void writePattern(quint64 k, char *out, qsizetype size)
{
    const char *table = patternTable();
    qsizetype value = qsizetype(k % PatternPeriod);
    for (qsizetype at = 0; at < size;) {
        const qsizetype take = qMin(PatternChunk, size - at);
        std::memcpy(out + at, table + value, size_t(take));
        at += take;
        value = (value + take) % PatternPeriod;
    }
}

QByteArray patternPayload(quint64 k, qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    writePattern(k, bytes.data(), size);
    return bytes;
}

qsizetype firstPatternMismatch(QByteArrayView bytes, quint64 k, qsizetype offset)
{
    const char *table = patternTable();
    qsizetype value = qsizetype((k + quint64(offset)) % PatternPeriod);
    for (qsizetype at = 0; at < bytes.size();) {
        const qsizetype take = qMin(PatternChunk, bytes.size() - at);
        if (std::memcmp(bytes.data() + at, table + value, size_t(take)) != 0) {
            for (qsizetype i = 0; i < take; ++i) {
                if (bytes.data()[at + i] != table[value + i])
                    return at + i;
            }
        }
        at += take;
        value = (value + take) % PatternPeriod;
    }
    return -1;
}

QString sha256Hex(QByteArrayView bytes)
{
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

void printJsonLine(const QJsonObject &object)
{
    const QByteArray line = QJsonDocument(object).toJson(QJsonDocument::Compact) + '\n';
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fflush(stdout);
}

void printError(const QString &message)
{
    const QByteArray line = "blight-transport: " + message.toLocal8Bit() + '\n';
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
}

std::optional<BlightSocket::ZeroCopyMode> parseZeroCopyMode(const QString &text)
{
    if (text == u"auto")
        return BlightSocket::ZeroCopyMode::Auto;
    if (text == u"on")
        return BlightSocket::ZeroCopyMode::On;
    if (text == u"off")
        return BlightSocket::ZeroCopyMode::Off;
    return std::nullopt;
}

QString zeroCopyStateName(BlightSocket::ZeroCopyState state)
{
    switch (state) {
    case BlightSocket::ZeroCopyState::Unsupported:
        return QStringLiteral("unsupported");
    case BlightSocket::ZeroCopyState::Disabled:
        return QStringLiteral("disabled");
    case BlightSocket::ZeroCopyState::Active:
        return QStringLiteral("active");
    case BlightSocket::ZeroCopyState::BackedOff:
        return QStringLiteral("backed-off");
    case BlightSocket::ZeroCopyState::Budget:
        return QStringLiteral("budget");
    case BlightSocket::ZeroCopyState::SharedMemory:
        return QStringLiteral("shared-memory");
    }
    return {};
}

QString kindName(BlightSocket::SocketKind kind)
{
    switch (kind) {
    case BlightSocket::SocketKind::None:
        return QStringLiteral("none");
    case BlightSocket::SocketKind::UnixStream:
        return QStringLiteral("unix-stream");
    case BlightSocket::SocketKind::UnixSeqPacket:
        return QStringLiteral("unix-seqpacket");
    case BlightSocket::SocketKind::Tcp4:
        return QStringLiteral("tcp4");
    case BlightSocket::SocketKind::Tcp6:
        return QStringLiteral("tcp6");
    case BlightSocket::SocketKind::Udp4:
        return QStringLiteral("udp4");
    case BlightSocket::SocketKind::Udp6:
        return QStringLiteral("udp6");
    }
    return {};
}

QString exitStatusHelp()
{
    return QStringLiteral("Exit status: 0 ok, 1 runtime failure (connection, peer, timeout, files), "
                          "2 bad usage (nothing was done).\n");
}

QString versionText()
{
    return QStringLiteral("blight-transport %1").arg(QStringLiteral(BLIGHT_TRANSPORT_VERSION));
}

void setLibraryLogging(bool verbose)
{
    // The CLI prints every reason itself, once; the library's log repeats
    // them, so it is for -v only. QT_LOGGING_RULES still overrides this.
    QLoggingCategory::setFilterRules(verbose ? QStringLiteral("oxide.blight.*=true")
                                             : QStringLiteral("oxide.blight.*.debug=false\n"
                                                              "oxide.blight.*.info=false\n"
                                                              "oxide.blight.*.warning=false"));
}

bool parseOrExit(QCommandLineParser &parser, const QStringList &arguments, int *exitCode)
{
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    const QCommandLineOption version(QStringLiteral("version"), QStringLiteral("Show the version."));
    const QCommandLineOption verbose(QStringList{QStringLiteral("v"), QStringLiteral("verbose")},
                                     QStringLiteral("Show the library's log (categories oxide.blight.*)."));
    parser.addOptions({help, version, verbose});
    if (!parser.parse(arguments)) {
        printError(parser.errorText());
        *exitCode = ExitUsage;
        return false;
    }
    if (parser.isSet(help)) {
        // Qt names the program by argv[0] of the process (or
        // "<executable_name>"); the usage line names the subcommand.
        QString text = parser.helpText();
        const qsizetype options = text.indexOf(QLatin1String(" [options]"));
        if (text.startsWith(QLatin1String("Usage: ")) && options > 0)
            text.replace(7, options - 7, arguments.constFirst());
        QTextStream(stdout) << text << '\n' << exitStatusHelp();
        *exitCode = ExitOk;
        return false;
    }
    if (parser.isSet(version)) {
        QTextStream(stdout) << versionText() << '\n';
        *exitCode = ExitOk;
        return false;
    }
    setLibraryLogging(parser.isSet(verbose));
    return true;
}

std::optional<qint64> integerOption(const QCommandLineParser &parser, const QCommandLineOption &option, qint64 minimum,
                                    qint64 maximum)
{
    bool ok = false;
    const qint64 value = parser.value(option).toLongLong(&ok);
    if (ok && value >= minimum && value <= maximum)
        return value;
    const QString name = QStringLiteral("--") + option.names().constLast();
    if (maximum == std::numeric_limits<qint64>::max())
        printError(QStringLiteral("%1 needs a whole number of at least %2, not '%3'")
                       .arg(name)
                       .arg(minimum)
                       .arg(parser.value(option)));
    else
        printError(QStringLiteral("%1 needs a whole number from %2 to %3, not '%4'")
                       .arg(name)
                       .arg(minimum)
                       .arg(maximum)
                       .arg(parser.value(option)));
    return std::nullopt;
}

ProgressBar::ProgressBar(QString label)
    : m_label(std::move(label))
    , m_terminal(::isatty(STDERR_FILENO) == 1)
{
}

void ProgressBar::update(double fraction, const QString &detail)
{
    if (!m_terminal)
        return;
    constexpr int Width = 30;
    fraction = qBound(0.0, fraction, 1.0);
    const int filled = qBound(0, int(fraction * Width + 0.5), Width);
    const QString bar = QString(filled, u'#') + QString(Width - filled, u'.');
    // Truncated, so that 100 % means done.
    const QByteArray line = QStringLiteral("\r%1 [%2] %3% %4\x1b[K")
                                .arg(m_label, bar)
                                .arg(int(fraction * 100), 3)
                                .arg(detail)
                                .toLocal8Bit();
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
}

void ProgressBar::finish(double fraction, const QString &detail)
{
    if (!m_terminal)
        return;
    update(fraction, detail);
    std::fputs("\n", stderr);
}

} // namespace Blight::Cli
