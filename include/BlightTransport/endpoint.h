// Endpoint strings: unix:/path, tcp://host:port, tcp://[::1]:port,
// udp://host:port, fd:N, blight: and blight:session.
#pragma once

#include <BlightTransport/blighttransport_global.h>

#include <QtCore/QMetaType>
#include <QtCore/QString>

namespace Blight {

/*!
    \class Blight::Endpoint
    \brief A parsed endpoint string: where a BlightSocket connects or a BlightServer listens.

    The forms are \c unix:/path, \c tcp://host:port, \c tcp://[::1]:port,
    \c udp://host:port, \c fd:N (an inherited descriptor), and \c blight: or
    \c blight:session (the compositor, found on the system or session D-Bus).
*/
class BLIGHTTRANSPORT_EXPORT Endpoint
{
public:
    /*! The kind of endpoint; Invalid for text that did not parse. */
    enum class Scheme { Invalid, Unix, Tcp, Udp, Fd, Blight };

    Endpoint() = default;
    /*! Parses \a text; on failure the result is invalid and \a errorString says why. */
    static Endpoint parse(const QString &text, QString *errorString = nullptr);
    /*! The endpoint \c fd:N for the descriptor \a fd. */
    static Endpoint fromDescriptor(int fd);

    /*! False for a default-constructed endpoint or text that did not parse. */
    bool isValid() const { return m_scheme != Scheme::Invalid; }
    /*! The scheme of the endpoint. */
    Scheme scheme() const { return m_scheme; }
    /*! The scheme as it is written: "unix", "tcp", "udp", "fd" or "blight". */
    QString schemeName() const;
    /*! Socket path for unix: */
    QString path() const { return m_path; }
    /*! Host name or address for tcp:// and udp://, without brackets. */
    QString host() const { return m_host; }
    /*! Port for tcp:// and udp:// (0 lets a server pick one). */
    quint16 port() const { return m_port; }
    /*! The descriptor number for fd:, -1 otherwise. */
    int descriptor() const { return m_fd; }
    /*! For blight:, whether the session bus is meant rather than the system bus. */
    bool sessionBus() const { return m_sessionBus; }

    /*! The canonical text form, which parse() accepts. */
    QString toString() const;

    /*! Endpoints are equal when every part is. */
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
