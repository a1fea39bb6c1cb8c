// SPDX-License-Identifier: MIT
// Pool descriptors between two TCP peers on one host (docs/shared-memory.md,
// "Over TCP on loopback"). TCP cannot carry SCM_RIGHTS, so each side that
// takes shared memory listens on an abstract AF_UNIX SOCK_SEQPACKET socket
// with a random name and tells the peer, in its Channel message, the name, a
// random token and the TCP connection as it sees it. The peer uses the
// channel only if that connection is its own one reversed (not a channel
// echoed back or passed on from another socket, nor one across a forward),
// connects, proves itself with the token and its own view of the
// connection, and sends one record per pool descriptor before the Pool
// message that needs it goes out on TCP. The receiver therefore never
// waits: when it reads a Pool on TCP the descriptor is already queued on the
// channel (an AF_UNIX send is in the receiver's queue when it returns), and
// a channel without it then is the peer's protocol error. No notifier, no
// timer: the TCP stream orders everything.
#pragma once

#include "sendqueue_p.h"
#include "sharedmemorywire_p.h"

#include <QtCore/QString>

namespace Blight {

class DescriptorChannel
{
public:
    using Address = SharedMemoryWire::ChannelAddress;

    DescriptorChannel() = default;
    Q_DISABLE_COPY_MOVE(DescriptorChannel)

    /*! Closes everything: a new connection starts from nothing. */
    void reset();

    // Taking descriptors.
    /*! Listens at a new random name for the TCP connection \a tcpFd;
        \a address gets what to announce. False with \a why when the socket
        could not be made. */
    bool listen(int tcpFd, Address *address, QString *why);
    /*! The next descriptor the peer sent (the caller's now), or -1 with
        \a why. The first call accepts the peer's connection: connections
        that do not prove themselves first (the token and this TCP
        connection seen from the other end) are closed, whoever made them. */
    int receive(QString *why);

    // Giving descriptors.
    /*! The peer's channel (from its Channel message) for the TCP connection
        \a tcpFd: connects to it when it names this connection. False, with
        failure() saying why, when it cannot be used; frames then take the
        copy path. */
    bool connectToPeer(const Address &address, int tcpFd);
    bool canSend() const { return m_outgoing.get() >= 0 && m_failure.isEmpty(); }
    QString failure() const { return m_failure; }
    /*! Sends a duplicate of \a descriptor to the peer. False with \a why if
        it did not go (the caller then announces no pool); canSend() turns
        false when it never will again. */
    bool send(int descriptor, QString *why);

    /*! The abstract socket name (without the leading NUL) for \a name. */
    static QByteArray socketName(const char (&name)[Address::NameSize]);
    /*! This end's and the peer's endpoint of the TCP connection \a tcpFd, in
        the Channel message's layout. */
    static bool tcpEndpoints(int tcpFd, char (&local)[Address::EndpointSize], char (&peer)[Address::EndpointSize]);
    /*! The first record a connector sends: the token, then its own and its
        peer's endpoint. */
    static constexpr int ProofSize = Address::TokenSize + 2 * Address::EndpointSize;

private:
    bool acceptPeer(QString *why);

    OwnedFd m_listener;
    OwnedFd m_incoming;
    OwnedFd m_outgoing;
    Address m_own;
    QString m_failure; // the outgoing side: set once, a channel that failed stays failed
};

} // namespace Blight
