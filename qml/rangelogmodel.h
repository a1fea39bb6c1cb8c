// SPDX-License-Identifier: MIT
// RangeLogModel: the last released zero-copy ranges of a socket, for the panel.
#pragma once

#include "socketprobe.h"

#include <QtCore/QAbstractListModel>
#include <QtQml/qqml.h>

#if defined(BLIGHTTRANSPORTQML_LIBRARY)
#  define BLIGHTTRANSPORTQML_EXPORT Q_DECL_EXPORT
#else
#  define BLIGHTTRANSPORTQML_EXPORT Q_DECL_IMPORT
#endif

namespace Blight {

/*!
    \class Blight::RecentItemsModel
    \brief The shared part of the panel's logs: newest first, at most capacity() rows.
*/
class BLIGHTTRANSPORTQML_EXPORT RecentItemsModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ANONYMOUS
    Q_PROPERTY(int count READ count NOTIFY countChanged)
    Q_PROPERTY(int capacity READ capacity WRITE setCapacity NOTIFY capacityChanged)

public:
    explicit RecentItemsModel(int capacity, QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = {}) const override;
    int count() const { return int(itemCount()); }
    int capacity() const { return m_capacity; }
    void setCapacity(int capacity);

    /*! Row \a row as a map with the role names as keys; empty when out of range. */
    Q_INVOKABLE QVariantMap get(int row) const;
    Q_INVOKABLE void clear();

Q_SIGNALS:
    void countChanged();
    void capacityChanged();

protected:
    // Puts fresh (oldest first) on top of items (newest first), trimmed to capacity().
    template<typename T> void prependItems(QList<T> &items, const QList<T> &fresh);
    virtual qsizetype itemCount() const = 0;
    virtual void clearItems() = 0;
    virtual void truncateItems(qsizetype size) = 0;

private:
    int m_capacity;
};

/*!
    \class Blight::RangeLogModel
    \brief The last released zero-copy ranges of a socket, newest first.

    Roles: \c lo, \c hi, \c count (sends in the range, wrap-aware), \c time
    (a Date), \c copied (the kernel reported SO_EE_CODE_ZEROCOPY_COPIED).
*/
class BLIGHTTRANSPORTQML_EXPORT RangeLogModel : public RecentItemsModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("RangeLogModel belongs to a TransportMonitor")

public:
    using Range = ReleasedRange;
    enum Role { LoRole = Qt::UserRole + 1, HiRole, CountRole, TimeRole, CopiedRole };
    Q_ENUM(Role)

    explicit RangeLogModel(QObject *parent = nullptr);

    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    /*! Adds \a ranges (oldest first) at the top and trims to capacity(). */
    void prepend(const QList<Range> &ranges);

protected:
    qsizetype itemCount() const override { return m_ranges.size(); }
    void clearItems() override { m_ranges.clear(); }
    void truncateItems(qsizetype size) override { m_ranges.resize(size); }

private:
    QList<Range> m_ranges; // newest first
};

/*!
    \class Blight::EventLogModel
    \brief What happened to a socket, newest first: state changes, zero-copy
    back-offs and probes, ENOBUFS, errors and warnings, with their times.

    Roles: \c time (a Date), \c kind (a short capital word: STATE, ZERO-COPY,
    ENOBUFS, ERROR, WARNING, RESET), \c text.
*/
class BLIGHTTRANSPORTQML_EXPORT EventLogModel : public RecentItemsModel
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("EventLogModel belongs to a TransportMonitor")

public:
    enum Role { TimeRole = Qt::UserRole + 1, KindRole, TextRole };
    Q_ENUM(Role)

    explicit EventLogModel(QObject *parent = nullptr);

    QVariant data(const QModelIndex &index, int role) const override;
    QHash<int, QByteArray> roleNames() const override;

    /*! Adds \a events (oldest first) at the top and trims to capacity(). */
    void prepend(const QList<SocketEvent> &events);

    static QString kindText(SocketEvent::Kind kind);

protected:
    qsizetype itemCount() const override { return m_events.size(); }
    void clearItems() override { m_events.clear(); }
    void truncateItems(qsizetype size) override { m_events.resize(size); }

private:
    QList<SocketEvent> m_events; // newest first
};

} // namespace Blight
