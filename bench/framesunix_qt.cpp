// SPDX-License-Identifier: MIT
// frames-unix with QLocalSocket on both ends, as a Qt user would stream
// frames over a socketpair: write() per frame, readyRead and read() in 1 MiB.
#include "framesunix.h"

#include "contenders.h"
#include "workload.h"

#include <QtCore/QEventLoop>
#include <QtNetwork/QLocalSocket>

#include <fcntl.h>
#include <unistd.h>

#include <vector>

using namespace Qt::StringLiterals;
using Blight::BlightBuffer;
using Blight::BlightBufferPool;

namespace Bench {

namespace {

class QLocalSocketFrameReceiver : public FramesReceiverThread
{
public:
    QLocalSocketFrameReceiver(int fd, quint64 frames, bool fullCheck)
        : FramesReceiverThread(fd, frames, fullCheck)
    {
    }

protected:
    void serve() override
    {
        // QLocalSocket closes what it adopts; the socket pair keeps its own end.
        const int fd = ::fcntl(m_fd, F_DUPFD_CLOEXEC, 0);
        if (fd < 0) {
            fail(u"receiver: dup: "_s + errnoText(errno));
            return;
        }
        QEventLoop loop;
        QLocalSocket socket;
        if (!socket.setSocketDescriptor(fd, QLocalSocket::ConnectedState, QIODevice::ReadOnly)) {
            ::close(fd);
            fail(u"receiver: QLocalSocket::setSocketDescriptor: "_s + socket.errorString());
            return;
        }
        std::vector<char> buffer(1024 * 1024);
        QObject::connect(&socket, &QLocalSocket::readyRead, &loop, [&] {
            while (socket.bytesAvailable() > 0) {
                const qint64 n = socket.read(buffer.data(), qint64(buffer.size()));
                if (n <= 0 || !m_tally.addPiece(buffer.data(), size_t(n))) {
                    loop.quit();
                    return;
                }
                if (noteProgress()) {
                    loop.quit();
                    return;
                }
            }
        });
        QObject::connect(&socket, &QLocalSocket::disconnected, &loop, &QEventLoop::quit);
        QObject::connect(&socket, &QLocalSocket::errorOccurred, &loop, [&] {
            if (!m_tally.done())
                fail(u"receiver: QLocalSocket: "_s + socket.errorString());
            loop.quit();
        });
        loop.exec();
        socket.abort();
    }
};

} // namespace

Sample runFramesUnixQLocalSocket(const RunRequest &request)
{
    Sample s;
    SocketPair pair;
    if (!pair.valid()) {
        s.error = pair.error;
        return s;
    }
    const std::unique_ptr<BlightBufferPool> pool = makeFramePool(PoolMemory::Anonymous, &s.error);
    if (!pool)
        return s;
    QLocalSocketFrameReceiver receiver(pair.receiver, request.count, request.warmup);
    QLocalSocket socket;
    if (!socket.setSocketDescriptor(pair.sender, QLocalSocket::ConnectedState, QIODevice::ReadWrite)) {
        s.error = u"QLocalSocket::setSocketDescriptor: "_s + socket.errorString();
        return s;
    }
    pair.releaseSender();

    EventLoopRun run;
    BufferRotation rotation(*pool);
    quint64 frame = 0;
    auto pump = [&] {
        // write() copies into QLocalSocket's buffer, so the pool buffer is
        // free again at once (the rotation still goes through all of them);
        // the queue stays bounded as for QTcpSocket.
        while (frame < request.count && socket.bytesToWrite() < FrameQueueBound) {
            const BlightBuffer buffer = rotation.next(frame);
            if (buffer.isNull()) {
                run.fail(u"the pool had no buffer for frame %1"_s.arg(frame));
                return;
            }
            if (socket.write(buffer.constData(), buffer.size()) != buffer.size()) {
                run.fail(u"QLocalSocket::write: "_s + socket.errorString());
                return;
            }
            ++frame;
        }
    };
    QObject::connect(&socket, &QLocalSocket::bytesWritten, run.context(), pump);
    QObject::connect(&socket, &QLocalSocket::errorOccurred, run.context(),
                     [&] { run.fail(u"QLocalSocket: "_s + socket.errorString()); });

    runUntilReceived(&s, run, receiver, pump, request);
    addFrameFigures(&s, receiver);
    socket.abort();
    return s;
}

} // namespace Bench
