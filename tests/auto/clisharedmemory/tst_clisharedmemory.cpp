// SPDX-License-Identifier: MIT
// Shared memory between two processes (issue 13, point 6): blight-transport
// listen and send as children over an AF_UNIX socket. The listener checks
// from its own /proc/self/maps that each frame it hashed lay in a /memfd:
// mapping and reports the bytes recvmsg() read; with shared memory on one
// side only, every frame still arrives whole, by copy, and the reason shows.
#include "clitest.h"
#include "procmaps.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <sys/mman.h>
#include <unistd.h>

using namespace CliTest;

namespace {

// The pattern of send --size, built byte by byte: byte i of message k is (k + i) % 251.
QString expectedSha256(quint64 k, qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char((k + quint64(i)) % 251);
    return QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Sha256).toHex());
}

QString compact(const QJsonObject &object)
{
    return QString::fromUtf8(QJsonDocument(object).toJson(QJsonDocument::Compact));
}

} // namespace

class tst_CliSharedMemory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void mappingLookupTellsMemfdFromHeap();
    void framesBetweenProcesses_data();
    void framesBetweenProcesses();
    void sharedMemoryNeedsPayload();
};

void tst_CliSharedMemory::mappingLookupTellsMemfdFromHeap()
{
    // The listener's check itself: a memfd mapping is found as one, the heap and
    // anonymous memory are not (so the cross-process rows below can fail).
    const int fd = ::memfd_create("tst-clisharedmemory", MFD_CLOEXEC);
    QVERIFY(fd >= 0);
    constexpr size_t Size = 64 * 1024;
    QCOMPARE(::ftruncate(fd, off_t(Size)), 0);
    void *shared = ::mmap(nullptr, Size, PROT_READ, MAP_SHARED, fd, 0);
    ::close(fd);
    QVERIFY(shared != MAP_FAILED);
    void *anonymous = ::mmap(nullptr, Size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    QVERIFY(anonymous != MAP_FAILED);
    const QByteArray heap(4096, 'x');

    const auto *middle = static_cast<const char *>(shared) + Size / 2;
    const std::optional<QString> path = Blight::Cli::mappingPathOf(middle);
    QVERIFY(path);
    QVERIFY2(path->startsWith(u"/memfd:tst-clisharedmemory"), qPrintable(*path));
    QVERIFY(Blight::Cli::isInMemfdMapping(middle));
    QVERIFY(Blight::Cli::isInMemfdMapping(static_cast<const char *>(shared) + Size - 1));
    QVERIFY(!Blight::Cli::isInMemfdMapping(anonymous));
    QVERIFY(!Blight::Cli::isInMemfdMapping(heap.constData()));
    ::munmap(shared, Size);
    ::munmap(anonymous, Size);
}

void tst_CliSharedMemory::framesBetweenProcesses_data()
{
    QTest::addColumn<bool>("senderShared");
    QTest::addColumn<bool>("listenerShared");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("pool"); // 0: send's default shared pool (or none without --shared-memory)
    QTest::addColumn<bool>("tcp"); // TCP on loopback (the descriptor channel) instead of AF_UNIX

    constexpr int MiB = 1024 * 1024;
    QTest::addRow("both-default-pool") << true << true << 1 * MiB << 8 << 0 << false;
    // Two buffers for ten frames: every frame after the second waits for a
    // release from the other process, so buffers are reused while mapped.
    QTest::addRow("both-pool-2-reused") << true << true << 3 * MiB << 10 << 2 << false;
    QTest::addRow("small-frames") << true << true << 100 << 50 << 4 << false;
    QTest::addRow("sender-only") << true << false << 1 * MiB << 6 << 0 << false;
    QTest::addRow("listener-only") << false << true << 1 * MiB << 6 << 0 << false;
    QTest::addRow("tcp-both-pool-2-reused") << true << true << 3 * MiB << 10 << 2 << true;
    QTest::addRow("tcp-sender-only") << true << false << 1 * MiB << 6 << 0 << true;
}

void tst_CliSharedMemory::framesBetweenProcesses()
{
    QFETCH(bool, senderShared);
    QFETCH(bool, listenerShared);
    QFETCH(int, size);
    QFETCH(int, count);
    QFETCH(int, pool);
    QFETCH(bool, tcp);
    const bool expectShared = senderShared && listenerShared;

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString endpoint = tcp ? QStringLiteral("tcp://127.0.0.1:0")
                           : QStringLiteral("unix:") + dir.filePath(QStringLiteral("shm.sock"));
    QProcess listener;
    dieWithTest(listener);
    // Without --shared-memory the listener still looks every payload up.
    listener.start(tool(),
                   {QStringLiteral("listen"), endpoint,
                    listenerShared ? QStringLiteral("--shared-memory") : QStringLiteral("--check-mappings")});
    QVERIFY(listener.waitForStarted());
    QString listenerErr;
    QVERIFY2(waitForStderr(listener, QStringLiteral("listening on "), &listenerErr), qPrintable(listenerErr));
    if (tcp) { // the port the listener got (its line is written whole)
        const QRegularExpressionMatch bound
            = QRegularExpression(QStringLiteral("listening on (\\S+)\n")).match(listenerErr);
        QVERIFY2(bound.hasMatch(), qPrintable(listenerErr));
        endpoint = bound.captured(1);
    }

    QStringList arguments{QStringLiteral("send"),      endpoint,
                          QStringLiteral("--type"),    QStringLiteral("ack"),
                          QStringLiteral("--size"),    QString::number(size),
                          QStringLiteral("--count"),   QString::number(count),
                          QStringLiteral("--timeout"), QStringLiteral("20000")};
    if (senderShared)
        arguments << QStringLiteral("--shared-memory");
    if (pool > 0)
        arguments << QStringLiteral("--pool") << QString::number(pool);
    QProcess sender;
    dieWithTest(sender);
    sender.start(tool(), arguments);
    QVERIFY(sender.waitForFinished(30000));
    const QString senderErr = QString::fromLocal8Bit(sender.readAllStandardError());
    const QList<QJsonObject> senderLines = jsonLines(sender.readAllStandardOutput());
    QVERIFY2(sender.exitCode() == 0, qPrintable(senderErr));
    QCOMPARE(senderLines.size(), 1);
    const QJsonObject sent = senderLines.constFirst();
    QCOMPARE(sent.value(u"messages").toInteger(), count);
    QCOMPARE(sent.value(u"released").toInteger(), count);
    QVERIFY2(sent.value(u"releasedUndelivered").toInteger() == 0, qPrintable(compact(sent)));

    QVERIFY(listener.waitForFinished(30000));
    listenerErr += QString::fromLocal8Bit(listener.readAllStandardError());
    // In the listener-only row the sender never reads the listener's offer:
    // its close reads it first, so the listener sees an orderly end, no reset.
    QVERIFY2(listener.exitCode() == 0, qPrintable(listenerErr));
    QList<QJsonObject> frames;
    QJsonObject summary;
    for (const QJsonObject &line : jsonLines(listener.readAllStandardOutput())) {
        if (line.value(u"summary").toBool())
            summary = line;
        else if (line.value(u"type").toString() == u"ack")
            frames.append(line); // --shared-memory's first Ping has its own line
    }
    QVERIFY2(!summary.isEmpty(), qPrintable(listenerErr));

    // Every frame verified by the listener's hash of the bytes where they lay,
    // and found in a memfd mapping of the listener exactly when both agreed.
    QCOMPARE(frames.size(), count);
    for (int k = 0; k < count; ++k) {
        const QJsonObject &frame = frames.at(k);
        QCOMPARE(frame.value(u"ackid").toInteger(), qint64(k + 1));
        QCOMPARE(frame.value(u"size").toInteger(), qint64(size));
        QCOMPARE(frame.value(u"sha256").toString(), expectedSha256(quint64(k), size));
        QVERIFY2(frame.value(u"memfd").toBool() == expectShared, qPrintable(compact(frame)));
        QVERIFY2(frame.value(u"shared").toBool() == expectShared, qPrintable(compact(frame)));
    }
    QCOMPARE(summary.value(u"frames").toInteger(), count);
    QCOMPARE(summary.value(u"framesInMemfd").toInteger(), expectShared ? count : 0);
    QCOMPARE(summary.value(u"framesNotInMemfd").toInteger(), expectShared ? 0 : count);
    const double perFrame = summary.value(u"bytesReceivedPerFrame").toDouble();
    QCOMPARE(perFrame, double(summary.value(u"bytesReceived").toInteger()) / count);
    if (expectShared) {
        // Headers, the offer, the pool and the small frame messages: no payload.
        QVERIFY2(perFrame < 1024, qPrintable(compact(summary)));
        QCOMPARE(summary.value(u"sharedMemoryFramesReceived").toInteger(), count);
        QVERIFY2(summary.value(u"mappedBytesPeak").toInteger() >= qint64(size), qPrintable(compact(summary)));
        QCOMPARE(summary.value(u"zeroCopyState").toString(), QStringLiteral("shared-memory"));
        QVERIFY(sent.value(u"sharedMemoryActive").toBool());
        QCOMPARE(sent.value(u"sharedMemoryFramesSent").toInteger(), count);
        QVERIFY(sent.value(u"poolShared").toBool());
        QCOMPARE(sent.value(u"userSpaceCopies").toInteger(), 0);
        QVERIFY2(!senderErr.contains(u"no shared memory"), qPrintable(senderErr));
    } else {
        // The same measure on the copy path counts every payload byte.
        QVERIFY2(perFrame >= size, qPrintable(compact(summary)));
        QCOMPARE(summary.value(u"sharedMemoryFramesReceived").toInteger(), 0);
        QCOMPARE(summary.value(u"mappedBytesPeak").toInteger(), 0);
        QVERIFY(!summary.value(u"sharedMemoryActive").toBool());
        QCOMPARE(sent.value(u"sharedMemoryFramesSent").toInteger(), 0);
        // The side with shared memory on heard no offer, the other one did:
        // each says so in its reason.
        QVERIFY2(summary.value(u"zeroCopyReason").toString().contains(u"offer", Qt::CaseInsensitive),
                 qPrintable(compact(summary)));
        if (senderShared) {
            QVERIFY(!sent.value(u"sharedMemoryActive").toBool());
            QVERIFY2(sent.value(u"sharedMemoryReason").toString().contains(u"offer", Qt::CaseInsensitive),
                     qPrintable(compact(sent)));
            QVERIFY2(senderErr.contains(u"no shared memory on this connection: "), qPrintable(senderErr));
        }
    }
}

void tst_CliSharedMemory::sharedMemoryNeedsPayload()
{
    const Result result = run({QStringLiteral("send"), QStringLiteral("unix:/nonexistent/shm.sock"),
                               QStringLiteral("--type"), QStringLiteral("list"), QStringLiteral("--shared-memory")});
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 2);
    QVERIFY2(result.err.contains("--shared-memory needs a payload of at least 1 byte"), result.err.constData());
}

QTEST_GUILESS_MAIN(tst_CliSharedMemory)
#include "tst_clisharedmemory.moc"
