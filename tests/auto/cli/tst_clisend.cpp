// SPDX-License-Identifier: MIT
// blight-transport send as a client: payload options laid out as DESIGN.md §3
// says (checked on the wire by hand), a conversation with the fake compositor
// on a private bus (--wait-acks and decoded replies), --timeout against a
// reader that stopped, the error text in the JSON summary, and the released
// count of the summary with and without --pool, on unix: and tcp: endpoints.
#include "clitest.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QDeadlineTimer>
#include <QtCore/QElapsedTimer>
#include <QtCore/QJsonArray>
#include <QtCore/QRegularExpression>
#include <QtCore/QTemporaryDir>
#include <QtCore/QTemporaryFile>
#include <QtTest/QtTest>

#include <cstring>
#include <unistd.h>

using namespace CliTest;

namespace {

// Little-endian field writers for building expected payloads by hand
// (x86_64 and ARM are both little-endian hosts).
void put32(QByteArray &bytes, qsizetype at, quint32 value)
{
    std::memcpy(bytes.data() + at, &value, 4);
}

void put16(QByteArray &bytes, qsizetype at, quint16 value)
{
    std::memcpy(bytes.data() + at, &value, 2);
}

// Reads from \a fd until the peer closes it.
QByteArray readAll(int fd)
{
    QByteArray wire;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof(buffer));
        if (n <= 0)
            return wire;
        wire.append(buffer, n);
    }
}

// The pattern of --size, built byte by byte: byte i of message k is (k + i) % 251.
QByteArray expectedPattern(quint64 k, qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char((k + quint64(i)) % 251);
    return bytes;
}

} // namespace

class tst_CliSend : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void payloadOnTheWire_data();
    void payloadOnTheWire();
    void releasedThroughListener_data();
    void releasedThroughListener();
    void poolRefusedWithoutPayload_data();
    void poolRefusedWithoutPayload();
    void conversationWithCompositor_data();
    void conversationWithCompositor();
    void readmeExampleEndsCleanly();
    void timeoutAgainstStoppedReader_data();
    void timeoutAgainstStoppedReader();
    void summaryCarriesTheErrorOnce();
    void compositorStopsCleanly(); // last: ends the compositor

private:
    PrivateBus m_bus;
    QTemporaryFile m_payloadFile;
    QProcess m_compositor;
    QString m_compositorLog;
    bool m_haveCompositor = false;
};

void tst_CliSend::initTestCase()
{
    if (!m_bus.start()) {
        qWarning("no private D-Bus, the compositor tests will skip: %s", qPrintable(m_bus.errorString()));
        return;
    }
    // Two surfaces of known geometry (serve-compositor makes 1404x1872 RGB16
    // screens) and fast pings so that pings happen during the tests.
    m_compositor.setProcessEnvironment(m_bus.environment());
    dieWithTest(m_compositor);
    m_compositor.start(tool(),
                       {QStringLiteral("serve-compositor"), QStringLiteral("--session"), QStringLiteral("--surfaces"),
                        QStringLiteral("2"), QStringLiteral("--ping-interval"), QStringLiteral("50")});
    QVERIFY(m_compositor.waitForStarted());
    const QString ready = readLine(m_compositor);
    QVERIFY2(ready.startsWith(u"ready:"),
             qPrintable(ready + QString::fromLocal8Bit(m_compositor.readAllStandardError())));
    m_haveCompositor = true;
}

void tst_CliSend::cleanupTestCase()
{
    if (m_compositor.state() != QProcess::NotRunning) {
        m_compositor.terminate();
        m_compositor.waitForFinished(5000);
    }
}

void tst_CliSend::payloadOnTheWire_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<int>("type");
    QTest::addColumn<QByteArray>("payload");

    QTest::addRow("hex") << QStringList{QStringLiteral("--type"), QStringLiteral("ack"),
                                        QStringLiteral("--payload-hex"), QStringLiteral("de ad be ef 00 01")}
                         << 1 << QByteArray::fromHex("deadbeef0001");
    QTest::addRow("hex-pool-1") << QStringList{QStringLiteral("--type"),        QStringLiteral("ack"),
                                               QStringLiteral("--payload-hex"), QStringLiteral("de ad be ef 00 01"),
                                               QStringLiteral("--pool"),        QStringLiteral("1")}
                                << 1 << QByteArray::fromHex("deadbeef0001");
    QTest::addRow("list-no-payload") << QStringList{QStringLiteral("--type"), QStringLiteral("list")} << 7
                                     << QByteArray();
    // A file's bytes as they are, zero bytes and all.
    QByteArray fileBytes(5000, '\0');
    for (qsizetype i = 0; i < fileBytes.size(); ++i)
        fileBytes[i] = char((i * 7) % 256);
    QVERIFY(m_payloadFile.open());
    m_payloadFile.write(fileBytes);
    m_payloadFile.flush();
    QTest::addRow("file") << QStringList{QStringLiteral("--type"), QStringLiteral("ack"),
                                         QStringLiteral("--payload-file"), m_payloadFile.fileName()}
                          << 1 << fileBytes;
    QTest::addRow("file-pool-2") << QStringList{QStringLiteral("--type"),         QStringLiteral("ack"),
                                                QStringLiteral("--payload-file"), m_payloadFile.fileName(),
                                                QStringLiteral("--pool"),         QStringLiteral("2")}
                                 << 1 << fileBytes;

    QByteArray repaint(36, '\0');
    put32(repaint, 0, quint32(-10)); // x
    put32(repaint, 4, 20);           // y
    put32(repaint, 8, 300);          // width
    put32(repaint, 12, 400);         // height
    put32(repaint, 28, 77);          // marker
    put16(repaint, 32, 2);           // identifier
    QTest::addRow("typed-repaint") << QStringList{QStringLiteral("--type"),    QStringLiteral("repaint"),
                                                  QStringLiteral("--surface"), QStringLiteral("2"),
                                                  QStringLiteral("--x"),       QStringLiteral("-10"),
                                                  QStringLiteral("--y"),       QStringLiteral("20"),
                                                  QStringLiteral("--width"),   QStringLiteral("300"),
                                                  QStringLiteral("--height"),  QStringLiteral("400"),
                                                  QStringLiteral("--marker"),  QStringLiteral("77")}
                                   << 3 << repaint;
    QByteArray move(12, '\0');
    put16(move, 0, 5);
    put32(move, 4, 7);
    put32(move, 8, quint32(-8));
    QTest::addRow("typed-move") << QStringList{QStringLiteral("--type"),    QStringLiteral("move"),
                                               QStringLiteral("--surface"), QStringLiteral("5"),
                                               QStringLiteral("--x"),       QStringLiteral("7"),
                                               QStringLiteral("--y"),       QStringLiteral("-8")}
                                << 4 << move;
    QByteArray info(2, '\0');
    put16(info, 0, 513);
    QTest::addRow("typed-info") << QStringList{QStringLiteral("--type"), QStringLiteral("info"),
                                               QStringLiteral("--surface"), QStringLiteral("513")}
                                << 5 << info;
    QByteArray defaultRepaint(36, '\0');
    put16(defaultRepaint, 32, 1); // surface 1 when none is given
    QTest::addRow("typed-repaint-defaults")
        << QStringList{QStringLiteral("--type"), QStringLiteral("repaint")} << 3 << defaultRepaint;
    QTest::addRow("typed-repaint-pool-3") << QStringList{QStringLiteral("--type"), QStringLiteral("repaint"),
                                                         QStringLiteral("--pool"), QStringLiteral("3")}
                                          << 3 << defaultRepaint;
    QByteArray wait(4, '\0');
    put32(wait, 0, 0x01020304);
    QTest::addRow("typed-wait") << QStringList{QStringLiteral("--type"), QStringLiteral("wait"),
                                               QStringLiteral("--marker"), QString::number(0x01020304)}
                                << 10 << wait;
}

void tst_CliSend::payloadOnTheWire()
{
    QFETCH(QStringList, arguments);
    QFETCH(int, type);
    QFETCH(QByteArray, payload);
    constexpr int Count = 3;
    auto [mine, theirs] = inheritablePair();
    QVERIFY(mine >= 0);
    QProcess process;
    dieWithTest(process);
    process.start(tool(),
                  QStringList{QStringLiteral("send"), QStringLiteral("fd:%1").arg(theirs), QStringLiteral("--count"),
                              QString::number(Count)}
                      + arguments);
    QVERIFY(process.waitForStarted());
    ::close(theirs);
    const QByteArray wire = readAll(mine);
    ::close(mine);
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 0);
    const qsizetype stride = 12 + payload.size();
    QCOMPARE(wire.size(), Count * stride);
    for (int k = 0; k < Count; ++k) {
        qint32 wireType;
        quint32 ackid;
        quint32 size;
        std::memcpy(&wireType, wire.constData() + k * stride, 4);
        std::memcpy(&ackid, wire.constData() + k * stride + 4, 4);
        std::memcpy(&size, wire.constData() + k * stride + 8, 4);
        QCOMPARE(wireType, type);
        QCOMPARE(ackid, quint32(k + 1));
        QCOMPARE(qsizetype(size), payload.size());
        QCOMPARE(wire.mid(k * stride + 12, payload.size()).toHex(), payload.toHex());
    }
    // Every message was released, none dropped, from the pool when asked.
    const QList<QJsonObject> lines = jsonLines(process.readAllStandardOutput());
    QCOMPARE(lines.size(), 1);
    const QJsonObject summary = lines.constFirst();
    QCOMPARE(summary.value(u"messages").toInteger(), Count);
    QCOMPARE(summary.value(u"released").toInteger(), Count);
    QCOMPARE(summary.value(u"releasedUndelivered").toInteger(), 0);
    const qsizetype poolAt = arguments.indexOf(QStringLiteral("--pool"));
    QCOMPARE(summary.value(u"poolBuffers").toInteger(), poolAt < 0 ? 0 : arguments.at(poolAt + 1).toLongLong());
    if (poolAt >= 0)
        QCOMPARE(summary.value(u"userSpaceCopies").toInteger(), 0);
}

void tst_CliSend::releasedThroughListener_data()
{
    QTest::addColumn<QString>("listenOn");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("count");
    QTest::addColumn<int>("pool"); // 0: no --pool

    for (const char *scheme : {"unix", "tcp"}) {
        const QString listenOn = QString::fromLatin1(scheme) == u"unix" ? QStringLiteral("unix:%1/send.sock")
                                                                        : QStringLiteral("tcp://127.0.0.1:0");
        QTest::addRow("%s-small", scheme) << listenOn << 36 << 100 << 0;
        QTest::addRow("%s-small-pool-4", scheme) << listenOn << 36 << 100 << 4;
        QTest::addRow("%s-8MiB", scheme) << listenOn << 8 * 1024 * 1024 << 4 << 0;
        // One buffer for several 8 MiB messages: every message after the
        // first waits for the previous one's release.
        QTest::addRow("%s-8MiB-pool-1", scheme) << listenOn << 8 * 1024 * 1024 << 4 << 1;
    }
}

void tst_CliSend::releasedThroughListener()
{
    QFETCH(QString, listenOn);
    QFETCH(int, size);
    QFETCH(int, count);
    QFETCH(int, pool);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    if (listenOn.contains(u"%1"))
        listenOn = listenOn.arg(dir.path());
    QProcess listener;
    dieWithTest(listener);
    listener.start(tool(), {QStringLiteral("listen"), listenOn, QStringLiteral("--count"), QString::number(count)});
    QVERIFY(listener.waitForStarted());
    // listen names the endpoint it got (the port for tcp:) on stderr.
    QString listenerErr;
    QVERIFY2(waitForStderr(listener, QStringLiteral("listening on "), &listenerErr), qPrintable(listenerErr));
    const QRegularExpressionMatch listening
        = QRegularExpression(QStringLiteral("listening on (\\S+)")).match(listenerErr);
    QVERIFY(listening.hasMatch());

    QStringList arguments{QStringLiteral("send"),    listening.captured(1),    QStringLiteral("--type"),
                          QStringLiteral("ack"),     QStringLiteral("--size"), QString::number(size),
                          QStringLiteral("--count"), QString::number(count),   QStringLiteral("--timeout"),
                          QStringLiteral("20000")};
    if (pool > 0)
        arguments << QStringLiteral("--pool") << QString::number(pool);
    QProcess sender;
    dieWithTest(sender);
    sender.start(tool(), arguments);
    QVERIFY(sender.waitForFinished(30000));
    const QByteArray senderErr = sender.readAllStandardError();
    QCOMPARE(sender.exitCode(), 0);
    QVERIFY2(senderErr.isEmpty(), senderErr.constData());
    const QList<QJsonObject> summaries = jsonLines(sender.readAllStandardOutput());
    QCOMPARE(summaries.size(), 1);
    const QJsonObject summary = summaries.constFirst();
    QCOMPARE(summary.value(u"messages").toInteger(), count);
    QCOMPARE(summary.value(u"released").toInteger(), count);
    QCOMPARE(summary.value(u"releasedUndelivered").toInteger(), 0);
    QCOMPARE(summary.value(u"poolBuffers").toInteger(), pool);
    if (pool == 0)
        QCOMPARE(summary.value(u"poolWaits").toInteger(), 0);
    else // the payload left from the pool buffer it was written into
        QCOMPARE(summary.value(u"userSpaceCopies").toInteger(), 0);
    if (pool == 1) // 8 MiB cannot leave inside one call: the second acquire finds the buffer out
        QVERIFY2(summary.value(u"poolWaits").toInteger() >= 1,
                 qPrintable(QString::number(summary.value(u"poolWaits").toInteger())));

    // The peer got every message whole, each with its own pattern (a buffer
    // rewritten while a send still held it would show here).
    QVERIFY(listener.waitForFinished(30000));
    QCOMPARE(listener.exitCode(), 0);
    const QList<QJsonObject> lines = jsonLines(listener.readAllStandardOutput());
    QCOMPARE(lines.size(), count);
    for (int k = 0; k < count; ++k) {
        QCOMPARE(lines.at(k).value(u"ackid").toInteger(), qint64(k + 1));
        QCOMPARE(lines.at(k).value(u"size").toInteger(), qint64(size));
        QCOMPARE(lines.at(k).value(u"sha256").toString(),
                 QString::fromLatin1(
                     QCryptographicHash::hash(expectedPattern(quint64(k), size), QCryptographicHash::Sha256).toHex()));
    }
}

void tst_CliSend::poolRefusedWithoutPayload_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");

    QTest::addRow("list-has-no-payload") << QStringList{QStringLiteral("--type"), QStringLiteral("list"),
                                                        QStringLiteral("--pool"), QStringLiteral("2")}
                                         << QStringLiteral("--pool needs a payload of at least 1 byte");
    QTest::addRow("size-0") << QStringList{QStringLiteral("--type"), QStringLiteral("ack"),    QStringLiteral("--size"),
                                           QStringLiteral("0"),      QStringLiteral("--pool"), QStringLiteral("1")}
                            << QStringLiteral("--pool needs a payload of at least 1 byte");
    QTest::addRow("pool-0") << QStringList{QStringLiteral("--type"), QStringLiteral("ack"),    QStringLiteral("--size"),
                                           QStringLiteral("10"),     QStringLiteral("--pool"), QStringLiteral("0")}
                            << QStringLiteral("--pool needs a whole number from 1 to 1024, not '0'");
}

void tst_CliSend::poolRefusedWithoutPayload()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    // Refused while parsing: nothing listens at this path, and nothing connects.
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const Result result = run(
        QStringList{QStringLiteral("send"), QStringLiteral("unix:") + dir.filePath(QStringLiteral("nobody"))}
        + arguments);
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 2);
    const QString err = QString::fromLocal8Bit(result.err);
    QVERIFY2(err.contains(message), qPrintable(err));
    QVERIFY2(result.out.isEmpty(), result.out.constData());
}

void tst_CliSend::conversationWithCompositor_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("compositorSays"); // a line the compositor logs for this client

    QTest::addRow("list") << QStringList{QStringLiteral("--type"), QStringLiteral("list"), QStringLiteral("--count"),
                                         QStringLiteral("2")}
                          << QStringLiteral("acked list 2 with 4 bytes");
    QTest::addRow("info-known") << QStringList{QStringLiteral("--type"), QStringLiteral("info"),
                                               QStringLiteral("--surface"), QStringLiteral("2")}
                                << QStringLiteral("acked info 1 with 32 bytes");
    QTest::addRow("info-unknown") << QStringList{QStringLiteral("--type"), QStringLiteral("info"),
                                                 QStringLiteral("--surface"), QStringLiteral("99")}
                                  << QStringLiteral("info for unknown surface 99");
    QTest::addRow("repaint-real-surface")
        << QStringList{QStringLiteral("--type"), QStringLiteral("repaint"),  QStringLiteral("--surface"),
                       QStringLiteral("2"),      QStringLiteral("--x"),      QStringLiteral("10"),
                       QStringLiteral("--y"),    QStringLiteral("20"),       QStringLiteral("--width"),
                       QStringLiteral("100"),    QStringLiteral("--height"), QStringLiteral("50")}
        << QStringLiteral("repaint 1 surface 2 (10,20 100x50)");
    QTest::addRow("ping") << QStringList{QStringLiteral("--type"), QStringLiteral("ping"), QStringLiteral("--count"),
                                         QStringLiteral("3")}
                          << QString(); // the compositor's socket answers pings without a word
}

void tst_CliSend::conversationWithCompositor()
{
    if (!m_haveCompositor)
        QSKIP("no private D-Bus (dbus-daemon not installed): the compositor cannot be reached");
    QFETCH(QStringList, arguments);
    QFETCH(QString, compositorSays);
    QProcess send;
    dieWithTest(send);
    send.setProcessEnvironment(m_bus.environment());
    send.start(tool(),
               QStringList{QStringLiteral("send"), QStringLiteral("blight:session"), QStringLiteral("--wait-acks"),
                           QStringLiteral("--timeout"), QStringLiteral("10000")}
                   + arguments);
    QVERIFY(send.waitForFinished(15000));
    const QByteArray err = send.readAllStandardError();
    QCOMPARE(send.exitCode(), 0);
    QVERIFY2(err.isEmpty(), err.constData());
    const QList<QJsonObject> lines = jsonLines(send.readAllStandardOutput());
    QVERIFY(!lines.isEmpty());
    const QJsonObject summary = lines.last();
    const QList<QJsonObject> acks = lines.mid(0, lines.size() - 1);
    const qint64 count = summary.value(u"requested").toInteger();
    QCOMPARE(qint64(acks.size()), count);
    QCOMPARE(summary.value(u"acks").toInteger(), count);
    QCOMPARE(summary.value(u"acksOutstanding").toInteger(), 0);
    QCOMPARE(summary.value(u"error").toString(), QString());
    QCOMPARE(summary.value(u"released").toInteger(), count);
    for (int i = 0; i < acks.size(); ++i) {
        QCOMPARE(acks.at(i).value(u"ack").toInteger(), i + 1);
        QCOMPARE(acks.at(i).value(u"request").toString(), summary.value(u"type").toString());
    }
    const QString row = QString::fromLatin1(QTest::currentDataTag());
    const QJsonObject first = acks.constFirst();
    if (row == u"list") {
        QCOMPARE(first.value(u"surfaces").toArray(), QJsonArray({1, 2}));
    } else if (row == u"info-known") {
        // serve-compositor's surfaces: a reMarkable 2 screen in RGB16 (format 7).
        QCOMPARE(first.value(u"known").toBool(), true);
        QCOMPARE(first.value(u"surface").toInt(), 2);
        const QJsonObject geometry = first.value(u"geometry").toObject();
        QCOMPARE(geometry.value(u"x").toInt(), 0);
        QCOMPARE(geometry.value(u"y").toInt(), 0);
        QCOMPARE(geometry.value(u"width").toInt(), 1404);
        QCOMPARE(geometry.value(u"height").toInt(), 1872);
        QCOMPARE(geometry.value(u"stride").toInt(), 1404 * 2);
        QCOMPARE(geometry.value(u"format").toInt(), 7);
        QCOMPARE(geometry.value(u"scale").toDouble(), 1.0);
    } else if (row == u"info-unknown") {
        // An empty Ack is blight's answer for an unknown surface: reported, not a failure.
        QCOMPARE(first.value(u"known").toBool(true), false);
        QCOMPARE(first.value(u"size").toInt(), 0);
        QCOMPARE(summary.value(u"unknownSurfaces").toInt(), 1);
    } else {
        QCOMPARE(first.value(u"size").toInt(), 0);
    }
    if (compositorSays.isEmpty())
        return;
    QVERIFY2(QTest::qWaitFor(
                 [&] {
                     m_compositorLog += QString::fromUtf8(m_compositor.readAllStandardOutput());
                     return m_compositorLog.contains(compositorSays);
                 },
                 5000),
             qPrintable(m_compositorLog));
}

void tst_CliSend::readmeExampleEndsCleanly()
{
    if (!m_haveCompositor)
        QSKIP("no private D-Bus (dbus-daemon not installed): the compositor cannot be reached");
    // The commands of the README's "Connecting to blight through D-Bus".
    const QList<QStringList> commands = {
        {QStringLiteral("send"), QStringLiteral("blight:session"), QStringLiteral("--type"), QStringLiteral("list"),
         QStringLiteral("--wait-acks")},
        {QStringLiteral("send"), QStringLiteral("blight:session"), QStringLiteral("--type"), QStringLiteral("info"),
         QStringLiteral("--surface"), QStringLiteral("1"), QStringLiteral("--wait-acks")},
        {QStringLiteral("send"), QStringLiteral("blight:session"), QStringLiteral("--type"), QStringLiteral("repaint"),
         QStringLiteral("--surface"), QStringLiteral("1"), QStringLiteral("--width"), QStringLiteral("1404"),
         QStringLiteral("--height"), QStringLiteral("1872"), QStringLiteral("--wait-acks")},
    };
    m_compositorLog += QString::fromUtf8(m_compositor.readAllStandardOutput());
    const qsizetype before = m_compositorLog.size();
    for (const QStringList &command : commands) {
        QProcess send;
        dieWithTest(send);
        send.setProcessEnvironment(m_bus.environment());
        send.start(tool(), command);
        QVERIFY(send.waitForFinished(15000));
        QCOMPARE(send.exitCode(), 0);
        const QList<QJsonObject> lines = jsonLines(send.readAllStandardOutput());
        QCOMPARE(lines.size(), 2); // the ack, then the summary
        QVERIFY(lines.at(0).contains(u"ack"));
    }
    // Each client that connected from here on hung up after its acks: an
    // orderly close, no broken pipe.
    const QRegularExpression connected(QStringLiteral("client (\\d+) connected"));
    QString log;
    QStringList unfinished;
    const bool allGone = QTest::qWaitFor(
        [&] {
            m_compositorLog += QString::fromUtf8(m_compositor.readAllStandardOutput());
            log = m_compositorLog.mid(before);
            unfinished.clear();
            qsizetype clients = 0;
            for (auto it = connected.globalMatch(log); it.hasNext(); ++clients) {
                const QString id = it.next().captured(1);
                if (!log.contains(QStringLiteral("client %1 disconnected: ").arg(id)))
                    unfinished.append(id);
            }
            return clients >= qsizetype(commands.size()) && unfinished.isEmpty();
        },
        5000);
    QVERIFY2(allGone, qPrintable(log));
    const QRegularExpression disconnected(QStringLiteral("client \\d+ disconnected: (.*)"));
    for (auto it = disconnected.globalMatch(log); it.hasNext();) {
        const QString reason = it.next().captured(1);
        QVERIFY2(reason.contains(u"peer closed the connection"), qPrintable(log));
    }
    QVERIFY2(!log.contains(u"broken pipe", Qt::CaseInsensitive), qPrintable(log));
}

void tst_CliSend::timeoutAgainstStoppedReader_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("why"); // what the timeout message says was going on

    // The kernel buffer and then the send queue fill.
    QTest::addRow("queue-full") << QStringList{QStringLiteral("--size"), QStringLiteral("65536"),
                                               QStringLiteral("--count"), QStringLiteral("4000")}
                                << QStringLiteral("the peer is not reading");
    // The one pool buffer stays with the first send, which cannot leave.
    QTest::addRow("pool-dry") << QStringList{QStringLiteral("--size"),  QString::number(8 * 1024 * 1024),
                                             QStringLiteral("--count"), QStringLiteral("4"),
                                             QStringLiteral("--pool"),  QStringLiteral("1")}
                              << QStringLiteral("1 of 4 messages accepted, waiting for one of the 1 pool buffers");
}

void tst_CliSend::timeoutAgainstStoppedReader()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, why);
    // The test's end is never read: only --timeout ends the command.
    auto [mine, theirs] = inheritablePair();
    QVERIFY(mine >= 0);
    constexpr int TimeoutMs = 300;
    QProcess process;
    dieWithTest(process);
    QElapsedTimer clock;
    clock.start();
    process.start(tool(),
                  QStringList{QStringLiteral("send"), QStringLiteral("fd:%1").arg(theirs), QStringLiteral("--type"),
                              QStringLiteral("ack"), QStringLiteral("--timeout"), QString::number(TimeoutMs)}
                      + arguments);
    QVERIFY(process.waitForStarted());
    ::close(theirs);
    QVERIFY2(process.waitForFinished(10000), "send --timeout did not end against a reader that stopped");
    const qint64 elapsed = clock.elapsed();
    ::close(mine);
    QCOMPARE(process.exitCode(), 1);
    QVERIFY2(elapsed >= TimeoutMs, qPrintable(QString::number(elapsed)));
    const QString err = QString::fromLocal8Bit(process.readAllStandardError());
    QVERIFY2(err.contains(QStringLiteral("timed out after %1 ms").arg(TimeoutMs)), qPrintable(err));
    QVERIFY2(err.contains(why), qPrintable(err));
    const QList<QJsonObject> lines = jsonLines(process.readAllStandardOutput());
    QCOMPARE(lines.size(), 1);
    const QJsonObject summary = lines.constFirst();
    QVERIFY(summary.value(u"error").toString().contains(QStringLiteral("timed out after %1 ms").arg(TimeoutMs)));
    const qint64 messages = summary.value(u"messages").toInteger();
    QVERIFY(messages < summary.value(u"requested").toInteger());
    // abort() drops what the kernel did not take, and says so: every
    // accepted send is still reported, the queued ones as undelivered.
    QCOMPARE(summary.value(u"released").toInteger(), messages);
    const qint64 undelivered = summary.value(u"releasedUndelivered").toInteger();
    QVERIFY2(undelivered >= 1 && undelivered <= messages, qPrintable(QString::number(undelivered)));
}

void tst_CliSend::summaryCarriesTheErrorOnce()
{
    // The peer hangs up before any ack: send fails, says why once on stderr
    // (not again through the library's log), and the summary has that text.
    auto [mine, theirs] = inheritablePair();
    QVERIFY(mine >= 0);
    QProcess process;
    dieWithTest(process);
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("QT_MESSAGE_PATTERN"), QStringLiteral("qtlog %{category}: %{message}"));
    process.setProcessEnvironment(environment);
    process.start(tool(),
                  {QStringLiteral("send"), QStringLiteral("fd:%1").arg(theirs), QStringLiteral("--type"),
                   QStringLiteral("info"), QStringLiteral("--count"), QStringLiteral("2"),
                   QStringLiteral("--wait-acks")});
    QVERIFY(process.waitForStarted());
    ::close(theirs);
    // Both requests arrive (28 bytes), then the test hangs up without answering.
    QByteArray got;
    while (got.size() < 28) {
        char buffer[64];
        const ssize_t n = ::read(mine, buffer, sizeof(buffer));
        QVERIFY(n > 0);
        got.append(buffer, n);
    }
    ::close(mine);
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 1);
    const QString err = QString::fromLocal8Bit(process.readAllStandardError());
    const QList<QJsonObject> lines = jsonLines(process.readAllStandardOutput());
    QCOMPARE(lines.size(), 1);
    const QString error = lines.at(0).value(u"error").toString();
    QVERIFY2(!error.isEmpty(), qPrintable(err));
    QVERIFY2(error.contains(u"2 acks outstanding"), qPrintable(error));
    QCOMPARE(err, QStringLiteral("blight-transport: ") + error + u'\n');
    QVERIFY2(!err.contains(u"qtlog"), qPrintable(err));
}

void tst_CliSend::compositorStopsCleanly()
{
    if (!m_haveCompositor)
        QSKIP("no private D-Bus (dbus-daemon not installed): the compositor cannot be reached");
    // SIGTERM goes through the event loop: the name is given up, exit 0.
    m_compositor.terminate();
    QVERIFY(m_compositor.waitForFinished(10000));
    QCOMPARE(m_compositor.exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_compositor.exitCode(), 0);
    m_compositorLog += QString::fromUtf8(m_compositor.readAllStandardOutput());
    QVERIFY2(m_compositorLog.endsWith(QStringLiteral("released codes.eeems.blight1\n")), qPrintable(m_compositorLog));
}

QTEST_GUILESS_MAIN(tst_CliSend)
#include "tst_clisend.moc"
