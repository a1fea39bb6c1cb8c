// SPDX-License-Identifier: MIT
// BlightReply: the pending answer to a request, finished by its Ack, a
// timeout or the end of the connection.
#include "blightsocket_p.h"

#include <QtCore/QTimerEvent>

namespace Blight {

BlightReply::BlightReply(quint32 ackid, BlightSocket *socket)
    : QObject(socket)
    , m_ackid(ackid)
{
}

BlightReply::~BlightReply()
{
    // During the socket's own destruction parent() is no longer a BlightSocket.
    if (auto *socket = qobject_cast<BlightSocket *>(parent()))
        socket->d_func()->replies.remove(m_ackid);
}

void BlightReply::finish(bool acked, const QByteArray &payload, const QString &errorString)
{
    if (m_finished)
        return;
    if (m_timerId)
        killTimer(std::exchange(m_timerId, 0));
    m_finished = true;
    m_acked = acked;
    m_payload = payload;
    m_errorString = errorString;
    Q_EMIT finished();
}

void BlightReply::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timerId)
        return;
    if (auto *socket = qobject_cast<BlightSocket *>(parent()))
        socket->d_func()->replies.remove(m_ackid);
    finish(false, QByteArray(), QStringLiteral("no ack for request %1 in time").arg(m_ackid));
}

} // namespace Blight
