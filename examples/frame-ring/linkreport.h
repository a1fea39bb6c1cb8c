// SPDX-License-Identifier: MIT
// LinkReport: what one link's run measured, and its JSON line.
#pragma once

#include <QtCore/QJsonObject>
#include <QtCore/QString>

namespace FrameRing {

struct LinkReport
{
    QString link;                 //!< "unix" or "tcp"
    QString pace;                 //!< "timer" or "flat-out"
    bool writeWhileOut = false;   //!< the negative control ran
    int frames = 0;               //!< frames sent (accepted by the socket)
    int framesVerified = 0;       //!< frames the receiver found exactly right
    quint64 socketCopies = 0;     //!< the sending socket's userSpaceCopies
    quint64 misplacedBuffers = 0; //!< writes after which the bytes were not the pool's
    quint64 stalls = 0;
    quint64 sendsReleased = 0;
    quint64 sendsUndelivered = 0;
    quint64 poolWaits = 0;
    int poolPeakInUse = 0;
    quint64 writesWhileOut = 0;
    quint64 zeroCopySends = 0;
    quint64 copiedCompletions = 0;
    QString zeroCopyState;
    double releaseLatencyMaxMs = 0;
    double framesPerSecond = 0; //!< flat out only
    QString error;              //!< why the run ended early, or empty

    /*! The socket's copies plus the misplaced buffers: every payload copy made in user space. */
    quint64 userSpaceCopies() const { return socketCopies + misplacedBuffers; }
    /*! "zerocopy" only when the kernel really took the pages (sends with
        MSG_ZEROCOPY, none of them reported copied); else "copy". */
    QString path() const;
    /*! Every frame sent was verified and nothing went wrong. */
    bool allVerified(int expectedFrames) const;
    QJsonObject toJson() const;
};

} // namespace FrameRing
