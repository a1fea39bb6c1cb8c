// SPDX-License-Identifier: MIT
// SendIdRange: a range of send ids whose bytes the socket no longer holds.
#pragma once

#include <BlightTransport/blighttransport_global.h>

#include <QtCore/QList>
#include <QtCore/QMetaType>
#include <QtCore/QObject>

namespace Blight {

/*!
    \struct Blight::SendIdRange
    \brief Sends first..last (inclusive) whose bytes the socket let go of.

    \c delivered is true when the kernel took every byte of these sends, false
    when the socket dropped them first (abort(), an error, a refused
    datagram, close() past lingerTime()).
*/
struct BLIGHTTRANSPORT_EXPORT SendIdRange
{
    Q_GADGET
    Q_PROPERTY(quint64 first MEMBER first)
    Q_PROPERTY(quint64 last MEMBER last)
    Q_PROPERTY(bool delivered MEMBER delivered)

public:
    quint64 first = 0;
    quint64 last = 0;
    bool delivered = true;

    quint64 count() const { return last - first + 1; }
    bool contains(quint64 id) const { return id >= first && id <= last; }
    friend bool operator==(const SendIdRange &, const SendIdRange &) = default;
};

} // namespace Blight

Q_DECLARE_METATYPE(Blight::SendIdRange)
