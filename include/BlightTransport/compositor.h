// SPDX-License-Identifier: MIT
// Connecting to blight, Oxide's display server, through its D-Bus handshake.
#pragma once

#include <BlightTransport/blighttransport_global.h>

#include <QtCore/QLatin1StringView>
#include <QtCore/QString>

QT_BEGIN_NAMESPACE
class QObject;
QT_END_NAMESPACE

namespace Blight {

class BlightSocket;

/*!
    \file compositor.h
    \brief The D-Bus names of blight's compositor and the calls that connect to it.

    Oxide clients do not dial a socket path. They call \c open() on the
    compositor's D-Bus object and receive one end of an AF_UNIX socket pair
    whose other end the compositor keeps. The transport does exactly that for
    the endpoints \c blight: (system bus) and \c blight:session (session bus):

    \code
    auto *socket = Blight::connectToCompositor(Blight::Bus::System, this);
    connect(socket, &Blight::BlightSocket::connected, this, &MyService::onBlightConnected);
    connect(socket, &Blight::BlightSocket::errorOccurred, this, &MyService::onBlightError);
    \endcode

    The handshake is asynchronous: it never blocks the event loop. The bus
    addresses are the usual ones, so \c DBUS_SESSION_BUS_ADDRESS and
    \c DBUS_SYSTEM_BUS_ADDRESS choose another daemon (a private bus in tests).

    Errors, reported through BlightSocket::errorOccurred():
    - BlightSocket::Error::ServiceUnavailable: no compositor owns
      CompositorService on the bus, the owner does not implement
      CompositorInterface, or the compositor left the bus while the socket
      was connecting or connected;
    - BlightSocket::Error::ConnectError: the bus cannot be reached or cannot
      pass file descriptors, the compositor refused or did not answer
      \c open(), or its reply carried no descriptor.

    The socket's own errors (BlightSocket::Error::RemoteClosed and so on)
    still apply once it is connected: when blight exits, whichever the socket
    notices first, the hang-up or the name leaving the bus, ends it.
*/

/*! The well-known D-Bus name that blight owns. */
inline constexpr QLatin1StringView CompositorService{"codes.eeems.blight1"};
/*! The path of blight's compositor object. */
inline constexpr QLatin1StringView CompositorPath{"/"};
/*! The D-Bus interface of the compositor object. */
inline constexpr QLatin1StringView CompositorInterface{"codes.eeems.blight1.Compositor"};
/*!
    The method that hands out a connection: no arguments, returns a Unix file
    descriptor (D-Bus type \c h), one end of a
    \c socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK) whose other end the
    compositor keeps.
*/
inline constexpr QLatin1StringView CompositorOpenMethod{"open"};

/*! blight pings every connection this often (milliseconds)... */
inline constexpr int CompositorPingInterval = 1000;
/*! ...and reports a client that has not answered a ping for this long. */
inline constexpr int CompositorNotRespondingTimeout = 2 * CompositorPingInterval;

/*! The bus on which to look for the compositor. */
enum class Bus {
    System,  //!< where blight lives on the device; endpoint \c blight:
    Session, //!< the user's session bus; endpoint \c blight:session
};

/*! The endpoint text for \a bus: \c "blight:" or \c "blight:session". */
BLIGHTTRANSPORT_EXPORT QString compositorEndpoint(Bus bus);

/*!
    Creates a message-mode BlightSocket, a child of \a parent, and starts the
    handshake with the compositor on \a bus. The socket is returned in the
    Connecting state; BlightSocket::connected() or
    BlightSocket::errorOccurred() follows from the event loop, never from
    inside this call. The caller owns the socket (through \a parent or
    directly); destroying it while the handshake is in flight is safe.

    Equivalent to constructing a BlightSocket and calling
    BlightSocket::connectToEndpoint(compositorEndpoint(bus)).
*/
BLIGHTTRANSPORT_EXPORT BlightSocket *connectToCompositor(Bus bus = Bus::System, QObject *parent = nullptr);

} // namespace Blight
