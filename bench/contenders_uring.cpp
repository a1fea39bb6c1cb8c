// SPDX-License-Identifier: MIT
// What the transport-uring contenders add to the transport's own: io_uring
// asked for and checked before the first send, the pool region registered
// outside the timed part, and afterwards how much of it the ring took.
#include "contenders.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QRegularExpression>

#include <chrono>

using namespace Qt::StringLiterals;
using Blight::BlightSocket;

namespace Bench {

QString requireUring(BlightSocket &socket)
{
    socket.setZeroCopyBackend(BlightSocket::ZeroCopyBackend::IoUring);
    // Before the first send this is the probe's verdict for this socket.
    if (socket.activeZeroCopyBackend() != BlightSocket::ZeroCopyBackend::IoUring)
        return u"io_uring not available here: "_s + socket.zeroCopyReason();
    return QString();
}

bool primeUring(BlightSocket &socket, const Blight::BlightBuffer &frame, Sample *sample)
{
    const auto start = std::chrono::steady_clock::now();
    if (!socket.sendRawBuffer(frame)) {
        sample->error = u"priming send refused: %1"_s.arg(int(socket.lastSendError()));
        return false;
    }
    EventLoopRun prime(10000);
    auto check = [&] {
        if (socket.queuedBytes() == 0 && socket.pendingBuffers() == 0)
            prime.quit();
    };
    QObject::connect(&socket, &BlightSocket::buffersReleased, prime.context(), check);
    QObject::connect(&socket, &BlightSocket::sendQueueEmpty, prime.context(), check);
    QObject::connect(&socket, &BlightSocket::errorOccurred, prime.context(),
                     [&](BlightSocket::Error, const QString &reason) { prime.fail(u"BlightSocket: "_s + reason); });
    prime.post(check);
    if (!prime.exec() || socket.pendingBuffers() != 0) {
        sample->error = u"priming send never released: "_s + (prime.failed() ? prime.error() : u"timed out"_s);
        return false;
    }
    sample->extra[u"uring_setup_ms"_s]
        = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return true;
}

void recordUring(Sample *sample, const BlightSocket &socket)
{
    const QString reason = socket.zeroCopyReason();
    sample->note = reason;
    QString error;
    if (socket.activeZeroCopyBackend() != BlightSocket::ZeroCopyBackend::IoUring) {
        error = u"the socket left io_uring: "_s + reason;
    } else {
        // The socket says "N of M pool buffers registered: why" once it
        // tried to register the region of the first pool buffer it sent.
        static const QRegularExpression registration(u"(\\d+) of (\\d+) pool buffers registered"_s);
        const QRegularExpressionMatch match = registration.match(reason);
        if (!match.hasMatch()) {
            error = u"no pool region registered with the ring: "_s + reason;
        } else {
            const double registered = match.captured(1).toDouble();
            const double requested = match.captured(2).toDouble();
            sample->extra[u"registered_buffers"_s] = registered;
            if (requested > 0)
                sample->extra[u"registered_pct"_s] = 100.0 * registered / requested;
            if (registered == 0)
                error = u"none of the pool's buffers registered, no fixed sends: "_s + reason;
        }
    }
    if (!error.isEmpty() && sample->error.isEmpty()) {
        sample->error = error;
        sample->ok = false;
    }
}

} // namespace Bench
