// SPDX-License-Identifier: MIT
// Frames received in shared memory: the BlightBuffer handle over a mapped
// region, and the channel that carries their releases back to the socket
// from whichever thread drops the last handle.
#pragma once

#include "blightbuffer_p.h"

#include <QtCore/QEvent>
#include <QtCore/QMutex>
#include <QtCore/QObject>

#include <vector>

namespace Blight {

class MappedRegion;

/*!
    One connection's way back to its socket for releases. Frames hold a
    reference; the socket closes it when the connection ends (a release for
    a connection that is gone means nothing to anyone) and posts nothing
    afterwards.
*/
class ReleaseChannel
{
public:
    static QEvent::Type eventType();

    explicit ReleaseChannel(QObject *socket)
        : m_socket(socket)
    {
    }
    void ref() { m_ref.ref(); }
    void deref()
    {
        if (!m_ref.deref())
            delete this;
    }
    /*! Queues \a token for the socket and wakes it (once per batch). */
    void post(quint32 token);
    /*! The tokens queued so far, into \a out (cleared first). */
    void take(std::vector<quint32> *out);
    /*! The connection ended: nothing is queued or posted any more. */
    void close();

private:
    ~ReleaseChannel() = default;
    QMutex m_mutex;
    QObject *m_socket;
    std::vector<quint32> m_tokens;
    bool m_posted = false;
    QAtomicInt m_ref{1};
};

/*! Makes the handle of a frame of \a length bytes at \a data inside \a
    region, whose release goes through \a channel as \a token. */
BlightBuffer makeReceivedFrame(MappedRegion *region, const char *data, qsizetype length, ReleaseChannel *channel,
                               quint32 token);
/*! Sends the release of a received frame now (once); false if \a buffer is
    not one, or its release went already. */
bool releaseReceivedFrame(const BlightBuffer &buffer);

} // namespace Blight
