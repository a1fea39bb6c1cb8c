// SPDX-License-Identifier: MIT
// Shared pool memory (see sharedmemoryallocator_p.h).
#include "sharedmemoryallocator_p.h"
#include "logging_p.h"
#include "socketutil_p.h"

#include <QtCore/QHash>
#include <QtCore/QMutex>

#include <cerrno>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

namespace Blight {

namespace {

// A sealed memfd of \a bytes mapped shared, and in \a readOnly a read-only
// descriptor of it for peers; MAP_FAILED (and a warning) if any step fails.
void *mapSealed(qsizetype bytes, int *readOnly)
{
    const int memfd = ::memfd_create("blight-pool", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (memfd < 0) {
        qCWarning(lcBuffer, "memfd_create failed: %s", qPrintable(SocketUtil::errnoText(errno)));
        return MAP_FAILED;
    }
    void *memory = MAP_FAILED;
    if (::ftruncate(memfd, off_t(bytes)) == 0
        && ::fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0)
        memory = ::mmap(nullptr, size_t(bytes), PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
    if (memory == MAP_FAILED) {
        qCWarning(lcBuffer, "cannot size, seal or map a pool region of %lld bytes: %s", qint64(bytes),
                  qPrintable(SocketUtil::errnoText(errno)));
    } else {
        // Peers get a descriptor opened read-only, so that they cannot write
        // into this process's buffers (a memfd's own descriptor is
        // read-write, and a mapping through it could be PROT_WRITE).
        const QByteArray path = "/proc/self/fd/" + QByteArray::number(memfd);
        *readOnly = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
        if (*readOnly < 0)
            qCWarning(lcBuffer, "cannot reopen a pool region read-only (%s): it is not shared",
                      qPrintable(SocketUtil::errnoText(errno)));
    }
    ::close(memfd); // the mapping and the read-only descriptor keep the file
    return memory;
}

class SharedMemoryAllocator final : public BlightBufferAllocator
{
public:
    void *allocate(qsizetype bytes) override
    {
        int readOnly = -1;
        void *memory = mapSealed(bytes, &readOnly);
        if (memory == MAP_FAILED) {
            // Still a pool, one whose buffers take the copy path.
            qCWarning(lcBuffer, "the pool's region is not shared: anonymous memory instead");
            memory = ::mmap(nullptr, size_t(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (memory == MAP_FAILED)
                return nullptr;
        }
        QMutexLocker locker(&m_mutex);
        m_descriptors.insert(memory, readOnly);
        return memory;
    }

    void deallocate(void *memory, qsizetype bytes) override
    {
        ::munmap(memory, size_t(bytes));
        QMutexLocker locker(&m_mutex);
        const int readOnly = m_descriptors.take(memory);
        if (readOnly >= 0)
            ::close(readOnly);
    }

    int descriptor(const void *memory) const override
    {
        QMutexLocker locker(&m_mutex);
        return m_descriptors.value(memory, -1);
    }

private:
    mutable QMutex m_mutex;
    QHash<const void *, int> m_descriptors;
};

} // namespace

std::unique_ptr<BlightBufferAllocator> makeSharedMemoryAllocator()
{
    return std::make_unique<SharedMemoryAllocator>();
}

} // namespace Blight
