// SPDX-License-Identifier: MIT
// A peer's shared-memory region mapped on this side: checked (seals, size)
// and mapped read-only, unmapped with its last reference.
#pragma once

#include <QtCore/QAtomicInt>
#include <QtCore/QString>

namespace Blight {

/*!
    A region a peer sent, mapped read-only. Refcounted: the connection holds
    one reference while it lasts, every frame handle one more, so closing a
    socket unmaps nothing a handle still reads.
*/
class MappedRegion
{
public:
    /*!
        Checks \a descriptor (a memfd sealed against shrinking and growing,
        seals first, then exactly \a size bytes by fstat()) and maps it
        read-only. Closes \a descriptor in every case. Returns null and sets
        \a why when the peer's descriptor is refused.
    */
    static MappedRegion *map(int descriptor, quint64 size, QString *why);

    const char *data() const { return m_data; }
    qsizetype size() const { return m_size; }
    void ref() { m_ref.ref(); }
    void deref()
    {
        if (!m_ref.deref())
            delete this;
    }

private:
    MappedRegion(const char *data, qsizetype size)
        : m_data(data)
        , m_size(size)
    {
    }
    ~MappedRegion();
    Q_DISABLE_COPY_MOVE(MappedRegion)

    const char *const m_data;
    const qsizetype m_size;
    QAtomicInt m_ref{1};
};

} // namespace Blight
