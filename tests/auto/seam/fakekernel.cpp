// SPDX-License-Identifier: MIT
// The scripted kernel (see fakekernel.h).
#include "fakekernel.h"

#include "errorqueue_p.h"
#include "syscalls_p.h"

#include <cerrno>
#include <cstring>
#include <sys/uio.h>
#include <vector>

#ifndef MSG_ZEROCOPY
#  define MSG_ZEROCOPY 0x4000000
#endif

namespace FakeKernel {

namespace {

struct State
{
    int fd = -1;
    std::deque<Step> steps;
    std::deque<Range> errorQueue;
    qsizetype maxBytes = 0;
    quint32 nextId = 0;
    int sendCalls = 0;
    int zeroCopyPasses = 0;
};
State state;

ssize_t fakeSendmsg(int fd, const msghdr *message, int flags)
{
    if (fd != state.fd)
        return Blight::Sys::realApi().sendmsg(fd, message, flags);
    ++state.sendCalls;
    const bool zeroCopy = flags & MSG_ZEROCOPY;
    Step step;
    if (!state.steps.empty()) {
        step = state.steps.front();
        state.steps.pop_front();
    }
    switch (step.kind) {
    case Step::Kind::FailBeforeId:
        errno = step.errorNumber;
        return -1;
    case Step::Kind::FailAfterId:
        if (zeroCopy) {
            const quint32 id = state.nextId++;
            state.errorQueue.push_back(Range{id, id, false});
        }
        errno = step.errorNumber;
        return -1;
    case Step::Kind::Pass:
        break;
    }
    // A short write: offer the real call at most maxBytes.
    std::vector<iovec> iov(message->msg_iov, message->msg_iov + message->msg_iovlen);
    if (state.maxBytes > 0) {
        qsizetype left = state.maxBytes;
        size_t used = 0;
        for (; used < iov.size() && left > 0; ++used) {
            iov[used].iov_len = qMin<size_t>(iov[used].iov_len, size_t(left));
            left -= qsizetype(iov[used].iov_len);
        }
        iov.resize(used);
    }
    msghdr trimmed = *message;
    trimmed.msg_iov = iov.data();
    trimmed.msg_iovlen = iov.size();
    const ssize_t sent = Blight::Sys::realApi().sendmsg(fd, &trimmed, flags & ~MSG_ZEROCOPY);
    if (sent > 0 && zeroCopy) {
        ++state.nextId; // a call that queued at least one byte takes the next value
        ++state.zeroCopyPasses;
    }
    return sent;
}

ssize_t fakeRecvmsg(int fd, msghdr *message, int flags)
{
    if (fd != state.fd || !(flags & MSG_ERRQUEUE))
        return Blight::Sys::realApi().recvmsg(fd, message, flags);
    if (state.errorQueue.empty()) {
        errno = EAGAIN;
        return -1;
    }
    const Range range = state.errorQueue.front();
    state.errorQueue.pop_front();
    Blight::ErrorQueueEvent event;
    event.kind = Blight::ErrorQueueEvent::Kind::ZeroCopyRange;
    event.lo = range.lo;
    event.hi = range.hi;
    event.copied = range.copied;
    message->msg_controllen = size_t(Blight::ErrorQueue::buildControlMessage(
        static_cast<char *>(message->msg_control), qsizetype(message->msg_controllen), false, event));
    message->msg_flags = MSG_ERRQUEUE;
    return 0;
}

const Blight::Sys::Api FakeApi{
    fakeSendmsg,
    fakeRecvmsg,
    [](int fd, int level, int name, void *value, socklen_t *length) {
        return Blight::Sys::realApi().getsockopt(fd, level, name, value, length);
    },
    [](int fd, int level, int name, const void *value, socklen_t length) {
        return Blight::Sys::realApi().setsockopt(fd, level, name, value, length);
    },
};

} // namespace

void install(int fd)
{
    state = State();
    state.fd = fd;
    Blight::Sys::setApi(&FakeApi);
}

void uninstall()
{
    Blight::Sys::setApi(nullptr);
    state = State();
}

void script(std::initializer_list<Step> steps)
{
    state.steps.insert(state.steps.end(), steps.begin(), steps.end());
}

void setMaxBytesPerSend(qsizetype bytes)
{
    state.maxBytes = bytes;
}

void complete(quint32 lo, quint32 hi, bool copied)
{
    state.errorQueue.push_back(Range{lo, hi, copied});
}

quint32 idsTaken()
{
    return state.nextId;
}

int sendCalls()
{
    return state.sendCalls;
}

int zeroCopyPasses()
{
    return state.zeroCopyPasses;
}

} // namespace FakeKernel
