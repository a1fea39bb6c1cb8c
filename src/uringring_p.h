// SPDX-License-Identifier: MIT
// One io_uring for SEND_ZC: the submission batch, the completion drain, the
// registered buffers within the RLIMIT_MEMLOCK budget, and what each send holds.
#pragma once

#include "uringkernel_p.h"

#include <QtCore/QHash>
#include <QtCore/QList>
#include <QtCore/QString>

#include <deque>
#include <memory>

struct msghdr;

namespace Blight {

/*! One completion of the ring, as the socket consumes it. Every SEND_ZC
    gives a send completion; if that one has \c more set, a notification
    (\c notification set) follows when the kernel has released the pages.
    Both carry the send's \c userData. */
struct UringCompletion
{
    quint64 userData = 0;
    qint32 result = 0;         //!< send: bytes sent or -errno; notification: 0
    bool notification = false; //!< IORING_CQE_F_NOTIF: the buffer is free
    bool copied = false;       //!< notification with REPORT_USAGE: the kernel copied the bytes
    bool more = false;         //!< send: a notification follows (IORING_CQE_F_MORE)
};

/*! One SEND_ZC to queue. */
struct UringSend
{
    int fd = -1;
    const void *data = nullptr;
    quint32 size = 0;
    quint64 userData = 0;             //!< handed back in both completions (the socket's send id)
    int bufferIndex = -1;             //!< >= 0: a registered buffer that holds [data, data + size)
    bool reportUsage = false;         //!< ask the notification to say whether the kernel copied
    int msgFlags = 0;                 //!< MSG_* flags; MSG_NOSIGNAL is always added
    std::shared_ptr<const void> hold; //!< kept until the send's last completion
    /*! Link the next queued send to this one (IOSQE_IO_LINK): it starts only
        after this one completed in full, and is cancelled (-ECANCELED) if
        this one fails or is short. Keeps a stream's sends in order. */
    bool linkNext = false;
    /*! A SENDMSG_ZC of several pieces (data and size unused; never fixed):
        the message and its iovec must stay valid until the send completes,
        so hold them. */
    const msghdr *message = nullptr;
};

/*! A region of memory to register as a fixed buffer. */
struct UringRegion
{
    const void *data = nullptr;
    qsizetype size = 0;
};

/*! The RLIMIT_MEMLOCK budget that registration is charged to. */
struct MemlockBudget
{
    bool exempt = false;    //!< CAP_IPC_LOCK in the initial user namespace: nothing is charged
    qint64 limitBytes = -1; //!< RLIMIT_MEMLOCK soft limit, -1 for unlimited

    /*! The budget of this process now: capget() and getrlimit(). */
    static MemlockBudget current();
    bool isUnlimited() const { return exempt || limitBytes < 0; }
};

/*! What registerBuffers() did. Regions [0, registered) are fixed buffers
    0..registered-1; the rest were not registered and must go another way. */
struct UringRegistration
{
    int requested = 0;
    int registered = 0;
    qint64 registeredBytes = 0;
    MemlockBudget budget;
    int error = 0;  //!< errno of the kernel's refusal, if it refused any
    QString reason; //!< what happened, in a sentence
};

class UringRing
{
public:
    static constexpr int MaxRegisteredBuffers = 1 << 14; //!< the kernel's IORING_MAX_REG_BUFFERS

    enum class QueueResult {
        Queued,  //!< in the batch; submit() sends it
        Full,    //!< no free submission entry: submit, drain, then try again
        Invalid, //!< a bad argument (no fd, or a buffer index beyond the table)
    };

    /*! A ring of \a sqEntries submission and \a cqEntries completion entries
        (at least sqEntries) with an eventfd registered; nullptr and \a error
        on failure. */
    static std::unique_ptr<UringRing> create(unsigned sqEntries, unsigned cqEntries, QString *error);
    ~UringRing();
    UringRing(const UringRing &) = delete;
    UringRing &operator=(const UringRing &) = delete;

    int eventFd() const { return m_eventFd; }
    unsigned sqEntries() const { return m_sqEntries; }
    unsigned cqEntries() const { return m_cqEntries; }
    const MemlockBudget &budget() const { return m_budget; }

    QueueResult queue(UringSend send);
    /*! Hands the batch to the kernel in one io_uring_enter; returns how many
        entries it took, or -errno (-EBUSY/-EAGAIN: drain, then submit again). */
    int submit();
    /*! Queued entries the kernel has not taken yet. */
    unsigned queuedCount() const;
    unsigned sqSpaceLeft() const;
    /*! Sends whose last completion has not come (queued ones included). */
    qsizetype outstanding() const { return m_outstanding; }

    /*! Reads the eventfd and every completion, flushing a CQ overflow by
        entering the kernel; appends the records to \a out. Releases what a
        send held once its last completion is in. */
    void drain(QList<UringCompletion> *out);
    /*! How many times drain() found the CQ overflowed and flushed it. */
    quint64 overflowFlushes() const { return m_overflowFlushes; }

    /*! Registers as many of \a regions (in order) as the budget and the
        kernel allow, once per ring. \a keepAlive is held until the ring is
        gone, for the memory behind the regions. */
    UringRegistration registerBuffers(const QList<UringRegion> &regions, std::shared_ptr<const void> keepAlive);
    int registeredCount() const { return m_registered; }

private:
    UringRing() = default;

    struct Pending
    {
        quint64 userData = 0;
        std::shared_ptr<const void> hold;
        bool done = false; // its last completion came; dropped once those before it are done too
    };
    Pending *findPending(quint64 tag);

    io_uring m_ring{};
    bool m_ringReady = false;
    int m_eventFd = -1;
    unsigned m_sqEntries = 0;
    unsigned m_cqEntries = 0;
    MemlockBudget m_budget;
    quint64 m_nextTag = 1; // the SQE's user_data: ours, so caller ids may repeat
    // In tag order, consecutive from m_frontTag: completions come mostly in
    // order, so the finished ones leave from the front.
    std::deque<Pending> m_pending;
    quint64 m_frontTag = 1;
    qsizetype m_outstanding = 0;
    quint64 m_overflowFlushes = 0;
    int m_tableSize = -1; // registered-buffer table, -1 until registerBuffers()
    int m_registered = 0;
    std::shared_ptr<const void> m_regionsAlive;
};

} // namespace Blight
