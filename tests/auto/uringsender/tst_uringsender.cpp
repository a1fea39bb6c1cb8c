// SPDX-License-Identifier: MIT
// Tests of the io_uring sender on a real ring: SEND_ZC on TCP and UDP
// loopback, REPORT_USAGE, fixed buffers, the RLIMIT_MEMLOCK budget (in a
// child that runs as an unprivileged user), back-pressure, CQ overflow, and destruction
// with sends in flight.
#include "uringprobe_p.h"
#include "uringreaper_p.h"
#include "uringsender_p.h"

#include <QtCore/QPointer>
#include "uringtestutil.h"

#include <QtCore/QSocketNotifier>
#include <QtTest/QSignalSpy>
#include <QtTest/QTest>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <memory>

using namespace Blight;
using QueueResult = UringRing::QueueResult;

using namespace UringTest;

class tst_UringSender : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void sendAndNotification_data();
    void sendAndNotification();
    void batchOneSubmit();
    void fixedBufferBounds();
    void memlockBudget_data();
    void memlockBudget();
    void tableLimit();
    void submissionQueueFull();
    void completionQueueOverflow();
    void linkedStreamSends();
    void shortStreamSend();
    void destroyWithSendsInFlight();
    void deleteFromCompletionsReady();
    void reapTimeoutFrees();
    void reaperFreedWhenThreadEnds();
};

void tst_UringSender::initTestCase()
{
    const UringSupport &support = UringProbe::probe();
    if (!support.available)
        QSKIP(qPrintable(QStringLiteral("io_uring SEND_ZC unavailable: %1").arg(support.reason)));
}

void tst_UringSender::sendAndNotification_data()
{
    QTest::addColumn<bool>("tcp");
    QTest::addColumn<bool>("fixed");
    QTest::addColumn<bool>("reportUsage");
    QTest::addColumn<int>("size");
    for (const bool tcp : {true, false}) {
        for (const bool fixed : {false, true}) {
            for (const bool reportUsage : {false, true}) {
                QTest::addRow("%s-%s-%s", tcp ? "tcp" : "udp", fixed ? "fixed" : "plain",
                              reportUsage ? "report-usage" : "no-report")
                    << tcp << fixed << reportUsage << (tcp ? 256 * 1024 : 16 * 1024);
            }
        }
    }
}

void tst_UringSender::sendAndNotification()
{
    QFETCH(bool, tcp);
    QFETCH(bool, fixed);
    QFETCH(bool, reportUsage);
    QFETCH(int, size);
    if (reportUsage && !UringProbe::probe().reportUsage)
        QSKIP(qPrintable(QStringLiteral("REPORT_USAGE refused: %1").arg(UringProbe::probe().reason)));
    Fd sender;
    Fd receiver;
    QVERIFY(tcp ? tcpPair(&sender, &receiver) : udpPair(&sender, &receiver));
    UringSender uring;
    QVERIFY2(uring.init(), qPrintable(uring.errorString()));
    Collector collector;
    collector.attach(&uring);

    Mapping memory{size_t(size)};
    QVERIFY(memory.data != MAP_FAILED);
    const QByteArray expected = pattern(size, 1);
    std::memcpy(memory.data, expected.constData(), size_t(size));
    if (fixed) {
        const UringRegistration registration = uring.registerBuffers({{memory.data, size}});
        QCOMPARE(registration.registered, 1);
        QCOMPARE(registration.registeredBytes, qint64(size));
    }
    UringSend send;
    send.fd = sender.fd;
    send.data = memory.data;
    send.size = quint32(size);
    send.userData = 42;
    send.bufferIndex = fixed ? 0 : -1;
    send.reportUsage = reportUsage;
    // The receiver reads as data comes: TCP frees (and notifies) only what
    // the peer has acknowledged, and 256 KiB is more than its window.
    QByteArray received;
    QSocketNotifier readable(receiver.fd, QSocketNotifier::Read);
    connect(&readable, &QSocketNotifier::activated, this, [&] { received += readAvailable(receiver.fd); });
    QCOMPARE(uring.queue(send), QueueResult::Queued);
    QCOMPARE(uring.outstanding(), 1);
    QCOMPARE(uring.submit(), 1);
    QTRY_COMPARE(uring.outstanding(), 0);

    const QList<UringCompletion> sends = collector.of(42, false);
    const QList<UringCompletion> notifications = collector.of(42, true);
    QCOMPARE(collector.records.size(), 2);
    QCOMPARE(sends.size(), 1);
    QCOMPARE(notifications.size(), 1);
    QCOMPARE(sends[0].result, size);
    QVERIFY(sends[0].more);
    QVERIFY(!sends[0].copied);
    // The notification comes after its send; on loopback the kernel copies
    // at delivery, which only REPORT_USAGE lets the notification say.
    QVERIFY(collector.records[0].userData == 42 && !collector.records[0].notification);
    QCOMPARE(notifications[0].copied, reportUsage);
    QCOMPARE(notifications[0].result, 0);

    QTRY_COMPARE(received.size(), qsizetype(size));
    QCOMPARE(received, expected);
}

void tst_UringSender::batchOneSubmit()
{
    Fd sender;
    Fd receiver;
    QVERIFY(udpPair(&sender, &receiver));
    UringSender uring;
    QVERIFY2(uring.init(16), qPrintable(uring.errorString()));
    Collector collector;
    collector.attach(&uring);
    constexpr int Sends = 10;
    QList<QByteArray> payloads;
    for (int i = 0; i < Sends; ++i)
        payloads.append(pattern(4096 + i, i));
    for (int i = 0; i < Sends; ++i) {
        UringSend send;
        send.fd = sender.fd;
        send.data = payloads[i].constData();
        send.size = quint32(payloads[i].size());
        send.userData = quint64(1000 + i);
        QCOMPARE(uring.queue(send), QueueResult::Queued);
    }
    QCOMPARE(uring.queuedCount(), unsigned(Sends));
    QCOMPARE(uring.submit(), Sends); // one io_uring_enter for the batch
    QCOMPARE(uring.queuedCount(), 0u);
    QTRY_COMPARE(uring.outstanding(), 0);
    QCOMPARE(collector.records.size(), 2 * Sends);
    for (int i = 0; i < Sends; ++i) {
        const QList<UringCompletion> sends = collector.of(quint64(1000 + i), false);
        QCOMPARE(sends.size(), 1);
        QCOMPARE(sends[0].result, int(payloads[i].size()));
        QCOMPARE(collector.of(quint64(1000 + i), true).size(), 1);
    }
    // Datagrams are sent in submission order on one socket.
    for (int i = 0; i < Sends; ++i) {
        char buffer[8192];
        const ssize_t n = ::recv(receiver.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
        QCOMPARE(QByteArray(buffer, int(qMax<ssize_t>(n, 0))), payloads[i]);
    }
}

void tst_UringSender::fixedBufferBounds()
{
    Fd sender;
    Fd receiver;
    QVERIFY(udpPair(&sender, &receiver));
    UringSender uring;
    QVERIFY2(uring.init(), qPrintable(uring.errorString()));
    Collector collector;
    collector.attach(&uring);
    const long page = ::sysconf(_SC_PAGESIZE);
    Mapping first(size_t(4 * page));
    Mapping second(size_t(4 * page));
    const QByteArray bytes = pattern(4 * page, 3);
    std::memcpy(second.data, bytes.constData(), bytes.size());
    QCOMPARE(uring.registerBuffers({{first.data, 4 * page}, {second.data, 4 * page}}).registered, 2);
    QCOMPARE(uring.registeredCount(), 2);
    // Only once per ring.
    const UringRegistration again = uring.registerBuffers({{first.data, page}});
    QCOMPARE(again.registered, 0);
    QCOMPARE(again.error, EBUSY);

    // A header-room offset inside buffer 1 is fine; memory of buffer 1
    // named with index 0 is outside that buffer; index 2 is beyond the table.
    UringSend inside{sender.fd, second.bytes() + 64, quint32(page), 1, 1, false, 0, {}};
    UringSend wrongIndex{sender.fd, second.bytes(), quint32(page), 2, 0, false, 0, {}};
    UringSend noSuchIndex{sender.fd, second.bytes(), quint32(page), 3, 2, false, 0, {}};
    QCOMPARE(uring.queue(inside), QueueResult::Queued);
    QCOMPARE(uring.queue(wrongIndex), QueueResult::Queued);
    QCOMPARE(uring.queue(noSuchIndex), QueueResult::Invalid);
    QCOMPARE(uring.submit(), 2);
    QTRY_COMPARE(uring.outstanding(), 0);
    QCOMPARE(collector.of(1, false).value(0).result, int(page));
    QCOMPARE(collector.of(1, true).size(), 1);
    // A send the kernel refused still says whether a notification follows
    // (on 6.18 it does: the notification was set up before the send failed);
    // the ring is done with it only after that one.
    const UringCompletion refused = collector.of(2, false).value(0);
    QCOMPARE(refused.result, -EFAULT);
    qInfo("a refused SEND_ZC has F_MORE: %d", refused.more);
    QCOMPARE(collector.of(2, true).size(), refused.more ? 1 : 0);
    char buffer[65536];
    const ssize_t n = ::recv(receiver.fd, buffer, sizeof(buffer), MSG_DONTWAIT);
    QCOMPARE(QByteArray(buffer, int(qMax<ssize_t>(n, 0))), bytes.mid(64, page));
}

void tst_UringSender::memlockBudget_data()
{
    QTest::addColumn<bool>("dropCapability");
    QTest::addColumn<int>("chargedElsewhere");
    QTest::addColumn<int>("expected");
    // Five buffers of 16 pages under a limit of 3.5 buffers. With two
    // already charged by another ring of the same user, our pre-check still
    // allows three and the kernel takes one: the count is the kernel's.
    QTest::newRow("unprivileged-user") << true << 0 << 3;
    QTest::newRow("charged-by-another-ring") << true << 2 << 1;
    QTest::newRow("root-exempt") << false << 0 << 5;
}

void tst_UringSender::memlockBudget()
{
    QFETCH(bool, dropCapability);
    QFETCH(int, chargedElsewhere);
    QFETCH(int, expected);
    if (!dropCapability && !MemlockBudget::current().exempt)
        QSKIP("this process has no CAP_IPC_LOCK in the initial user namespace: nothing is exempt");
    const long page = ::sysconf(_SC_PAGESIZE);
    constexpr int Buffers = 5;
    const qint64 bufferBytes = 16 * page;
    int fds[2];
    QVERIFY(::pipe2(fds, O_CLOEXEC) == 0);
    // The charge is per user and is given back only when the kernel frees a
    // closed ring, later: each row runs as a user of its own, from 0.
    static int row = 0;
    const uid_t uid = uid_t(40000 + (::getpid() * 8 + ++row) % 20000);
    const pid_t pid = ::fork();
    QVERIFY(pid >= 0);
    if (pid == 0) {
        // The child: lower the limit (and drop the exemption), register,
        // then send from the last registered slot and the first empty one.
        ::close(fds[0]);
        QByteArray out;
        Fd sender;
        Fd receiver;
        rlimit limit{rlim_t(bufferBytes * 7 / 2), rlim_t(bufferBytes * 7 / 2)};
        QString error;
        std::unique_ptr<UringRing> ring;
        std::unique_ptr<UringRing> other;
        Mapping memory{size_t(Buffers * bufferBytes)};
        Mapping otherMemory{size_t(Buffers * bufferBytes)};
        if (::setrlimit(RLIMIT_MEMLOCK, &limit) != 0) {
            out = "!setrlimit: " + QByteArray(std::strerror(errno));
        } else if (dropCapability && !becomeUnprivileged(uid)) {
            out = "!setresuid: " + QByteArray(std::strerror(errno));
        } else if (!udpPair(&sender, &receiver) || memory.data == MAP_FAILED) {
            out = "!sockets or memory";
        } else if (!(ring = UringRing::create(8, 32, &error)) || !(other = UringRing::create(8, 32, &error))) {
            out = "!" + error.toUtf8();
        } else if (const UringRegistration first = chargedElsewhere > 0
                       ? other->registerBuffers({{otherMemory.data, chargedElsewhere * bufferBytes}}, {})
                       : UringRegistration{};
                   chargedElsewhere > 0 && first.registered != 1) {
            out = "!the other ring could not register its buffer: " + first.reason.toUtf8();
        } else {
            QList<UringRegion> regions;
            for (int i = 0; i < Buffers; ++i)
                regions.append({memory.bytes() + i * bufferBytes, bufferBytes});
            const UringRegistration registration = ring->registerBuffers(regions, {});
            out = QByteArray::number(registration.registered) + ' ' + QByteArray::number(registration.budget.exempt)
                + ' ' + QByteArray::number(registration.budget.limitBytes) + ' '
                + QByteArray::number(registration.error);
            for (const int index : {registration.registered - 1, registration.registered}) {
                if (index < 0 || index >= Buffers)
                    continue;
                UringSend send{sender.fd, memory.bytes() + index * bufferBytes, 1024, quint64(index), index, false, 0,
                               {}};
                ring->queue(send);
                ring->submit();
                out += ' ' + QByteArray::number(waitForSend(ring.get(), quint64(index)));
            }
            out += '\n' + registration.reason.toUtf8();
        }
        ring.reset();
        other.reset();
        (void)!::write(fds[1], out.constData(), size_t(out.size()));
        ::_exit(0);
    }
    ::close(fds[1]);
    QByteArray in;
    char buffer[512];
    ssize_t n = 0;
    while ((n = ::read(fds[0], buffer, sizeof(buffer))) > 0 || (n < 0 && errno == EINTR))
        in.append(buffer, int(qMax<ssize_t>(n, 0)));
    ::close(fds[0]);
    int status = 0;
    QCOMPARE(::waitpid(pid, &status, 0), pid);
    QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (in.startsWith("!setresuid") || in.startsWith("!setrlimit"))
        QSKIP(in.constData() + 1);
    QVERIFY2(!in.startsWith('!'), in.constData());
    const QList<QByteArray> lines = in.split('\n');
    qInfo("child: %s", lines.value(1).constData());
    const QList<QByteArray> fields = lines.value(0).split(' ');
    QCOMPARE(fields.value(0).toInt(), expected);
    QCOMPARE(fields.value(1).toInt(), dropCapability ? 0 : 1);
    QCOMPARE(fields.value(2).toLongLong(), bufferBytes * 7 / 2);
    // Our pre-check stops before the kernel refuses; memory charged
    // elsewhere makes the kernel refuse, with ENOMEM.
    QCOMPARE(fields.value(3).toInt(), chargedElsewhere > 0 ? ENOMEM : 0);
    // The last registered slot sends; the first slot left empty is refused
    // by the kernel (so the count is the kernel's, not only ours).
    QCOMPARE(fields.value(4).toInt(), 1024);
    if (expected < Buffers)
        QCOMPARE(fields.value(5).toInt(), -EFAULT);
}

void tst_UringSender::tableLimit()
{
    // More regions than a ring's table can hold: the kernel would refuse the
    // whole table (EINVAL), so the ring registers at most its maximum and
    // says why the rest went unregistered.
    const long page = ::sysconf(_SC_PAGESIZE);
    constexpr int Count = UringRing::MaxRegisteredBuffers + 1;
    Mapping memory{size_t(Count) * size_t(page)};
    QVERIFY(memory.data != MAP_FAILED);
    QString error;
    const std::unique_ptr<UringRing> ring = UringRing::create(8, 32, &error);
    QVERIFY2(ring, qPrintable(error));
    QList<UringRegion> regions;
    regions.reserve(Count);
    for (int i = 0; i < Count; ++i)
        regions.append({memory.bytes() + qsizetype(i) * page, page});
    const UringRegistration registration = ring->registerBuffers(regions, {});
    QCOMPARE(registration.requested, Count);
    QVERIFY2(registration.registered > 0, qPrintable(registration.reason));
    QVERIFY(registration.registered <= UringRing::MaxRegisteredBuffers);
    if (registration.budget.isUnlimited()) {
        QCOMPARE(registration.registered, UringRing::MaxRegisteredBuffers);
        QVERIFY2(registration.reason.contains(u"holds at most 16384"), qPrintable(registration.reason));
    }
}

void tst_UringSender::submissionQueueFull()
{
    Fd sender;
    Fd receiver;
    QVERIFY(tcpPair(&sender, &receiver));
    UringSender uring;
    QVERIFY2(uring.init(4, 16), qPrintable(uring.errorString()));
    QCOMPARE(uring.sqEntries(), 4u);
    Collector collector;
    collector.attach(&uring);
    constexpr int Sends = 7;
    QList<QByteArray> payloads;
    for (int i = 0; i < Sends; ++i)
        payloads.append(pattern(1000 + i, i));
    int next = 0;
    auto queueNext = [&] {
        UringSend send{
            sender.fd, payloads[next].constData(), quint32(payloads[next].size()), quint64(next), -1, false, 0, {}};
        return uring.queue(send);
    };
    for (; next < 4; ++next)
        QCOMPARE(queueNext(), QueueResult::Queued);
    QCOMPARE(uring.sqSpaceLeft(), 0u);
    // Full is back-pressure: the send is not queued and not lost; after a
    // submit it goes in.
    QCOMPARE(queueNext(), QueueResult::Full);
    QCOMPARE(uring.outstanding(), 4);
    QCOMPARE(uring.submit(), 4);
    for (; next < Sends; ++next)
        QCOMPARE(queueNext(), QueueResult::Queued);
    QCOMPARE(uring.submit(), Sends - 4);
    QTRY_COMPARE(uring.outstanding(), 0);
    QByteArray expected;
    for (int i = 0; i < Sends; ++i) {
        expected += payloads[i];
        QCOMPARE(collector.of(quint64(i), false).value(0).result, int(payloads[i].size()));
    }
    QByteArray received;
    QTRY_VERIFY((received += readAvailable(receiver.fd)).size() >= expected.size());
    QCOMPARE(received, expected);
}

void tst_UringSender::completionQueueOverflow()
{
    Fd sender;
    Fd receiver;
    QVERIFY(udpPair(&sender, &receiver));
    UringSender uring;
    // Eight sends give sixteen completions for a CQ of eight.
    QVERIFY2(uring.init(8, 8), qPrintable(uring.errorString()));
    QCOMPARE(uring.cqEntries(), 8u);
    Collector collector;
    collector.attach(&uring);
    const QByteArray payload = pattern(2048, 5);
    for (int i = 0; i < 8; ++i) {
        UringSend send{sender.fd, payload.constData(), quint32(payload.size()), quint64(i), -1, false, 0, {}};
        QCOMPARE(uring.queue(send), QueueResult::Queued);
    }
    QCOMPARE(uring.submit(), 8);
    QTRY_COMPARE(uring.outstanding(), 0);
    QCOMPARE(collector.records.size(), 16);
    QVERIFY(uring.overflowFlushes() >= 1);
    for (int i = 0; i < 8; ++i) {
        QCOMPARE(collector.of(quint64(i), false).size(), 1);
        QCOMPARE(collector.of(quint64(i), true).size(), 1);
    }
}

void tst_UringSender::linkedStreamSends()
{
    // Sends larger than the window go partly async; linked, they reach the
    // peer in order. A failing link cancels the rest of its chain.
    Fd sender;
    Fd receiver;
    QVERIFY(tcpPair(&sender, &receiver, 64 * 1024));
    UringSender uring;
    QVERIFY2(uring.init(16), qPrintable(uring.errorString()));
    Collector collector;
    collector.attach(&uring);
    constexpr int Sends = 6;
    constexpr int Size = 512 * 1024;
    QList<QByteArray> payloads;
    QByteArray expected;
    for (int i = 0; i < Sends; ++i) {
        payloads.append(pattern(Size, 20 + i));
        expected += payloads[i];
    }
    for (int i = 0; i < Sends; ++i) {
        UringSend send{sender.fd, payloads[i].constData(), quint32(Size), quint64(i), -1, false, MSG_WAITALL, {}};
        send.linkNext = i + 1 < Sends;
        QCOMPARE(uring.queue(send), QueueResult::Queued);
    }
    QCOMPARE(uring.submit(), Sends);
    QByteArray received;
    QSocketNotifier readable(receiver.fd, QSocketNotifier::Read);
    connect(&readable, &QSocketNotifier::activated, this, [&] { received += readAvailable(receiver.fd); });
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), expected.size(), 20000);
    QVERIFY(received == expected);
    QTRY_COMPARE(uring.outstanding(), 0);
    for (int i = 0; i < Sends; ++i)
        QCOMPARE(collector.of(quint64(i), false).value(0).result, Size);

    // A chain of three whose first fails (a TCP socket never connected):
    // the kernel cancels the other two; nothing of them is sent.
    collector.records.clear();
    const QByteArray small = pattern(1000, 30);
    UringSend bad{-1, small.constData(), quint32(small.size()), 100, -1, false, 0, {}, true};
    QCOMPARE(uring.queue(bad), QueueResult::Invalid);                  // refused before the kernel sees it
    Fd closedSocket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)); // never connected: the send fails
    UringSend first{closedSocket.fd, small.constData(), quint32(small.size()), 101, -1, false, 0, {}, true};
    UringSend second{sender.fd, small.constData(), quint32(small.size()), 102, -1, false, 0, {}, true};
    UringSend third{sender.fd, small.constData(), quint32(small.size()), 103, -1, false, 0, {}, false};
    QCOMPARE(uring.queue(first), QueueResult::Queued);
    QCOMPARE(uring.queue(second), QueueResult::Queued);
    QCOMPARE(uring.queue(third), QueueResult::Queued);
    QCOMPARE(uring.submit(), 3);
    QTRY_COMPARE(uring.outstanding(), 0);
    QVERIFY(collector.of(101, false).value(0).result < 0);
    qInfo("unconnected TCP socket: %s", std::strerror(-collector.of(101, false).value(0).result));
    QCOMPARE(collector.of(102, false).value(0).result, -ECANCELED);
    QCOMPARE(collector.of(103, false).value(0).result, -ECANCELED);
    QCOMPARE(readAvailable(receiver.fd).size(), 0);
}

void tst_UringSender::shortStreamSend()
{
    // Without MSG_WAITALL, a TCP SEND_ZC larger than the room in the socket
    // completes with what fit; the caller sends the rest.
    Fd sender;
    Fd receiver;
    QVERIFY(tcpPair(&sender, &receiver, 64 * 1024));
    UringSender uring;
    QVERIFY2(uring.init(), qPrintable(uring.errorString()));
    Collector collector;
    collector.attach(&uring);
    constexpr int Size = 4 * 1024 * 1024;
    const QByteArray payload = pattern(Size, 40);
    UringSend send{sender.fd, payload.constData(), quint32(Size), 1, -1, false, 0, {}};
    QCOMPARE(uring.queue(send), QueueResult::Queued);
    QCOMPARE(uring.submit(), 1);
    QTRY_COMPARE(collector.of(1, false).size(), 1);
    const int sent = collector.of(1, false).value(0).result;
    qInfo("a %d-byte send into a 64 KiB window completed with %d", Size, sent);
    QVERIFY(sent > 0);
    QVERIFY(sent < Size);
    // Its notification comes once the peer has read what was sent.
    QByteArray received;
    QSocketNotifier readable(receiver.fd, QSocketNotifier::Read);
    connect(&readable, &QSocketNotifier::activated, this, [&] { received += readAvailable(receiver.fd); });
    QTRY_COMPARE(received.size(), qsizetype(sent));
    QTRY_COMPARE(uring.outstanding(), 0);
    QCOMPARE(received, payload.left(sent));
}

void tst_UringSender::destroyWithSendsInFlight()
{
    // A receiver that does not read, with small buffers: the send of 4 MiB
    // (MSG_WAITALL: the kernel keeps sending until all is queued) stays in
    // flight until the test reads.
    Fd sender;
    Fd receiver;
    QVERIFY(tcpPair(&sender, &receiver, 64 * 1024));
    constexpr int Size = 4 * 1024 * 1024;
    const QByteArray expected = pattern(Size, 9);
    auto bytes = std::make_shared<QByteArray>(expected);
    bytes->detach();
    std::weak_ptr<QByteArray> watch = bytes;
    const int reapersBefore = UringReaper::liveCount();
    {
        UringSender uring;
        QVERIFY2(uring.init(), qPrintable(uring.errorString()));
        UringSend send{sender.fd, bytes->constData(), quint32(Size), 7, -1, true, MSG_WAITALL, bytes};
        bytes.reset(); // the send's hold is the last owner
        QCOMPARE(uring.queue(std::move(send)), QueueResult::Queued);
        QCOMPARE(uring.submit(), 1);
        QCOMPARE(uring.outstanding(), 1);
    }
    // The sender is gone; its ring and the bytes are not.
    QCOMPARE(UringReaper::liveCount(), reapersBefore + 1);
    QVERIFY(!watch.expired());

    QByteArray received;
    QSocketNotifier readable(receiver.fd, QSocketNotifier::Read);
    connect(&readable, &QSocketNotifier::activated, this, [&] { received += readAvailable(receiver.fd); });
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), Size, 20000);
    QCOMPARE(received, expected);
    QTRY_COMPARE(UringReaper::liveCount(), reapersBefore);
    QVERIFY(watch.expired());
}

void tst_UringSender::deleteFromCompletionsReady()
{
    // A slot may delete the sender that emitted completionsReady(); nothing
    // after the emit touches it (ASan watches), and what is still in flight
    // goes to a reaper.
    Fd sender;
    Fd receiver;
    QVERIFY(udpPair(&sender, &receiver));
    constexpr int Size = 16 * 1024;
    auto bytes = std::make_shared<QByteArray>(pattern(Size, 13));
    bytes->detach();
    std::weak_ptr<QByteArray> watch = bytes;
    const int reapersBefore = UringReaper::liveCount();
    auto *created = new UringSender;
    QVERIFY2(created->init(), qPrintable(created->errorString()));
    QPointer<UringSender> uring = created;
    int batches = 0;
    connect(uring.data(), &UringSender::completionsReady, this, [&](const QList<UringCompletion> &records) {
        ++batches;
        QVERIFY(!records.isEmpty());
        delete uring.data();
    });
    UringSend send{sender.fd, bytes->constData(), quint32(Size), 9, -1, false, 0, bytes};
    bytes.reset();
    QCOMPARE(created->queue(std::move(send)), QueueResult::Queued);
    QCOMPARE(created->submit(), 1);
    QTRY_VERIFY(uring.isNull());
    QCOMPARE(batches, 1);
    QCOMPARE(readAvailable(receiver.fd).size(), qsizetype(Size));
    // Whether the notification came with the send's completion or after it,
    // the bytes are freed once it is in, and no reaper is left behind.
    QTRY_COMPARE(UringReaper::liveCount(), reapersBefore);
    QTRY_VERIFY(watch.expired());
}

void tst_UringSender::reapTimeoutFrees()
{
    Fd sender;
    Fd receiver;
    QVERIFY(tcpPair(&sender, &receiver, 64 * 1024));
    constexpr int Size = 4 * 1024 * 1024;
    auto bytes = std::make_shared<QByteArray>(pattern(Size, 11));
    std::weak_ptr<QByteArray> watch = bytes;
    const int reapersBefore = UringReaper::liveCount();
    {
        UringSender uring;
        QVERIFY2(uring.init(), qPrintable(uring.errorString()));
        uring.setReapTimeout(200);
        UringSend send{sender.fd, bytes->constData(), quint32(Size), 8, -1, false, MSG_WAITALL, bytes};
        bytes.reset();
        QCOMPARE(uring.queue(std::move(send)), QueueResult::Queued);
        QCOMPARE(uring.submit(), 1);
    }
    QCOMPARE(UringReaper::liveCount(), reapersBefore + 1);
    QTest::ignoreMessage(QtWarningMsg, "io_uring: reap timeout: freeing a ring with 1 sends still in flight");
    QTest::ignoreMessage(QtWarningMsg, "io_uring: ring closed with 1 sends without their last completion");
    // Nobody reads: the timeout frees the ring and what the send held.
    QTRY_COMPARE(UringReaper::liveCount(), reapersBefore);
    QVERIFY(watch.expired());
}

void tst_UringSender::reaperFreedWhenThreadEnds()
{
    Fd sender;
    Fd receiver;
    QVERIFY(tcpPair(&sender, &receiver, 64 * 1024));
    constexpr int Size = 4 * 1024 * 1024;
    auto bytes = std::make_shared<QByteArray>(pattern(Size, 13));
    std::weak_ptr<QByteArray> watch = bytes;
    const int reapersBefore = UringReaper::liveCount();
    QThread thread;
    bool queued = false;
    // The sender lives and dies in the worker thread; its reaper stays there.
    connect(
        &thread, &QThread::started, &thread,
        [&] {
            UringSender uring;
            if (!uring.init())
                return;
            UringSend send{sender.fd, bytes->constData(), quint32(Size), 9, -1, false, MSG_WAITALL, bytes};
            bytes.reset();
            queued = uring.queue(std::move(send)) == QueueResult::Queued && uring.submit() == 1;
        },
        Qt::DirectConnection);
    QTest::ignoreMessage(QtWarningMsg, "io_uring: ring closed with 1 sends without their last completion");
    thread.start();
    QTRY_COMPARE(UringReaper::liveCount(), reapersBefore + 1);
    QVERIFY(queued);
    QVERIFY(!watch.expired());
    thread.quit();
    QVERIFY(thread.wait(5000));
    QCOMPARE(UringReaper::liveCount(), reapersBefore);
    QVERIFY(watch.expired());
}

QTEST_GUILESS_MAIN(tst_UringSender)
#include "tst_uringsender.moc"
