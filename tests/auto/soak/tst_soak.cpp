// SPDX-License-Identifier: MIT
// Soak test: many messages of random types and sizes (0..8 MiB) over AF_UNIX
// and TCP with zero-copy on Auto and a reader that pauses at random. Every
// message must arrive exactly once, in order, byte-exact; at the end nothing
// is pending or queued and the process RSS is back near where it started.
//
// Bounded by default (BLIGHT_SOAK_MESSAGES, default 20000 per transport);
// the long form is BLIGHT_SOAK_MESSAGES=1000000 with a larger
// QTEST_FUNCTION_TIMEOUT. BLIGHT_SOAK_SEED picks another random sequence.
#include "testutil.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QFile>
#include <QtCore/QRandomGenerator>
#include <QtCore/QTimer>
#include <QtTest/QtTest>

#include <malloc.h>
#include <unistd.h>
#include <vector>

using namespace Blight;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool Sanitized = true; // quarantines keep freed memory resident
#elif defined(__has_feature)
#  if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool Sanitized = true;
#  else
constexpr bool Sanitized = false;
#  endif
#else
constexpr bool Sanitized = false;
#endif

constexpr qsizetype MaxPayload = 8 * 1024 * 1024;

qint64 residentBytes()
{
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly))
        return -1;
    const QList<QByteArray> fields = statm.readAll().split(' ');
    return fields.size() > 1 ? fields.at(1).toLongLong() * ::sysconf(_SC_PAGESIZE) : -1;
}

// 64-bit FNV-1a over 8-byte words (and the tail): cheap and order-sensitive.
quint64 checksum(const QByteArray &bytes)
{
    quint64 hash = 0xcbf29ce484222325ull ^ quint64(bytes.size());
    const char *data = bytes.constData();
    qsizetype i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        quint64 word;
        std::memcpy(&word, data + i, 8);
        hash = (hash ^ word) * 0x100000001b3ull;
        hash ^= hash >> 29;
    }
    for (; i < bytes.size(); ++i)
        hash = (hash ^ quint8(data[i])) * 0x100000001b3ull;
    return hash;
}

struct Expected
{
    MessageType type;
    quint32 size;
    quint64 sum;
};

QString mib(qint64 bytes)
{
    return QString::number(double(bytes) / (1024.0 * 1024.0), 'f', 1) + QStringLiteral(" MiB");
}

} // namespace

class tst_Soak : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void soak_data();
    void soak();

private:
    int m_messages = 20000;
    quint32 m_seed = 20261125;
    QByteArray m_pool; // random bytes that payloads are cut from
};

void tst_Soak::initTestCase()
{
    qRegisterMetaType<Message>();
    bool ok = false;
    const int messages = qEnvironmentVariableIntValue("BLIGHT_SOAK_MESSAGES", &ok);
    if (ok && messages > 0)
        m_messages = messages;
    const int seed = qEnvironmentVariableIntValue("BLIGHT_SOAK_SEED", &ok);
    if (ok)
        m_seed = quint32(seed);
    QRandomGenerator random(m_seed);
    m_pool = QByteArray(MaxPayload + 64 * 1024, Qt::Uninitialized);
    random.fillRange(reinterpret_cast<quint32 *>(m_pool.data()), m_pool.size() / 4);
    qInfo("soak: %d messages per transport, seed %u%s", m_messages, m_seed,
          Sanitized ? " (sanitized build: RSS reported, not checked)" : "");
}

void tst_Soak::soak_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addRow("unix") << QStringLiteral("unix");
    QTest::addRow("tcp4") << QStringLiteral("tcp4");
}

void tst_Soak::soak()
{
    QFETCH(QString, kind);
    QRandomGenerator random(m_seed ^ quint32(qHash(kind)));

    // The script of the run, decided up front so that the receiver can check
    // every message and the RSS baseline already holds it.
    std::vector<Expected> script;
    script.reserve(size_t(m_messages));
    std::vector<qsizetype> offsets;
    offsets.reserve(size_t(m_messages));
    qint64 totalBytes = 0;
    for (int i = 0; i < m_messages; ++i) {
        const quint32 dice = random.bounded(1000u);
        Expected item{MessageType::Ack, 0, 0};
        if (dice < 300) {
            // A typed message with exactly its type's payload.
            static constexpr std::pair<MessageType, quint32> typed[] = {
                {MessageType::Ping, 0},   {MessageType::Repaint, 36}, {MessageType::Move, 12}, {MessageType::Info, 2},
                {MessageType::Delete, 2}, {MessageType::List, 0},     {MessageType::Raise, 2}, {MessageType::Lower, 2},
                {MessageType::Wait, 4},   {MessageType::Focus, 0},
            };
            const auto &pick = typed[random.bounded(quint32(std::size(typed)))];
            item.type = pick.first;
            item.size = pick.second;
        } else if (dice < 900) {
            item.size = random.bounded(513u); // mostly small
        } else if (dice < 985) {
            item.size = 512 + random.bounded(64u * 1024u);
        } else if (dice < 997) {
            item.size = 64 * 1024 + random.bounded(1024u * 1024u);
        } else {
            item.size = 1024 * 1024 + random.bounded(quint32(MaxPayload - 1024 * 1024 + 1)); // up to 8 MiB
        }
        const qsizetype offset = qsizetype(random.bounded(quint32(m_pool.size() - MaxPayload)));
        item.sum = checksum(QByteArray::fromRawData(m_pool.constData() + offset, item.size));
        script.push_back(item);
        offsets.push_back(offset);
        totalBytes += HeaderSize + item.size;
    }

    auto pair = TestUtil::makePair(kind);
    QVERIFY(pair.ok);
    BlightSocket *sender = pair.a.get();
    BlightSocket *receiver = pair.b.get();
    QCOMPARE(sender->zeroCopyMode(), BlightSocket::ZeroCopyMode::Auto);
    sender->setSendQueueLimit(32 * 1024 * 1024);
    // The receiver's pings are answered by the sender's socket; ignore acks there.

    ::malloc_trim(0);
    const qint64 rssStart = residentBytes();
    qint64 rssPeak = rssStart;

    int received = 0;
    int mismatches = 0;
    QString firstMismatch;
    connect(receiver, &BlightSocket::messageReceived, this, [&](const Message &message) {
        const int index = received++;
        if (index >= int(script.size())) {
            ++mismatches;
            if (firstMismatch.isEmpty())
                firstMismatch = QStringLiteral("message %1 arrived, only %2 were sent").arg(index).arg(script.size());
            return;
        }
        const Expected &want = script[size_t(index)];
        const bool same = message.type() == want.type && message.ackid() == quint32(index)
            && message.payload.size() == qsizetype(want.size) && message.header.size == want.size
            && checksum(message.payload) == want.sum;
        if (!same) {
            ++mismatches;
            if (firstMismatch.isEmpty()) {
                firstMismatch = QStringLiteral("message %1: got %2 ackid %3 size %4, expected %5 size %6")
                                    .arg(index)
                                    .arg(typeName(message.header.type))
                                    .arg(message.ackid())
                                    .arg(message.payload.size())
                                    .arg(typeName(qint32(want.type)))
                                    .arg(want.size);
            }
        }
    });
    QSignalSpy senderErrors(sender, &BlightSocket::errorOccurred);
    QSignalSpy receiverErrors(receiver, &BlightSocket::errorOccurred);

    // The sender pushes a random batch per event-loop turn, and when the
    // queue is full waits for canSendChanged(true).
    int sent = 0;
    int refusals = 0;
    QString sendFailure;
    QTimer pump;
    pump.setSingleShot(true);
    pump.setInterval(0);
    connect(&pump, &QTimer::timeout, this, [&] {
        const int batch = 1 + int(random.bounded(400u));
        for (int n = 0; n < batch && sent < int(script.size()); ++n) {
            const Expected &item = script[size_t(sent)];
            // A fresh array per message, as a service would build its frame.
            const QByteArray payload(m_pool.constData() + offsets[size_t(sent)], item.size);
            if (!sender->sendMessage(item.type, quint32(sent), payload)) {
                if (sender->lastSendError() != BlightSocket::Error::QueueFull)
                    sendFailure = QStringLiteral("send %1 refused: %2").arg(sent).arg(int(sender->lastSendError()));
                else
                    ++refusals;
                return; // canSendChanged(true) restarts the pump
            }
            ++sent;
        }
        if (sent < int(script.size()))
            pump.start();
    });
    connect(
        sender, &BlightSocket::canSendChanged, &pump,
        [&](bool can) {
            if (can && sent < int(script.size()))
                pump.start();
        },
        Qt::QueuedConnection);

    // The reader pauses at random: on for 1..40 ms, off for 1..25 ms.
    int pauses = 0;
    QTimer pauser;
    pauser.setSingleShot(true);
    connect(&pauser, &QTimer::timeout, this, [&] {
        const bool pause = !receiver->isReadingPaused();
        receiver->setReadingPaused(pause);
        if (pause)
            ++pauses;
        pauser.start(int(pause ? 1 + random.bounded(25u) : 1 + random.bounded(40u)));
    });
    pauser.start(5);

    // Sample the RSS while the run goes.
    QTimer sampler;
    connect(&sampler, &QTimer::timeout, this, [&] { rssPeak = qMax(rssPeak, residentBytes()); });
    sampler.start(100);

    // A plain event loop, not QTest::qWaitFor(): that sleeps 10 ms between
    // rounds of events and would measure itself rather than the transport.
    QEventLoop loop;
    auto finished = [&] {
        return received >= int(script.size()) || !sendFailure.isEmpty() || !senderErrors.isEmpty()
            || !receiverErrors.isEmpty();
    };
    // Checks what no signal reports (a refused send) and ends a stalled run:
    // no message for StallMs is a failure however long the run may take.
    constexpr qint64 StallMs = 30000;
    QElapsedTimer sinceProgress;
    sinceProgress.start();
    int lastReceived = 0;
    bool stalled = false;
    QTimer watch;
    connect(&watch, &QTimer::timeout, &loop, [&] {
        if (received != lastReceived) {
            lastReceived = received;
            sinceProgress.restart();
        }
        stalled = sinceProgress.elapsed() > StallMs;
        if (finished() || stalled)
            loop.quit();
    });
    watch.start(50);
    connect(
        receiver, &BlightSocket::messageReceived, &loop,
        [&] {
            if (received >= int(script.size()))
                loop.quit();
        },
        Qt::QueuedConnection);
    const int timeout = int(qMin<qint64>(qMax<qint64>(120000, qint64(m_messages) * 2), 4 * 3600 * 1000));
    QTimer::singleShot(timeout, &loop, &QEventLoop::quit);
    QElapsedTimer clock;
    clock.start();
    pump.start();
    if (!finished())
        loop.exec();
    const bool done = received >= int(script.size());
    const qint64 elapsed = clock.elapsed();
    watch.stop();
    pauser.stop();
    sampler.stop();
    receiver->setReadingPaused(false);

    QVERIFY2(sendFailure.isEmpty(), qPrintable(sendFailure));
    QVERIFY2(senderErrors.isEmpty(), qPrintable(senderErrors.value(0).value(1).toString()));
    QVERIFY2(receiverErrors.isEmpty(), qPrintable(receiverErrors.value(0).value(1).toString()));
    QVERIFY2(done,
             qPrintable(
                 QStringLiteral("%1 of %2 messages arrived in %3 ms (%4 sent)%5")
                     .arg(received)
                     .arg(script.size())
                     .arg(elapsed)
                     .arg(sent)
                     .arg(stalled ? QStringLiteral(": stalled, nothing arrived for %1 ms").arg(StallMs) : QString())));
    QVERIFY2(mismatches == 0,
             qPrintable(QStringLiteral("%1 mismatches; first: %2").arg(mismatches).arg(firstMismatch)));
    QCOMPARE(sent, int(script.size()));
    QCOMPARE(received, int(script.size()));

    // Everything handed out, everything released.
    QTRY_COMPARE_WITH_TIMEOUT(sender->pendingBuffers(), 0, 10000);
    QCOMPARE(sender->pendingBytes(), 0);
    QCOMPARE(sender->queuedBytes(), 0);
    QTRY_COMPARE(receiver->queuedBytes(), 0); // its answers to pings leave at the end of the turn
    QCOMPARE(sender->messagesSent(), quint64(script.size()));
    QCOMPARE(receiver->messagesReceived(), quint64(script.size()));
    QCOMPARE(receiver->bytesReceived(), quint64(totalBytes));
    // Nothing arrives twice: a moment later the count still stands.
    QTest::qWait(20);
    QCOMPARE(received, int(script.size()));

    const SocketStatistics stats = sender->statistics();
    pair = {};
    ::malloc_trim(0);
    const qint64 rssEnd = residentBytes();
    qInfo("soak %s: %d messages, %s in %.1f s (%.0f msg/s, %s/s); %d reader pauses, %d queue-full refusals",
          qPrintable(kind), received, qPrintable(mib(totalBytes)), double(elapsed) / 1000.0,
          double(received) * 1000.0 / double(qMax<qint64>(elapsed, 1)),
          qPrintable(mib(totalBytes * 1000 / qMax<qint64>(elapsed, 1))), pauses, refusals);
    qInfo("soak %s: sender %llu sendmsg calls, %llu zero-copy sends (%s), %llu completions (%llu copied), "
          "%llu back-offs, peak queued %s, peak pending %s; at the end pending %lld buffers / %lld bytes, queued %lld "
          "bytes",
          qPrintable(kind), stats.sendCalls, stats.zeroCopySends, qPrintable(mib(qint64(stats.zeroCopyBytes))),
          stats.completions, stats.copiedCompletions, stats.backOffs, qPrintable(mib(stats.peakQueuedBytes)),
          qPrintable(mib(stats.peakPendingBytes)), stats.pendingBuffers, stats.pendingBytes, stats.queuedBytes);
    qInfo("soak %s: RSS start %s, peak %s, end %s (%+lld KiB)", qPrintable(kind), qPrintable(mib(rssStart)),
          qPrintable(mib(rssPeak)), qPrintable(mib(rssEnd)), (rssEnd - rssStart) / 1024);
    QVERIFY(pauses > 0 || elapsed < 50);
    if (!Sanitized) {
        // Back near the start: freed frames went back to the system. The
        // margin covers allocator caches and Qt's lazily made objects.
        QVERIFY2(rssEnd - rssStart < 48 * 1024 * 1024,
                 qPrintable(QStringLiteral("RSS grew from %1 to %2").arg(mib(rssStart), mib(rssEnd))));
    }
}

QTEST_GUILESS_MAIN(tst_Soak)
#include "tst_soak.moc"
