// SPDX-License-Identifier: MIT
// Tests of the blight wire codec: byte layout against hand-written arrays from
// DESIGN.md section 3, header validation, type names and the MessageAssembler.
#include <BlightTransport/protocol.h>

#include <QtCore/QRandomGenerator>
#include <QtTest/QTest>

#include <climits>
#include <cstring>
#include <functional>
#include <malloc.h>

using namespace Blight;

namespace {

// The byte arrays below are written out by hand from DESIGN.md section 3 for
// a little-endian host (x86_64, ARM as Oxide runs it).
QByteArray bytesFromHex(const char *hex)
{
    return QByteArray::fromHex(QByteArray(hex)); // spaces are skipped
}

// Payload byte i of message k, as the CLI defines it.
QByteArray pattern(qsizetype size, int k)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char((k + i) % 251);
    return bytes;
}

QByteArray frame(MessageType type, quint32 ackid, const QByteArray &payload)
{
    return encode(makeHeader(type, ackid, quint32(payload.size()))) + payload;
}

// Feeds \a stream to \a assembler the way a reader does: ask for spans, copy
// at most chunk() bytes into them in order, commit, extract messages.
struct FeedResult
{
    QList<Message> messages;
    bool error = false;
    QString failure; // a broken invariant of readTargets()
};

FeedResult feed(MessageAssembler &assembler, const QByteArray &stream, const std::function<qsizetype()> &chunk)
{
    FeedResult result;
    qsizetype pos = 0;
    while (pos < stream.size()) {
        MessageAssembler::Span spans[2];
        const int count = assembler.readTargets(spans);
        if (count < 1 || count > 2) {
            result.failure = QStringLiteral("readTargets returned %1 spans").arg(count);
            return result;
        }
        qsizetype want = qMin(chunk(), stream.size() - pos);
        qsizetype copied = 0;
        for (int i = 0; i < count && want > 0; ++i) {
            if (spans[i].size <= 0 || !spans[i].data) {
                result.failure = QStringLiteral("span %1 is empty").arg(i);
                return result;
            }
            const qsizetype n = qMin(want, spans[i].size);
            std::memcpy(spans[i].data, stream.constData() + pos, size_t(n));
            pos += n;
            copied += n;
            want -= n;
        }
        assembler.commit(copied);
        for (;;) {
            Message message;
            const MessageAssembler::Status status = assembler.next(&message);
            if (status == MessageAssembler::Status::NeedMore)
                break;
            if (status == MessageAssembler::Status::Error) {
                result.error = true;
                return result;
            }
            result.messages.append(message);
        }
    }
    return result;
}

// Bytes of heap in use (glibc), to see that a claim allocates nothing. Under a
// sanitizer that replaces malloc this reads 0 and the check is vacuous.
qint64 heapInUse()
{
    const struct mallinfo2 info = mallinfo2();
    return qint64(info.uordblks + info.hblkhd);
}

qsizetype spanTotal(MessageAssembler &assembler)
{
    MessageAssembler::Span spans[2];
    const int count = assembler.readTargets(spans);
    qsizetype total = 0;
    for (int i = 0; i < count; ++i)
        total += spans[i].size;
    return total;
}

} // namespace

class tst_Protocol : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();

    // Layout
    void headerLayout_data();
    void headerLayout();
    void repaintLayout();
    void moveLayout();
    void infoReplyLayout();
    void waitAndSurfaceLayout();
    void paddingIsZeroed();
    void decodeRefusesWrongSizes_data();
    void decodeRefusesWrongSizes();
    void payloadAs();

    // Validation and names
    void validateHeader_data();
    void validateHeader();
    void describeHeaderError_data();
    void describeHeaderError();
    void typeName_data();
    void typeName();
    void typeFromString_data();
    void typeFromString();

    // MessageAssembler
    void assembleStream_data();
    void assembleStream();
    void largePayloadLandsInPlace();
    void headerAloneAllocatesLittle();
    void payloadAtCapIsAccepted();
    void rejectsHeader_data();
    void rejectsHeader();
    void midMessageAndBufferedBytes();
    void garbageAfterValidMessage();

    // Datagrams
    void parseDatagram_data();
    void parseDatagram();
};

void tst_Protocol::initTestCase()
{
    if constexpr (Q_BYTE_ORDER != Q_LITTLE_ENDIAN)
        QSKIP("the hand-written byte arrays are little-endian");
}

void tst_Protocol::headerLayout_data()
{
    QTest::addColumn<qint32>("type");
    QTest::addColumn<quint32>("ackid");
    QTest::addColumn<quint32>("size");
    QTest::addColumn<QByteArray>("bytes");

    QTest::addRow("repaint") << qint32(3) << quint32(0x11223344) << quint32(36)
                             << bytesFromHex("03 00 00 00  44 33 22 11  24 00 00 00");
    QTest::addRow("ack-large") << qint32(1) << quint32(0xDEADBEEF) << quint32(0x00A0B0C0)
                               << bytesFromHex("01 00 00 00  ef be ad de  c0 b0 a0 00");
    QTest::addRow("negative-type") << qint32(-1) << quint32(0) << quint32(0xFFFFFFFF)
                                   << bytesFromHex("ff ff ff ff  00 00 00 00  ff ff ff ff");
    QTest::addRow("focus") << qint32(11) << quint32(1) << quint32(0)
                           << bytesFromHex("0b 00 00 00  01 00 00 00  00 00 00 00");
}

void tst_Protocol::headerLayout()
{
    QFETCH(qint32, type);
    QFETCH(quint32, ackid);
    QFETCH(quint32, size);
    QFETCH(QByteArray, bytes);
    QCOMPARE(bytes.size(), HeaderSize);

    const Header header{type, ackid, size};
    QCOMPARE(encode(header), bytes);

    char written[HeaderSize + 2];
    std::memset(written, 0x5A, sizeof(written));
    writeHeader(written + 1, header);
    QCOMPARE(QByteArray(written + 1, HeaderSize), bytes);
    QVERIFY2(written[0] == 0x5A && written[HeaderSize + 1] == 0x5A, "writeHeader wrote outside its 12 bytes");

    // readHeader and decode from an odd (unaligned) address.
    const QByteArray shifted = QByteArray(1, 'x') + bytes;
    const Header read = readHeader(shifted.constData() + 1);
    QCOMPARE(read.type, type);
    QCOMPARE(read.ackid, ackid);
    QCOMPARE(read.size, size);

    const std::optional<Header> decoded = decode<Header>(QByteArrayView(shifted).sliced(1));
    QVERIFY(decoded.has_value());
    QCOMPARE(decoded->type, type);
    QCOMPARE(decoded->ackid, ackid);
    QCOMPARE(decoded->size, size);

    if (type >= 1 && type <= 11) {
        const Header made = makeHeader(MessageType(type), ackid, size);
        QCOMPARE(encode(made), bytes);
    }
}

void tst_Protocol::repaintLayout()
{
    const QByteArray expected = bytesFromHex("fe ff ff ff" // x = -2                @0
                                             "04 03 02 01" // y = 0x01020304        @4
                                             "50 07 00 00" // width = 1872          @8
                                             "7c 05 00 00" // height = 1404         @12
                                             "03 00 00 00" // waveform = 3          @16
                                             "0d 0c 0b 0a" // contenttype           @20
                                             "44 33 22 11" // mode                  @24
                                             "ef be ad de" // marker = 0xDEADBEEF   @28
                                             "cd ab"       // identifier = 0xABCD   @32
                                             "00 00");     // padding               @34
    QCOMPARE(expected.size(), 36);

    RepaintPayload repaint;
    repaint.x = -2;
    repaint.y = 0x01020304;
    repaint.width = 1872;
    repaint.height = 1404;
    repaint.waveform = 3;
    repaint.contentType = 0x0A0B0C0D;
    repaint.mode = 0x11223344;
    repaint.marker = 0xDEADBEEF;
    repaint.identifier = 0xABCD;
    QCOMPARE(encode(repaint), expected);

    const std::optional<RepaintPayload> decoded = decode<RepaintPayload>(expected);
    QVERIFY2(decoded.has_value(), "decode refused a 36-byte repaint");
    QCOMPARE(decoded->x, -2);
    QCOMPARE(decoded->y, 0x01020304);
    QCOMPARE(decoded->width, 1872u);
    QCOMPARE(decoded->height, 1404u);
    QCOMPARE(decoded->waveform, 3);
    QCOMPARE(decoded->contentType, 0x0A0B0C0D);
    QCOMPARE(decoded->mode, 0x11223344);
    QCOMPARE(decoded->marker, 0xDEADBEEFu);
    QCOMPARE(decoded->identifier, SurfaceId(0xABCD));
}

void tst_Protocol::moveLayout()
{
    const QByteArray expected = bytesFromHex("34 12"         // identifier = 0x1234   @0
                                             "00 00"         // padding               @2
                                             "9c ff ff ff"   // x = -100              @4
                                             "ff ff ff 7f"); // y = INT32_MAX       @8
    QCOMPARE(expected.size(), 12);

    MovePayload move;
    move.identifier = 0x1234;
    move.x = -100;
    move.y = INT32_MAX;
    QCOMPARE(encode(move), expected);

    const std::optional<MovePayload> decoded = decode<MovePayload>(expected);
    QVERIFY(decoded.has_value());
    QCOMPARE(decoded->identifier, SurfaceId(0x1234));
    QCOMPARE(decoded->x, -100);
    QCOMPARE(decoded->y, INT32_MAX);
}

void tst_Protocol::infoReplyLayout()
{
    const QByteArray expected = bytesFromHex("01 00 00 00"               // x = 1                 @0
                                             "ff ff ff ff"               // y = -1                @4
                                             "7c 05 00 00"               // width = 1404          @8
                                             "50 07 00 00"               // height = 1872         @12
                                             "f8 0a 00 00"               // stride = 2808         @16
                                             "04 00 00 00"               // format = 4            @20
                                             "00 00 00 00 00 00 f8 3f"); // scale = 1.5 (IEEE 754 double) @24
    QCOMPARE(expected.size(), 32);

    InfoReply info;
    info.x = 1;
    info.y = -1;
    info.width = 1404;
    info.height = 1872;
    info.stride = 2808;
    info.format = 4;
    info.scale = 1.5;
    QCOMPARE(encode(info), expected);

    const std::optional<InfoReply> decoded = decode<InfoReply>(expected);
    QVERIFY(decoded.has_value());
    QCOMPARE(decoded->x, 1);
    QCOMPARE(decoded->y, -1);
    QCOMPARE(decoded->width, 1404u);
    QCOMPARE(decoded->height, 1872u);
    QCOMPARE(decoded->stride, 2808);
    QCOMPARE(decoded->format, 4);
    QCOMPARE(decoded->scale, 1.5);
}

void tst_Protocol::waitAndSurfaceLayout()
{
    WaitPayload wait;
    wait.marker = 0xCAFEF00D;
    const QByteArray waitBytes = bytesFromHex("0d f0 fe ca");
    QCOMPARE(encode(wait), waitBytes);
    const std::optional<WaitPayload> waitDecoded = decode<WaitPayload>(waitBytes);
    QVERIFY(waitDecoded.has_value());
    QCOMPARE(waitDecoded->marker, 0xCAFEF00Du);

    SurfacePayload surface;
    surface.identifier = 0xBEEF;
    const QByteArray surfaceBytes = bytesFromHex("ef be");
    QCOMPARE(encode(surface), surfaceBytes);
    const std::optional<SurfacePayload> surfaceDecoded = decode<SurfacePayload>(surfaceBytes);
    QVERIFY(surfaceDecoded.has_value());
    QCOMPARE(surfaceDecoded->identifier, SurfaceId(0xBEEF));
}

void tst_Protocol::paddingIsZeroed()
{
    // Fill the objects' storage, padding included, with garbage before the
    // fields are set: the padding must still leave as zero bytes.
    RepaintPayload repaint;
    std::memset(static_cast<void *>(&repaint), 0xAA, sizeof(repaint));
    repaint.identifier = 7;
    const QByteArray repaintBytes = encode(repaint);
    QCOMPARE(repaintBytes.size(), 36);
    QCOMPARE(repaintBytes.mid(32), bytesFromHex("07 00 00 00"));
    QCOMPARE(repaintBytes.left(4), bytesFromHex("aa aa aa aa")); // fields are not touched

    MovePayload move;
    std::memset(static_cast<void *>(&move), 0xAA, sizeof(move));
    move.identifier = 7;
    const QByteArray moveBytes = encode(move);
    QCOMPARE(moveBytes.size(), 12);
    QCOMPARE(moveBytes.left(4), bytesFromHex("07 00 00 00"));
    QCOMPARE(moveBytes.mid(4, 4), bytesFromHex("aa aa aa aa"));
}

void tst_Protocol::decodeRefusesWrongSizes_data()
{
    QTest::addColumn<QString>("structName");
    QTest::addColumn<int>("size");

    const struct
    {
        const char *name;
        int size;
    } structs[] = {{"header", 12}, {"repaint", 36}, {"move", 12}, {"info-reply", 32}, {"wait", 4}, {"surface", 2}};
    for (const auto &s : structs) {
        for (const int size : {0, s.size - 1, s.size + 1, s.size * 2})
            QTest::addRow("%s-%d", s.name, size) << QString::fromLatin1(s.name) << size;
    }
}

void tst_Protocol::decodeRefusesWrongSizes()
{
    QFETCH(QString, structName);
    QFETCH(int, size);
    const QByteArray bytes(size, '\x01');
    bool decoded = true;
    if (structName == u"header")
        decoded = decode<Header>(bytes).has_value();
    else if (structName == u"repaint")
        decoded = decode<RepaintPayload>(bytes).has_value();
    else if (structName == u"move")
        decoded = decode<MovePayload>(bytes).has_value();
    else if (structName == u"info-reply")
        decoded = decode<InfoReply>(bytes).has_value();
    else if (structName == u"wait")
        decoded = decode<WaitPayload>(bytes).has_value();
    else if (structName == u"surface")
        decoded = decode<SurfacePayload>(bytes).has_value();
    else
        QFAIL("unknown struct in the data table");
    QVERIFY2(!decoded, qPrintable(QStringLiteral("decode<%1> accepted %2 bytes").arg(structName).arg(size)));
}

void tst_Protocol::payloadAs()
{
    MovePayload move;
    move.identifier = 3;
    move.x = 10;
    move.y = 20;
    Message message;
    message.header = makeHeader(MessageType::Move, 5, 12);
    message.payload = encode(move);
    QCOMPARE(message.type(), MessageType::Move);
    QCOMPARE(message.ackid(), 5u);
    const std::optional<MovePayload> asMove = message.payloadAs<MovePayload>();
    QVERIFY(asMove.has_value());
    QCOMPARE(asMove->identifier, SurfaceId(3));
    QCOMPARE(asMove->x, 10);
    QCOMPARE(asMove->y, 20);
    QVERIFY2(!message.payloadAs<RepaintPayload>().has_value(), "12 bytes taken for a 36-byte repaint");
    QVERIFY2(!message.payloadAs<SurfacePayload>().has_value(), "12 bytes taken for a 2-byte surface id");
}

void tst_Protocol::validateHeader_data()
{
    QTest::addColumn<qint32>("type");
    QTest::addColumn<quint32>("size");
    QTest::addColumn<quint32>("cap");
    QTest::addColumn<HeaderError>("expected");

    const QList<qint32> needPayload = {3, 4, 5, 6, 8, 9, 10}; // Repaint Move Info Delete Raise Lower Wait
    for (qint32 type = 0; type <= 11; ++type) {
        const QByteArray name = Blight::typeName(type).toLatin1();
        HeaderError empty = HeaderError::None;
        if (type == 0)
            empty = HeaderError::InvalidType;
        else if (needPayload.contains(type))
            empty = HeaderError::MissingPayload;
        QTest::addRow("type-%d-%s-size-0", type, name.constData()) << type << 0u << DefaultMaxPayloadSize << empty;
        QTest::addRow("type-%d-%s-size-1", type, name.constData())
            << type << 1u << DefaultMaxPayloadSize << (type == 0 ? HeaderError::InvalidType : HeaderError::None);
        QTest::addRow("type-%d-%s-size-36", type, name.constData())
            << type << 36u << DefaultMaxPayloadSize << (type == 0 ? HeaderError::InvalidType : HeaderError::None);
    }
    for (const qint32 type : {-1, 12, 13, 255, 0x100, INT_MAX, INT_MIN}) {
        QTest::addRow("invalid-type-%d-size-0", type)
            << type << 0u << DefaultMaxPayloadSize << HeaderError::InvalidType;
        QTest::addRow("invalid-type-%d-size-4", type)
            << type << 4u << DefaultMaxPayloadSize << HeaderError::InvalidType;
    }
    // The type is judged before the size.
    QTest::addRow("invalid-type-and-oversize")
        << qint32(12) << UINT32_MAX << DefaultMaxPayloadSize << HeaderError::InvalidType;

    for (const quint32 cap : {DefaultMaxPayloadSize, 1000u, 1u}) {
        QTest::addRow("ack-at-cap-%u", cap) << qint32(1) << cap << cap << HeaderError::None;
        QTest::addRow("ack-cap-plus-1-%u", cap) << qint32(1) << cap + 1 << cap << HeaderError::PayloadTooLarge;
        QTest::addRow("ack-uint32-max-cap-%u", cap) << qint32(1) << UINT32_MAX << cap << HeaderError::PayloadTooLarge;
        QTest::addRow("repaint-at-cap-%u", cap) << qint32(3) << cap << cap << HeaderError::None;
        QTest::addRow("repaint-cap-plus-1-%u", cap) << qint32(3) << cap + 1 << cap << HeaderError::PayloadTooLarge;
        QTest::addRow("wait-uint32-max-cap-%u", cap) << qint32(10) << UINT32_MAX << cap << HeaderError::PayloadTooLarge;
    }
    QTest::addRow("default-cap-is-16MiB")
        << qint32(1) << 16u * 1024 * 1024 << DefaultMaxPayloadSize << HeaderError::None;
    QTest::addRow("default-cap-plus-1") << qint32(1) << 16u * 1024 * 1024 + 1 << DefaultMaxPayloadSize
                                        << HeaderError::PayloadTooLarge;
    QTest::addRow("cap-0-ping-empty") << qint32(2) << 0u << 0u << HeaderError::None;
    QTest::addRow("cap-0-ping-1") << qint32(2) << 1u << 0u << HeaderError::PayloadTooLarge;
    QTest::addRow("cap-0-move-empty") << qint32(4) << 0u << 0u << HeaderError::MissingPayload;
}

void tst_Protocol::validateHeader()
{
    QFETCH(qint32, type);
    QFETCH(quint32, size);
    QFETCH(quint32, cap);
    QFETCH(HeaderError, expected);

    const Header header{type, 42, size};
    QCOMPARE(Blight::validateHeader(header, cap), expected);
    if (cap == DefaultMaxPayloadSize)
        QCOMPARE(Blight::validateHeader(header), expected);

    QCOMPARE(isValidType(type), type >= 1 && type <= 11);
    if (isValidType(type)) {
        const bool needs = requiresPayload(MessageType(type));
        const bool oxideNeeds = type == 3 || type == 4 || type == 5 || type == 6 || type == 8 || type == 9
            || type == 10;
        QCOMPARE(needs, oxideNeeds);
    }
}

void tst_Protocol::describeHeaderError_data()
{
    QTest::addColumn<HeaderError>("error");
    QTest::addColumn<qint32>("type");
    QTest::addColumn<quint32>("size");
    QTest::addColumn<quint32>("cap");
    QTest::addColumn<QStringList>("mentions");

    QTest::addRow("invalid-type-12") << HeaderError::InvalidType << qint32(12) << 3u << DefaultMaxPayloadSize
                                     << QStringList{QStringLiteral("type"), QStringLiteral("12")};
    QTest::addRow("invalid-type-negative") << HeaderError::InvalidType << qint32(-7) << 0u << DefaultMaxPayloadSize
                                           << QStringList{QStringLiteral("type"), QStringLiteral("-7")};
    QTest::addRow("missing-payload-move") << HeaderError::MissingPayload << qint32(4) << 0u << DefaultMaxPayloadSize
                                          << QStringList{QStringLiteral("move"), QStringLiteral("payload")};
    QTest::addRow("missing-payload-wait") << HeaderError::MissingPayload << qint32(10) << 0u << DefaultMaxPayloadSize
                                          << QStringList{QStringLiteral("wait"), QStringLiteral("payload")};
    QTest::addRow("too-large") << HeaderError::PayloadTooLarge << qint32(1) << 16777217u << DefaultMaxPayloadSize
                               << QStringList{QStringLiteral("16777217"), QStringLiteral("16777216")};
    QTest::addRow("too-large-uint32-max") << HeaderError::PayloadTooLarge << qint32(3) << UINT32_MAX << 1000u
                                          << QStringList{QStringLiteral("4294967295"), QStringLiteral("1000")};
}

void tst_Protocol::describeHeaderError()
{
    QFETCH(HeaderError, error);
    QFETCH(qint32, type);
    QFETCH(quint32, size);
    QFETCH(quint32, cap);
    QFETCH(QStringList, mentions);

    const Header header{type, 99, size};
    QCOMPARE(Blight::validateHeader(header, cap), error); // the row is consistent
    const QString text = Blight::describeHeaderError(error, header, cap);
    QVERIFY2(!text.isEmpty(), "no description for a rejected header");
    for (const QString &word : mentions)
        QVERIFY2(text.contains(word, Qt::CaseInsensitive),
                 qPrintable(QStringLiteral("'%1' does not mention '%2'").arg(text, word)));

    QVERIFY2(Blight::describeHeaderError(HeaderError::None, header, cap).isEmpty(),
             "an acceptable header has a non-empty error text");
}

void tst_Protocol::typeName_data()
{
    QTest::addColumn<qint32>("type");
    QTest::addColumn<QString>("name");

    const char *names[] = {"invalid", "ack",  "ping",  "repaint", "move", "info",
                           "delete",  "list", "raise", "lower",   "wait", "focus"};
    for (qint32 type = 0; type <= 11; ++type)
        QTest::addRow("%d", type) << type << QString::fromLatin1(names[type]);
}

void tst_Protocol::typeName()
{
    QFETCH(qint32, type);
    QFETCH(QString, name);
    QCOMPARE(Blight::typeName(type), name);
    if (type != 0) {
        QCOMPARE(Blight::typeFromString(name), std::optional(MessageType(type)));
        QCOMPARE(Blight::typeFromString(name.toUpper()), std::optional(MessageType(type)));
    }
    // Outside the enum the number is in the text.
    QVERIFY(Blight::typeName(12).contains(u"12"));
    QVERIFY(Blight::typeName(-1).contains(u"-1"));
    QVERIFY(Blight::typeName(INT_MAX).contains(QString::number(INT_MAX)));
}

void tst_Protocol::typeFromString_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<bool>("valid");
    QTest::addColumn<MessageType>("expected");

    QTest::addRow("repaint") << QStringLiteral("repaint") << true << MessageType::Repaint;
    QTest::addRow("REPAINT") << QStringLiteral("REPAINT") << true << MessageType::Repaint;
    QTest::addRow("RePaInT") << QStringLiteral("RePaInT") << true << MessageType::Repaint;
    QTest::addRow("Ack") << QStringLiteral("Ack") << true << MessageType::Ack;
    QTest::addRow("ping") << QStringLiteral("ping") << true << MessageType::Ping;
    QTest::addRow("Focus") << QStringLiteral("Focus") << true << MessageType::Focus;
    QTest::addRow("number-1") << QStringLiteral("1") << true << MessageType::Ack;
    QTest::addRow("number-3") << QStringLiteral("3") << true << MessageType::Repaint;
    QTest::addRow("number-10") << QStringLiteral("10") << true << MessageType::Wait;
    QTest::addRow("number-11") << QStringLiteral("11") << true << MessageType::Focus;
    QTest::addRow("reject-0") << QStringLiteral("0") << false << MessageType::Invalid;
    QTest::addRow("reject-12") << QStringLiteral("12") << false << MessageType::Invalid;
    QTest::addRow("reject-minus-1") << QStringLiteral("-1") << false << MessageType::Invalid;
    QTest::addRow("reject-huge") << QStringLiteral("4294967299") << false << MessageType::Invalid;
    QTest::addRow("reject-invalid-name") << QStringLiteral("invalid") << false << MessageType::Invalid;
    QTest::addRow("reject-empty") << QString() << false << MessageType::Invalid;
    QTest::addRow("reject-garbage") << QStringLiteral("garbage") << false << MessageType::Invalid;
    QTest::addRow("reject-prefix") << QStringLiteral("rep") << false << MessageType::Invalid;
    QTest::addRow("reject-suffix") << QStringLiteral("repaints") << false << MessageType::Invalid;
    QTest::addRow("reject-hex") << QStringLiteral("0x3") << false << MessageType::Invalid;
    QTest::addRow("reject-number-suffix") << QStringLiteral("3x") << false << MessageType::Invalid;
}

void tst_Protocol::typeFromString()
{
    QFETCH(QString, text);
    QFETCH(bool, valid);
    QFETCH(MessageType, expected);
    const std::optional<MessageType> parsed = Blight::typeFromString(text);
    QCOMPARE(parsed.has_value(), valid);
    if (valid)
        QCOMPARE(*parsed, expected);
}

// -- MessageAssembler -------------------------------------------------------

namespace {
struct Expected
{
    Header header;
    QByteArray payload;
};

QList<Expected> sampleMessages()
{
    RepaintPayload repaint;
    repaint.x = 10;
    repaint.width = 100;
    repaint.height = 50;
    repaint.marker = 77;
    repaint.identifier = 4;
    MovePayload move;
    move.identifier = 4;
    move.x = -3;
    move.y = 9;
    WaitPayload wait;
    wait.marker = 77;

    const QList<QPair<MessageType, QByteArray>> list = {
        {MessageType::Ping, {}},
        {MessageType::Repaint, encode(repaint)},
        {MessageType::Ack, pattern(1000, 1)},
        {MessageType::Move, encode(move)},
        {MessageType::Ack, pattern(200000, 2)}, // larger than the staging buffer
        {MessageType::List, {}},
        {MessageType::Ack, pattern(65536, 3)},
        {MessageType::Wait, encode(wait)},
        {MessageType::Ack, pattern(1, 4)},
        {MessageType::Ack, pattern(65536 - 12, 5)},
        {MessageType::Focus, {}},
        {MessageType::Ack, pattern(13, 6)},
    };
    QList<Expected> out;
    quint32 ackid = 1000;
    for (const auto &[type, payload] : list)
        out.append({makeHeader(type, ackid++, quint32(payload.size())), payload});
    return out;
}
} // namespace

void tst_Protocol::assembleStream_data()
{
    QTest::addColumn<int>("mode"); // 0 whole, 1 byte by byte, 2 random pieces
    QTest::addColumn<quint32>("seed");
    QTest::addColumn<qsizetype>("maxChunk");
    QTest::addColumn<qsizetype>("staging");

    for (const qsizetype staging : {qsizetype(64 * 1024), qsizetype(24), qsizetype(100)}) {
        QTest::addRow("whole-staging-%lld", qlonglong(staging)) << 0 << 0u << qsizetype(0) << staging;
        QTest::addRow("byte-by-byte-staging-%lld", qlonglong(staging)) << 1 << 0u << qsizetype(1) << staging;
        for (const quint32 seed : {1u, 2u, 3u, 42u, 0xC0FFEEu}) {
            QTest::addRow("random-small-seed-%u-staging-%lld", seed, qlonglong(staging))
                << 2 << seed << qsizetype(40) << staging;
            QTest::addRow("random-large-seed-%u-staging-%lld", seed, qlonglong(staging))
                << 2 << seed << qsizetype(90000) << staging;
        }
    }
}

void tst_Protocol::assembleStream()
{
    QFETCH(int, mode);
    QFETCH(quint32, seed);
    QFETCH(qsizetype, maxChunk);
    QFETCH(qsizetype, staging);

    const QList<Expected> expected = sampleMessages();
    QByteArray stream;
    for (const Expected &e : expected)
        stream += encode(e.header) + e.payload;

    QRandomGenerator rng(seed);
    std::function<qsizetype()> chunk;
    if (mode == 0)
        chunk = [] { return std::numeric_limits<qsizetype>::max(); };
    else if (mode == 1)
        chunk = [] { return qsizetype(1); };
    else
        chunk = [&rng, maxChunk] { return qsizetype(1 + rng.bounded(int(maxChunk))); };

    MessageAssembler assembler(DefaultMaxPayloadSize, staging);
    const FeedResult result = feed(assembler, stream, chunk);
    QVERIFY2(result.failure.isEmpty(), qPrintable(result.failure));
    QVERIFY2(!result.error, qPrintable(QStringLiteral("assembler failed: ") + assembler.errorString()));
    QCOMPARE(result.messages.size(), expected.size());
    for (qsizetype i = 0; i < expected.size(); ++i) {
        const Message &got = result.messages.at(i);
        const Expected &want = expected.at(i);
        const QByteArray where = QByteArray("message ") + QByteArray::number(i);
        QVERIFY2(got.header.type == want.header.type, where.constData());
        QVERIFY2(got.header.ackid == want.header.ackid, where.constData());
        QVERIFY2(got.header.size == want.header.size, where.constData());
        QVERIFY2(got.payload == want.payload, QByteArray(where + " payload differs").constData());
    }
    QVERIFY2(!assembler.midMessage(), "assembler thinks it is mid-message after the last one");
    QCOMPARE(assembler.bufferedBytes(), qsizetype(0));
}

void tst_Protocol::largePayloadLandsInPlace()
{
    const qsizetype size = 5 * 1024 * 1024;
    const QByteArray payload = pattern(size, 9);
    const QByteArray header = encode(makeHeader(MessageType::Ack, 77, quint32(size)));
    MessageAssembler assembler;

    // The header arrives alone.
    MessageAssembler::Span spans[2];
    int count = assembler.readTargets(spans);
    QVERIFY(count >= 1);
    QVERIFY(spans[0].size >= HeaderSize);
    std::memcpy(spans[0].data, header.constData(), HeaderSize);
    assembler.commit(HeaderSize);
    Message message;
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::NeedMore);
    QVERIFY(assembler.midMessage());

    // From now on the only span is the payload itself: 64 KiB until those
    // arrived (the header alone did not allocate the 5 MiB it claims), then
    // the whole rest; no payload byte goes through the staging buffer.
    QRandomGenerator rng(5);
    qsizetype pos = 0;
    qsizetype largestSpan = 0;
    int growths = 0;
    bool done = false;
    while (!done) {
        count = assembler.readTargets(spans);
        if (pos == 0)
            QVERIFY2(spans[0].size <= 64 * 1024, "the header alone allocated what it claims");
        const bool coversRest = spans[0].size == size - pos;
        QCOMPARE(count, coversRest ? 2 : 1);
        if (spans[0].size > largestSpan) {
            largestSpan = spans[0].size;
            ++growths;
        }
        const qsizetype n = qMin(qsizetype(1 + rng.bounded(300000)), spans[0].size);
        std::memcpy(spans[0].data, payload.constData() + pos, size_t(n));
        pos += n;
        assembler.commit(n);
        const MessageAssembler::Status status = assembler.next(&message);
        QVERIFY(status != MessageAssembler::Status::Error);
        done = status == MessageAssembler::Status::Message;
        QCOMPARE(done, pos == size);
    }
    QCOMPARE(growths, 2); // 64 KiB, then the claimed size: one small copy at most
    QCOMPARE(message.header.ackid, 77u);
    QCOMPARE(message.payload.size(), size);
    QCOMPARE(message.payload.capacity(), size); // exactly the claimed size, not a power of two above it
    QVERIFY2(message.payload == payload, "5 MiB payload differs");
    QVERIFY(!assembler.midMessage());
}

void tst_Protocol::headerAloneAllocatesLittle()
{
    // A peer that claims the cap and sends nothing costs 64 KiB, not 16 MiB.
    MessageAssembler assembler;
    const QByteArray header = encode(makeHeader(MessageType::Ack, 1, DefaultMaxPayloadSize));
    MessageAssembler::Span spans[2];
    QVERIFY(assembler.readTargets(spans) >= 1);
    std::memcpy(spans[0].data, header.constData(), HeaderSize);
    assembler.commit(HeaderSize);
    Message message;
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::NeedMore);
    QCOMPARE(assembler.readTargets(spans), 1);
    QCOMPARE(spans[0].size, qsizetype(64 * 1024));
    QCOMPARE(assembler.bufferedBytes(), HeaderSize);
}

void tst_Protocol::payloadAtCapIsAccepted()
{
    const quint32 cap = 1000;
    MessageAssembler assembler(cap, 256);
    QCOMPARE(assembler.maxPayloadSize(), cap);
    const QByteArray stream = frame(MessageType::Ack, 1, pattern(cap, 0))
        + frame(MessageType::Ack, 2, pattern(cap + 1, 0));
    const FeedResult result = feed(assembler, stream, [] { return qsizetype(333); });
    QVERIFY(result.failure.isEmpty());
    QCOMPARE(result.messages.size(), 1);
    QCOMPARE(result.messages.first().payload, pattern(cap, 0));
    QVERIFY2(result.error, "a payload one byte over the cap was accepted");
    QCOMPARE(assembler.error(), HeaderError::PayloadTooLarge);

    // Raising the cap later applies to the following headers.
    MessageAssembler raised(10, 256);
    raised.setMaxPayloadSize(cap + 1);
    const FeedResult second = feed(raised, frame(MessageType::Ack, 2, pattern(cap + 1, 0)),
                                   [] { return qsizetype(100); });
    QVERIFY(!second.error);
    QCOMPARE(second.messages.size(), 1);
}

void tst_Protocol::rejectsHeader_data()
{
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<quint32>("cap");
    QTest::addColumn<HeaderError>("expected");

    // Written by hand: type, ackid, size.
    QTest::addRow("oversize-cap-plus-1") << bytesFromHex("01 00 00 00  01 00 00 00  01 10 00 00") << 4096u
                                         << HeaderError::PayloadTooLarge;
    QTest::addRow("oversize-uint32-max") << bytesFromHex("01 00 00 00  01 00 00 00  ff ff ff ff")
                                         << DefaultMaxPayloadSize << HeaderError::PayloadTooLarge;
    QTest::addRow("oversize-1GiB-repaint") << bytesFromHex("03 00 00 00  01 00 00 00  00 00 00 40")
                                           << DefaultMaxPayloadSize << HeaderError::PayloadTooLarge;
    QTest::addRow("type-0") << bytesFromHex("00 00 00 00  01 00 00 00  04 00 00 00") << DefaultMaxPayloadSize
                            << HeaderError::InvalidType;
    QTest::addRow("type-12") << bytesFromHex("0c 00 00 00  01 00 00 00  04 00 00 00") << DefaultMaxPayloadSize
                             << HeaderError::InvalidType;
    QTest::addRow("type-minus-1") << bytesFromHex("ff ff ff ff  01 00 00 00  04 00 00 00") << DefaultMaxPayloadSize
                                  << HeaderError::InvalidType;
    QTest::addRow("move-without-payload") << bytesFromHex("04 00 00 00  01 00 00 00  00 00 00 00")
                                          << DefaultMaxPayloadSize << HeaderError::MissingPayload;
}

void tst_Protocol::rejectsHeader()
{
    QFETCH(QByteArray, header);
    QFETCH(quint32, cap);
    QFETCH(HeaderError, expected);

    const qsizetype staging = 4096;
    MessageAssembler assembler(cap, staging);
    // A valid message first, so that the error is not just the initial state.
    const QByteArray stream = frame(MessageType::Ping, 9, {}) + header;
    const qint64 heapBefore = heapInUse();
    const FeedResult result = feed(assembler, stream, [] { return qsizetype(5); });
    const qint64 heapGrowth = heapInUse() - heapBefore;
    QVERIFY2(heapGrowth < 1024 * 1024,
             qPrintable(QStringLiteral("the heap grew by %1 bytes for a rejected claim").arg(heapGrowth)));
    QVERIFY(result.failure.isEmpty());
    QCOMPARE(result.messages.size(), 1);
    QVERIFY2(result.error, "a bad header was accepted");
    QCOMPARE(assembler.error(), expected);
    QVERIFY2(!assembler.errorString().isEmpty(), "Error without a reason");

    // Nothing was allocated for the claim: what the reader may fill is still
    // just the staging buffer.
    QVERIFY2(spanTotal(assembler) <= staging,
             qPrintable(
                 QStringLiteral("after a rejected header the reader is offered %1 bytes").arg(spanTotal(assembler))));

    // Sticky: more (valid) bytes do not bring the assembler back.
    Message message;
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::Error);
    MessageAssembler::Span spans[2];
    const int count = assembler.readTargets(spans);
    QVERIFY(count >= 1);
    const QByteArray ping = frame(MessageType::Ping, 10, {});
    const qsizetype n = qMin(spans[0].size, ping.size());
    std::memcpy(spans[0].data, ping.constData(), size_t(n));
    assembler.commit(n);
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::Error);
    QCOMPARE(assembler.error(), expected);
}

void tst_Protocol::midMessageAndBufferedBytes()
{
    MessageAssembler assembler;
    QVERIFY(!assembler.midMessage());
    QCOMPARE(assembler.bufferedBytes(), qsizetype(0));

    const QByteArray first = frame(MessageType::Ack, 1, pattern(100, 0));
    const QByteArray second = frame(MessageType::Ping, 2, {});
    const QByteArray stream = first + second;

    auto put = [&assembler, &stream](qsizetype from, qsizetype n) {
        MessageAssembler::Span spans[2];
        const int count = assembler.readTargets(spans);
        qsizetype copied = 0;
        for (int i = 0; i < count && copied < n; ++i) {
            const qsizetype part = qMin(n - copied, spans[i].size);
            std::memcpy(spans[i].data, stream.constData() + from + copied, size_t(part));
            copied += part;
        }
        assembler.commit(copied);
    };

    Message message;
    put(0, 5); // part of a header
    QVERIFY(assembler.midMessage());
    QCOMPARE(assembler.bufferedBytes(), qsizetype(5));
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::NeedMore);
    QVERIFY(assembler.midMessage());
    QCOMPARE(assembler.bufferedBytes(), qsizetype(5));

    put(5, 7 + 30); // rest of the header and 30 payload bytes
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::NeedMore);
    QVERIFY2(assembler.midMessage(), "header parsed, payload incomplete, yet not mid-message");
    QVERIFY2(assembler.bufferedBytes() >= 30, qPrintable(QString::number(assembler.bufferedBytes())));

    put(42, first.size() - 42 + 3); // rest of the first message and 3 bytes of the next header
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::Message);
    QCOMPARE(message.payload, pattern(100, 0));
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::NeedMore);
    QVERIFY(assembler.midMessage());
    QCOMPARE(assembler.bufferedBytes(), qsizetype(3));

    put(first.size() + 3, second.size() - 3);
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::Message);
    QCOMPARE(message.type(), MessageType::Ping);
    QCOMPARE(message.ackid(), 2u);
    QVERIFY(message.payload.isEmpty());
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::NeedMore);
    QVERIFY(!assembler.midMessage());
    QCOMPARE(assembler.bufferedBytes(), qsizetype(0));
}

void tst_Protocol::garbageAfterValidMessage()
{
    const QByteArray valid = frame(MessageType::Ack, 5, pattern(20, 1));
    const QByteArray garbage = bytesFromHex("7f 7f 7f 7f  de ad be ef  01 00 00 00  55 55");
    MessageAssembler assembler;
    MessageAssembler::Span spans[2];
    const int count = assembler.readTargets(spans);
    QCOMPARE(count, 1);
    const QByteArray all = valid + garbage;
    QVERIFY(spans[0].size >= all.size());
    std::memcpy(spans[0].data, all.constData(), size_t(all.size()));
    assembler.commit(all.size());

    Message message;
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::Message);
    QCOMPARE(message.ackid(), 5u);
    QCOMPARE(message.payload, pattern(20, 1));
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::Error);
    QCOMPARE(assembler.error(), HeaderError::InvalidType);
    QVERIFY(assembler.errorString().contains(QString::number(0x7f7f7f7f)));
    QCOMPARE(assembler.next(&message), MessageAssembler::Status::Error);
}

void tst_Protocol::parseDatagram_data()
{
    QTest::addColumn<QByteArray>("datagram");
    QTest::addColumn<quint32>("cap");
    QTest::addColumn<bool>("ok");

    QTest::addRow("exact-ping") << bytesFromHex("02 00 00 00  07 00 00 00  00 00 00 00") << DefaultMaxPayloadSize
                                << true;
    QTest::addRow("exact-wait") << bytesFromHex("0a 00 00 00  07 00 00 00  04 00 00 00  0d f0 fe ca")
                                << DefaultMaxPayloadSize << true;
    QTest::addRow("exact-ack-60000") << frame(MessageType::Ack, 3, pattern(60000, 3)) << DefaultMaxPayloadSize << true;
    QTest::addRow("exact-at-cap") << frame(MessageType::Ack, 3, pattern(16, 3)) << 16u << true;
    QTest::addRow("empty") << QByteArray() << DefaultMaxPayloadSize << false;
    QTest::addRow("short-11") << bytesFromHex("02 00 00 00  07 00 00 00  00 00 00") << DefaultMaxPayloadSize << false;
    QTest::addRow("payload-longer-than-claimed")
        << bytesFromHex("0a 00 00 00  07 00 00 00  04 00 00 00  0d f0 fe ca  00") << DefaultMaxPayloadSize << false;
    QTest::addRow("payload-shorter-than-claimed")
        << bytesFromHex("0a 00 00 00  07 00 00 00  04 00 00 00  0d f0 fe") << DefaultMaxPayloadSize << false;
    QTest::addRow("header-only-claims-payload")
        << bytesFromHex("01 00 00 00  07 00 00 00  10 00 00 00") << DefaultMaxPayloadSize << false;
    QTest::addRow("invalid-type") << bytesFromHex("0c 00 00 00  07 00 00 00  00 00 00 00") << DefaultMaxPayloadSize
                                  << false;
    QTest::addRow("missing-payload") << bytesFromHex("06 00 00 00  07 00 00 00  00 00 00 00") << DefaultMaxPayloadSize
                                     << false;
    QTest::addRow("over-cap") << frame(MessageType::Ack, 3, pattern(17, 3)) << 16u << false;
}

void tst_Protocol::parseDatagram()
{
    QFETCH(QByteArray, datagram);
    QFETCH(quint32, cap);
    QFETCH(bool, ok);

    Message message;
    QString why;
    const MessageAssembler::Status status = MessageAssembler::parseDatagram(datagram, cap, &message, &why);
    if (!ok) {
        QCOMPARE(status, MessageAssembler::Status::Error);
        QVERIFY2(!why.isEmpty(), "rejected datagram without a reason");
        return;
    }
    QVERIFY2(status == MessageAssembler::Status::Message, qPrintable(why));
    const Header header = readHeader(datagram.constData());
    QCOMPARE(message.header.type, header.type);
    QCOMPARE(message.header.ackid, header.ackid);
    QCOMPARE(message.header.size, header.size);
    QCOMPARE(message.payload, datagram.mid(HeaderSize));
}

QTEST_GUILESS_MAIN(tst_Protocol)
#include "tst_protocol.moc"
