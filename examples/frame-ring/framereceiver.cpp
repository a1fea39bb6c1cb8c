// SPDX-License-Identifier: MIT
// FrameReceiver: verifies each received frame word by word against its frame number.
#include "framereceiver.h"

#include "framepattern.h"

#include <QtCore/QLoggingCategory>

Q_LOGGING_CATEGORY(lcFrameReceiver, "oxide.blight.example.framering.receiver", QtWarningMsg)

using namespace Blight;

namespace FrameRing {

FrameReceiver::FrameReceiver(BlightSocket *socket, int frames, QObject *parent)
    : QObject(parent)
    , m_expected(frames)
{
    connect(socket, &BlightSocket::messageReceived, this, &FrameReceiver::receive);
}

void FrameReceiver::receive(const Message &message)
{
    if (message.type() != MessageType::Ack)
        return fail(QStringLiteral("a message of type %1 instead of a frame").arg(typeName(message.header.type)));
    const quint32 frame = quint32(++m_received);
    if (message.ackid() != frame)
        fail(QStringLiteral("frame %1 arrived with ackid %2").arg(frame).arg(message.ackid()));
    else if (message.payload.size() != FrameBytes)
        fail(QStringLiteral("frame %1 has %2 bytes, not %3").arg(frame).arg(message.payload.size()).arg(FrameBytes));
    else if (const qsizetype word = firstWrongWord(message.payload.constData(), FrameBytes, frame); word >= 0)
        fail(QStringLiteral("frame %1: word %2 is not this frame's").arg(frame).arg(word));
    else
        ++m_verified;
    if (m_received == m_expected)
        Q_EMIT allReceived();
}

void FrameReceiver::fail(const QString &what)
{
    qCWarning(lcFrameReceiver, "%s", qPrintable(what));
    if (m_firstFailure.isEmpty())
        m_firstFailure = what;
}

} // namespace FrameRing
