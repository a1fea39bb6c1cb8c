// SPDX-License-Identifier: MIT
// The seam for the system calls whose results drive the socket's policy, so
// that tests can inject EAGAIN, ENOBUFS, EMSGSIZE, ECONNREFUSED, short writes
// and completions in any order without a network namespace.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>

namespace Blight::Sys {

/*! The calls the socket makes through the seam. Each entry behaves like the
    libc function of the same name (returns -1 and sets errno on failure). */
struct Api
{
    ssize_t (*sendmsg)(int fd, const msghdr *message, int flags);
    ssize_t (*recvmsg)(int fd, msghdr *message, int flags);
    int (*getsockopt)(int fd, int level, int name, void *value, socklen_t *length);
    int (*setsockopt)(int fd, int level, int name, const void *value, socklen_t length);
};

/*! The table in use: the real calls unless a test installed its own. */
const Api &api();
/*! The real calls, for a test table that forwards what it does not fake. */
const Api &realApi();
/*! Installs \a table process-wide (nullptr restores the real calls). The
    table must outlive its use; install it before creating sockets. */
void setApi(const Api *table);

inline ssize_t sendmsg(int fd, const msghdr *message, int flags) { return api().sendmsg(fd, message, flags); }
inline ssize_t recvmsg(int fd, msghdr *message, int flags) { return api().recvmsg(fd, message, flags); }
inline int getsockopt(int fd, int level, int name, void *value, socklen_t *length)
{
    return api().getsockopt(fd, level, name, value, length);
}
inline int setsockopt(int fd, int level, int name, const void *value, socklen_t length)
{
    return api().setsockopt(fd, level, name, value, length);
}

} // namespace Blight::Sys
