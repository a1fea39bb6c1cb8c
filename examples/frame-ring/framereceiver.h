// SPDX-License-Identifier: MIT
// FrameReceiver: the other end of the ring; checks every word of every frame it receives.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QObject>

namespace FrameRing {

/*!
    Receives frames on its own BlightSocket and checks each completely
    against the pattern of the frame that must come next (frames arrive in
    order on one stream): size, ackid and every 64-bit word. A frame whose
    bytes the producer overwrote before the kernel took them fails here.
*/
class FrameReceiver : public QObject
{
    Q_OBJECT

public:
    FrameReceiver(Blight::BlightSocket *socket, int frames, QObject *parent = nullptr);

    int framesReceived() const { return m_received; }
    int framesVerified() const { return m_verified; }
    /*! What was wrong with the first frame that failed, or empty. */
    QString firstFailure() const { return m_firstFailure; }

Q_SIGNALS:
    /*! The last expected frame arrived (verified or not). */
    void allReceived();

private:
    void receive(const Blight::Message &message);
    void fail(const QString &what);

    int m_expected;
    int m_received = 0;
    int m_verified = 0;
    QString m_firstFailure;
};

} // namespace FrameRing
