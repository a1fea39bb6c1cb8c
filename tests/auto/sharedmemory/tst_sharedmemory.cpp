// SPDX-License-Identifier: MIT
// tst_sharedmemory: two BlightSockets on an AF_UNIX socket pair moving frames
// through a shared pool: the agreement, frames in place, releases, the copy
// path for every case without agreement, back-pressure, and the end of a
// connection with frames out (retired regions, mappings that outlive the
// socket).
#include <BlightTransport/blightbufferpool.h>
#include <BlightTransport/blightsocket.h>

#include <testutil.h>

#include <QtCore/QThread>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <cstring>
#include <memory>
#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;

namespace {

constexpr qsizetype FrameSize = 1024 * 1024 + 123;

void fill(BlightBuffer &buffer, int seed)
{
    char *bytes = buffer.data();
    for (qsizetype i = 0; i < buffer.size(); ++i)
        bytes[i] = char((i * 13 + seed) % 251);
}

bool matches(const char *bytes, qsizetype size, int seed)
{
    for (qsizetype i = 0; i < size; ++i) {
        if (bytes[i] != char((i * 13 + seed) % 251))
            return false;
    }
    return true;
}

// Both ends of a socket pair, shared memory enabled on the chosen ends.
struct Link
{
    std::unique_ptr<BlightSocket> sender;
    std::unique_ptr<BlightSocket> receiver;
    bool ok = false;
};

Link makeLink(bool senderOn, bool receiverOn, BlightSocket::Mode mode = BlightSocket::Mode::Messages)
{
    Link link;
    link.sender = std::make_unique<BlightSocket>(mode);
    link.receiver = std::make_unique<BlightSocket>(mode);
    link.sender->setSharedMemoryEnabled(senderOn);
    link.receiver->setSharedMemoryEnabled(receiverOn);
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        return link;
    link.ok = link.sender->setSocketDescriptor(fds[0]) && link.receiver->setSocketDescriptor(fds[1]);
    return link;
}

// Collects bufferReceived() handles.
struct FrameSink
{
    QList<BlightBuffer> frames;
    QList<quint32> ackids;
    void attach(BlightSocket *socket)
    {
        QObject::connect(socket, &BlightSocket::bufferReceived, socket,
                         [this](MessageType, quint32 ackid, const BlightBuffer &frame) {
                             frames.append(frame);
                             ackids.append(ackid);
                         });
    }
};

// The ids sendsReleased() reported, and whether delivered.
struct ReleaseLog
{
    QMap<quint64, bool> ids;
    void attach(BlightSocket *socket)
    {
        QObject::connect(socket, &BlightSocket::sendsReleased, socket, [this](const QList<SendIdRange> &ranges) {
            for (const SendIdRange &range : ranges) {
                for (quint64 id = range.first; id <= range.last; ++id) {
                    QVERIFY2(!ids.contains(id), "an id reported twice");
                    ids.insert(id, range.delivered);
                }
            }
        });
    }
};

// Waits for both ends of \a link to agree, then attaches \a sink to the
// receiver and \a released to the sender (either may be null).
bool agree(Link &link, FrameSink *sink, ReleaseLog *released)
{
    if (!link.ok || !QTest::qWaitFor([&] {
            return link.sender->isSharedMemoryActive() && link.receiver->isSharedMemoryActive();
        }))
        return false;
    if (sink)
        sink->attach(link.receiver.get());
    if (released)
        released->attach(link.sender.get());
    return true;
}

// The start of every test of a close that waits for releases: both ends
// agreed, the sender's first frame out at the receiver (held in sink), the
// sender's errors and disconnection watched. Set up in place (the
// connections point into it).
struct FrameOut
{
    Link link = makeLink(true, true);
    FrameSink sink;
    ReleaseLog released;
    BlightBufferPool pool{2, 4096, BlightBufferPool::Backing::SharedMemory};
    std::unique_ptr<QSignalSpy> errors;
    std::unique_ptr<QSignalSpy> disconnected;
    quint64 id = 0;
    bool start(int lingerTime = -1)
    {
        if (!agree(link, &sink, &released))
            return false;
        if (lingerTime >= 0)
            link.sender->setLingerTime(lingerTime);
        errors = std::make_unique<QSignalSpy>(link.sender.get(), &BlightSocket::errorOccurred);
        disconnected = std::make_unique<QSignalSpy>(link.sender.get(), &BlightSocket::disconnected);
        id = link.sender->sendBuffer(MessageType::Ack, 1, pool.acquire());
        return id != 0 && QTest::qWaitFor([this] { return sink.frames.size() == 1; });
    }
};

} // namespace

class tst_SharedMemory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init() { m_descriptors = TestUtil::openDescriptors(); }
    void cleanup()
    {
        // Deferred deletions (notifiers) and posted releases first.
        QCoreApplication::sendPostedEvents(nullptr, QEvent::DeferredDelete);
        QCOMPARE(TestUtil::openDescriptors(), m_descriptors);
    }

    void agreement_data();
    void agreement();
    void framesCrossInPlace();
    void copyForMessageReceived();
    void explicitRelease();
    void poolRunsDry();
    void connectionEndRetiresRegion();
    void mappingOutlivesReceiver();
    void framesWhilePaused();
    void requestAnsweredWithFrame();
    void plainPoolAndArraysTakeCopyPath();
    void rawStreamHasNoSharedMemory();
    void peerMapLimitSendsCopies();
    void framesDroppedInAnotherThread();
    void enabledAfterThePeersOffer();
    void closeWaitsForReleases();
    void peerPoolDuringClose();
    void closeFromSlotTakesReadReleases();
    void closePastLingerRetires();
    void plainPeerClosesWithOfferUnread();
    void wireTowardsPlainPeer_data();
    void wireTowardsPlainPeer();

private:
    int m_descriptors = 0;
};

void tst_SharedMemory::agreement_data()
{
    QTest::addColumn<bool>("senderOn");
    QTest::addColumn<bool>("receiverOn");
    QTest::addColumn<QString>("senderReason"); // a part of zeroCopyReason()
    QTest::newRow("both") << true << true << QStringLiteral("peer agreed to shared memory");
    QTest::newRow("sender only") << true << false << QStringLiteral("has not offered shared memory");
    QTest::newRow("receiver only") << false << true << QStringLiteral("offered shared memory, which is off");
    QTest::newRow("neither") << false << false << QStringLiteral("AF_UNIX");
}

void tst_SharedMemory::agreement()
{
    // Frames go in shared memory exactly when both sides enabled it; the
    // bytes arrive the same either way, and the reason says which path.
    QFETCH(bool, senderOn);
    QFETCH(bool, receiverOn);
    QFETCH(QString, senderReason);
    Link link = makeLink(senderOn, receiverOn);
    QVERIFY(link.ok);
    QList<QByteArray> payloads;
    connect(link.receiver.get(), &BlightSocket::messageReceived, this,
            [&](const Message &message) { payloads.append(message.payload); });
    // A round trip: both offers (if any) have arrived after it.
    link.sender->sendMessage(MessageType::Focus, 1, {});
    link.receiver->sendMessage(MessageType::Focus, 2, {});
    QTRY_COMPARE(payloads.size(), 1);
    QTRY_COMPARE(link.sender->messagesReceived(), quint64(1 + (receiverOn ? 1 : 0)));
    const bool both = senderOn && receiverOn;
    QCOMPARE(link.sender->isSharedMemoryActive(), both);
    QCOMPARE(link.receiver->isSharedMemoryActive(), both);
    QCOMPARE(link.sender->zeroCopyState(),
             both ? BlightSocket::ZeroCopyState::SharedMemory : BlightSocket::ZeroCopyState::Unsupported);
    QVERIFY2(link.sender->zeroCopyReason().contains(senderReason), qPrintable(link.sender->zeroCopyReason()));

    BlightBufferPool pool(2, FrameSize, BlightBufferPool::Backing::SharedMemory);
    QVERIFY(pool.isShared());
    BlightBuffer frame = pool.acquire();
    fill(frame, 7);
    QVERIFY(link.sender->sendBuffer(MessageType::Ack, 9, frame) > 0);
    frame = BlightBuffer();
    QTRY_COMPARE(payloads.size(), 2);
    QVERIFY(matches(payloads.last().constData(), payloads.last().size(), 7));
    QCOMPARE(payloads.last().size(), FrameSize);
    QCOMPARE(link.sender->statistics().sharedMemoryFramesSent, quint64(both ? 1 : 0));
    QCOMPARE(link.receiver->statistics().sharedMemoryFramesReceived, quint64(both ? 1 : 0));
    if (both)
        QVERIFY(link.receiver->bytesReceived() < 1024); // offer, Focus, pool and frame messages
    else
        QVERIFY(link.receiver->bytesReceived() > quint64(FrameSize));
    QTRY_COMPARE(pool.available(), 2); // released either way
}

void tst_SharedMemory::framesCrossInPlace()
{
    Link link = makeLink(true, true);
    FrameSink sink;
    ReleaseLog released;
    QVERIFY(agree(link, &sink, &released));
    QSignalSpy kernelReleases(link.sender.get(), &BlightSocket::buffersReleased);

    BlightBufferPool pool(3, FrameSize, BlightBufferPool::Backing::SharedMemory);
    QList<quint64> ids;
    for (int i = 0; i < 3; ++i) {
        BlightBuffer frame = pool.acquire();
        QVERIFY(!frame.isNull());
        fill(frame, i);
        ids.append(link.sender->sendBuffer(MessageType::Ack, quint32(100 + i), frame));
        QVERIFY(ids.last() > 0);
    }
    QTRY_COMPARE(sink.frames.size(), 3);
    for (int i = 0; i < 3; ++i) {
        const BlightBuffer &frame = sink.frames.at(i);
        QCOMPARE(sink.ackids.at(i), quint32(100 + i));
        QCOMPARE(frame.size(), FrameSize);
        QVERIFY(frame.isShared());
        QVERIFY(!frame.isWritable());
        QVERIFY(!pool.contains(frame.constData())); // the receiver's own mapping
        QVERIFY(matches(frame.constData(), frame.size(), i));
    }
    const SocketStatistics sent = link.sender->statistics();
    QCOMPARE(sent.sharedMemoryFramesSent, quint64(3));
    QCOMPARE(sent.sharedMemoryBytesSent, quint64(3 * FrameSize));
    QCOMPARE(sent.userSpaceCopies, quint64(0));
    QVERIFY(sent.bytesSent < 1024);
    QCOMPARE(link.receiver->mappedBytes(), link.receiver->statistics().mappedBytes);
    QVERIFY(link.receiver->mappedBytes() >= 3 * FrameSize);
    QCOMPARE(link.receiver->statistics().mappedPools, 1);

    // Nothing is released while the receiver holds the frames.
    QTest::qWait(50);
    QVERIFY(released.ids.isEmpty());
    QCOMPARE(pool.available(), 0);
    sink.frames.removeAt(1); // the middle one first: out of order
    QTRY_COMPARE(released.ids.size(), 1);
    QVERIFY(released.ids.value(ids.at(1)));
    QTRY_COMPARE(pool.available(), 1);
    sink.frames.clear();
    QTRY_COMPARE(released.ids.size(), 3);
    for (quint64 id : ids)
        QVERIFY(released.ids.value(id));
    QTRY_COMPARE(pool.available(), 3);
    QVERIFY(kernelReleases.isEmpty()); // MSG_ZEROCOPY's counter has no part in it
}

void tst_SharedMemory::copyForMessageReceived()
{
    // Nobody takes frames: messageReceived gets a copy, the release goes at once.
    Link link = makeLink(true, true);
    ReleaseLog released;
    QVERIFY(agree(link, nullptr, &released));
    QList<Message> messages;
    connect(link.receiver.get(), &BlightSocket::messageReceived, this,
            [&](const Message &message) { messages.append(message); });
    BlightBufferPool pool(1, FrameSize, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    fill(frame, 3);
    const quint64 id = link.sender->sendBuffer(MessageType::Ack, 5, frame);
    frame = BlightBuffer();
    QTRY_COMPARE(messages.size(), 1);
    QCOMPARE(messages.first().ackid(), quint32(5));
    QCOMPARE(messages.first().payload.size(), FrameSize);
    QVERIFY(matches(messages.first().payload.constData(), FrameSize, 3));
    QTRY_VERIFY(released.ids.value(id));
    QTRY_COMPARE(pool.available(), 1);
    QCOMPARE(link.receiver->statistics().sharedMemoryFramesReceived, quint64(1));
}

void tst_SharedMemory::explicitRelease()
{
    Link link = makeLink(true, true);
    FrameSink sink;
    ReleaseLog released;
    QVERIFY(agree(link, &sink, &released));
    BlightBufferPool pool(1, 4096, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    fill(frame, 1);
    const quint64 id = link.sender->sendBuffer(MessageType::Ack, 1, frame);
    frame = BlightBuffer();
    QTRY_COMPARE(sink.frames.size(), 1);
    link.receiver->releaseBuffer(sink.frames.first());
    QTRY_VERIFY(released.ids.contains(id));
    QVERIFY(released.ids.value(id));
    QTRY_COMPARE(pool.available(), 1);
    // The handle still reads mapped memory (the sender may rewrite it now).
    QVERIFY(matches(sink.frames.first().constData(), 4096, 1));
    link.receiver->releaseBuffer(sink.frames.first()); // a second time: nothing
    sink.frames.clear();
    link.sender->sendMessage(MessageType::Focus, 0, {}); // a round trip: no second release arrived
    QSignalSpy focus(link.receiver.get(), &BlightSocket::messageReceived);
    QVERIFY(focus.wait());
    QCOMPARE(link.sender->state(), BlightSocket::State::Connected);
    QCOMPARE(released.ids.size(), 2); // the frame and the Focus
}

void tst_SharedMemory::poolRunsDry()
{
    // A receiver that keeps its frames is back-pressure: the pool does not grow.
    Link link = makeLink(true, true);
    FrameSink sink;
    QVERIFY(agree(link, &sink, nullptr));
    BlightBufferPool pool(2, 8192, BlightBufferPool::Backing::SharedMemory);
    QSignalSpy available(&pool, &BlightBufferPool::bufferAvailable);
    for (int i = 0; i < 2; ++i) {
        BlightBuffer frame = pool.acquire();
        QVERIFY(link.sender->sendBuffer(MessageType::Ack, 1, frame) > 0);
    }
    QTRY_COMPARE(sink.frames.size(), 2);
    QVERIFY(pool.acquire().isNull());
    QCOMPARE(pool.waitingAcquires(), quint64(1));
    sink.frames.removeFirst();
    QVERIFY(available.wait());
    QVERIFY(!pool.acquire().isNull());
    QCOMPARE(pool.count(), 2);
}

void tst_SharedMemory::connectionEndRetiresRegion()
{
    Link link = makeLink(true, true);
    FrameSink sink;
    ReleaseLog released;
    QVERIFY(agree(link, &sink, &released));
    QSignalSpy disconnected(link.sender.get(), &BlightSocket::disconnected);
    BlightBufferPool pool(2, 8192, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer kept = pool.acquire();
    fill(kept, 4);
    const char *oldAddress = kept.constData();
    const quint64 id = link.sender->sendBuffer(MessageType::Ack, 1, kept);
    kept = BlightBuffer();
    QTRY_COMPARE(sink.frames.size(), 1);
    // The sender's connection ends while the receiver holds the frame.
    bool reportedBeforeDisconnect = false;
    connect(link.sender.get(), &BlightSocket::disconnected, this,
            [&] { reportedBeforeDisconnect = released.ids.contains(id); });
    link.sender->abort();
    QVERIFY(disconnected.size() == 1 || disconnected.wait());
    QVERIFY(reportedBeforeDisconnect);
    QCOMPARE(released.ids.value(id, true), false);
    QCOMPARE(pool.retiredRegions(), 1);
    // Later acquires come from a fresh region, never the retired one.
    QCOMPARE(pool.available(), 2);
    BlightBuffer fresh = pool.acquire();
    QVERIFY(!fresh.isNull());
    QVERIFY(fresh.constData() != oldAddress);
    QVERIFY(pool.contains(fresh.constData()));
    QVERIFY(!pool.contains(oldAddress));
    // The receiver still reads what it holds.
    QVERIFY(matches(sink.frames.first().constData(), 8192, 4));
}

void tst_SharedMemory::mappingOutlivesReceiver()
{
    Link link = makeLink(true, true);
    FrameSink sink;
    ReleaseLog released;
    QVERIFY(agree(link, &sink, &released));
    BlightBufferPool pool(1, FrameSize, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    fill(frame, 9);
    const quint64 id = link.sender->sendBuffer(MessageType::Ack, 1, frame);
    frame = BlightBuffer();
    QTRY_COMPARE(sink.frames.size(), 1);
    link.receiver.reset(); // destroyed with the frame out: the sender sees its peer go
    QSignalSpy disconnected(link.sender.get(), &BlightSocket::disconnected);
    QVERIFY(disconnected.wait());
    QCOMPARE(released.ids.value(id, true), false);
    QCOMPARE(pool.retiredRegions(), 1);
    QVERIFY(matches(sink.frames.first().constData(), FrameSize, 9));
    sink.frames.clear(); // the last handle unmaps; its release goes nowhere
    QCoreApplication::processEvents();
}

void tst_SharedMemory::framesWhilePaused()
{
    // Reading paused in the slot of the first frame: the frames read with it
    // wait, in order, and come after setReadingPaused(false).
    Link link = makeLink(true, true);
    FrameSink sink;
    QVERIFY(agree(link, &sink, nullptr));
    bool paused = false;
    connect(link.receiver.get(), &BlightSocket::bufferReceived, this, [&] {
        if (!std::exchange(paused, true))
            link.receiver->setReadingPaused(true);
    });
    BlightBufferPool pool(3, 4096, BlightBufferPool::Backing::SharedMemory);
    link.sender->sendMessage(MessageType::Focus, 0, {}); // leaves in the call; the frames wait for the turn's end
    for (int i = 0; i < 3; ++i) {                        // one turn: one sendmsg, one read
        BlightBuffer frame = pool.acquire();
        fill(frame, i);
        link.sender->sendBuffer(MessageType::Ack, quint32(i), frame);
    }
    QTRY_COMPARE(link.receiver->statistics().sharedMemoryFramesReceived, quint64(3));
    QCOMPARE(sink.frames.size(), 1);
    QCOMPARE(link.receiver->messagesReceived(), quint64(1 + 1 + 1 + 3)); // offer, Focus, pool, frames
    QTest::qWait(20);
    QCOMPARE(sink.frames.size(), 1);
    QCOMPARE(pool.available(), 0); // held frames are not released
    link.receiver->setReadingPaused(false);
    QTRY_COMPARE(sink.frames.size(), 3);
    for (int i = 0; i < 3; ++i) {
        QCOMPARE(sink.ackids.at(i), quint32(i));
        QVERIFY(matches(sink.frames.at(i).constData(), 4096, i));
    }
    QCOMPARE(link.receiver->messagesReceived(), quint64(6));
}

void tst_SharedMemory::requestAnsweredWithFrame()
{
    // An Ack frame that answers a request finishes the reply, with a copy.
    Link link = makeLink(true, true);
    QVERIFY(agree(link, nullptr, nullptr));
    BlightBufferPool pool(1, 5000, BlightBufferPool::Backing::SharedMemory);
    connect(link.receiver.get(), &BlightSocket::messageReceived, this, [&](const Message &message) {
        if (message.type() != MessageType::Info)
            return;
        BlightBuffer answer = pool.acquire();
        fill(answer, 2);
        link.receiver->sendBuffer(MessageType::Ack, message.ackid(), answer);
    });
    FrameSink sink;
    sink.attach(link.sender.get());
    BlightReply *reply = link.sender->request(MessageType::Info, QByteArray(2, '\0'));
    QVERIFY(reply);
    QSignalSpy finished(reply, &BlightReply::finished);
    QVERIFY(finished.wait());
    QVERIFY(reply->isAcked());
    QCOMPARE(reply->payload().size(), 5000);
    QVERIFY(matches(reply->payload().constData(), 5000, 2));
    QVERIFY(sink.frames.isEmpty());
    QTRY_COMPARE(pool.available(), 1);
    delete reply;
}

void tst_SharedMemory::plainPoolAndArraysTakeCopyPath()
{
    Link link = makeLink(true, true);
    QVERIFY(agree(link, nullptr, nullptr));
    QList<QByteArray> payloads;
    connect(link.receiver.get(), &BlightSocket::messageReceived, this,
            [&](const Message &message) { payloads.append(message.payload); });
    BlightBufferPool anonymous(1, 4096);
    QVERIFY(!anonymous.isShared());
    BlightBuffer frame = anonymous.acquire();
    fill(frame, 5);
    link.sender->sendBuffer(MessageType::Ack, 1, frame);
    link.sender->sendMessage(MessageType::Ack, 2, TestUtil::pattern(100000, 1));
    QTRY_COMPARE(payloads.size(), 2);
    QVERIFY(matches(payloads.at(0).constData(), 4096, 5));
    QCOMPARE(payloads.at(1), TestUtil::pattern(100000, 1));
    QCOMPARE(link.sender->statistics().sharedMemoryFramesSent, quint64(0));
    QVERIFY2(link.sender->zeroCopyReason().contains(QStringLiteral("not from a shared pool")),
             qPrintable(link.sender->zeroCopyReason()));
}

void tst_SharedMemory::rawStreamHasNoSharedMemory()
{
    Link link = makeLink(true, true, BlightSocket::Mode::RawStream);
    QVERIFY(link.ok);
    QByteArray received;
    connect(link.receiver.get(), &BlightSocket::dataReceived, this, [&](const QByteArray &data) { received += data; });
    BlightBufferPool pool(1, 4096, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    fill(frame, 6);
    link.sender->sendRawBuffer(frame);
    QTRY_COMPARE(received.size(), 4096); // exactly the bytes: no offer, no header
    QVERIFY(matches(received.constData(), 4096, 6));
    QVERIFY(!link.sender->isSharedMemoryActive());
    QVERIFY2(link.sender->zeroCopyReason().contains(QStringLiteral("in messages mode")),
             qPrintable(link.sender->zeroCopyReason()));
}

void tst_SharedMemory::peerMapLimitSendsCopies()
{
    // The receiver maps at most 1 MiB: a larger pool's frames are copied.
    Link link = makeLink(true, false);
    QVERIFY(link.ok);
    link.receiver->setSharedMemoryLimit(1024 * 1024);
    link.receiver->setSharedMemoryEnabled(true);
    QTRY_VERIFY(link.sender->isSharedMemoryActive());
    QList<QByteArray> payloads;
    connect(link.receiver.get(), &BlightSocket::messageReceived, this,
            [&](const Message &message) { payloads.append(message.payload); });
    BlightBufferPool pool(2, 1024 * 1024, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    fill(frame, 8);
    link.sender->sendBuffer(MessageType::Ack, 1, frame);
    QTRY_COMPARE(payloads.size(), 1);
    QVERIFY(matches(payloads.first().constData(), 1024 * 1024, 8));
    QCOMPARE(link.receiver->mappedBytes(), 0);
    QVERIFY2(link.sender->zeroCopyReason().contains(QStringLiteral("more than the peer maps")),
             qPrintable(link.sender->zeroCopyReason()));
}

void tst_SharedMemory::framesDroppedInAnotherThread()
{
    // A worker thread reads the frames and drops the last handles there: the
    // releases come back to the socket's thread (TSan runs this test).
    Link link = makeLink(true, true);
    ReleaseLog released;
    QVERIFY(agree(link, nullptr, &released));
    QThread worker;
    worker.start();
    auto *reader = new QObject;
    reader->moveToThread(&worker);
    QAtomicInt verified = 0;
    connect(
        link.receiver.get(), &BlightSocket::bufferReceived, reader,
        [&verified](MessageType, quint32 ackid, const BlightBuffer &frame) {
            if (matches(frame.constData(), frame.size(), int(ackid)))
                verified.ref();
        },
        Qt::QueuedConnection);
    BlightBufferPool pool(4, 65536, BlightBufferPool::Backing::SharedMemory);
    QList<quint64> ids;
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 4; ++i) {
            BlightBuffer frame = pool.acquire();
            QVERIFY(!frame.isNull());
            fill(frame, round * 4 + i);
            ids.append(link.sender->sendBuffer(MessageType::Ack, quint32(round * 4 + i), frame));
        }
        QTRY_COMPARE(pool.available(), 4); // all four came back through the worker
    }
    QCOMPARE(verified.loadRelaxed(), 12);
    QTRY_COMPARE(released.ids.size(), 12);
    for (quint64 id : std::as_const(ids))
        QVERIFY(released.ids.value(id));
    reader->deleteLater();
    worker.quit();
    QVERIFY(worker.wait());
}

void tst_SharedMemory::enabledAfterThePeersOffer()
{
    // The receiver turns shared memory on after the sender's offer arrived
    // (a server that configures its accepted sockets, say): the agreement
    // stands, and the next frames travel in shared memory.
    Link link = makeLink(true, false);
    QVERIFY(link.ok);
    QSignalSpy state(link.receiver.get(), &BlightSocket::zeroCopyStateChanged);
    QVERIFY(state.wait()); // the offer arrived, and was noted
    QVERIFY(!link.receiver->isSharedMemoryActive());
    link.receiver->setSharedMemoryEnabled(true);
    QVERIFY(link.receiver->isSharedMemoryActive());
    QTRY_VERIFY(link.sender->isSharedMemoryActive());
    FrameSink sink;
    sink.attach(link.receiver.get());
    BlightBufferPool pool(1, 4096, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    fill(frame, 3);
    link.sender->sendBuffer(MessageType::Ack, 3, frame);
    QTRY_COMPARE(sink.frames.size(), 1);
    QVERIFY(sink.frames.first().isShared());
    QVERIFY(matches(sink.frames.first().constData(), 4096, 3));
    QCOMPARE(link.receiver->state(), BlightSocket::State::Connected);
}

void tst_SharedMemory::closeWaitsForReleases()
{
    // close() is graceful: it waits for the peer to let go of its frames, so
    // their sends are delivered and the region stays in use.
    FrameOut out;
    QVERIFY(out.start());
    out.link.sender->close();
    QCOMPARE(out.link.sender->state(), BlightSocket::State::Closing);
    QVERIFY(!out.disconnected->wait(50)); // the frame is still out
    out.sink.frames.clear();
    QVERIFY(out.disconnected->wait());
    QVERIFY(out.released.ids.value(out.id, false));
    QCOMPARE(out.pool.retiredRegions(), 0);
    QCOMPARE(out.pool.available(), 2);
    QVERIFY(out.errors->isEmpty());
}

void tst_SharedMemory::peerPoolDuringClose()
{
    // While a graceful close waits for its frame, the peer, which has not
    // seen the close yet, sends its first frame from a pool of its own: the
    // close goes on, the pool's descriptor is closed, no error.
    const int before = TestUtil::openDescriptors();
    {
        FrameOut out;
        QVERIFY(out.start());
        out.link.sender->close();
        BlightBufferPool peerPool(1, 4096, BlightBufferPool::Backing::SharedMemory);
        QVERIFY(out.link.receiver->sendBuffer(MessageType::Ack, 9, peerPool.acquire()) != 0);
        QCOMPARE(out.link.receiver->statistics().sharedMemoryFramesSent, quint64(1));
        QVERIFY(!out.disconnected->wait(50)); // the sender's frame is still out
        QVERIFY(out.errors->isEmpty());
        QCOMPARE(out.link.sender->state(), BlightSocket::State::Closing);
        out.sink.frames.clear();
        QVERIFY(out.disconnected->wait());
        QVERIFY(out.released.ids.value(out.id, false));
        QVERIFY(out.errors->isEmpty());
    }
    QCOMPARE(TestUtil::openDescriptors(), before);
}

void tst_SharedMemory::closeFromSlotTakesReadReleases()
{
    // A slot closes the socket on a message that came in one read with the
    // peer's release of the frame the close waits for: the release is taken
    // from what was read, and the close ends without waiting for its linger.
    FrameOut out;
    QVERIFY(out.start(10000));
    BlightSocket &sender = *out.link.sender;
    // The sender reads nothing while the receiver sends a message and then
    // releases the frame: both wait in the socket, to be read together.
    sender.setReadingPaused(true);
    QVERIFY(out.link.receiver->sendMessage(MessageType::Focus, 2, {}) != 0);
    const quint64 sentBefore = out.link.receiver->statistics().bytesSent;
    out.sink.frames.clear();
    QTRY_VERIFY(out.link.receiver->statistics().bytesSent > sentBefore);
    int closes = 0;
    QObject::connect(&sender, &BlightSocket::messageReceived, &sender, [&](const Message &message) {
        if (message.type() == MessageType::Focus && closes++ == 0)
            sender.close();
    });
    sender.setReadingPaused(false);
    QVERIFY(out.disconnected->wait(5000));
    QCOMPARE(closes, 1);
    QVERIFY(out.released.ids.value(out.id, false)); // the peer's release, not the linger's end
    QCOMPARE(out.pool.retiredRegions(), 0);
    QVERIFY(out.errors->isEmpty());
}

void tst_SharedMemory::closePastLingerRetires()
{
    Link link = makeLink(true, true);
    FrameSink sink;
    ReleaseLog released;
    QVERIFY(agree(link, &sink, &released));
    link.sender->setLingerTime(100);
    QSignalSpy errors(link.sender.get(), &BlightSocket::errorOccurred);
    QSignalSpy disconnected(link.sender.get(), &BlightSocket::disconnected);
    BlightBufferPool pool(1, 4096, BlightBufferPool::Backing::SharedMemory);
    BlightBuffer frame = pool.acquire();
    fill(frame, 2);
    const quint64 id = link.sender->sendBuffer(MessageType::Ack, 1, frame);
    frame = BlightBuffer();
    QTRY_COMPARE(sink.frames.size(), 1);
    link.sender->close();
    QVERIFY(disconnected.wait());
    QCOMPARE(released.ids.value(id, true), false);
    QCOMPARE(pool.retiredRegions(), 1);
    QVERIFY(errors.isEmpty()); // the frame was handed over; the peer only kept it
    QVERIFY(matches(sink.frames.first().constData(), 4096, 2));
}

void tst_SharedMemory::plainPeerClosesWithOfferUnread()
{
    // A sender with shared memory off never reads the receiver's Offer; its
    // close still reads it first, so the receiver sees an orderly close
    // after the last message, not a reset.
    Link link = makeLink(false, true);
    QVERIFY(link.ok);
    link.sender->setReadingPaused(true); // it reads nothing, as a plain peer that only writes
    QSignalSpy errors(link.receiver.get(), &BlightSocket::errorOccurred);
    QSignalSpy messages(link.receiver.get(), &BlightSocket::messageReceived);
    QTRY_VERIFY(link.receiver->statistics().bytesSent > 0); // the offer left at the end of the turn
    QCOMPARE(link.sender->messagesReceived(), quint64(0));
    link.sender->sendMessage(MessageType::Focus, 7, {});
    link.sender->close();
    QVERIFY(errors.wait());
    QCOMPARE(messages.size(), 1);
    QCOMPARE(errors.first().at(0).value<BlightSocket::Error>(), BlightSocket::Error::RemoteClosed);
}

void tst_SharedMemory::wireTowardsPlainPeer_data()
{
    QTest::addColumn<bool>("enabled");
    QTest::newRow("shared memory off") << false;
    QTest::newRow("shared memory on, the peer never offers") << true;
}

void tst_SharedMemory::wireTowardsPlainPeer()
{
    // A plain blight peer (Oxide's code) sees blight's bytes only: with
    // shared memory off exactly the messages sent; with it on, one Offer
    // first (an Ack, ackid 0, 24 bytes: docs/shared-memory.md) and then the
    // same bytes, the shared pool's frame as an ordinary payload.
    QFETCH(bool, enabled);
    int fds[2];
    QVERIFY(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    {
        BlightSocket socket;
        socket.setSharedMemoryEnabled(enabled);
        socket.setSharedMemoryLimit(0x1122334455);
        QVERIFY(socket.setSocketDescriptor(fds[0]));
        BlightBufferPool pool(1, 3000, BlightBufferPool::Backing::SharedMemory);
        BlightBuffer frame = pool.acquire();
        fill(frame, 1);
        QVERIFY(socket.sendBuffer(MessageType::Ack, 44, frame) > 0);
        QVERIFY(socket.sendMessage(MessageType::Focus, 45, {}) > 0);
        socket.flush();
        QTRY_COMPARE(socket.queuedBytes(), qint64(0));
        QCOMPARE(socket.isSharedMemoryActive(), false);

        QByteArray expected;
        if (enabled) {
            const quint64 limit = 0x1122334455;
            expected = TestUtil::headerBytes(1, 0, 24) + QByteArrayLiteral("BlightSM")
                + QByteArray("\x01\0\0\0\x01\0\0\0", 8) + QByteArray(reinterpret_cast<const char *>(&limit), 8);
        }
        expected += TestUtil::headerBytes(1, 44, 3000) + QByteArray(frame.constData(), 3000);
        expected += TestUtil::headerBytes(11, 45, 0);
        QByteArray received(expected.size() + 1, '\0');
        qsizetype got = 0;
        while (got < expected.size()) {
            const ssize_t n = ::recv(fds[1], received.data() + got, size_t(received.size() - got), 0);
            QVERIFY(n > 0);
            got += n;
        }
        QCOMPARE(::recv(fds[1], received.data(), 1, MSG_DONTWAIT), ssize_t(-1)); // nothing more
        received.truncate(got);
        QCOMPARE(received, expected);
    }
    ::close(fds[1]);
}

QTEST_GUILESS_MAIN(tst_SharedMemory)
#include "tst_sharedmemory.moc"
