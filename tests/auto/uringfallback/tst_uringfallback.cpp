// SPDX-License-Identifier: MIT
// The socket's io_uring fallback: where a seccomp filter refuses
// io_uring_setup (in a forked child, never the global sysctl) a socket that
// asks for io_uring, or leaves Auto, sends with MSG_ZEROCOPY and says why;
// where nothing refuses it, the same socket uses io_uring.
#include "seccompchild.h"
#include "uringprobe_p.h"
#include "zerocopybackend_p.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

using namespace Blight;
using Backend = BlightSocket::ZeroCopyBackend;

namespace {

// A UDP socket on 127.0.0.1 connected to its own port: its datagrams come
// back to it, nothing leaves the host.
int udpToItself()
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0
        || ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
        if (fd >= 0)
            ::close(fd);
        return -1;
    }
    return fd;
}

// One zero-copy datagram from a socket that asked for \a requested; what
// the socket then says, as JSON.
QByteArray sendOneAndDescribe(Backend requested)
{
    const int fd = udpToItself();
    if (fd < 0)
        return "!no UDP socket on 127.0.0.1";
    BlightSocket socket;
    socket.setZeroCopyBackend(requested);
    if (!socket.setSocketDescriptor(fd))
        return "!setSocketDescriptor: " + socket.errorString().toUtf8();
    socket.setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    const quint64 id = socket.sendMessage(MessageType::Ack, 1, QByteArray(60 * 1000, 'z'));
    QJsonObject out;
    out[u"id"] = qint64(id);
    out[u"backend"] = int(socket.activeZeroCopyBackend());
    out[u"reason"] = socket.zeroCopyReason();
    out[u"zeroCopySends"] = qint64(socket.statistics().zeroCopySends);
    out[u"copySends"] = qint64(socket.statistics().copySends);
    return QJsonDocument(out).toJson(QJsonDocument::Compact);
}

} // namespace

class tst_UringFallback : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // First: the probe is cached per process, and the children must be the
    // first to probe (forked before this process ever did).
    void refusedBySeccomp_data();
    void refusedBySeccomp();
    void usedWhereAvailable_data();
    void usedWhereAvailable();
};

void tst_UringFallback::refusedBySeccomp_data()
{
    QTest::addColumn<Backend>("requested");
    QTest::addColumn<int>("error");
    QTest::newRow("io_uring-eperm") << Backend::IoUring << EPERM;
    QTest::newRow("io_uring-enosys") << Backend::IoUring << ENOSYS;
    QTest::newRow("auto-eperm") << Backend::Auto << EPERM;
}

void tst_UringFallback::refusedBySeccomp()
{
    QFETCH(Backend, requested);
    QFETCH(int, error);
    if (TestUtil::SeccompArch == 0)
        QSKIP("no seccomp architecture constant for this CPU in the test");
    const TestUtil::ChildOutput child = TestUtil::runInChild([requested, error]() -> QByteArray {
        if (!TestUtil::installIoUringSetupRefusal(error))
            return "!seccomp filter refused: " + QByteArray(std::strerror(errno));
        return sendOneAndDescribe(requested);
    });
    QVERIFY2(child.ran, qPrintable(child.failure));
    if (child.out.startsWith("!seccomp"))
        QSKIP(child.out.constData() + 1);
    QVERIFY2(!child.out.startsWith('!'), child.out.constData() + 1);
    const QJsonObject answer = QJsonDocument::fromJson(child.out).object();
    QVERIFY2(!answer.isEmpty(), child.out.constData());
    QCOMPARE(answer[u"id"].toInteger(), 1);
    QCOMPARE(Backend(answer[u"backend"].toInt()), Backend::MsgZeroCopy);
    // The datagram went anyway, with MSG_ZEROCOPY.
    QCOMPARE(answer[u"zeroCopySends"].toInteger(), 1);
    const QString reason = answer[u"reason"].toString();
#ifdef BLIGHT_HAVE_LIBURING
    QVERIFY2(reason.contains(u"io_uring unavailable: refused by the system (seccomp?)"), qPrintable(reason));
#else
    QVERIFY2(reason.contains(u"io_uring unavailable: built without liburing"), qPrintable(reason));
#endif
}

void tst_UringFallback::usedWhereAvailable_data()
{
    QTest::addColumn<Backend>("requested");
    QTest::newRow("io_uring") << Backend::IoUring;
    QTest::newRow("auto") << Backend::Auto;
    QTest::newRow("msg_zerocopy") << Backend::MsgZeroCopy;
}

void tst_UringFallback::usedWhereAvailable()
{
    QFETCH(Backend, requested);
    const UringSupport &support = UringProbe::probe();
    if (!support.available)
        QSKIP(qPrintable(QStringLiteral("io_uring unavailable here: %1").arg(support.reason)));
    const int fd = udpToItself();
    QVERIFY(fd >= 0);
    BlightSocket socket;
    socket.setZeroCopyBackend(requested);
    QVERIFY(socket.setSocketDescriptor(fd));
    socket.setZeroCopyMode(BlightSocket::ZeroCopyMode::On);
    const bool autoTakesUring = support.reportUsage
        && ZeroCopyBackendPolicy::uringMeasuredCheaper(BlightSocket::SocketKind::Udp4);
    const Backend expected = requested == Backend::IoUring || (requested == Backend::Auto && autoTakesUring)
        ? Backend::IoUring
        : Backend::MsgZeroCopy;
    QCOMPARE(socket.activeZeroCopyBackend(), expected);
    QSignalSpy released(&socket, &BlightSocket::buffersReleased);
    QCOMPARE(socket.sendMessage(MessageType::Ack, 1, QByteArray(60 * 1000, 'z')), quint64(1));
    QCOMPARE(socket.activeZeroCopyBackend(), expected);
    QCOMPARE(socket.statistics().zeroCopySends, quint64(1));
    QTRY_COMPARE(released.size(), 1);
    // On either backend the one send is id 0 of the connection's count.
    QCOMPARE(released.at(0).at(0).toUInt(), 0u);
    QCOMPARE(released.at(0).at(1).toUInt(), 0u);
    QCOMPARE(socket.pendingBuffers(), 0);
    if (expected == Backend::IoUring)
        QVERIFY2(socket.zeroCopyReason().contains(u"io_uring SEND_ZC"), qPrintable(socket.zeroCopyReason()));
}

QTEST_GUILESS_MAIN(tst_UringFallback)
#include "tst_uringfallback.moc"
