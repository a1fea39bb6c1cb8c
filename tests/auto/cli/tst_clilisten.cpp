// SPDX-License-Identifier: MIT
// blight-transport listen on unix:/path: the socket file goes on every normal
// end (peer hang-up, SIGINT, SIGTERM); a regular file is refused and kept; a
// stale socket is replaced; a live one is refused as "in use", undisturbed.
#include "clitest.h"

#include <QtCore/QFile>
#include <QtCore/QFileInfo>
#include <QtCore/QTemporaryDir>
#include <QtTest/QtTest>

#include <csignal>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

using namespace CliTest;

namespace {

sockaddr_un unixAddress(const QString &path)
{
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    const QByteArray name = QFile::encodeName(path);
    std::memcpy(address.sun_path, name.constData(), size_t(qMin<qsizetype>(name.size(), sizeof(address.sun_path) - 1)));
    return address;
}

// A socket bound to \a path; listening when \a listening. -1 on failure.
int boundSocket(const QString &path, bool listening)
{
    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const sockaddr_un address = unixAddress(path);
    if (fd < 0 || ::bind(fd, reinterpret_cast<const sockaddr *>(&address), sizeof(address)) != 0
        || (listening && ::listen(fd, 4) != 0)) {
        if (fd >= 0)
            ::close(fd);
        return -1;
    }
    return fd;
}

} // namespace

class tst_CliListen : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void socketFileRemoved_data();
    void socketFileRemoved();
    void regularFileRefused();
    void staleSocketReplaced();
    void liveSocketRefused();

private:
    QString freshPath(const char *name);
    QTemporaryDir m_dir;
};

void tst_CliListen::initTestCase()
{
    QVERIFY2(m_dir.isValid(), qPrintable(m_dir.errorString()));
}

QString tst_CliListen::freshPath(const char *name)
{
    return m_dir.filePath(QString::fromLatin1(name) + QStringLiteral(".sock"));
}

void tst_CliListen::socketFileRemoved_data()
{
    QTest::addColumn<int>("signalNumber"); // 0: the peer hangs up
    QTest::addRow("peer-hangs-up") << 0;
    QTest::addRow("sigint") << int(SIGINT);
    QTest::addRow("sigterm") << int(SIGTERM);
}

void tst_CliListen::socketFileRemoved()
{
    QFETCH(int, signalNumber);
    const QString path = freshPath(QTest::currentDataTag());
    QProcess listener;
    dieWithTest(listener);
    listener.start(tool(), {QStringLiteral("listen"), QStringLiteral("unix:") + path});
    QVERIFY(listener.waitForStarted());
    QString err;
    QVERIFY2(waitForStderr(listener, QStringLiteral("listening on"), &err), qPrintable(err));
    QVERIFY(QFileInfo(path).exists());
    if (signalNumber == 0) {
        const int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        const sockaddr_un address = unixAddress(path);
        QCOMPARE(::connect(client, reinterpret_cast<const sockaddr *>(&address), sizeof(address)), 0);
        QVERIFY2(waitForStderr(listener, QStringLiteral("connection from"), &err), qPrintable(err));
        ::close(client);
    } else {
        QCOMPARE(::kill(pid_t(listener.processId()), signalNumber), 0);
    }
    QVERIFY(listener.waitForFinished(10000));
    err += QString::fromLocal8Bit(listener.readAllStandardError());
    QCOMPARE(listener.exitStatus(), QProcess::NormalExit); // handled, not killed by the signal
    QCOMPARE(listener.exitCode(), 0);
    QVERIFY2(!QFileInfo::exists(path), qPrintable(err));
    if (signalNumber != 0)
        QVERIFY2(err.contains(signalNumber == SIGINT ? u"stopping on SIGINT" : u"stopping on SIGTERM"),
                 qPrintable(err));
}

void tst_CliListen::regularFileRefused()
{
    const QString path = freshPath("regular");
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("precious");
    file.close();
    const Result result = run({QStringLiteral("listen"), QStringLiteral("unix:") + path});
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 1);
    QVERIFY2(result.err.contains("is a regular file, not a socket"), result.err.constData());
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), QByteArray("precious"));
}

void tst_CliListen::staleSocketReplaced()
{
    const QString path = freshPath("stale");
    // Bound and closed without unlink: what a listener that crashed leaves.
    const int fd = boundSocket(path, true);
    QVERIFY(fd >= 0);
    ::close(fd);
    QVERIFY(QFileInfo(path).exists());
    QProcess listener;
    dieWithTest(listener);
    listener.start(tool(), {QStringLiteral("listen"), QStringLiteral("unix:") + path});
    QVERIFY(listener.waitForStarted());
    QString err;
    QVERIFY2(waitForStderr(listener, QStringLiteral("listening on"), &err), qPrintable(err));
    QVERIFY2(err.contains(u"replaced the stale socket"), qPrintable(err));
    // The new listener really listens there.
    const int client = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_un address = unixAddress(path);
    QCOMPARE(::connect(client, reinterpret_cast<const sockaddr *>(&address), sizeof(address)), 0);
    ::close(client);
    QVERIFY(listener.waitForFinished(10000));
    QCOMPARE(listener.exitCode(), 0);
    QVERIFY(!QFileInfo::exists(path));
}

void tst_CliListen::liveSocketRefused()
{
    const QString path = freshPath("live");
    const int fd = boundSocket(path, true);
    QVERIFY(fd >= 0);
    const Result result = run({QStringLiteral("listen"), QStringLiteral("unix:") + path});
    QVERIFY(result.finished);
    QCOMPARE(result.exitCode, 1);
    QVERIFY2(result.err.contains("in use"), result.err.constData());
    QVERIFY(QFileInfo(path).exists());
    // Asked without connecting: the live listener has no connection to accept.
    QCOMPARE(::accept(fd, nullptr, nullptr), -1);
    QCOMPARE(errno, EAGAIN);
    ::close(fd);
    ::unlink(QFile::encodeName(path).constData());
}

QTEST_GUILESS_MAIN(tst_CliListen)
#include "tst_clilisten.moc"
