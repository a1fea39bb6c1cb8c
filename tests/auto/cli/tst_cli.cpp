// SPDX-License-Identifier: MIT
// The blight-transport command line: send and listen against each other and
// against bytes written and read by hand from the layout in DESIGN.md §3.
#include "clitest.h"

#include <QtCore/QCryptographicHash>
#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QRegularExpression>
#include <QtTest/QtTest>

#include <cstring>
#include <unistd.h>

using CliTest::inheritablePair;
using CliTest::jsonLines;

namespace {

const QString Tool = CliTest::tool();

// The wire layout written out by hand, independent of the library's codec:
// int32 type at 0, uint32 ackid at 4, uint32 size at 8, then the payload.
QByteArray handMadeMessage(qint32 type, quint32 ackid, const QByteArray &payload)
{
    QByteArray bytes(12, '\0');
    const quint32 size = quint32(payload.size());
    std::memcpy(bytes.data() + 0, &type, 4);
    std::memcpy(bytes.data() + 4, &ackid, 4);
    std::memcpy(bytes.data() + 8, &size, 4);
    return bytes + payload;
}

QByteArray expectedPayload(quint64 k, int size)
{
    QByteArray bytes(size, '\0');
    for (int i = 0; i < size; ++i)
        bytes[i] = char((k + quint64(i)) % 251);
    return bytes;
}

} // namespace

class tst_Cli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void helpForEveryCommand_data();
    void helpForEveryCommand();
    void badArguments_data();
    void badArguments();
    void sendWritesOxideLayout();
    void listenDecodesOxideLayout();
    void sendToListenOverTcp_data();
    void sendToListenOverTcp();
    void listenReportsMalformedPeer();
    void demoChecksEveryByte();
};

void tst_Cli::helpForEveryCommand_data()
{
    QTest::addColumn<QString>("command");
    for (const char *command : {"demo", "listen", "send", "serve-compositor"})
        QTest::addRow("%s", command) << QString::fromLatin1(command);
}

void tst_Cli::helpForEveryCommand()
{
    QFETCH(QString, command);
    QProcess process;
    process.start(Tool, {command, QStringLiteral("--help")});
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 0);
    const QByteArray out = process.readAllStandardOutput();
    QVERIFY2(out.contains("Usage:"), out.constData());
    QVERIFY(out.contains("--help"));
}

void tst_Cli::badArguments_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QString>("message");
    QTest::addRow("unknown-command") << QStringList{QStringLiteral("frobnicate")} << QStringLiteral("unknown command");
    QTest::addRow("send-no-endpoint") << QStringList{QStringLiteral("send")} << QStringLiteral("exactly one endpoint");
    QTest::addRow("send-bad-type") << QStringList{QStringLiteral("send"), QStringLiteral("fd:0"),
                                                  QStringLiteral("--type"), QStringLiteral("nope")}
                                   << QStringLiteral("unknown --type");
    QTest::addRow("send-missing-payload")
        << QStringList{QStringLiteral("send"), QStringLiteral("fd:0"),   QStringLiteral("--type"),
                       QStringLiteral("move"), QStringLiteral("--size"), QStringLiteral("0")}
        << QStringLiteral("need a payload");
    QTest::addRow("send-bad-zerocopy") << QStringList{QStringLiteral("send"), QStringLiteral("fd:0"),
                                                      QStringLiteral("--zerocopy"), QStringLiteral("maybe")}
                                       << QStringLiteral("--zerocopy");
    QTest::addRow("listen-bad-endpoint") << QStringList{QStringLiteral("listen"), QStringLiteral("smtp://x")}
                                         << QStringLiteral("unknown endpoint");
    QTest::addRow("demo-bad-links") << QStringList{QStringLiteral("demo"), QStringLiteral("--links"),
                                                   QStringLiteral("carrier-pigeon")}
                                    << QStringLiteral("unknown link");
}

void tst_Cli::badArguments()
{
    QFETCH(QStringList, arguments);
    QFETCH(QString, message);
    QProcess process;
    process.start(Tool, arguments);
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 2);
    const QString err = QString::fromLocal8Bit(process.readAllStandardError());
    QVERIFY2(err.contains(message), qPrintable(err));
}

void tst_Cli::sendWritesOxideLayout()
{
    auto [mine, theirs] = inheritablePair();
    QVERIFY(mine >= 0);
    QProcess process;
    process.start(Tool,
                  {QStringLiteral("send"), QStringLiteral("fd:%1").arg(theirs), QStringLiteral("--count"),
                   QStringLiteral("50"), QStringLiteral("--type"), QStringLiteral("info"), QStringLiteral("--size"),
                   QStringLiteral("2")});
    QVERIFY(process.waitForStarted());
    ::close(theirs);
    QByteArray wire;
    char buffer[4096];
    // Read until the sender closes its end.
    for (;;) {
        const ssize_t n = ::read(mine, buffer, sizeof(buffer));
        if (n <= 0)
            break;
        wire.append(buffer, n);
    }
    ::close(mine);
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 0);
    QCOMPARE(wire.size(), 50 * (12 + 2));
    for (int k = 0; k < 50; ++k) {
        const char *message = wire.constData() + k * 14;
        qint32 type;
        quint32 ackid;
        quint32 size;
        std::memcpy(&type, message + 0, 4);
        std::memcpy(&ackid, message + 4, 4);
        std::memcpy(&size, message + 8, 4);
        QCOMPARE(type, 5); // Info
        QCOMPARE(ackid, quint32(k + 1));
        QCOMPARE(size, 2u);
        QCOMPARE(QByteArray(message + 12, 2), expectedPayload(quint64(k), 2));
    }
    const QList<QJsonObject> summary = jsonLines(process.readAllStandardOutput());
    QCOMPARE(summary.size(), 1);
    QCOMPARE(summary.at(0).value(u"messages").toInt(), 50);
    QCOMPARE(summary.at(0).value(u"kind").toString(), QStringLiteral("unix-stream"));
    QCOMPARE(summary.at(0).value(u"zeroCopyState").toString(), QStringLiteral("unsupported"));
}

void tst_Cli::listenDecodesOxideLayout()
{
    auto [mine, theirs] = inheritablePair();
    QVERIFY(mine >= 0);
    QProcess process;
    process.start(Tool, {QStringLiteral("listen"), QStringLiteral("fd:%1").arg(theirs)});
    QVERIFY(process.waitForStarted());
    ::close(theirs);
    struct Sent
    {
        qint32 type;
        quint32 ackid;
        QByteArray payload;
    };
    const QList<Sent> sent = {
        {3, 10, QByteArray(36, 'r')},                // repaint
        {4, 11, QByteArray(12, 'm')},                // move
        {7, 12, {}},                                 // list
        {1, 13, QByteArray(100000, 'f')},            // ack carrying a frame
        {11, 14, {}},                                // focus
        {10, 15, QByteArray("\x01\x02\x03\x04", 4)}, // wait
    };
    QByteArray wire;
    for (const Sent &message : sent)
        wire += handMadeMessage(message.type, message.ackid, message.payload);
    // Also a ping, which listen must answer with an Ack of the same ackid.
    wire += handMadeMessage(2, 77, {});
    qsizetype written = 0;
    while (written < wire.size()) {
        const ssize_t n = ::write(mine, wire.constData() + written, size_t(wire.size() - written));
        QVERIFY(n > 0);
        written += n;
    }
    char answer[12];
    qsizetype got = 0;
    while (got < 12) {
        const ssize_t n = ::read(mine, answer + got, size_t(12 - got));
        QVERIFY(n > 0);
        got += n;
    }
    qint32 type;
    quint32 ackid;
    quint32 size;
    std::memcpy(&type, answer, 4);
    std::memcpy(&ackid, answer + 4, 4);
    std::memcpy(&size, answer + 8, 4);
    QCOMPARE(type, 1);
    QCOMPARE(ackid, 77u);
    QCOMPARE(size, 0u);
    ::close(mine);
    QVERIFY(process.waitForFinished(10000));
    QCOMPARE(process.exitCode(), 0);
    const QList<QJsonObject> lines = jsonLines(process.readAllStandardOutput());
    QCOMPARE(lines.size(), sent.size() + 1);
    for (int i = 0; i < sent.size(); ++i) {
        QCOMPARE(lines.at(i).value(u"typeId").toInt(), sent.at(i).type);
        QCOMPARE(lines.at(i).value(u"ackid").toInteger(), qint64(sent.at(i).ackid));
        QCOMPARE(lines.at(i).value(u"size").toInteger(), qint64(sent.at(i).payload.size()));
        QCOMPARE(lines.at(i).value(u"sha256").toString(),
                 QString::fromLatin1(QCryptographicHash::hash(sent.at(i).payload, QCryptographicHash::Sha256).toHex()));
    }
    QCOMPARE(lines.at(0).value(u"type").toString(), QStringLiteral("repaint"));
    QCOMPARE(lines.last().value(u"type").toString(), QStringLiteral("ping"));
}

void tst_Cli::sendToListenOverTcp_data()
{
    QTest::addColumn<QString>("listenOn");
    QTest::addColumn<QString>("zerocopy");
    QTest::addColumn<int>("size");
    QTest::addColumn<int>("count");
    QTest::addRow("ipv4-small") << QStringLiteral("tcp://127.0.0.1:0") << QStringLiteral("auto") << 36 << 20;
    QTest::addRow("ipv6-small") << QStringLiteral("tcp://[::1]:0") << QStringLiteral("off") << 36 << 20;
    QTest::addRow("ipv4-frames-zerocopy-on")
        << QStringLiteral("tcp://127.0.0.1:0") << QStringLiteral("on") << 1024 * 1024 << 20;
    // Few enough that the burst fits the receiver's socket buffer (each
    // pinned datagram there costs whole pages): UDP drops what does not.
    QTest::addRow("udp-datagrams-zerocopy-on")
        << QStringLiteral("udp://127.0.0.1:0") << QStringLiteral("on") << 6000 << 8;
}

void tst_Cli::sendToListenOverTcp()
{
    QFETCH(QString, listenOn);
    QFETCH(QString, zerocopy);
    QFETCH(int, size);
    QFETCH(int, count);
    const int Count = count;
    QProcess listener;
    // UDP has no hang-up to end on: count the datagrams instead.
    listener.start(Tool, {QStringLiteral("listen"), listenOn, QStringLiteral("--count"), QString::number(Count)});
    QVERIFY(listener.waitForStarted());
    // listen names the port it got on stderr.
    const QRegularExpression listening(QStringLiteral("listening on (\\S+)"));
    QString stderrText;
    QVERIFY(QTest::qWaitFor(
        [&] {
            stderrText += QString::fromLocal8Bit(listener.readAllStandardError());
            return listening.match(stderrText).hasMatch();
        },
        10000));
    const QString endpoint = listening.match(stderrText).captured(1);
    QProcess sender;
    sender.start(Tool,
                 {QStringLiteral("send"), endpoint, QStringLiteral("--count"), QString::number(Count),
                  QStringLiteral("--type"), QStringLiteral("ack"), QStringLiteral("--size"), QString::number(size),
                  QStringLiteral("--zerocopy"), zerocopy, QStringLiteral("--zerocopy-threshold"),
                  QStringLiteral("4096")});
    QVERIFY(sender.waitForFinished(20000));
    QCOMPARE(sender.exitCode(), 0);
    const QList<QJsonObject> summary = jsonLines(sender.readAllStandardOutput());
    QCOMPARE(summary.size(), 1);
    QCOMPARE(summary.at(0).value(u"messages").toInt(), Count);
    if (zerocopy == u"on") {
        // Loopback: the kernel copies, and the summary says so.
        QVERIFY(summary.at(0).value(u"zeroCopySends").toInt() > 0);
        QCOMPARE(summary.at(0).value(u"copiedCompletions").toInt(), summary.at(0).value(u"completions").toInt());
    }
    QVERIFY(listener.waitForFinished(20000));
    QCOMPARE(listener.exitCode(), 0);
    const QList<QJsonObject> lines = jsonLines(listener.readAllStandardOutput());
    QCOMPARE(lines.size(), Count);
    for (int k = 0; k < Count; ++k) {
        QCOMPARE(lines.at(k).value(u"ackid").toInteger(), qint64(k + 1));
        QCOMPARE(lines.at(k).value(u"size").toInt(), size);
        QCOMPARE(lines.at(k).value(u"sha256").toString(),
                 QString::fromLatin1(
                     QCryptographicHash::hash(expectedPayload(quint64(k), size), QCryptographicHash::Sha256).toHex()));
    }
}

void tst_Cli::listenReportsMalformedPeer()
{
    auto [mine, theirs] = inheritablePair();
    QVERIFY(mine >= 0);
    QProcess process;
    process.start(Tool, {QStringLiteral("listen"), QStringLiteral("fd:%1").arg(theirs)});
    QVERIFY(process.waitForStarted());
    ::close(theirs);
    const QByteArray wire = handMadeMessage(11, 1, {}) + handMadeMessage(42, 2, {});
    QCOMPARE(::write(mine, wire.constData(), size_t(wire.size())), wire.size());
    QVERIFY(process.waitForFinished(10000));
    ::close(mine);
    QCOMPARE(process.exitCode(), 1);
    QCOMPARE(jsonLines(process.readAllStandardOutput()).size(), 1); // the valid one
    const QString err = QString::fromLocal8Bit(process.readAllStandardError());
    QVERIFY2(err.contains(u"invalid message type 42"), qPrintable(err));
}

void tst_Cli::demoChecksEveryByte()
{
    QProcess process;
    process.start(Tool,
                  {QStringLiteral("demo"), QStringLiteral("--messages"), QStringLiteral("3000"),
                   QStringLiteral("--frames"), QStringLiteral("3"), QStringLiteral("--frame-size"),
                   QString::number(2 * 1024 * 1024), QStringLiteral("--json")});
    QVERIFY(process.waitForFinished(60000));
    QCOMPARE(process.exitCode(), 0);
    const QList<QJsonObject> lines = jsonLines(process.readAllStandardOutput());
    QCOMPARE(lines.size(), 1);
    const QJsonObject result = lines.at(0);
    QVERIFY(result.value(u"ok").toBool());
    const QJsonArray connections = result.value(u"connections").toArray();
    QCOMPARE(connections.size(), 4); // unix, shm, tcp, raw
    for (const QJsonValue &value : connections) {
        const QJsonObject link = value.toObject();
        QVERIFY2(link.value(u"verified").toBool(), qPrintable(link.value(u"failure").toString()));
        QCOMPARE(link.value(u"frames").toInt(), 3);
        QVERIFY(link.value(u"systemCallsPerMessage").toDouble() > 0);
    }
    const QJsonObject unixLink = connections.at(0).toObject();
    QCOMPARE(unixLink.value(u"kind").toString(), QStringLiteral("unix-stream"));
    QCOMPARE(unixLink.value(u"messages").toInt(), 3003);
    QCOMPARE(unixLink.value(u"zeroCopy").toObject().value(u"state").toString(), QStringLiteral("unsupported"));
    // Frames in shared memory between the two sockets of the pair, read in place.
    const QJsonObject shmLink = connections.at(1).toObject();
    QCOMPARE(shmLink.value(u"name").toString(), QStringLiteral("unix shared memory"));
    QCOMPARE(shmLink.value(u"kind").toString(), QStringLiteral("unix-stream"));
    QCOMPARE(shmLink.value(u"messages").toInt(), 3003);
    QCOMPARE(shmLink.value(u"zeroCopy").toObject().value(u"state").toString(), QStringLiteral("shared-memory"));
    const QJsonObject shm = shmLink.value(u"sharedMemory").toObject();
    QCOMPARE(shm.value(u"framesSent").toInt(), 3);
    QCOMPARE(shm.value(u"framesReceived").toInt(), 3);
    QCOMPARE(shm.value(u"framesInMemfd").toInt(), 3);
    QCOMPARE(shm.value(u"framesAsSharedHandles").toInt(), 3);
    const QJsonObject tcp = connections.at(2).toObject();
    QCOMPARE(tcp.value(u"kind").toString(), QStringLiteral("tcp4"));
    // Acks for Info, List and Ping requests came back and were checked.
    QVERIFY(tcp.value(u"acks").toInt() > 0);
    const QJsonObject zc = tcp.value(u"zeroCopy").toObject();
    QCOMPARE(zc.value(u"copiedCompletions").toInt(), zc.value(u"completions").toInt());
    QCOMPARE(zc.value(u"pendingBuffersAtEnd").toInt(), 0);
}

QTEST_GUILESS_MAIN(tst_Cli)
#include "tst_cli.moc"
