// SPDX-License-Identifier: MIT
// Process-wide socket state (see socketregistry_p.h).
#include "socketregistry_p.h"

#include <QtCore/QList>
#include <QtCore/QMutex>
#include <QtCore/QSet>

namespace Blight::SocketRegistry {

namespace {

struct Registry
{
    QMutex mutex;
    QSet<quint64> claimed;
    QList<QByteArray> kept;
    qint64 keptBytes = 0;
};
Q_GLOBAL_STATIC(Registry, registry)

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
    if (!r)
        return; // the process is ending
    QMutexLocker locker(&r->mutex);
    r->claimed.remove(inode);
}

void keepForever(CompletionTracker::Buffers buffers, qint64 bytes)
{
    Registry *r = registry();
    if (!r)
        return;
    QMutexLocker locker(&r->mutex);
    for (QByteArray &buffer : buffers)
        r->kept.append(std::move(buffer));
    r->keptBytes += bytes;
}

qint64 keptBytes()
{
    Registry *r = registry();
    if (!r)
        return 0;
    QMutexLocker locker(&r->mutex);
    return r->keptBytes;
}

} // namespace Blight::SocketRegistry
