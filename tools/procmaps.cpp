// SPDX-License-Identifier: MIT
// Looking an address up in /proc/self/maps.
#include "procmaps.h"

#include <QtCore/QByteArray>
#include <QtCore/QFile>

namespace Blight::Cli {

namespace {

// Index of the first byte after the whitespace-separated field that starts at or after \a at.
qsizetype skipField(const QByteArray &line, qsizetype at)
{
    while (at < line.size() && line.at(at) == ' ')
        ++at;
    while (at < line.size() && line.at(at) != ' ')
        ++at;
    return at;
}

} // namespace

std::optional<QString> mappingPathOf(const void *address)
{
    QFile maps(QStringLiteral("/proc/self/maps"));
    if (!maps.open(QIODevice::ReadOnly))
        return std::nullopt;
    const auto wanted = quintptr(address);
    // "start-end perms offset dev inode   path": the path may hold spaces.
    for (QByteArray line = maps.readLine(); !line.isEmpty(); line = maps.readLine()) {
        const qsizetype dash = line.indexOf('-');
        const qsizetype space = line.indexOf(' ');
        if (dash <= 0 || space <= dash)
            continue;
        bool startOk = false;
        bool endOk = false;
        const quint64 start = line.left(dash).toULongLong(&startOk, 16);
        const quint64 end = line.mid(dash + 1, space - dash - 1).toULongLong(&endOk, 16);
        if (!startOk || !endOk || wanted < start || wanted >= end)
            continue;
        qsizetype at = space;
        for (int field = 0; field < 4; ++field) // perms, offset, dev, inode
            at = skipField(line, at);
        return QString::fromLocal8Bit(line.mid(at).trimmed());
    }
    return std::nullopt;
}

bool isInMemfdMapping(const void *address)
{
    const std::optional<QString> path = mappingPathOf(address);
    return path && path->startsWith(QLatin1String("/memfd:"));
}

} // namespace Blight::Cli
