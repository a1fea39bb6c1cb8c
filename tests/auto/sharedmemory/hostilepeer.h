// SPDX-License-Identifier: MIT
// A hostile shared-memory peer for tst_sharedmemoryhostile: the messages of
// docs/shared-memory.md written byte by byte (not with the library's
// encoder), descriptors sent with SCM_RIGHTS, and memfds of every kind.
#pragma once

#include <QtCore/QByteArray>
#include <QtCore/QList>

namespace HostilePeer {

QByteArray header(qint32 type, quint32 ackid, quint32 size);
/*! A shared-memory message: Ack, ackid 0, the preamble, then \a body. */
QByteArray message(quint32 kind, const QByteArray &body, quint32 version = 1);
QByteArray offer(quint64 mapLimit = 64 * 1024 * 1024);
QByteArray pool(quint32 number, quint64 size);
QByteArray frame(quint32 pool, quint32 token, quint64 offset, quint64 length, qint32 type = 1, quint32 ackid = 0);
QByteArray release(const QList<quint32> &tokens);
/*! Over TCP: the peer's descriptor channel, 16 bytes of name and of token,
    then its endpoint and its peer's (20 bytes each, see endpoints()). */
QByteArray channel(const QByteArray &name, const QByteArray &token, const QByteArray &local = {},
                   const QByteArray &peer = {});
/*! The local and the peer endpoint of the TCP socket \a fd as a Channel
    message and a channel proof write them (family, port, address). */
QByteArray localEndpoint(int fd);
QByteArray peerEndpoint(int fd);

/*! Writes \a bytes with \a descriptors attached to their first byte. */
bool send(int socket, const QByteArray &bytes, const QList<int> &descriptors = {});

/*! A memfd of \a size bytes with \a seals (F_SEAL_* bits) added; -1 on failure. */
int memfd(qint64 size, int seals);
/*! The memfd seals the transport requires. */
int requiredSeals();

} // namespace HostilePeer
