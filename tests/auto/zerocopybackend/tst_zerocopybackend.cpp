// SPDX-License-Identifier: MIT
// The backend choice without sockets: what each request gets for each kind
// of socket and each thing the io_uring probe can find.
#include "zerocopybackend_p.h"

#include <QtTest/QTest>

using namespace Blight;
using Backend = BlightSocket::ZeroCopyBackend;
using Kind = BlightSocket::SocketKind;

class tst_ZeroCopyBackend : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void choose_data();
    void choose();
    void measuredDefaults_data();
    void measuredDefaults();
};

namespace {

UringSupport support(bool available, bool reportUsage)
{
    UringSupport found;
    found.available = available;
    found.reportUsage = available && reportUsage;
    found.reason = available ? QStringLiteral("SEND_ZC works") : QStringLiteral("ring setup failed: EPERM");
    return found;
}

} // namespace

void tst_ZeroCopyBackend::choose_data()
{
    QTest::addColumn<Backend>("requested");
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<bool>("available");
    QTest::addColumn<bool>("reportUsage");
    QTest::addColumn<Backend>("chosen");
    QTest::addColumn<bool>("askReportUsage");
    QTest::addColumn<QString>("reasonPart");

    const Backend A = Backend::Auto;
    const Backend M = Backend::MsgZeroCopy;
    const Backend U = Backend::IoUring;
    // Auto follows the measured default: io_uring on UDP, not on TCP.
    QTest::newRow("auto-udp") << A << Kind::Udp4 << true << true << U << true << "io_uring SEND_ZC";
    QTest::newRow("auto-udp6") << A << Kind::Udp6 << true << true << U << true << "io_uring SEND_ZC";
    QTest::newRow("auto-tcp") << A << Kind::Tcp4 << true << true << M << false << "measured it cheaper, not for TCP";
    // Auto never takes io_uring where the COPIED back-off cannot work.
    QTest::newRow("auto-udp-no-report") << A << Kind::Udp4 << true << false << M << false << "REPORT_USAGE";
    // Unavailable: MSG_ZEROCOPY, with the probe's reason.
    QTest::newRow("auto-udp-unavailable") << A << Kind::Udp4 << false << false << M << false << "EPERM";
    QTest::newRow("uring-tcp-unavailable")
        << U << Kind::Tcp6 << false << false << M << false << "io_uring unavailable: ring setup failed";
    // Asked for: io_uring on either kind, also without REPORT_USAGE (said so).
    QTest::newRow("uring-tcp") << U << Kind::Tcp4 << true << true << U << true << "io_uring SEND_ZC";
    QTest::newRow("uring-udp-no-report") << U << Kind::Udp4 << true << false << U << false << "no COPIED back-off";
    QTest::newRow("msg-udp") << M << Kind::Udp4 << true << true << M << false << "MSG_ZEROCOPY (chosen)";
    // No zero-copy at all on AF_UNIX: nothing to say here (the policy says why).
    QTest::newRow("uring-unix") << U << Kind::UnixStream << true << true << M << false << "";
    QTest::newRow("auto-none") << A << Kind::None << true << true << M << false << "";
}

void tst_ZeroCopyBackend::choose()
{
    QFETCH(Backend, requested);
    QFETCH(Kind, kind);
    QFETCH(bool, available);
    QFETCH(bool, reportUsage);
    QFETCH(Backend, chosen);
    QFETCH(bool, askReportUsage);
    QFETCH(QString, reasonPart);

    const auto choice = ZeroCopyBackendPolicy::choose(requested, kind, support(available, reportUsage));
    QCOMPARE(choice.backend, chosen);
    QCOMPARE(choice.reportUsage, askReportUsage);
    if (reasonPart.isEmpty())
        QVERIFY2(choice.reason.isEmpty(), qPrintable(choice.reason));
    else
        QVERIFY2(choice.reason.contains(reasonPart), qPrintable(choice.reason));
}

void tst_ZeroCopyBackend::measuredDefaults_data()
{
    QTest::addColumn<Kind>("kind");
    QTest::addColumn<bool>("cheaper");
    QTest::newRow("udp4") << Kind::Udp4 << true;
    QTest::newRow("udp6") << Kind::Udp6 << true;
    QTest::newRow("tcp4") << Kind::Tcp4 << false;
    QTest::newRow("tcp6") << Kind::Tcp6 << false;
    QTest::newRow("unix") << Kind::UnixStream << false;
}

void tst_ZeroCopyBackend::measuredDefaults()
{
    // The table docs/benchmark.md justifies; a change there changes this.
    QFETCH(Kind, kind);
    QFETCH(bool, cheaper);
    QCOMPARE(ZeroCopyBackendPolicy::uringMeasuredCheaper(kind), cheaper);
}

QTEST_GUILESS_MAIN(tst_ZeroCopyBackend)
#include "tst_zerocopybackend.moc"
