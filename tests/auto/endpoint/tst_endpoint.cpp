// SPDX-License-Identifier: MIT
// Tests of endpoint strings: parsing every scheme, the errors, and toString()
// round trips.
#include <BlightTransport/endpoint.h>

#include <QtTest/QTest>

using namespace Blight;

class tst_Endpoint : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseValid_data();
    void parseValid();
    void parseInvalid_data();
    void parseInvalid();
    void roundTrip_data();
    void roundTrip();
    void fromDescriptor();
    void defaultIsInvalid();
};

void tst_Endpoint::parseValid_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<Endpoint::Scheme>("scheme");
    QTest::addColumn<QString>("schemeName");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("host");
    QTest::addColumn<int>("port");
    QTest::addColumn<int>("fd");
    QTest::addColumn<bool>("session");
    QTest::addColumn<QString>("canonical");

    using S = Endpoint::Scheme;
    const QString none;
    QTest::addRow("unix-absolute") << QStringLiteral("unix:/run/blight.sock") << S::Unix << QStringLiteral("unix")
                                   << QStringLiteral("/run/blight.sock") << none << 0 << -1 << false
                                   << QStringLiteral("unix:/run/blight.sock");
    QTest::addRow("unix-url-form") << QStringLiteral("unix:///run/blight.sock") << S::Unix << QStringLiteral("unix")
                                   << QStringLiteral("/run/blight.sock") << none << 0 << -1 << false
                                   << QStringLiteral("unix:/run/blight.sock");
    QTest::addRow("unix-relative") << QStringLiteral("unix:blight.sock") << S::Unix << QStringLiteral("unix")
                                   << QStringLiteral("blight.sock") << none << 0 << -1 << false
                                   << QStringLiteral("unix:blight.sock");
    QTest::addRow("unix-with-spaces") << QStringLiteral("unix:/tmp/my dir/s.sock") << S::Unix << QStringLiteral("unix")
                                      << QStringLiteral("/tmp/my dir/s.sock") << none << 0 << -1 << false
                                      << QStringLiteral("unix:/tmp/my dir/s.sock");
    QTest::addRow("tcp-ipv4") << QStringLiteral("tcp://127.0.0.1:5555") << S::Tcp << QStringLiteral("tcp") << none
                              << QStringLiteral("127.0.0.1") << 5555 << -1 << false
                              << QStringLiteral("tcp://127.0.0.1:5555");
    QTest::addRow("tcp-hostname") << QStringLiteral("tcp://localhost:80") << S::Tcp << QStringLiteral("tcp") << none
                                  << QStringLiteral("localhost") << 80 << -1 << false
                                  << QStringLiteral("tcp://localhost:80");
    QTest::addRow("tcp-ipv6-loopback") << QStringLiteral("tcp://[::1]:5555") << S::Tcp << QStringLiteral("tcp") << none
                                       << QStringLiteral("::1") << 5555 << -1 << false
                                       << QStringLiteral("tcp://[::1]:5555");
    QTest::addRow("tcp-ipv6-full") << QStringLiteral("tcp://[2001:db8::2:1]:443") << S::Tcp << QStringLiteral("tcp")
                                   << none << QStringLiteral("2001:db8::2:1") << 443 << -1 << false
                                   << QStringLiteral("tcp://[2001:db8::2:1]:443");
    QTest::addRow("tcp-port-1") << QStringLiteral("tcp://h:1") << S::Tcp << QStringLiteral("tcp") << none
                                << QStringLiteral("h") << 1 << -1 << false << QStringLiteral("tcp://h:1");
    QTest::addRow("tcp-port-65535") << QStringLiteral("tcp://h:65535") << S::Tcp << QStringLiteral("tcp") << none
                                    << QStringLiteral("h") << 65535 << -1 << false << QStringLiteral("tcp://h:65535");
    QTest::addRow("udp-ipv4") << QStringLiteral("udp://10.0.0.2:9000") << S::Udp << QStringLiteral("udp") << none
                              << QStringLiteral("10.0.0.2") << 9000 << -1 << false
                              << QStringLiteral("udp://10.0.0.2:9000");
    QTest::addRow("udp-ipv6") << QStringLiteral("udp://[fe80::1]:9000") << S::Udp << QStringLiteral("udp") << none
                              << QStringLiteral("fe80::1") << 9000 << -1 << false
                              << QStringLiteral("udp://[fe80::1]:9000");
    QTest::addRow("fd-3") << QStringLiteral("fd:3") << S::Fd << QStringLiteral("fd") << none << none << 0 << 3 << false
                          << QStringLiteral("fd:3");
    QTest::addRow("fd-0") << QStringLiteral("fd:0") << S::Fd << QStringLiteral("fd") << none << none << 0 << 0 << false
                          << QStringLiteral("fd:0");
    QTest::addRow("fd-1023") << QStringLiteral("fd:1023") << S::Fd << QStringLiteral("fd") << none << none << 0 << 1023
                             << false << QStringLiteral("fd:1023");
    QTest::addRow("blight-system") << QStringLiteral("blight:") << S::Blight << QStringLiteral("blight") << none << none
                                   << 0 << -1 << false << QStringLiteral("blight:");
    QTest::addRow("blight-system-named") << QStringLiteral("blight:system") << S::Blight << QStringLiteral("blight")
                                         << none << none << 0 << -1 << false << QStringLiteral("blight:");
    QTest::addRow("blight-session") << QStringLiteral("blight:session") << S::Blight << QStringLiteral("blight") << none
                                    << none << 0 << -1 << true << QStringLiteral("blight:session");
}

void tst_Endpoint::parseValid()
{
    QFETCH(QString, text);
    QFETCH(Endpoint::Scheme, scheme);
    QFETCH(QString, schemeName);
    QFETCH(QString, path);
    QFETCH(QString, host);
    QFETCH(int, port);
    QFETCH(int, fd);
    QFETCH(bool, session);
    QFETCH(QString, canonical);

    QString error = QStringLiteral("untouched");
    const Endpoint endpoint = Endpoint::parse(text, &error);
    QVERIFY2(endpoint.isValid(), qPrintable(error));
    QCOMPARE(endpoint.scheme(), scheme);
    QCOMPARE(endpoint.schemeName(), schemeName);
    QCOMPARE(endpoint.path(), path);
    QCOMPARE(endpoint.host(), host);
    QCOMPARE(int(endpoint.port()), port);
    QCOMPARE(endpoint.descriptor(), fd);
    QCOMPARE(endpoint.sessionBus(), session);
    QCOMPARE(endpoint.toString(), canonical);

    // The canonical form parses back to the same endpoint, and is a fixed point.
    const Endpoint again = Endpoint::parse(endpoint.toString());
    QVERIFY(again.isValid());
    QVERIFY2(again == endpoint,
             qPrintable(QStringLiteral("'%1' does not parse back to '%2'").arg(endpoint.toString(), text)));
    QCOMPARE(again.toString(), canonical);

    // Parsing without an error string is allowed.
    QCOMPARE(Endpoint::parse(text), endpoint);
}

void tst_Endpoint::parseInvalid_data()
{
    QTest::addColumn<QString>("text");

    QTest::addRow("empty") << QString();
    QTest::addRow("blank") << QStringLiteral(" ");
    QTest::addRow("unix-no-path") << QStringLiteral("unix:");
    QTest::addRow("unix-url-no-path") << QStringLiteral("unix://");
    QTest::addRow("tcp-no-port") << QStringLiteral("tcp://localhost");
    QTest::addRow("tcp-empty-port") << QStringLiteral("tcp://localhost:");
    QTest::addRow("tcp-port-70000") << QStringLiteral("tcp://localhost:70000");
    QTest::addRow("tcp-port-65536") << QStringLiteral("tcp://localhost:65536");
    QTest::addRow("tcp-port-negative") << QStringLiteral("tcp://localhost:-1");
    QTest::addRow("tcp-port-name") << QStringLiteral("tcp://localhost:http");
    QTest::addRow("tcp-port-trailing-path") << QStringLiteral("tcp://localhost:80/x");
    QTest::addRow("tcp-no-host") << QStringLiteral("tcp://:80");
    QTest::addRow("tcp-nothing") << QStringLiteral("tcp://");
    QTest::addRow("tcp-ipv6-without-brackets") << QStringLiteral("tcp://::1:5555");
    QTest::addRow("tcp-ipv6-full-without-brackets") << QStringLiteral("tcp://2001:db8::1:80");
    QTest::addRow("tcp-ipv6-unclosed") << QStringLiteral("tcp://[::1:5555");
    QTest::addRow("tcp-ipv6-no-port") << QStringLiteral("tcp://[::1]");
    QTest::addRow("tcp-ipv6-empty-port") << QStringLiteral("tcp://[::1]:");
    QTest::addRow("tcp-ipv6-junk-after-bracket") << QStringLiteral("tcp://[::1]x5555");
    QTest::addRow("tcp-ipv6-empty-brackets") << QStringLiteral("tcp://[]:80");
    QTest::addRow("udp-no-port") << QStringLiteral("udp://10.0.0.1");
    QTest::addRow("udp-port-70000") << QStringLiteral("udp://10.0.0.1:70000");
    QTest::addRow("unknown-scheme") << QStringLiteral("http://localhost:80");
    QTest::addRow("scheme-wrong-case") << QStringLiteral("TCP://localhost:80");
    QTest::addRow("tcp-single-slash") << QStringLiteral("tcp:/localhost:80");
    QTest::addRow("fd-negative") << QStringLiteral("fd:-1");
    QTest::addRow("fd-empty") << QStringLiteral("fd:");
    QTest::addRow("fd-letters") << QStringLiteral("fd:three");
    QTest::addRow("fd-trailing") << QStringLiteral("fd:3x");
    QTest::addRow("fd-too-large") << QStringLiteral("fd:99999999999");
    QTest::addRow("blight-unknown-bus") << QStringLiteral("blight:user");
    QTest::addRow("bare-path") << QStringLiteral("/run/blight.sock");
}

void tst_Endpoint::parseInvalid()
{
    QFETCH(QString, text);
    QString error;
    const Endpoint endpoint = Endpoint::parse(text, &error);
    QVERIFY2(!endpoint.isValid(), qPrintable(QStringLiteral("'%1' was accepted as %2").arg(text, endpoint.toString())));
    QCOMPARE(endpoint.scheme(), Endpoint::Scheme::Invalid);
    QVERIFY2(!error.isEmpty(), "rejected without a reason");
    QVERIFY(endpoint.toString().isEmpty());
    QCOMPARE(endpoint, Endpoint());
    QVERIFY(!Endpoint::parse(text).isValid());
}

void tst_Endpoint::roundTrip_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("path");

    // Whatever path parse() makes of the text, toString() must give it back.
    QTest::addRow("unix-four-slashes") << QStringLiteral("unix:////run/blight.sock")
                                       << QStringLiteral("//run/blight.sock");
    QTest::addRow("unix-colon-in-path") << QStringLiteral("unix:/tmp/a:b") << QStringLiteral("/tmp/a:b");
    QTest::addRow("unix-url-form-colon") << QStringLiteral("unix:///tmp/a:b") << QStringLiteral("/tmp/a:b");
    QTest::addRow("unix-query-like") << QStringLiteral("unix:///run/blight.sock?")
                                     << QStringLiteral("/run/blight.sock?");
}

void tst_Endpoint::roundTrip()
{
    QFETCH(QString, text);
    QFETCH(QString, path);
    const Endpoint endpoint = Endpoint::parse(text);
    QVERIFY(endpoint.isValid());
    QCOMPARE(endpoint.path(), path);
    const Endpoint again = Endpoint::parse(endpoint.toString());
    QVERIFY2(again == endpoint,
             qPrintable(QStringLiteral("'%1' -> path '%2' -> '%3' -> path '%4'")
                            .arg(text, endpoint.path(), endpoint.toString(), again.path())));
}

void tst_Endpoint::fromDescriptor()
{
    const Endpoint endpoint = Endpoint::fromDescriptor(7);
    QVERIFY(endpoint.isValid());
    QCOMPARE(endpoint.scheme(), Endpoint::Scheme::Fd);
    QCOMPARE(endpoint.descriptor(), 7);
    QCOMPARE(endpoint.toString(), QStringLiteral("fd:7"));
    QCOMPARE(Endpoint::parse(endpoint.toString()), endpoint);
    QVERIFY(Endpoint::fromDescriptor(7) != Endpoint::fromDescriptor(8));
}

void tst_Endpoint::defaultIsInvalid()
{
    const Endpoint endpoint;
    QVERIFY(!endpoint.isValid());
    QCOMPARE(endpoint.scheme(), Endpoint::Scheme::Invalid);
    QVERIFY(endpoint.schemeName().isEmpty());
    QVERIFY(endpoint.toString().isEmpty());
    QCOMPARE(endpoint.descriptor(), -1);
}

QTEST_GUILESS_MAIN(tst_Endpoint)
#include "tst_endpoint.moc"
