// SPDX-License-Identifier: MIT
// A peer's region mapped on this side (see mappedregion_p.h).
#include "mappedregion_p.h"
#include "socketutil_p.h"

#include <cerrno>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

namespace Blight {

MappedRegion *MappedRegion::map(int descriptor, quint64 size, QString *why)
{
    // Seals first: a region that can shrink under the mapping kills the
    // reader with SIGBUS, so nothing else about it matters.
    MappedRegion *region = nullptr;
    const int seals = ::fcntl(descriptor, F_GET_SEALS);
    struct stat status = {};
    struct statfs filesystem = {};
    if (seals < 0) {
        *why = QStringLiteral("the descriptor is not a memfd (%1)").arg(SocketUtil::errnoText(errno));
    } else if ((seals & (F_SEAL_SHRINK | F_SEAL_GROW)) != (F_SEAL_SHRINK | F_SEAL_GROW)) {
        *why = QStringLiteral("the memfd is not sealed against shrinking and growing (seals 0x%1)").arg(seals, 0, 16);
    } else if (::fstatfs(descriptor, &filesystem) != 0 || filesystem.f_type != TMPFS_MAGIC) {
        // A hugetlb memfd seals too, but the peer can punch a hole in it and
        // use up the huge pages: the reader's next fault there is a SIGBUS.
        *why = QStringLiteral("the memfd is not in tmpfs shared memory (a hugetlb memfd is refused)");
    } else if (::fstat(descriptor, &status) != 0) {
        *why = QStringLiteral("fstat of the memfd failed (%1)").arg(SocketUtil::errnoText(errno));
    } else if (!S_ISREG(status.st_mode) || quint64(status.st_size) != size) {
        *why = QStringLiteral("the memfd has %1 bytes, the pool message said %2").arg(status.st_size).arg(size);
    } else if (size == 0) {
        *why = QStringLiteral("an empty region");
    } else {
        void *memory = ::mmap(nullptr, size_t(size), PROT_READ, MAP_SHARED, descriptor, 0);
        if (memory == MAP_FAILED)
            *why = QStringLiteral("mapping the memfd failed (%1)").arg(SocketUtil::errnoText(errno));
        else
            region = new MappedRegion(static_cast<const char *>(memory), qsizetype(size));
    }
    ::close(descriptor);
    return region;
}

MappedRegion::~MappedRegion()
{
    ::munmap(const_cast<char *>(m_data), size_t(m_size));
}

} // namespace Blight
