// SPDX-License-Identifier: MIT
// Socket utilities without I/O (see socketutil_p.h).
#include "socketutil_p.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sys/socket.h>

namespace Blight::SocketUtil {

Kind kindOf(int domain, int type)
{
    switch (domain) {
    case AF_UNIX:
        return type == SOCK_STREAM ? Kind::UnixStream : type == SOCK_SEQPACKET ? Kind::UnixSeqPacket : Kind::None;
    case AF_INET:
        return type == SOCK_STREAM ? Kind::Tcp4 : type == SOCK_DGRAM ? Kind::Udp4 : Kind::None;
    case AF_INET6:
        return type == SOCK_STREAM ? Kind::Tcp6 : type == SOCK_DGRAM ? Kind::Udp6 : Kind::None;
    default:
        return Kind::None;
    }
}

QString errnoText(int errorNumber)
{
    return QString::fromLocal8Bit(std::strerror(errorNumber));
}

qint64 monotonicNs()
{
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return qint64(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

ErrnoMeaning meaningOf(int errorNumber)
{
    switch (errorNumber) {
    case EPIPE:
        return {BlightSocket::Error::BrokenPipe, QStringLiteral("peer is gone (broken pipe)")};
    case ECONNRESET:
        return {BlightSocket::Error::ConnectionReset, QStringLiteral("connection reset by peer")};
    case ECONNREFUSED:
        return {BlightSocket::Error::ConnectionRefused, QStringLiteral("connection refused")};
    default:
        return {BlightSocket::Error::NetworkError, errnoText(errorNumber)};
    }
}

bool isDatagramError(int errorNumber)
{
    switch (errorNumber) {
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
    case EPROTO:
    case ENONET:
    case EACCES:
    case EPERM:
    case EMSGSIZE:
        return true;
    default:
        return false;
    }
}

bool hasEffectiveCapability(QByteArrayView status, int bit)
{
    constexpr QByteArrayView Key("CapEff:");
    qsizetype at = 0;
    while (at < status.size()) {
        qsizetype end = status.indexOf('\n', at);
        if (end < 0)
            end = status.size();
        const QByteArrayView line = status.sliced(at, end - at);
        if (line.startsWith(Key)) {
            bool ok = false;
            const quint64 caps = line.sliced(Key.size()).trimmed().toULongLong(&ok, 16);
            return ok && bit >= 0 && bit < 64 && (caps & (quint64(1) << bit));
        }
        at = end + 1;
    }
    return false;
}

qint64 parseProcInteger(QByteArrayView text, qint64 fallback)
{
    bool ok = false;
    const qint64 value = text.trimmed().toLongLong(&ok);
    return ok && value > 0 ? value : fallback;
}

qint64 pendingBytesLimitFor(qint64 memlock, bool ipcLock)
{
    constexpr qint64 Privileged = 64 * 1024 * 1024;
    if (memlock < 0 || ipcLock)
        return Privileged;
    // The kernel charges each send's pages plus two; keep a quarter in reserve
    // for that overhead and for other users of locked memory.
    return qMax<qint64>(64 * 1024, memlock / 4 * 3);
}

int pendingBuffersLimitFor(qint64 optmem)
{
    // Each outstanding notification holds an skb (about 0.5-1 KiB) charged to
    // optmem until it is read.
    return int(qBound(qint64(1), optmem / 1024, qint64(4096)));
}

bool isRawData(const QByteArray &bytes)
{
    return !bytes.isEmpty() && const_cast<QByteArray &>(bytes).data_ptr().d_ptr() == nullptr;
}

} // namespace Blight::SocketUtil
