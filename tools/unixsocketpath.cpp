// SPDX-License-Identifier: MIT
// Getting a unix: socket path ready to listen on.
#include "unixsocketpath.h"

#include <QtCore/QFile>

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
