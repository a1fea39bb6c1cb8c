// SPDX-License-Identifier: MIT
// Tests of UringProbe: the real probe on this machine, the sysctl reader on
// files of our own, and each refusal reason with a seccomp filter installed
// in a forked child (never the global sysctl).
#include "seccompchild.h"
#include "uringprobe_p.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <cerrno>
#include <cstring>
#include <cstdio>
#include <sys/utsname.h>
#include <unistd.h>

#include <thread>
#include <vector>

using namespace Blight;
using Disabled = UringProbe::Disabled;

namespace {

QString errnoText(int error)
{
    return QString::fromLocal8Bit(std::strerror(error));
}

struct ChildResult
{
    bool ran = false;
    QString failure; // why the child could not run the probe
    bool available = false;
    QString reason;
};

// The child installs the filter, probes with \a disabledPath and answers
// "<available>\n<reason>".
[[maybe_unused]] ChildResult probeInSeccompChild(int error, const QString &disabledPath)
{
    const TestUtil::ChildOutput child = TestUtil::runInChild([error, disabledPath]() -> QByteArray {
        if (!TestUtil::installIoUringSetupRefusal(error))
            return "!seccomp filter refused: " + QByteArray(std::strerror(errno));
        const UringSupport support = UringProbe::run(disabledPath);
        return QByteArray(support.available ? "1\n" : "0\n") + support.reason.toUtf8();
    });
    ChildResult result;
    result.failure = child.failure;
    const QByteArray &in = child.out;
    if (!child.ran)
        return result;
    if (in.startsWith('!')) {
        result.failure = QString::fromUtf8(in.mid(1));
        return result;
    }
    const qsizetype newline = in.indexOf('\n');
    if (newline != 1) {
        result.failure = QStringLiteral("unexpected answer from the child: %1").arg(QString::fromUtf8(in));
        return result;
    }
    result.ran = true;
    result.available = in.at(0) == '1';
    result.reason = QString::fromUtf8(in.mid(newline + 1));
    return result;
}

// Whether the running kernel is at least major.minor.
[[maybe_unused]] bool kernelAtLeast(int major, int minor)
{
    utsname name{};
    if (::uname(&name) != 0)
        return false;
    int haveMajor = 0;
    int haveMinor = 0;
    if (std::sscanf(name.release, "%d.%d", &haveMajor, &haveMinor) != 2)
        return false;
    return haveMajor > major || (haveMajor == major && haveMinor >= minor);
}

} // namespace

class tst_UringProbe : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void readDisabled_data();
    void readDisabled();
    void realProbe();
    void cachedOncePerProcess();
    void switchedOff();
    void refused_data();
    void refused();

private:
    QString writeSysctl(const QByteArray &contents);
    QTemporaryDir m_dir;
    int m_files = 0;
};

void tst_UringProbe::initTestCase()
{
    QVERIFY(m_dir.isValid());
}

QString tst_UringProbe::writeSysctl(const QByteArray &contents)
{
    const QString path = m_dir.filePath(QStringLiteral("io_uring_disabled-%1").arg(++m_files));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(contents) != contents.size())
        return {};
    return path;
}

void tst_UringProbe::readDisabled_data()
{
    QTest::addColumn<QByteArray>("contents");
    QTest::addColumn<bool>("exists");
    QTest::addColumn<Disabled>("expected");
    QTest::newRow("zero") << QByteArray("0\n") << true << Disabled::Enabled;
    QTest::newRow("one") << QByteArray("1\n") << true << Disabled::GroupOnly;
    QTest::newRow("two") << QByteArray("2\n") << true << Disabled::Off;
    QTest::newRow("two-no-newline") << QByteArray("2") << true << Disabled::Off;
    QTest::newRow("three") << QByteArray("3\n") << true << Disabled::Unknown;
    QTest::newRow("garbage") << QByteArray("off\n") << true << Disabled::Unknown;
    QTest::newRow("empty") << QByteArray() << true << Disabled::Unknown;
    QTest::newRow("missing-file-older-kernel") << QByteArray() << false << Disabled::Enabled;
}

void tst_UringProbe::readDisabled()
{
    QFETCH(QByteArray, contents);
    QFETCH(bool, exists);
    QFETCH(Disabled, expected);
    const QString path = exists ? writeSysctl(contents) : m_dir.filePath(QStringLiteral("absent"));
    QVERIFY(!path.isEmpty());
    QCOMPARE(UringProbe::readDisabled(path), expected);
}

void tst_UringProbe::realProbe()
{
    const UringSupport &support = UringProbe::probe();
    qInfo("this machine: available %d, reportUsage %d: %s", support.available, support.reportUsage,
          qPrintable(support.reason));
#ifndef BLIGHT_HAVE_LIBURING
    QVERIFY(!support.available);
    QCOMPARE(support.reason, QStringLiteral("built without liburing"));
#else
    if (UringProbe::readDisabled(UringProbe::defaultDisabledPath()) == Disabled::Off) {
        QVERIFY(!support.available);
        QCOMPARE(support.reason, QStringLiteral("switched off (kernel.io_uring_disabled = 2)"));
        return;
    }
    if (!support.available)
        QSKIP(qPrintable(QStringLiteral("io_uring unavailable here: %1").arg(support.reason)));
    // SEND_ZC is 6.0+, REPORT_USAGE 6.2+: the probe must agree with the kernel's version.
    QVERIFY(kernelAtLeast(6, 0));
    QCOMPARE(support.reportUsage, kernelAtLeast(6, 2));
    QCOMPARE(support.reason,
             support.reportUsage ? QStringLiteral("SEND_ZC with REPORT_USAGE")
                                 : QStringLiteral("SEND_ZC without REPORT_USAGE (Linux 6.2+): "
                                                  "COPIED cannot be seen"));
#endif
}

void tst_UringProbe::cachedOncePerProcess()
{
    // Concurrent first calls from several threads get the one cached result.
    std::vector<const UringSupport *> seen(4, nullptr);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < seen.size(); ++i)
        threads.emplace_back([&seen, i] { seen[i] = &UringProbe::probe(); });
    for (std::thread &thread : threads)
        thread.join();
    for (const UringSupport *support : seen)
        QCOMPARE(support, &UringProbe::probe());
}

void tst_UringProbe::switchedOff()
{
#ifndef BLIGHT_HAVE_LIBURING
    QSKIP("built without liburing: the sysctl is not read");
#else
    const QString path = writeSysctl("2\n");
    QVERIFY(!path.isEmpty());
    const UringSupport support = UringProbe::run(path);
    QVERIFY(!support.available);
    QVERIFY(!support.reportUsage);
    QCOMPARE(support.reason, QStringLiteral("switched off (kernel.io_uring_disabled = 2)"));
#endif
}

void tst_UringProbe::refused_data()
{
    QTest::addColumn<int>("error");
    QTest::addColumn<QByteArray>("sysctl");
    QTest::addColumn<QString>("expected");
    const QString seccomp = QStringLiteral("refused by the system (seccomp?): %1");
    QTest::newRow("seccomp-eperm") << EPERM << QByteArray("0\n") << seccomp.arg(errnoText(EPERM));
    QTest::newRow("seccomp-enosys") << ENOSYS << QByteArray("0\n") << seccomp.arg(errnoText(ENOSYS));
    QTest::newRow("group-only-eperm")
        << EPERM << QByteArray("1\n")
        << QStringLiteral("not allowed for this user (kernel.io_uring_disabled = 1: only kernel.io_uring_group)");
    QTest::newRow("setup-enomem") << ENOMEM << QByteArray("0\n")
                                  << QStringLiteral("ring setup failed: %1").arg(errnoText(ENOMEM));
}

void tst_UringProbe::refused()
{
#ifndef BLIGHT_HAVE_LIBURING
    QSKIP("built without liburing: no ring is set up");
#else
    QFETCH(int, error);
    QFETCH(QByteArray, sysctl);
    QFETCH(QString, expected);
    if (TestUtil::SeccompArch == 0)
        QSKIP("no seccomp architecture constant for this CPU in the test");
    if (!UringProbe::probe().available)
        QSKIP(qPrintable(QStringLiteral("io_uring unavailable here already: %1").arg(UringProbe::probe().reason)));
    const QString path = writeSysctl(sysctl);
    QVERIFY(!path.isEmpty());
    const ChildResult child = probeInSeccompChild(error, path);
    if (!child.ran && child.failure.startsWith(u"seccomp"))
        QSKIP(qPrintable(child.failure));
    QVERIFY2(child.ran, qPrintable(child.failure));
    QVERIFY(!child.available);
    QCOMPARE(child.reason, expected);
#endif
}

QTEST_GUILESS_MAIN(tst_UringProbe)
#include "tst_uringprobe.moc"
