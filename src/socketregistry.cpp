// SPDX-License-Identifier: MIT
// Process-wide socket state (see socketregistry_p.h).
#include "socketregistry_p.h"

#include <vector>

#include <QtCore/QList>
#include <QtCore/QMutex>
#include <QtCore/QSet>

namespace Blight::SocketRegistry {

namespace {

struct Registry
{
    QMutex mutex;
    QSet<quint64> claimed;
    std::vector<HeldBytes> kept;
    qint64 keptBytes = 0;
};
// Never destroyed: a socket in another thread may still release its claim
// while the process exits, and the kept buffers are meant to last until then.
Registry *registry()
{
    static Registry *const instance = new Registry;
    return instance;
}

} // namespace

bool claim(quint64 inode)
{
    Registry *r = registry();
    QMutexLocker locker(&r->mutex);
    if (r->claimed.contains(inode))
        return false;
    r->claimed.insert(inode);
    return true;
}

void release(quint64 inode)
{
    Registry *r = registry();
    QMutexLocker locker(&r->mutex);
    r->claimed.remove(inode);
}

void keepForever(CompletionTracker::Buffers buffers, qint64 bytes)
{
    Registry *r = registry();
    QMutexLocker locker(&r->mutex);
    for (HeldBytes &buffer : buffers)
        r->kept.push_back(std::move(buffer));
    r->keptBytes += bytes;
}

qint64 keptBytes()
{
    Registry *r = registry();
    QMutexLocker locker(&r->mutex);
    return r->keptBytes;
}

} // namespace Blight::SocketRegistry
