// SPDX-License-Identifier: MIT
// The real system calls behind the seam, and the switch tests use to replace them.
#include "syscalls_p.h"

#include <atomic>

namespace Blight::Sys {

namespace {

const Api RealApi{
    [](int fd, const msghdr *message, int flags) { return ::sendmsg(fd, message, flags); },
    [](int fd, msghdr *message, int flags) { return ::recvmsg(fd, message, flags); },
    [](int fd, int level, int name, void *value, socklen_t *length) {
        return ::getsockopt(fd, level, name, value, length);
    },
    [](int fd, int level, int name, const void *value, socklen_t length) {
        return ::setsockopt(fd, level, name, value, length);
    },
};

std::atomic<const Api *> current{&RealApi};

} // namespace

const Api &api()
{
    return *current.load(std::memory_order_acquire);
}

const Api &realApi()
{
    return RealApi;
}

void setApi(const Api *table)
{
    current.store(table ? table : &RealApi, std::memory_order_release);
}

} // namespace Blight::Sys
