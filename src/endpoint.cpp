// SPDX-License-Identifier: MIT
// Parsing and printing endpoint strings.
#include <BlightTransport/endpoint.h>

namespace Blight {

static Endpoint invalid(QString *errorString, const QString &why)
{
    if (errorString)
        *errorString = why;
    return Endpoint();
}

// QString::toInt() and toUInt() stop at a NUL and ignore the rest, so
// "fd:3\0junk" would pass as fd:3.
static bool hasNul(const QString &number)
{
    return number.contains(QChar(u'\0'));
}

Endpoint Endpoint::parse(const QString &text, QString *errorString)
{
    Endpoint endpoint;
    if (text.startsWith(u"unix:")) {
        endpoint.m_path = text.mid(5);
        if (endpoint.m_path.startsWith(u"//"))
            endpoint.m_path = endpoint.m_path.mid(2);
        if (endpoint.m_path.isEmpty())
            return invalid(errorString, QStringLiteral("unix: endpoint needs a path, as in unix:/run/blight.sock"));
        endpoint.m_scheme = Scheme::Unix;
        return endpoint;
    }
    if (text.startsWith(u"fd:")) {
        bool ok = false;
        const int fd = text.mid(3).toInt(&ok);
        if (!ok || fd < 0 || hasNul(text))
            return invalid(errorString, QStringLiteral("fd: endpoint needs a descriptor number, as in fd:3"));
        return fromDescriptor(fd);
    }
    if (text == u"blight:" || text == u"blight:system" || text == u"blight:session") {
        endpoint.m_scheme = Scheme::Blight;
        endpoint.m_sessionBus = text == u"blight:session";
        return endpoint;
    }
    const bool tcp = text.startsWith(u"tcp://");
    const bool udp = text.startsWith(u"udp://");
    if (!tcp && !udp) {
        return invalid(errorString,
                       QStringLiteral("unknown endpoint '%1': use unix:/path, tcp://host:port, "
                                      "udp://host:port, fd:N, blight: or blight:session")
                           .arg(text));
    }
    const QString rest = text.mid(6);
    QString host;
    QString portText;
    if (rest.startsWith(u'[')) {
        const qsizetype close = rest.indexOf(u']');
        if (close < 0 || rest.mid(close + 1, 1) != u":")
            return invalid(errorString, QStringLiteral("IPv6 endpoint must look like tcp://[::1]:port"));
        host = rest.mid(1, close - 1);
        portText = rest.mid(close + 2);
    } else {
        const qsizetype colon = rest.lastIndexOf(u':');
        if (colon < 0)
            return invalid(errorString, QStringLiteral("endpoint '%1' has no port").arg(text));
        host = rest.left(colon);
        portText = rest.mid(colon + 1);
        if (host.contains(u':'))
            return invalid(errorString, QStringLiteral("put an IPv6 address in brackets: tcp://[%1]:port").arg(host));
    }
    bool ok = false;
    const uint port = portText.toUInt(&ok);
    if (host.isEmpty())
        return invalid(errorString, QStringLiteral("endpoint '%1' has no host").arg(text));
    if (!ok || port > 65535 || hasNul(portText))
        return invalid(errorString, QStringLiteral("endpoint '%1' has no valid port").arg(text));
    endpoint.m_scheme = tcp ? Scheme::Tcp : Scheme::Udp;
    endpoint.m_host = host;
    endpoint.m_port = quint16(port);
    return endpoint;
}

Endpoint Endpoint::fromDescriptor(int fd)
{
    Endpoint endpoint;
    endpoint.m_scheme = Scheme::Fd;
    endpoint.m_fd = fd;
    return endpoint;
}

QString Endpoint::schemeName() const
{
    switch (m_scheme) {
    case Scheme::Invalid:
        return {};
    case Scheme::Unix:
        return QStringLiteral("unix");
    case Scheme::Tcp:
        return QStringLiteral("tcp");
    case Scheme::Udp:
        return QStringLiteral("udp");
    case Scheme::Fd:
        return QStringLiteral("fd");
    case Scheme::Blight:
        return QStringLiteral("blight");
    }
    return {};
}

QString Endpoint::toString() const
{
    switch (m_scheme) {
    case Scheme::Invalid:
        return {};
    case Scheme::Unix:
        // parse() drops a leading "//" after "unix:", so such paths keep theirs.
        return (m_path.startsWith(u"//") ? QStringLiteral("unix://") : QStringLiteral("unix:")) + m_path;
    case Scheme::Fd:
        return QStringLiteral("fd:%1").arg(m_fd);
    case Scheme::Blight:
        return m_sessionBus ? QStringLiteral("blight:session") : QStringLiteral("blight:");
    case Scheme::Tcp:
    case Scheme::Udp: {
        // parse() reads a leading '[' as the start of brackets.
        const bool bracket = m_host.contains(u':') || m_host.startsWith(u'[');
        const QString host = bracket ? u'[' + m_host + u']' : m_host;
        return schemeName() + QStringLiteral("://") + host + u':' + QString::number(m_port);
    }
    }
    return {};
}

} // namespace Blight
