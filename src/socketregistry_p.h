// SPDX-License-Identifier: MIT
// Process-wide state shared by all sockets: which sockets are adopted, and
// the buffers the kernel never released before their socket ended.
#pragma once

#include "completiontracker_p.h"

namespace Blight::SocketRegistry {

/*! Claims the socket with inode \a inode for one BlightSocket. Keyed on the
    inode so that a dup() of an adopted descriptor is caught too: two objects
    must never read, write and close the same socket. */
bool claim(quint64 inode);
void release(quint64 inode);

/*! Keeps \a buffers until the process ends: freeing them could let reused
    memory change bytes still queued in a device. */
void keepForever(CompletionTracker::Buffers buffers, qint64 bytes);
/*! Bytes kept by keepForever() so far. */
qint64 keptBytes();

} // namespace Blight::SocketRegistry
