// SPDX-License-Identifier: MIT
// LinkReport: the path a link took, and the report as one JSON object.
#include "linkreport.h"

namespace FrameRing {

QString LinkReport::path() const
{
    return zeroCopySends > 0 && copiedCompletions == 0 ? QStringLiteral("zerocopy") : QStringLiteral("copy");
}

bool LinkReport::allVerified(int expectedFrames) const
{
    return error.isEmpty() && frames == expectedFrames && framesVerified == expectedFrames;
}

QJsonObject LinkReport::toJson() const
{
    QJsonObject json{
        {QStringLiteral("link"), link},
        {QStringLiteral("pace"), pace},
        {QStringLiteral("frames"), frames},
        {QStringLiteral("framesVerified"), framesVerified},
        {QStringLiteral("userSpaceCopies"), qint64(userSpaceCopies())},
        {QStringLiteral("socketCopies"), qint64(socketCopies)},
        {QStringLiteral("misplacedBuffers"), qint64(misplacedBuffers)},
        {QStringLiteral("stalls"), qint64(stalls)},
        {QStringLiteral("path"), path()},
        {QStringLiteral("sendsReleased"), qint64(sendsReleased)},
        {QStringLiteral("sendsUndelivered"), qint64(sendsUndelivered)},
        {QStringLiteral("poolWaits"), qint64(poolWaits)},
        {QStringLiteral("poolPeakInUse"), poolPeakInUse},
        {QStringLiteral("zeroCopySends"), qint64(zeroCopySends)},
        {QStringLiteral("copiedCompletions"), qint64(copiedCompletions)},
        {QStringLiteral("zeroCopyState"), zeroCopyState},
        {QStringLiteral("releaseLatencyMaxMs"), releaseLatencyMaxMs},
    };
    if (pace == QStringLiteral("flat-out"))
        json.insert(QStringLiteral("framesPerSecond"), framesPerSecond);
    if (writeWhileOut)
        json.insert(QStringLiteral("writesWhileOut"), qint64(writesWhileOut));
    if (!error.isEmpty())
        json.insert(QStringLiteral("error"), error);
    return json;
}

} // namespace FrameRing
