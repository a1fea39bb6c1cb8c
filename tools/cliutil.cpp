// Helpers shared by the blight-transport subcommands.
#include "cliutil.h"

#include <QtCore/QCommandLineParser>
#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonDocument>
#include <QtCore/QTextStream>

#include <cstdio>
#include <unistd.h>

namespace Blight::Cli {

QByteArray patternPayload(quint64 k, qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    char *out = bytes.data();
    quint32 value = quint32(k % 251);
    for (qsizetype i = 0; i < size; ++i) {
        out[i] = char(value);
        if (++value == 251)
            value = 0;
    }
    return bytes;
}

qsizetype firstPatternMismatch(QByteArrayView bytes, quint64 k, qsizetype offset)
{
    quint32 value = quint32((k + quint64(offset)) % 251);
    const auto *in = reinterpret_cast<const uchar *>(bytes.data());
    for (qsizetype i = 0; i < bytes.size(); ++i) {
        if (in[i] != value)
            return i;
        if (++value == 251)
            value = 0;
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

bool parseOrExit(QCommandLineParser &parser, const QStringList &arguments, int *exitCode)
{
    const QCommandLineOption help(QStringList{QStringLiteral("h"), QStringLiteral("help")},
                                  QStringLiteral("Show this help."));
    parser.addOption(help);
    if (!parser.parse(arguments)) {
        printError(parser.errorText());
        *exitCode = 2;
        return false;
    }
    if (parser.isSet(help)) {
        QTextStream(stdout) << parser.helpText();
        *exitCode = 0;
        return false;
    }
    return true;
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
    const int filled = qBound(0, int(fraction * Width + 0.5), Width);
    const QString bar = QString(filled, u'#') + QString(Width - filled, u'.');
    const QByteArray line = QStringLiteral("\r%1 [%2] %3% %4\x1b[K")
                                .arg(m_label, bar)
                                .arg(int(fraction * 100), 3)
                                .arg(detail)
                                .toLocal8Bit();
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
    m_drawn = true;
}

void ProgressBar::finish()
{
    if (m_drawn)
        std::fputs("\n", stderr);
    m_drawn = false;
}

} // namespace Blight::Cli
