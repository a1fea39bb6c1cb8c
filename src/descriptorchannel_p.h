// SPDX-License-Identifier: MIT
// Pool descriptors between two TCP peers on one host (docs/shared-memory.md,
// "Over TCP on loopback"). TCP cannot carry SCM_RIGHTS, so each side that
// takes shared memory listens on an abstract AF_UNIX SOCK_SEQPACKET socket
// with a random name and tells the peer the name and a random token in its
// Channel message; the peer connects there, proves itself with the token and
// sends one record per pool descriptor, before the Pool message that needs
// it goes out on TCP. The receiver therefore never waits: when it reads a
// Pool on TCP, the descriptor is already queued on the channel (an AF_UNIX
// send is in the receiver's queue when it returns), and a channel that has
// none then is the peer's protocol error. No notifier, no timer: the TCP
// stream orders everything.
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
    /*! Listens at a new random name; \a address gets the name and token to
        announce. False with \a why when the socket could not be made. */
    bool listen(Address *address, QString *why);
    bool isListening() const { return m_listener.get() >= 0 || m_incoming.get() >= 0; }
    /*! The next descriptor the peer sent (the caller's now), or -1 with
        \a why. The first call accepts the peer's connection: connections
        that do not bring the token first are closed, whoever made them. */
    int receive(QString *why);

    // Giving descriptors.
    /*! Where the peer takes them (from its Channel message). */
    void setPeer(const Address &address);
    bool hasPeer() const { return m_hasPeer; }
    /*! Sends a duplicate of \a descriptor to the peer's channel, connecting
        first if needed. False with \a why if it did not go (the caller then
        announces no pool: the frame takes the copy path). */
    bool send(int descriptor, QString *why);

    /*! The abstract socket name (without the leading NUL) for \a name. */
    static QByteArray socketName(const char (&name)[Address::NameSize]);

private:
    bool acceptPeer(QString *why);

    OwnedFd m_listener;
    OwnedFd m_incoming;
    OwnedFd m_outgoing;
    Address m_own;
    Address m_peer;
    bool m_hasPeer = false;
    QString m_outgoingFailure; // set once: a channel that failed stays failed
};

} // namespace Blight
