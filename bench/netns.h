// SPDX-License-Identifier: MIT
// Two private network namespaces joined by a veth pair (MTU 65535): the
// sender's end has an address and a static neighbour entry, the peer's end is
// up with no address and no listener, so it drops every datagram without a
// copy and without an ICMP answer. Nothing on the host's own network changes.
#pragma once

#include <QtCore/QString>
#include <QtCore/QStringList>

#include <optional>

namespace Bench {

class VethNamespaces
{
public:
    VethNamespaces();
    ~VethNamespaces();
    VethNamespaces(const VethNamespaces &) = delete;
    VethNamespaces &operator=(const VethNamespaces &) = delete;

    /*! Creates the namespaces; returns why it cannot (not root, no `ip`,
        a failed command), or an empty string. Idempotent. */
    QString setUp();
    /*! Deletes both namespaces, which destroys the veth pair. */
    void tearDown();
    bool isUp() const { return m_up; }

    /*! A UDP socket created in the sender's namespace, connected to the peer. */
    int openUdpSocket(QString *error);
    /*! Packets the sender's veth end has transmitted so far. */
    std::optional<quint64> senderTxPackets(QString *error);
    QString describe() const;

private:
    QString runIp(const QStringList &arguments, QByteArray *output = nullptr);

    QString m_senderNs;
    QString m_peerNs;
    QString m_senderDev;
    QString m_peerDev;
    bool m_up = false;
};

} // namespace Bench
