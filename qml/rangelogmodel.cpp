// SPDX-License-Identifier: MIT
// RangeLogModel and EventLogModel: the panel's newest-first logs of one socket.
#include "rangelogmodel.h"

#include <algorithm>

namespace Blight {

// ------------------------------------------------------------- RecentItemsModel

RecentItemsModel::RecentItemsModel(int capacity, QObject *parent)
    : QAbstractListModel(parent)
    , m_capacity(capacity)
{
}

int RecentItemsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(itemCount());
}

void RecentItemsModel::setCapacity(int capacity)
{
    capacity = std::max(1, capacity);
    if (capacity == m_capacity)
        return;
    m_capacity = capacity;
    if (itemCount() > m_capacity) {
        beginRemoveRows({}, m_capacity, int(itemCount()) - 1);
        truncateItems(m_capacity);
        endRemoveRows();
        Q_EMIT countChanged();
    }
    Q_EMIT capacityChanged();
}

QVariantMap RecentItemsModel::get(int row) const
{
    QVariantMap map;
    if (row < 0 || row >= itemCount())
        return map;
    const QHash<int, QByteArray> roles = roleNames();
    for (auto it = roles.cbegin(); it != roles.cend(); ++it)
        map.insert(QString::fromLatin1(it.value()), data(index(row), it.key()));
    return map;
}

void RecentItemsModel::clear()
{
    if (itemCount() == 0)
        return;
    beginResetModel();
    clearItems();
    endResetModel();
    Q_EMIT countChanged();
}

template<typename T> void RecentItemsModel::prependItems(QList<T> &items, const QList<T> &fresh)
{
    if (fresh.isEmpty())
        return;
    const qsizetype take = std::min<qsizetype>(fresh.size(), m_capacity);
    const qsizetype oldCount = items.size();
    // Trim the oldest rows first so that the model never exceeds capacity.
    const qsizetype keep = std::min<qsizetype>(oldCount, m_capacity - take);
    if (keep < oldCount) {
        beginRemoveRows({}, int(keep), int(oldCount) - 1);
        items.resize(keep);
        endRemoveRows();
    }
    beginInsertRows({}, 0, int(take) - 1);
    QList<T> merged;
    merged.reserve(take + items.size());
    for (qsizetype i = fresh.size() - 1; i >= fresh.size() - take; --i)
        merged.append(fresh.at(i));
    merged.append(items);
    items = std::move(merged);
    endInsertRows();
    if (items.size() != oldCount)
        Q_EMIT countChanged();
}

// ---------------------------------------------------------------- RangeLogModel

RangeLogModel::RangeLogModel(QObject *parent)
    : RecentItemsModel(20, parent)
{
}

QVariant RangeLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Range &range = m_ranges.at(index.row());
    switch (role) {
    case LoRole:
        return QVariant::fromValue(double(range.lo));
    case HiRole:
        return QVariant::fromValue(double(range.hi));
    case CountRole:
        return QVariant::fromValue(double(range.count()));
    case TimeRole:
        return range.time;
    case CopiedRole:
        return range.copied;
    case Qt::DisplayRole:
        return QStringLiteral("%1..%2%3")
            .arg(range.lo)
            .arg(range.hi)
            .arg(range.copied ? QStringLiteral(" copied") : QString());
    default:
        return {};
    }
}

QHash<int, QByteArray> RangeLogModel::roleNames() const
{
    return {{LoRole, "lo"}, {HiRole, "hi"}, {CountRole, "count"}, {TimeRole, "time"}, {CopiedRole, "copied"}};
}

void RangeLogModel::prepend(const QList<Range> &ranges)
{
    prependItems(m_ranges, ranges);
}

// ---------------------------------------------------------------- EventLogModel

EventLogModel::EventLogModel(QObject *parent)
    : RecentItemsModel(30, parent)
{
}

QString EventLogModel::kindText(SocketEvent::Kind kind)
{
    switch (kind) {
    case SocketEvent::Kind::State:
        return QStringLiteral("STATE");
    case SocketEvent::Kind::ZeroCopy:
        return QStringLiteral("ZERO-COPY");
    case SocketEvent::Kind::NoBuffers:
        return QStringLiteral("ENOBUFS");
    case SocketEvent::Kind::Error:
        return QStringLiteral("ERROR");
    case SocketEvent::Kind::Warning:
        return QStringLiteral("WARNING");
    case SocketEvent::Kind::Reset:
        return QStringLiteral("RESET");
    }
    return {};
}

QVariant EventLogModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const SocketEvent &event = m_events.at(index.row());
    switch (role) {
    case TimeRole:
        return event.time;
    case KindRole:
        return kindText(event.kind);
    case TextRole:
        return event.text;
    case Qt::DisplayRole:
        return QString(kindText(event.kind) + QStringLiteral(": ") + event.text);
    default:
        return {};
    }
}

QHash<int, QByteArray> EventLogModel::roleNames() const
{
    return {{TimeRole, "time"}, {KindRole, "kind"}, {TextRole, "text"}};
}

void EventLogModel::prepend(const QList<SocketEvent> &events)
{
    prependItems(m_events, events);
}

} // namespace Blight
