// SPDX-License-Identifier: MIT
// frame-ring: the receiving BlightSocket, which verifies and sums every frame.
#include "framering.h"

#include "workload.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QEventLoop>

using namespace Qt::StringLiterals;
using Blight::BlightBuffer;
using Blight::BlightSocket;

namespace Bench {

RingFrameReceiver::RingFrameReceiver(int fd, quint64 frames, bool fullCheck, bool expectShared)
    : FramesReceiverThread(fd, frames, fullCheck)
    , m_expectShared(expectShared)
{
}

void RingFrameReceiver::serve()
{
    QEventLoop loop;
    BlightSocket socket;
    // The socket pair closes the descriptor; abort() shuts it down.
    if (!socket.setSocketDescriptor(m_fd, BlightSocket::Ownership::Borrow)) {
        fail(u"receiver: BlightSocket::setSocketDescriptor: "_s + socket.errorString());
        return;
    }
    auto accept = [&](Blight::MessageType type, quint32 ackid, const char *data, qsizetype size) {
        if (type != Blight::MessageType::Ack || ackid != ackidFor(m_tally.frames())) {
            fail(u"receiver: frame %1 came as type %2, ackid %3"_s.arg(m_tally.frames()).arg(int(type)).arg(ackid));
            loop.quit();
            return false;
        }
        if (!m_tally.addFrame(data, size_t(size))) {
            loop.quit();
            return false;
        }
        noteProgress();
        return true;
    };
    auto wrongPath = [&](bool shared) {
        fail(u"receiver: frame %1 came %2"_s.arg(m_tally.frames())
                 .arg(shared ? u"in shared memory, expected a copy"_s : u"as a copy, expected shared memory"_s));
        loop.quit();
    };
    // Both producers meet the same receiver, on either link: only the
    // producer differs.
    socket.setSharedMemoryEnabled(true);
    QObject::connect(&socket, &BlightSocket::bufferReceived, &loop,
                     [&](Blight::MessageType type, quint32 ackid, const BlightBuffer &frame) {
                         if (!m_expectShared || !frame.isShared()) {
                             wrongPath(frame.isShared());
                             return;
                         }
                         if (accept(type, ackid, frame.constData(), frame.size()))
                             socket.releaseBuffer(frame); // summed: the sender may reuse it now
                     });
    QObject::connect(&socket, &BlightSocket::messageReceived, &loop, [&](const Blight::Message &message) {
        if (m_expectShared) {
            wrongPath(false);
            return;
        }
        accept(message.type(), message.ackid(), message.payload.constData(), message.payload.size());
    });
    QObject::connect(&socket, &BlightSocket::errorOccurred, &loop, [&](BlightSocket::Error, const QString &reason) {
        if (!m_tally.done())
            fail(u"receiver: BlightSocket: "_s + reason);
        loop.quit();
    });
    QObject::connect(&socket, &BlightSocket::disconnected, &loop, &QEventLoop::quit);
    loop.exec();
    m_statistics = socket.statistics();
}

} // namespace Bench
