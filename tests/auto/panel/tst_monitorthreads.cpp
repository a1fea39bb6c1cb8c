// SPDX-License-Identifier: MIT
// TransportMonitor in the GUI thread watching sockets that live in a worker
// thread: snapshots and controls cross threads only by queued calls (run under TSan).
#include "transportmonitor.h"

#include "rawsockets.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <future>
#include <memory>
#include <mutex>

using Blight::BlightSocket;
using Blight::TransportMonitor;

namespace {

// Owns the socket pair; every call on it runs in the worker thread.
class Worker : public QObject
{
public:
    BlightSocket *sender = nullptr;
    BlightSocket *receiver = nullptr;
    QString error;

    bool makePair(bool tcp)
    {
        RawSockets::UniqueFd a;
        RawSockets::UniqueFd b;
        if (!(tcp ? RawSockets::tcpPair(&a, &b) : RawSockets::unixPair(&a, &b))) {
            error = QStringLiteral("cannot make a socket pair");
            return false;
        }
        sender = new BlightSocket(BlightSocket::Mode::Messages, this);
        receiver = new BlightSocket(BlightSocket::Mode::Messages, this);
        if (tcp) {
            sender->setZeroCopyThreshold(4096);
            sender->setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
        }
        if (!sender->setSocketDescriptor(a.release()) || !receiver->setSocketDescriptor(b.release())) {
            error = sender->errorString() + receiver->errorString();
            return false;
        }
        return true;
    }

    bool send(int count, int size)
    {
        for (int i = 0; i < count; ++i) {
            if (!sender->sendMessage(Blight::MessageType::Ack, quint32(i + 1), QByteArray(size, 'x')))
                return false;
        }
        return true;
    }
};

} // namespace

class tst_MonitorThreads : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void snapshotsComeFromTheSocketsThread_data();
    void snapshotsComeFromTheSocketsThread();
    void controlsRunInTheSocketsThread();
    void socketDestroyedInItsThread();
    void monitorDestroyedWhileTheSocketWorks();

private:
    // Runs \a call in the worker thread and waits for it: the test's own way to
    // look at the sockets. Qt's event queue lock and semaphore are invisible to
    // ThreadSanitizer, so the hand-over goes through a std::mutex and a
    // std::future, which it sees.
    template<typename Call> auto inWorker(Call call)
    {
        using Result = decltype(call());
        auto promise = std::make_shared<std::promise<Result>>();
        std::future<Result> result = promise->get_future();
        {
            const std::lock_guard lock(m_handOver);
            QMetaObject::invokeMethod(
                m_worker,
                [this, promise, call] {
                    {
                        const std::lock_guard posted(m_handOver);
                    }
                    promise->set_value(call());
                },
                Qt::QueuedConnection);
        }
        return result.get();
    }

    QThread m_thread;
    Worker *m_worker = nullptr;
    std::mutex m_handOver;
};

void tst_MonitorThreads::init()
{
    m_worker = new Worker;
    m_worker->moveToThread(&m_thread);
    m_thread.start();
}

void tst_MonitorThreads::cleanup()
{
    // The sockets, and with them the probes, go in their own thread as it ends.
    std::exchange(m_worker, nullptr)->deleteLater();
    m_thread.quit();
    QVERIFY(m_thread.wait(10000));
}

void tst_MonitorThreads::snapshotsComeFromTheSocketsThread_data()
{
    QTest::addColumn<bool>("tcp");
    QTest::addRow("unix-copy-path") << false;
    QTest::addRow("tcp-zero-copy") << true;
}

void tst_MonitorThreads::snapshotsComeFromTheSocketsThread()
{
    QFETCH(bool, tcp);
    QVERIFY2(inWorker([this, tcp] { return m_worker->makePair(tcp); }), qPrintable(m_worker->error));

    TransportMonitor monitor;
    monitor.setInterval(20);
    monitor.setSocket(m_worker->sender);
    // Across threads the first snapshot is posted back, not read on the spot.
    QCOMPARE(monitor.samples(), 0);
    QCOMPARE(monitor.connectionState(), QStringLiteral("unconnected"));
    QTRY_COMPARE(monitor.connectionState(), QStringLiteral("connected"));
    QVERIFY(monitor.samples() >= 1);
    QVERIFY(!monitor.endpoint().isEmpty());

    QSignalSpy sampled(&monitor, &TransportMonitor::sampled);
    const int before = monitor.samples();
    monitor.sample();
    QCOMPARE(monitor.samples(), before); // queued: nothing yet
    QVERIFY(sampled.wait());

    QVERIFY(inWorker([this, tcp] { return m_worker->send(tcp ? 6 : 100, tcp ? 64 * 1024 : 500); }));
    QTRY_COMPARE(monitor.messagesSent(), tcp ? 6.0 : 100.0);
    QVERIFY(monitor.bytesSent() > 0);
    if (tcp) {
        QTRY_VERIFY(monitor.rangesSeen() >= 1);
        QCOMPARE(monitor.rangeLog()->count(), int(monitor.rangesSeen()));
        QTRY_COMPARE(monitor.badgeText(), QStringLiteral("KERNEL COPIED"));
    } else {
        QCOMPARE(monitor.badgeText(), QStringLiteral("COPY PATH: AF_UNIX"));
    }
    QVERIFY(monitor.eventLog()->count() >= 1);
    QCOMPARE(monitor.eventLog()->get(monitor.eventLog()->count() - 1).value(QStringLiteral("text")).toString(),
             QStringLiteral("watching: connected"));
}

void tst_MonitorThreads::controlsRunInTheSocketsThread()
{
    QVERIFY2(inWorker([this] { return m_worker->makePair(true); }), qPrintable(m_worker->error));
    TransportMonitor senderMonitor;
    TransportMonitor receiverMonitor;
    senderMonitor.setSocket(m_worker->sender);
    receiverMonitor.setSocket(m_worker->receiver);
    QTRY_COMPARE(senderMonitor.zeroCopyMode(), QStringLiteral("on"));

    receiverMonitor.requestReadingPaused(true);
    QTRY_VERIFY(receiverMonitor.readingPaused());
    QVERIFY(inWorker([this] { return m_worker->receiver->isReadingPaused(); }));
    receiverMonitor.requestReadingPaused(false);
    QTRY_VERIFY(!receiverMonitor.readingPaused());

    senderMonitor.requestZeroCopyMode(QStringLiteral("off"));
    QTRY_COMPARE(senderMonitor.zeroCopyMode(), QStringLiteral("off"));
    QCOMPARE(inWorker([this] { return int(m_worker->sender->zeroCopyMode()); }), int(BlightSocket::ZeroCopyMode::Off));
    QTRY_COMPARE(senderMonitor.badgeText(), QStringLiteral("COPY PATH: ZERO-COPY OFF"));

    QVERIFY(inWorker([this] { return m_worker->send(20, 100); }));
    QTRY_COMPARE(senderMonitor.messagesSent(), 20.0);
    senderMonitor.resetStatistics();
    QTRY_COMPARE(senderMonitor.messagesSent(), 0.0);
    QCOMPARE(inWorker([this] { return m_worker->sender->messagesSent(); }), quint64(0));
}

void tst_MonitorThreads::socketDestroyedInItsThread()
{
    QVERIFY2(inWorker([this] { return m_worker->makePair(false); }), qPrintable(m_worker->error));
    TransportMonitor monitor;
    monitor.setInterval(10);
    monitor.setSocket(m_worker->sender);
    QTRY_COMPARE(monitor.connectionState(), QStringLiteral("connected"));
    QVERIFY(inWorker([this] {
        delete std::exchange(m_worker->sender, nullptr);
        return true;
    }));
    QTRY_COMPARE(monitor.zeroCopyState(), TransportMonitor::ZeroCopyState::NoSocket);
    QCOMPARE(monitor.socket(), nullptr);
    QCOMPARE(monitor.badgeText(), QStringLiteral("NO SOCKET"));
}

void tst_MonitorThreads::monitorDestroyedWhileTheSocketWorks()
{
    QVERIFY2(inWorker([this] { return m_worker->makePair(true); }), qPrintable(m_worker->error));
    for (int round = 0; round < 5; ++round) {
        auto monitor = std::make_unique<TransportMonitor>();
        monitor->setInterval(10);
        monitor->setSocket(m_worker->sender);
        QVERIFY(inWorker([this] { return m_worker->send(4, 32 * 1024); }));
        QTRY_VERIFY(monitor->messagesSent() >= 4.0 * (round + 1));
        // Gone while completions and snapshots may still be on their way.
        monitor.reset();
    }
    QTRY_COMPARE(inWorker([this] { return m_worker->sender->pendingBuffers(); }), qint64(0));
}

QTEST_GUILESS_MAIN(tst_MonitorThreads)
#include "tst_monitorthreads.moc"
