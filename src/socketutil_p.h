// SPDX-License-Identifier: MIT
// Socket utilities without I/O: socket kinds, errno classification, the
// parsing of /proc and rlimit values into zero-copy budgets, datagram limits.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QByteArray>
#include <QtCore/QByteArrayView>
#include <QtCore/QString>

namespace Blight::SocketUtil {

using Kind = BlightSocket::SocketKind;

/*! The kind for a socket's SO_DOMAIN and SO_TYPE; Kind::None if unsupported. */
Kind kindOf(int domain, int type);
constexpr bool isTcp(Kind kind) { return kind == Kind::Tcp4 || kind == Kind::Tcp6; }
constexpr bool isUdp(Kind kind) { return kind == Kind::Udp4 || kind == Kind::Udp6; }
constexpr bool isInet(Kind kind) { return isTcp(kind) || isUdp(kind); }
constexpr bool isUnix(Kind kind) { return kind == Kind::UnixStream || kind == Kind::UnixSeqPacket; }
constexpr bool isDatagram(Kind kind) { return isUdp(kind) || kind == Kind::UnixSeqPacket; }

/*! The largest UDP payload (one datagram) for \a kind. */
constexpr qsizetype maxUdpDatagram(Kind kind) { return kind == Kind::Udp6 ? 65527 : 65507; }
/*! The largest record an AF_UNIX SOCK_SEQPACKET socket sends with the send
    buffer \a sndbuf (as SO_SNDBUF reports it): the kernel refuses records
    over sk_sndbuf - 32 with EMSGSIZE. */
constexpr qsizetype maxSeqPacketRecord(int sndbuf) { return qsizetype(sndbuf) > 32 ? qsizetype(sndbuf) - 32 : 0; }

QString errnoText(int errorNumber);

/*! CLOCK_MONOTONIC in nanoseconds, for release latencies. */
qint64 monotonicNs();

/*! What a failed send or receive means for the connection. */
struct ErrnoMeaning
{
    BlightSocket::Error error = BlightSocket::Error::NetworkError;
    QString what; //!< the reason in words
};
ErrnoMeaning meaningOf(int errorNumber);

/*!
    On a UDP socket, an error that concerns one datagram rather than the
    connection: an ICMP report for an earlier datagram (the kernel hands it to
    the next sendmsg) or a refusal of this one (no route, a filter). Such a
    send is tried once more and then refused alone; the socket lives on.
*/
bool isDatagramError(int errorNumber);

/*! Whether /proc/self/status text \a status grants capability bit \a bit in CapEff. */
bool hasEffectiveCapability(QByteArrayView status, int bit);
constexpr int CapIpcLock = 14;

/*! The integer in a /proc/sys file's text, or \a fallback if it holds none. */
qint64 parseProcInteger(QByteArrayView text, qint64 fallback);

/*! The pinned-bytes budget for RLIMIT_MEMLOCK \a memlock (bytes; negative
    for unlimited) when the process does or does not hold CAP_IPC_LOCK. */
qint64 pendingBytesLimitFor(qint64 memlock, bool ipcLock);
/*! The pending-sends budget for net.core.optmem_max \a optmem. */
int pendingBuffersLimitFor(qint64 optmem);

/*! Arrays from QByteArray::fromRawData() (and literals) do not own their
    bytes, which may change or vanish after the call. */
bool isRawData(const QByteArray &bytes);

} // namespace Blight::SocketUtil
