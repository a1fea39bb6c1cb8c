// SPDX-License-Identifier: MIT
// BlightBuffer and BlightBufferPool without sockets: layout, sharing and
// detaching, returns, statistics, foreign memory, allocators and threads.
#include <BlightTransport/blightbufferpool.h>

#include <QtCore/QSemaphore>
#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <atomic>

#include <unistd.h>

using namespace Blight;

namespace {

quintptr pageSize()
{
    return quintptr(::sysconf(_SC_PAGESIZE));
}

// Counts what the pool asks of it; the memory comes from the heap.
class CountingAllocator : public BlightBufferAllocator
{
public:
    explicit CountingAllocator(std::atomic<int> *live)
        : m_live(live)
    {
    }
    void *allocate(qsizetype bytes) override
    {
        ++*m_live;
        return std::aligned_alloc(size_t(pageSize()), size_t(bytes));
    }
    void deallocate(void *memory, qsizetype) override
    {
        --*m_live;
        std::free(memory);
    }

private:
    std::atomic<int> *m_live;
};

class FailingAllocator : public BlightBufferAllocator
{
public:
    void *allocate(qsizetype) override { return nullptr; }
    void deallocate(void *, qsizetype) override { QFAIL("deallocate() without allocate()"); }
};

} // namespace

class FrameSender : public QObject
{
    Q_OBJECT
Q_SIGNALS:
    void frame(const Blight::BlightBuffer &buffer);
};

class tst_BufferPool : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nullBuffer();
    void poolLayout_data();
    void poolLayout();
    void acquireUntilEmpty();
    void returnComesBackAndSignals();
    void copiesShareAndDetach();
    void detachedWriteLeavesThePool();
    void setSizeWithinCapacity();
    void foreignReleaseOnce();
    void toByteArrayIsAView();
    void poolDestroyedWhileBufferOut();
    void failingAllocatorGivesInvalidPool();
    void deleteFromBufferAvailable();
    void producerInAnotherThread();
    void metatypeCrossesThreads();
};

void tst_BufferPool::nullBuffer()
{
    BlightBuffer buffer;
    QVERIFY(buffer.isNull());
    QCOMPARE(buffer.size(), qsizetype(0));
    QVERIFY(buffer.data() == nullptr);
    QVERIFY(buffer.toByteArray().isNull());
    QVERIFY(!buffer.isPooled());
}

void tst_BufferPool::poolLayout_data()
{
    QTest::addColumn<int>("count");
    QTest::addColumn<qsizetype>("size");
    QTest::newRow("one byte") << 2 << qsizetype(1);
    QTest::newRow("one page") << 3 << qsizetype(pageSize());
    QTest::newRow("a 1404x1872 RGB32 frame") << 3 << qsizetype(1404 * 1872 * 4);
}

void tst_BufferPool::poolLayout()
{
    QFETCH(int, count);
    QFETCH(qsizetype, size);
    BlightBufferPool pool(count, size);
    QVERIFY(pool.isValid());
    QCOMPARE(pool.count(), count);
    QList<BlightBuffer> out;
    for (int i = 0; i < count; ++i) {
        BlightBuffer buffer = pool.acquire();
        QVERIFY(!buffer.isNull());
        QCOMPARE(buffer.size(), size);
        QCOMPARE(buffer.capacity(), size);
        QVERIFY(buffer.isPooled() && buffer.isWritable() && buffer.isDetached());
        QVERIFY(buffer.headerRoom() >= 16);
        // Page-aligned payload, header room in front of it, all in the pool.
        QCOMPARE(quintptr(buffer.constData()) % pageSize(), quintptr(0));
        QVERIFY(pool.contains(buffer.constData()));
        QVERIFY(pool.contains(buffer.constData() - buffer.headerRoom()));
        QVERIFY(pool.contains(buffer.constData() + size - 1));
        // Writable, end to end, without overlapping another buffer.
        std::memset(buffer.data(), 'a' + i, size_t(size));
        for (const BlightBuffer &other : std::as_const(out))
            QVERIFY(buffer.constData() + size <= other.constData() - other.headerRoom()
                    || other.constData() + size <= buffer.constData() - buffer.headerRoom());
        out.append(buffer);
    }
    for (int i = 0; i < count; ++i)
        QCOMPARE(out.at(i).constData()[size - 1], char('a' + i));
}

void tst_BufferPool::acquireUntilEmpty()
{
    BlightBufferPool pool(2, 4096);
    QCOMPARE(pool.available(), 2);
    BlightBuffer a = pool.acquire();
    BlightBuffer b = pool.acquire();
    QCOMPARE(pool.available(), 0);
    QCOMPARE(pool.inUse(), 2);
    QCOMPARE(pool.peakInUse(), 2);
    QCOMPARE(pool.waitingAcquires(), quint64(0));
    QVERIFY(pool.acquire().isNull());
    QVERIFY(pool.acquire().isNull());
    QCOMPARE(pool.waitingAcquires(), quint64(2));
    QVERIFY(a.constData() != b.constData());
}

void tst_BufferPool::returnComesBackAndSignals()
{
    BlightBufferPool pool(1, 4096);
    QSignalSpy available(&pool, &BlightBufferPool::bufferAvailable);
    const char *where = nullptr;
    {
        BlightBuffer buffer = pool.acquire();
        where = buffer.constData();
        BlightBuffer copy = buffer; // a send's handle, say
        buffer = BlightBuffer();
        QCOMPARE(pool.available(), 0); // the copy still holds it
    }
    QCOMPARE(pool.available(), 1); // back at once, through the shared state
    QVERIFY(available.isEmpty());  // told from the event loop, not inside the drop
    QVERIFY(available.wait(2000));
    QCOMPARE(available.size(), 1);
    BlightBuffer again = pool.acquire();
    QCOMPARE(again.constData(), where);
    QCOMPARE(pool.peakInUse(), 1);
}

void tst_BufferPool::copiesShareAndDetach()
{
    BlightBufferPool pool(1, 64);
    BlightBuffer buffer = pool.acquire();
    std::memset(buffer.data(), 'x', 64);
    const BlightBuffer held = buffer; // a send in flight
    QVERIFY(!buffer.isDetached());
    QCOMPARE(held.constData(), buffer.constData());
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("still holds: copying 64 bytes")));
    char *written = buffer.data(); // copies: the held bytes must not change
    written[0] = 'y';
    QVERIFY(written != held.constData());
    QCOMPARE(held.constData()[0], 'x');
    QCOMPARE(buffer.constData()[1], 'x');
    QVERIFY(buffer.isDetached() && held.isDetached());
}

void tst_BufferPool::detachedWriteLeavesThePool()
{
    // What the frame-ring example checks: a write into a buffer still out
    // lands outside the pool, visible to a check on the address.
    BlightBufferPool pool(1, 4096);
    BlightBuffer buffer = pool.acquire();
    const BlightBuffer held = buffer;
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("copying")));
    buffer.data()[0] = 1;
    QVERIFY(!buffer.isPooled());
    QVERIFY(!pool.contains(buffer.constData()));
    QCOMPARE(quintptr(buffer.constData()) % pageSize(), quintptr(0));
    QCOMPARE(buffer.headerRoom(), held.headerRoom());
}

void tst_BufferPool::setSizeWithinCapacity()
{
    BlightBuffer buffer = BlightBuffer::allocate(100);
    QVERIFY(!buffer.isNull());
    QCOMPARE(buffer.size(), qsizetype(100));
    buffer.setSize(10);
    QCOMPARE(buffer.size(), qsizetype(10));
    buffer.setSize(1000);
    QCOMPARE(buffer.size(), qsizetype(100));
    buffer.setSize(-1);
    QCOMPARE(buffer.size(), qsizetype(0));
    QCOMPARE(quintptr(buffer.constData()) % pageSize(), quintptr(0));
}

void tst_BufferPool::foreignReleaseOnce()
{
    static const char bytes[] = "caller's memory";
    int released = 0;
    {
        BlightBuffer buffer = BlightBuffer::fromForeign(bytes, qsizetype(sizeof(bytes)), [&released] { ++released; });
        QVERIFY(!buffer.isWritable());
        QCOMPARE(buffer.constData(), bytes);
        QCOMPARE(buffer.headerRoom(), qsizetype(0));
        BlightBuffer copy = buffer;
        buffer = BlightBuffer();
        QCOMPARE(released, 0);
        BlightBuffer moved = std::move(copy);
        QCOMPARE(released, 0);
    }
    QCOMPARE(released, 1);
    // Writing detaches into a buffer of its own: the caller's bytes stay.
    BlightBuffer buffer = BlightBuffer::fromForeign(bytes, 4, [&released] { ++released; });
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("foreign memory")));
    buffer.data()[0] = 'C';
    QCOMPARE(released, 2);
    QCOMPARE(bytes[0], 'c');
    QCOMPARE(buffer.constData()[0], 'C');
}

void tst_BufferPool::toByteArrayIsAView()
{
    BlightBufferPool pool(1, 32);
    BlightBuffer buffer = pool.acquire();
    std::memset(buffer.data(), 'v', 32);
    const QByteArray view = buffer.toByteArray();
    QCOMPARE(view.constData(), buffer.constData());
    QCOMPARE(view, QByteArray(32, 'v'));
    QVERIFY(buffer.isDetached()); // a view is not a handle
}

void tst_BufferPool::poolDestroyedWhileBufferOut()
{
    std::atomic<int> live{0};
    BlightBuffer survivor;
    {
        BlightBufferPool pool(2, 4096, std::make_unique<CountingAllocator>(&live));
        QCOMPARE(live.load(), 1);
        survivor = pool.acquire();
        std::memset(survivor.data(), 's', 4096);
    }
    QCOMPARE(live.load(), 1); // still mapped: a buffer is out
    QCOMPARE(survivor.constData()[4095], 's');
    survivor = BlightBuffer();
    QCOMPARE(live.load(), 0);
}

void tst_BufferPool::failingAllocatorGivesInvalidPool()
{
    BlightBufferPool pool(3, 4096, std::make_unique<FailingAllocator>());
    QVERIFY(!pool.isValid());
    QCOMPARE(pool.count(), 0);
    QVERIFY(pool.acquire().isNull());
    QCOMPARE(pool.available(), 0);
}

void tst_BufferPool::deleteFromBufferAvailable()
{
    auto *pool = new BlightBufferPool(1, 64);
    QPointer<BlightBufferPool> watch(pool);
    QObject::connect(pool, &BlightBufferPool::availableChanged, pool, [pool] { delete pool; });
    pool->acquire(); // dropped at once: a return is posted
    QTRY_VERIFY(watch.isNull());
}

void tst_BufferPool::producerInAnotherThread()
{
    // A producer thread acquires and fills, this thread drops (as a socket
    // would after the kernel let go); the pool never hands out a buffer
    // twice, and the bytes a consumer sees are the producer's.
    BlightBufferPool pool(3, 64 * 1024);
    constexpr int Frames = 300;
    QSemaphore ready;
    QSemaphore returned; // the consumer dropped a buffer
    QList<BlightBuffer> handedOver;
    QMutex lock;
    std::atomic<int> waits{0};
    QThread *producer = QThread::create([&] {
        for (int frame = 0; frame < Frames;) {
            BlightBuffer buffer = pool.acquire();
            if (buffer.isNull()) {
                ++waits;
                if (!returned.tryAcquire(1, 10000))
                    return; // the consumer stopped: it reports the failure
                continue;
            }
            std::memset(buffer.data(), frame & 0xff, size_t(buffer.size()));
            QMutexLocker locker(&lock);
            handedOver.append(std::move(buffer));
            ready.release();
            ++frame;
        }
    });
    producer->start();
    for (int frame = 0; frame < Frames; ++frame) {
        QVERIFY(ready.tryAcquire(1, 10000));
        BlightBuffer buffer;
        {
            QMutexLocker locker(&lock);
            buffer = handedOver.takeFirst();
        }
        QCOMPARE(uchar(buffer.constData()[0]), uchar(frame & 0xff));
        QCOMPARE(uchar(buffer.constData()[buffer.size() - 1]), uchar(frame & 0xff));
        buffer = BlightBuffer();
        returned.release();
    }
    QVERIFY(producer->wait(10000));
    delete producer;
    QCOMPARE(pool.available(), 3);
    QVERIFY(pool.peakInUse() <= 3);
}

void tst_BufferPool::metatypeCrossesThreads()
{
    QVERIFY(QMetaType::fromType<BlightBuffer>().isValid());
    BlightBufferPool pool(1, 128);
    QThread worker;
    QObject receiver;
    receiver.moveToThread(&worker);
    worker.start();
    std::atomic<const char *> seen{nullptr};
    FrameSender sender;
    // A queued signal argument: copied through the metatype, dropped there.
    QObject::connect(
        &sender, &FrameSender::frame, &receiver, [&seen](const BlightBuffer &held) { seen = held.constData(); },
        Qt::QueuedConnection);
    BlightBuffer buffer = pool.acquire();
    const char *where = buffer.constData();
    Q_EMIT sender.frame(buffer);
    buffer = BlightBuffer();
    QTRY_COMPARE(seen.load(), where);
    QTRY_COMPARE(pool.available(), 1); // the queued copy was dropped in the worker
    worker.quit();
    QVERIFY(worker.wait(5000));
}

QTEST_MAIN(tst_BufferPool)
#include "tst_bufferpool.moc"
