// SPDX-License-Identifier: MIT
// Getting a unix: socket path ready to listen on.
#include "unixsocketpath.h"

#include <QtCore/QFile>
#include <QtCore/QFileInfo>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

namespace Blight::Cli {

namespace {

QString errnoText(int errorNumber)
{
    return QString::fromLocal8Bit(std::strerror(errorNumber));
}

// Whether a socket of this network namespace is bound to \a path, from
// /proc/net/unix (last column: the path as bound). Asking this way does not
// disturb a listener the way a probing connect() would: a listener that
// takes one connection would take the probe for its client.
bool boundInProcNetUnix(const QString &path)
{
    QFile table(QStringLiteral("/proc/net/unix"));
    if (!table.open(QIODevice::ReadOnly))
        return false;
    const QString absolute = QFileInfo(path).absoluteFilePath();
    table.readLine(); // the column names
    for (QByteArray line = table.readLine(); !line.isEmpty(); line = table.readLine()) {
        // Num RefCount Protocol Flags Type St Inode [Path]: the path is what
        // follows the seventh field, spaces and all.
        const QByteArray row = line.chopped(line.endsWith('\n') ? 1 : 0);
        qsizetype at = 0;
        for (int field = 0; field < 7 && at >= 0; ++field) {
            while (at < row.size() && row.at(at) == ' ')
                ++at;
            at = row.indexOf(' ', at);
        }
        if (at < 0)
            continue; // unbound
        const QString bound = QFile::decodeName(row.mid(at + 1));
        if (bound == path || bound == absolute)
            return true;
    }
    return false;
}

} // namespace

QString prepareUnixSocketPath(const QString &path, bool *removedStale)
{
    if (removedStale)
        *removedStale = false;
    const QByteArray name = QFile::encodeName(path);
    struct stat info = {};
    if (::lstat(name.constData(), &info) != 0) {
        if (errno == ENOENT)
            return {};
        return QStringLiteral("cannot look at %1: %2").arg(path, errnoText(errno));
    }
    if (S_ISREG(info.st_mode))
        return QStringLiteral("%1 is a regular file, not a socket: refusing to replace it").arg(path);
    if (S_ISDIR(info.st_mode))
        return QStringLiteral("%1 is a directory, not a socket").arg(path);
    if (!S_ISSOCK(info.st_mode))
        return QStringLiteral("%1 exists and is not a socket: refusing to replace it").arg(path);

    if (boundInProcNetUnix(path))
        return QStringLiteral("%1 is in use: another program is listening on it").arg(path);
    // Not in this namespace's table (or bound under a relative name): ask by
    // connecting, which disturbs nobody when the socket is stale.
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    if (name.size() >= qsizetype(sizeof(address.sun_path)))
        return QStringLiteral("socket path %1 is too long").arg(path);
    std::memcpy(address.sun_path, name.constData(), size_t(name.size()));
    // Non-blocking, so that a listener with a full backlog (EAGAIN) counts
    // as alive instead of blocking us.
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return QStringLiteral("cannot make a socket: %1").arg(errnoText(errno));
    const int result = ::connect(probe, reinterpret_cast<const sockaddr *>(&address), sizeof(address));
    const int connectErrno = errno;
    ::close(probe);
    if (result == 0 || connectErrno == EAGAIN || connectErrno == EINPROGRESS || connectErrno == EPROTOTYPE)
        return QStringLiteral("%1 is in use: another program is listening on it").arg(path);
    if (connectErrno != ECONNREFUSED)
        return QStringLiteral("cannot check whether %1 is in use: %2").arg(path, errnoText(connectErrno));
    // Nobody listens: a stale socket file. Replace it.
    if (::unlink(name.constData()) != 0 && errno != ENOENT)
        return QStringLiteral("cannot remove the stale socket %1: %2").arg(path, errnoText(errno));
    if (removedStale)
        *removedStale = true;
    return {};
}

} // namespace Blight::Cli
