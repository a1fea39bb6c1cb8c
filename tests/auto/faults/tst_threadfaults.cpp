// SPDX-License-Identifier: MIT
// Faults where threads meet: a socket living in a worker thread is destroyed
// there with zero-copy frames in flight that the main thread still holds,
// and the worker thread ends soon after. Nothing may be freed early, and the
// descriptor and frames must not outlive the close for good.
#include "testutil.h"

#include <BlightTransport/blightserver.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <arpa/inet.h>
#include <atomic>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;

class tst_ThreadFaults : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void destroyedInWorkerWithBuffersPending_data();
    void destroyedInWorkerWithBuffersPending();
};

void tst_ThreadFaults::initTestCase()
{
    qRegisterMetaType<Message>();
}

void tst_ThreadFaults::destroyedInWorkerWithBuffersPending_data()
{
    QTest::addColumn<bool>("workerEnds");
    QTest::addRow("worker-keeps-running") << false;
    QTest::addRow("worker-ends-at-once") << true;
}

void tst_ThreadFaults::destroyedInWorkerWithBuffersPending()
{
    QFETCH(bool, workerEnds);
    BlightServer server;
    QVERIFY2(server.listen(QStringLiteral("tcp://127.0.0.1:0")), qPrintable(server.errorString()));
    QSignalSpy accepted(&server, &BlightServer::newConnection);
    // The peer: a plain TCP socket that reads nothing.
    const int peer = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    auto closePeer = qScopeGuard([peer] { ::close(peer); });
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(Endpoint::parse(server.endpoint()).port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    QCOMPARE(::connect(peer, reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
    QVERIFY(accepted.wait(5000));
    BlightSocket *socket = server.nextPendingConnection();
    QVERIFY(socket);
    socket->setParent(nullptr);
    socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    socket->setLingerTime(300);
    const int fd = socket->socketDescriptor();

    QThread worker;
    worker.start();
    socket->moveToThread(&worker);

    // The main thread builds the frames; the worker sends them and, with
    // them still pinned, destroys the socket.
    QList<QByteArray> frames;
    for (int i = 0; i < 6; ++i)
        frames.append(TestUtil::pattern(4 * 1024 * 1024, i));
    // An atomic, so that TSan sees the hand-back (Qt's own is not instrumented).
    std::atomic<qint64> pendingAtDestroy{-1};
    QMetaObject::invokeMethod(
        socket,
        [socket, &frames, &pendingAtDestroy] {
            for (int i = 0; i < frames.size(); ++i)
                socket->sendMessage(MessageType::Ack, quint32(i), frames.at(i));
            socket->flush();
            pendingAtDestroy.store(socket->pendingBuffers(), std::memory_order_release);
            delete socket;
        },
        Qt::BlockingQueuedConnection);
    QVERIFY2(pendingAtDestroy.load(std::memory_order_acquire) > 0, "nothing was in flight: the test proves nothing");
    // Destroyed, but the kernel still has the pages: the frames stay shared.
    const auto shared = [&frames] {
        return int(std::count_if(frames.cbegin(), frames.cend(), [](const QByteArray &f) { return !f.isDetached(); }));
    };
    QVERIFY(shared() > 0);
    QVERIFY(::fcntl(fd, F_GETFD) != -1);

    if (workerEnds) {
        worker.quit();
        QVERIFY(worker.wait(10000));
    }
    // Within the linger time (and a margin) the close completes: the
    // connection is torn down, the kernel reports every range, the frames
    // are the main thread's alone and the descriptor is closed.
    const bool closed = QTest::qWaitFor([&] { return shared() == 0 && ::fcntl(fd, F_GETFD) == -1; }, 5000);
    QVERIFY2(closed,
             qPrintable(
                 QStringLiteral("5 s after the destruction %1 of %2 frames are still held and descriptor %3 is %4")
                     .arg(shared())
                     .arg(frames.size())
                     .arg(fd)
                     .arg(::fcntl(fd, F_GETFD) == -1 ? QStringLiteral("closed") : QStringLiteral("still open"))));
    worker.quit();
    QVERIFY(worker.wait(10000));
}

QTEST_GUILESS_MAIN(tst_ThreadFaults)
#include "tst_threadfaults.moc"
