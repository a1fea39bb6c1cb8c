// SPDX-License-Identifier: MIT
// Faults where threads meet, on both zero-copy backends: a socket living in a
// worker thread is destroyed there with zero-copy frames in flight that the
// main thread still holds, and the worker thread ends soon after; a socket
// moves to a worker with sends in flight and carries on there. Nothing may
// be freed early or lost, and the descriptor and frames must not outlive the
// close for good.
#include "testutil.h"

#include <BlightTransport/blightserver.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <arpa/inet.h>
#include <atomic>
#include <functional>
#include <fcntl.h>
#include <netinet/in.h>
#include <semaphore>
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
    void movedWithSendsInFlight_data();
    void movedWithSendsInFlight();
};

namespace {

using Backend = BlightSocket::ZeroCopyBackend;

void addBackendRows(const char *suffix, const std::function<void(QTestData &)> &more = {})
{
    for (const auto &[name, backend] :
         {std::pair{"msg_zerocopy", Backend::MsgZeroCopy}, std::pair{"io_uring", Backend::IoUring}}) {
        QTestData &row = QTest::addRow("%s%s", name, suffix) << backend;
        if (more)
            more(row);
    }
}

// Runs \a work in \a context's thread and waits until it has run. Both
// hand-overs go through std::binary_semaphore, which TSan sees. Qt's own
// (the event queue, Qt::BlockingQueuedConnection's semaphore) it does not
// see, Qt not being instrumented, so the worker's use of what this thread
// wrote on its stack, and this thread's later reuse of that stack, looked
// like races.
void runInThreadOf(QObject *context, const std::function<void()> &work)
{
    std::binary_semaphore posted{0};
    std::binary_semaphore done{0};
    QMetaObject::invokeMethod(
        context,
        [&work, &posted, &done] {
            posted.acquire();
            work();
            done.release();
        },
        Qt::QueuedConnection);
    posted.release();
    done.acquire();
}

} // namespace

void tst_ThreadFaults::initTestCase()
{
    qRegisterMetaType<Message>();
}

void tst_ThreadFaults::destroyedInWorkerWithBuffersPending_data()
{
    QTest::addColumn<Backend>("backend");
    QTest::addColumn<bool>("workerEnds");
    addBackendRows("-worker-keeps-running", [](QTestData &row) { row << false; });
    addBackendRows("-worker-ends-at-once", [](QTestData &row) { row << true; });
}

void tst_ThreadFaults::destroyedInWorkerWithBuffersPending()
{
    QFETCH(Backend, backend);
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
    if (const QString why = TestUtil::useZeroCopyBackend(*socket, backend); !why.isEmpty()) {
        delete socket;
        QSKIP(qPrintable(why));
    }
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
    // runInThreadOf() orders the worker's write before this thread's read.
    qint64 pendingAtDestroy = -1;
    runInThreadOf(socket, [socket, &frames, &pendingAtDestroy] {
        for (int i = 0; i < frames.size(); ++i)
            socket->sendMessage(MessageType::Ack, quint32(i), frames.at(i));
        socket->flush();
        pendingAtDestroy = socket->pendingBuffers();
        delete socket;
    });
    QVERIFY2(pendingAtDestroy > 0, "nothing was in flight: the test proves nothing");
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

void tst_ThreadFaults::movedWithSendsInFlight_data()
{
    QTest::addColumn<Backend>("backend");
    addBackendRows("");
}

void tst_ThreadFaults::movedWithSendsInFlight()
{
    // The socket moves to a worker while the kernel holds some of its sends
    // and others wait in its queue; the worker sends more. Every frame
    // arrives once and in order, every send is released in the new thread,
    // and the backend (io_uring's ring and its registrations) moves along.
    QFETCH(Backend, backend);
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("tcp4"));
    QVERIFY(pair.ok);
    BlightSocket *socket = pair.a.release(); // no parent: it may move
    auto deleteSocket = qScopeGuard([socket] { delete socket; });
    socket->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    if (const QString why = TestUtil::useZeroCopyBackend(*socket, backend); !why.isEmpty())
        QSKIP(qPrintable(why));
    pair.b->setReadingPaused(true);
    QList<QByteArray> received;
    connect(pair.b.get(), &BlightSocket::messageReceived, this,
            [&received](const Message &m) { received.append(m.payload); });

    // Counted in whichever thread emits, read here: atomics, so that TSan
    // sees the hand-over (Qt's own synchronisation is not instrumented).
    QThread worker;
    std::atomic<quint64> released{0};
    std::atomic<int> wrongThread{0};
    std::atomic<QThread *> owner{QThread::currentThread()};
    connect(
        socket, &BlightSocket::sendsReleased, socket,
        [&](const QList<SendIdRange> &ranges) {
            if (QThread::currentThread() != owner.load())
                wrongThread.fetch_add(1);
            for (const SendIdRange &range : ranges)
                released.fetch_add(range.count());
        },
        Qt::DirectConnection);
    constexpr int Frames = 6;
    QList<QByteArray> frames;
    for (int i = 0; i < 2 * Frames; ++i)
        frames.append(TestUtil::pattern(4 * 1024 * 1024, i + 20));
    for (int i = 0; i < Frames; ++i)
        QCOMPARE(socket->sendMessage(MessageType::Ack, quint32(i), frames.at(i)), quint64(i) + 1);
    socket->flush();
    QVERIFY2(socket->pendingBuffers() > 0, "nothing was in flight at the move: the test proves nothing");

    // Nothing runs in this thread's event loop between these lines. The
    // worker starts after the move, so that what the move did here (the
    // socket's ThreadChange) is ordered before the worker's first event for
    // TSan too (pthread_create), not only by Qt's own, uninstrumented locks.
    deleteSocket.dismiss(); // the worker deletes it
    owner.store(&worker);
    socket->moveToThread(&worker);
    worker.start();
    auto stopWorker = qScopeGuard([&worker] {
        worker.quit();
        worker.wait(10000);
    });
    runInThreadOf(socket, [&frames, socket] {
        for (int i = Frames; i < 2 * Frames; ++i)
            socket->sendMessage(MessageType::Ack, quint32(i), frames.at(i));
    });
    pair.b->setReadingPaused(false);
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), 2 * Frames, 20000);
    for (int i = 0; i < 2 * Frames; ++i)
        QVERIFY2(received.at(i) == frames.at(i), qPrintable(QStringLiteral("frame %1 differs").arg(i)));
    QTRY_COMPARE_WITH_TIMEOUT(released.load(), quint64(2 * Frames), 10000);
    QCOMPARE(wrongThread.load(), 0);

    int after = -1;
    qint64 pendingAfter = -1;
    quint64 zeroCopySends = 0;
    quint64 releasedBuffers = 0;
    runInThreadOf(socket, [&, socket] {
        after = int(socket->activeZeroCopyBackend());
        pendingAfter = socket->pendingBuffers();
        zeroCopySends = socket->statistics().zeroCopySends;
        releasedBuffers = socket->statistics().releasedBuffers;
        delete socket;
    });
    QCOMPARE(Backend(after), backend);
    QCOMPARE(pendingAfter, 0);
    QVERIFY(zeroCopySends > 0);
    QCOMPARE(releasedBuffers, zeroCopySends);
    for (const QByteArray &frame : std::as_const(frames))
        QVERIFY(frame.isDetached());
}

QTEST_GUILESS_MAIN(tst_ThreadFaults)
#include "tst_threadfaults.moc"
