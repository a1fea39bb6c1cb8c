// SPDX-License-Identifier: MIT
// Which mapping of this process holds an address, as /proc/self/maps names it.
#pragma once

#include <QtCore/QString>

#include <optional>

namespace Blight::Cli {

/*!
    The path /proc/self/maps gives for the mapping that contains \a address:
    "/memfd:name (deleted)" for a memfd, "[heap]", "" for anonymous memory.
    nullopt when no mapping contains it or the file cannot be read. Reads the
    file on every call: a cached table could name a mapping that was replaced.
*/
std::optional<QString> mappingPathOf(const void *address);

/*! Whether \a address lies in a memfd mapping (its path starts with "/memfd:"). */
bool isInMemfdMapping(const void *address);

} // namespace Blight::Cli
