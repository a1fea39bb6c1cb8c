// Endpoint strings: unix:/path, tcp://host:port, tcp://[::1]:port,
// udp://host:port, fd:N, blight: and blight:session.
#pragma once

#include <BlightTransport/blighttransport_global.h>

#include <QtCore/QMetaType>
#include <QtCore/QString>

namespace Blight {

class BLIGHTTRANSPORT_EXPORT Endpoint
{
public:
    enum class Scheme { Invalid, Unix, Tcp, Udp, Fd, Blight };

    Endpoint() = default;
    /*! Parses \a text; on failure the result is invalid and \a errorString says why. */
    static Endpoint parse(const QString &text, QString *errorString = nullptr);
    static Endpoint fromDescriptor(int fd);

    bool isValid() const { return m_scheme != Scheme::Invalid; }
    Scheme scheme() const { return m_scheme; }
    QString schemeName() const;
    /*! Socket path for unix: */
    QString path() const { return m_path; }
    /*! Host name or address for tcp:// and udp://, without brackets. */
    QString host() const { return m_host; }
    quint16 port() const { return m_port; }
    int descriptor() const { return m_fd; }
    /*! For blight:, whether the session bus is meant rather than the system bus. */
    bool sessionBus() const { return m_sessionBus; }

    /*! The canonical text form, which parse() accepts. */
    QString toString() const;

    friend bool operator==(const Endpoint &, const Endpoint &) = default;

private:
    Scheme m_scheme = Scheme::Invalid;
    QString m_path;
    QString m_host;
    quint16 m_port = 0;
    int m_fd = -1;
    bool m_sessionBus = false;
};

} // namespace Blight

Q_DECLARE_METATYPE(Blight::Endpoint)
