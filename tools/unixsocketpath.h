// SPDX-License-Identifier: MIT
// Getting a unix: socket path ready to listen on: refuse what is not ours to replace.
#pragma once

#include <QtCore/QString>

namespace Blight::Cli {

/*!
    Makes \a path free for bind(). Nothing there: fine. A socket nobody
    listens on (connect() refused: a leftover of a listener that died) is
    removed. Returns the reason, and leaves the path alone, when it is a
    socket someone listens on ("in use"), a regular file, a directory or
    anything else; an empty string when the path is free (\a removedStale
    says whether a stale socket was removed).
*/
QString prepareUnixSocketPath(const QString &path, bool *removedStale = nullptr);

} // namespace Blight::Cli
