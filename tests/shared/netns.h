// SPDX-License-Identifier: MIT
// Private network namespaces for tests: the one place on a single machine
// where UDP through a veth pair is sent without a copy.
#pragma once

#include <QtCore/QFile>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtCore/QString>

#include <sched.h>

namespace TestUtil {

inline bool runIp(const QStringList &arguments, QString *why)
{
    const QString ip = QStandardPaths::findExecutable(QStringLiteral("ip"),
                                                      {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"),
                                                       QStringLiteral("/usr/bin")});
    if (ip.isEmpty()) {
        *why = QStringLiteral("the ip command (iproute2) is not installed");
        return false;
    }
    QProcess process;
    process.start(ip, arguments);
    if (!process.waitForFinished(10000) || process.exitCode() != 0) {
        *why = QStringLiteral("ip %1 failed: %2")
                   .arg(arguments.join(u' '), QString::fromLocal8Bit(process.readAllStandardError()).trimmed());
        return false;
    }
    return true;
}

/*!
    Moves this process into a new network namespace with loopback up.
    Needs CAP_SYS_ADMIN (root): \a why says what was missing otherwise.
*/
inline bool enterPrivateNetworkNamespace(QString *why)
{
    if (::unshare(CLONE_NEWNET) != 0) {
        *why = QStringLiteral("cannot create a network namespace (unshare(CLONE_NEWNET): %1); run as root")
                   .arg(QString::fromLocal8Bit(std::strerror(errno)));
        return false;
    }
    return runIp({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("lo"), QStringLiteral("up")}, why);
}

/*!
    A veth pair zc0/zc1 with MTU 65535 inside the current (private)
    namespace: zc0 is 198.18.0.1/24 (the benchmarking range, RFC 2544), and
    198.18.0.2 is a static neighbour on zc1 that nobody listens as, so
    every datagram sent there leaves zc0 and is dropped by the peer end.
*/
inline bool addDroppingVethPeer(QString *why)
{
    return runIp({QStringLiteral("link"), QStringLiteral("add"), QStringLiteral("zc0"), QStringLiteral("mtu"),
                  QStringLiteral("65535"), QStringLiteral("type"), QStringLiteral("veth"), QStringLiteral("peer"),
                  QStringLiteral("name"), QStringLiteral("zc1"), QStringLiteral("mtu"), QStringLiteral("65535")},
                 why)
        && runIp({QStringLiteral("addr"), QStringLiteral("add"), QStringLiteral("198.18.0.1/24"), QStringLiteral("dev"),
                  QStringLiteral("zc0")},
                 why)
        && runIp({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("zc0"), QStringLiteral("up")}, why)
        && runIp({QStringLiteral("link"), QStringLiteral("set"), QStringLiteral("zc1"), QStringLiteral("up")}, why)
        && runIp({QStringLiteral("neigh"), QStringLiteral("add"), QStringLiteral("198.18.0.2"),
                  QStringLiteral("lladdr"), QStringLiteral("02:00:00:00:00:02"), QStringLiteral("dev"),
                  QStringLiteral("zc0"), QStringLiteral("nud"), QStringLiteral("permanent")},
                 why);
}

/*! Sets net.core.optmem_max, which is per network namespace on Linux 6.x. */
inline bool setOptmemMax(int bytes, QString *why)
{
    QFile file(QStringLiteral("/proc/sys/net/core/optmem_max"));
    if (!file.open(QIODevice::WriteOnly) || file.write(QByteArray::number(bytes)) < 0) {
        *why = QStringLiteral("cannot write /proc/sys/net/core/optmem_max: %1").arg(file.errorString());
        return false;
    }
    return true;
}

inline int optmemMax()
{
    QFile file(QStringLiteral("/proc/sys/net/core/optmem_max"));
    if (!file.open(QIODevice::ReadOnly))
        return -1;
    return file.readAll().trimmed().toInt();
}

/*!
    What a test that wants a private network namespace found at its start:
    whether it is in one (and why not), whether the dropping veth pair is up
    (and why not), and optmem_max as it was, to restore it.
*/
struct NetworkSandbox
{
    bool inNamespace = false;
    QString namespaceWhy;
    bool haveVeth = false;
    QString vethWhy;
    int originalOptmem = -1;

    /*! Enters the namespace and makes the veth pair; without the privilege
        the tests that need neither still run on the host's loopback. */
    void setUp()
    {
        inNamespace = enterPrivateNetworkNamespace(&namespaceWhy);
        if (inNamespace) {
            haveVeth = addDroppingVethPeer(&vethWhy);
            originalOptmem = optmemMax();
        } else {
            qInfo("network namespace tests will be skipped: %s", qPrintable(namespaceWhy));
        }
    }
};

} // namespace TestUtil
