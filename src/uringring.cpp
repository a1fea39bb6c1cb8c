// SPDX-License-Identifier: MIT
// The io_uring of one sender: set-up, SEND_ZC batches, the completion drain
// and registered buffers charged to RLIMIT_MEMLOCK.
#include "uringring_p.h"

#include "logging_p.h"

#include <QtCore/QFile>

#include <cerrno>
#include <cstring>
#include <linux/capability.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <vector>

namespace Blight {

namespace {

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

QString kibText(qint64 bytes)
{
    return QStringLiteral("%1 KiB").arg(bytes / 1024);
}

// The kernel exempts a ring from the memlock charge when its creator has
// CAP_IPC_LOCK in the *initial* user namespace; inside a user namespace the
// capability does not count. Only the identity map is the initial one.
bool inInitialUserNamespace()
{
    QFile map(QStringLiteral("/proc/self/uid_map"));
    if (!map.open(QIODevice::ReadOnly))
        return true; // no user namespaces in this kernel
    const QList<QByteArray> fields = map.readAll().simplified().split(' ');
    return fields.size() == 3 && fields[0] == "0" && fields[1] == "0" && fields[2] == "4294967295";
}

bool hasEffectiveIpcLock()
{
    __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
    if (::syscall(SYS_capget, &header, data) != 0)
        return false;
    return data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective & CAP_TO_MASK(CAP_IPC_LOCK);
}

// Pages the kernel pins (and charges) for a region: every page it touches.
qint64 pagesOf(const UringRegion &region, qint64 pageSize)
{
    const auto start = quintptr(region.data);
    const auto end = start + quintptr(region.size);
    return qint64((end + quintptr(pageSize) - 1) / quintptr(pageSize) - start / quintptr(pageSize));
}

} // namespace

MemlockBudget MemlockBudget::current()
{
    MemlockBudget budget;
    budget.exempt = hasEffectiveIpcLock() && inInitialUserNamespace();
    rlimit limit{};
    if (::getrlimit(RLIMIT_MEMLOCK, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
        budget.limitBytes = qint64(limit.rlim_cur);
    return budget;
}

std::unique_ptr<UringRing> UringRing::create(unsigned sqEntries, unsigned cqEntries, QString *error)
{
    std::unique_ptr<UringRing> ring(new UringRing);
    // The kernel decides the memlock exemption when the ring is created.
    ring->m_budget = MemlockBudget::current();
    io_uring_params params{};
    // Each SEND_ZC gives two completions; a larger CQ makes overflow rare
    // (it is still handled: the kernel keeps overflowed entries, NODROP).
    params.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL;
    params.cq_entries = qMax(cqEntries, sqEntries);
    int result = io_uring_queue_init_params(sqEntries, &ring->m_ring, &params);
    if (result < 0) {
        *error = QStringLiteral("io_uring_setup: %1").arg(errnoText(-result));
        return nullptr;
    }
    ring->m_ringReady = true;
    ring->m_sqEntries = params.sq_entries;
    ring->m_cqEntries = params.cq_entries;
    if (!(params.features & IORING_FEAT_NODROP)) {
        *error = QStringLiteral("the kernel drops completions on CQ overflow (no IORING_FEAT_NODROP)");
        return nullptr;
    }
    ring->m_eventFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ring->m_eventFd < 0) {
        *error = QStringLiteral("eventfd: %1").arg(errnoText(errno));
        return nullptr;
    }
    result = io_uring_register_eventfd(&ring->m_ring, ring->m_eventFd);
    if (result < 0) {
        *error = QStringLiteral("io_uring_register_eventfd: %1").arg(errnoText(-result));
        return nullptr;
    }
    return ring;
}

UringRing::~UringRing()
{
    // Exiting the ring cancels what is still queued in the kernel; the pages
    // of sends already on the wire stay pinned by the kernel until the
    // network is done with them. Only then is what they held released here.
    if (m_ringReady)
        io_uring_queue_exit(&m_ring);
    if (m_eventFd >= 0)
        ::close(m_eventFd);
    if (m_outstanding > 0)
        qCWarning(lcZeroCopy, "io_uring: ring closed with %lld sends without their last completion",
                  qint64(m_outstanding));
}

UringRing::QueueResult UringRing::queue(UringSend send)
{
    if (send.fd < 0 || (send.bufferIndex >= 0 && (send.bufferIndex >= m_tableSize || send.message)))
        return QueueResult::Invalid;
    io_uring_sqe *sqe = io_uring_get_sqe(&m_ring);
    if (!sqe)
        return QueueResult::Full;
    const unsigned zeroCopyFlags = send.reportUsage ? IORING_SEND_ZC_REPORT_USAGE : 0;
    const int flags = send.msgFlags | MSG_NOSIGNAL;
    if (send.message) {
        io_uring_prep_sendmsg_zc(sqe, send.fd, send.message, unsigned(flags));
        sqe->ioprio |= zeroCopyFlags;
    } else if (send.bufferIndex >= 0) {
        io_uring_prep_send_zc_fixed(sqe, send.fd, send.data, send.size, flags, zeroCopyFlags,
                                    unsigned(send.bufferIndex));
    } else {
        io_uring_prep_send_zc(sqe, send.fd, send.data, send.size, flags, zeroCopyFlags);
    }
    if (send.linkNext)
        sqe->flags |= IOSQE_IO_LINK;
    const quint64 tag = m_nextTag++;
    io_uring_sqe_set_data64(sqe, tag);
    if (m_pending.empty())
        m_frontTag = tag;
    m_pending.push_back(Pending{send.userData, std::move(send.hold), false});
    ++m_outstanding;
    return QueueResult::Queued;
}

UringRing::Pending *UringRing::findPending(quint64 tag)
{
    // Tags are consecutive from the front's: the entry is at their distance.
    if (tag < m_frontTag)
        return nullptr;
    const quint64 index = tag - m_frontTag;
    if (index >= m_pending.size())
        return nullptr;
    Pending &pending = m_pending[size_t(index)];
    return pending.done ? nullptr : &pending;
}

int UringRing::submit()
{
    if (queuedCount() == 0)
        return 0;
    return io_uring_submit(&m_ring);
}

unsigned UringRing::queuedCount() const
{
    return io_uring_sq_ready(&m_ring);
}

unsigned UringRing::sqSpaceLeft() const
{
    return io_uring_sq_space_left(&m_ring);
}

void UringRing::drain(QList<UringCompletion> *out)
{
    // Reset the eventfd first: a completion posted after this read signals
    // it again, so none is left without a wake-up.
    quint64 count = 0;
    while (::read(m_eventFd, &count, sizeof(count)) < 0 && errno == EINTR) { }
    for (;;) {
        unsigned head = 0;
        unsigned seen = 0;
        io_uring_cqe *cqe = nullptr;
        io_uring_for_each_cqe(&m_ring, head, cqe)
        {
            ++seen;
            Pending *found = findPending(cqe->user_data);
            if (!found) {
                qCWarning(lcZeroCopy, "io_uring: completion for an unknown send %llu", cqe->user_data);
                continue;
            }
            UringCompletion record;
            record.userData = found->userData;
            record.notification = cqe->flags & IORING_CQE_F_NOTIF;
            if (record.notification) {
                record.copied = quint32(cqe->res) & IORING_NOTIF_USAGE_ZC_COPIED;
            } else {
                record.result = cqe->res;
                record.more = cqe->flags & IORING_CQE_F_MORE;
            }
            // A notification is always the last; a send without F_MORE too.
            if (record.notification || !record.more) {
                found->done = true;
                found->hold.reset();
                --m_outstanding;
                while (!m_pending.empty() && m_pending.front().done) {
                    m_pending.pop_front();
                    ++m_frontTag;
                }
            }
            out->append(record);
        }
        io_uring_cq_advance(&m_ring, seen);
        if (io_uring_cq_has_overflow(&m_ring)) {
            // The kernel kept the entries that did not fit; entering with
            // GETEVENTS moves them into the CQ, then read again.
            ++m_overflowFlushes;
            io_uring_get_events(&m_ring);
            continue;
        }
        if (seen == 0)
            return;
    }
}

UringRegistration UringRing::registerBuffers(const QList<UringRegion> &regions, std::shared_ptr<const void> keepAlive)
{
    UringRegistration result;
    result.requested = int(regions.size());
    result.budget = m_budget;
    if (m_tableSize >= 0) {
        result.error = EBUSY;
        result.reason = QStringLiteral("buffers are registered already (once per ring)");
        return result;
    }
    if (regions.isEmpty()) {
        result.reason = QStringLiteral("nothing to register");
        return result;
    }
    // Pre-check against the limit we can see; the kernel also counts memory
    // this user has locked elsewhere, so it may still refuse some.
    const qint64 pageSize = ::sysconf(_SC_PAGESIZE);
    const qint64 pageBudget = m_budget.isUnlimited() ? -1 : m_budget.limitBytes / pageSize;
    // The kernel refuses a larger table outright (EINVAL), not in part.
    const int tableSize = int(qMin<qsizetype>(regions.size(), MaxRegisteredBuffers));
    std::vector<iovec> vectors;
    qint64 pages = 0;
    bool emptyRegion = false;
    for (const UringRegion &region : regions.first(tableSize)) {
        if (!region.data || region.size <= 0) {
            emptyRegion = true;
            break;
        }
        const qint64 regionPages = pagesOf(region, pageSize);
        if (pageBudget >= 0 && pages + regionPages > pageBudget)
            break;
        pages += regionPages;
        vectors.push_back(iovec{const_cast<void *>(region.data), size_t(region.size)});
    }
    // A sparse table of every region, filled in order by one update: the
    // kernel registers until the first one it refuses and says how many.
    int kernel = io_uring_register_buffers_sparse(&m_ring, unsigned(tableSize));
    if (kernel < 0) {
        result.error = -kernel;
        result.reason = QStringLiteral("buffer table refused: %1").arg(errnoText(-kernel));
        return result;
    }
    m_tableSize = tableSize;
    m_regionsAlive = std::move(keepAlive);
    if (!vectors.empty()) {
        kernel = io_uring_register_buffers_update_tag(&m_ring, 0, vectors.data(), nullptr, unsigned(vectors.size()));
        if (kernel < 0) {
            result.error = -kernel;
            kernel = 0;
        } else if (kernel < int(vectors.size())) {
            // A partial update returns only the count: ask for the next one
            // alone to learn why (ENOMEM: memlock charged elsewhere).
            const int next = io_uring_register_buffers_update_tag(&m_ring, unsigned(kernel), &vectors[size_t(kernel)],
                                                                  nullptr, 1);
            if (next == 1)
                ++kernel; // it fits now after all
            else if (next < 0)
                result.error = -next;
        }
    }
    m_registered = kernel;
    result.registered = kernel;
    for (int i = 0; i < kernel; ++i)
        result.registeredBytes += qint64(vectors[size_t(i)].iov_len);
    const QString budgetText = m_budget.exempt ? QStringLiteral("exempt (CAP_IPC_LOCK)")
        : m_budget.limitBytes < 0              ? QStringLiteral("unlimited")
                                               : kibText(m_budget.limitBytes);
    if (result.registered == result.requested)
        result.reason = QStringLiteral("registered all %1 (%2; RLIMIT_MEMLOCK %3)")
                            .arg(result.registered)
                            .arg(kibText(result.registeredBytes), budgetText);
    else if (result.registered < int(vectors.size()))
        result.reason = QStringLiteral("registered %1 of %2: the kernel refused the next (%3; RLIMIT_MEMLOCK %4)")
                            .arg(result.registered)
                            .arg(result.requested)
                            .arg(errnoText(result.error), budgetText);
    else if (result.registered == tableSize && tableSize < result.requested)
        result.reason = QStringLiteral("registered %1 of %2: a ring's table holds at most %3 buffers")
                            .arg(result.registered)
                            .arg(result.requested)
                            .arg(MaxRegisteredBuffers);
    else if (emptyRegion)
        result.reason
            = QStringLiteral("registered %1 of %2: region %1 is empty").arg(result.registered).arg(result.requested);
    else
        result.reason = QStringLiteral("registered %1 of %2: RLIMIT_MEMLOCK %3 holds no more")
                            .arg(result.registered)
                            .arg(result.requested)
                            .arg(budgetText);
    qCInfo(lcZeroCopy, "io_uring: %s", qPrintable(result.reason));
    return result;
}

} // namespace Blight
