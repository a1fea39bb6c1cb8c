// SPDX-License-Identifier: MIT
// ListenTally: where the payloads of one listen connection lay in memory, and its summary.
#pragma once

#include <BlightTransport/blightsocket.h>

#include <QtCore/QByteArrayView>
#include <QtCore/QJsonObject>

namespace Blight::Cli {

/*!
    For listen --check-mappings (and --shared-memory): looks up, while the
    payload is still held, which mapping of this process holds it, and counts
    the payloads found in a memfd (a shared-memory frame mapped in place) and
    elsewhere (a copy read through recvmsg()). summary() sets those against
    the bytes the socket read, so that "fewer than 1 KiB per frame through
    recvmsg" can be checked from this process.
*/
class ListenTally
{
public:
    /*! Records one payload, received on \a socket; returns the fields to add
        to its JSON line. Empty payloads have no address and are not frames:
        they are not counted. */
    QJsonObject record(QByteArrayView payload, bool sharedHandle, const BlightSocket &socket);
    /*! One JSON object for the connection, read from \a socket now. */
    QJsonObject summary(const BlightSocket &socket) const;
    bool isSummarized() const { return m_summarized; }
    void setSummarized() { m_summarized = true; }

private:
    qint64 m_frames = 0;
    qint64 m_inMemfd = 0;
    qint64 m_sharedHandles = 0;
    qint64 m_peakMappedBytes = 0;
    // As the socket stood at the last frame: after the connection ends its state says less.
    bool m_activeAtLastFrame = false;
    BlightSocket::ZeroCopyState m_stateAtLastFrame = BlightSocket::ZeroCopyState::Unsupported;
    QString m_reasonAtLastFrame;
    bool m_summarized = false;
};

} // namespace Blight::Cli
