// SPDX-License-Identifier: MIT
// A scripted kernel behind the system-call seam: for one descriptor it fails
// sendmsg() as told, numbers MSG_ZEROCOPY sends the way the kernel does, and
// hands out the completion ranges the test queues on the error queue.
#pragma once

#include <QtCore/QtGlobal>

#include <deque>

namespace FakeKernel {

/*! What the next sendmsg() on the faked descriptor does. */
struct Step
{
    enum class Kind {
        Pass,          //!< sends (MSG_ZEROCOPY is stripped: the real kernel copies and reports nothing)
        FailBeforeId,  //!< fails with errorNumber and takes no zero-copy id (optmem, EAGAIN, TCP)
        FailAfterId,   //!< takes an id, queues its completion, then fails (UDP qdisc drop with IP_RECVERR)
    };
    Kind kind = Kind::Pass;
    int errorNumber = 0;
};

struct Range
{
    quint32 lo = 0;
    quint32 hi = 0;
    bool copied = false;
};

/*! Fakes \a fd from now on (other descriptors go to the real calls). */
void install(int fd);
void uninstall();

/*! Steps for the next sendmsg() calls on the faked descriptor, in order;
    when none is left, calls pass. */
void script(std::initializer_list<Step> steps);
/*! Each passing sendmsg() sends at most \a bytes (a short write), or all if 0. */
void setMaxBytesPerSend(qsizetype bytes);
/*! Queues a completion range on the error queue. */
void complete(quint32 lo, quint32 hi, bool copied = false);

/*! Zero-copy ids the fake kernel handed out so far (its counter). */
quint32 idsTaken();
/*! sendmsg() calls on the faked descriptor, and those with MSG_ZEROCOPY that passed. */
int sendCalls();
int zeroCopyPasses();

} // namespace FakeKernel
