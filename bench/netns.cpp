// The veth namespaces for tiles-udp-veth and release-latency/veth.
#include "netns.h"

#include "workload.h"

#include <QtCore/QJsonArray>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

using namespace Qt::StringLiterals;

namespace Bench {

namespace {

// The benchmarking range (RFC 2544, DESIGN.md §9), never a private range.
constexpr const char *SenderAddress = "198.18.0.1";
constexpr const char *PeerAddress = "198.18.0.2";
constexpr quint16 PeerPort = 9; // discard; nothing listens in the peer namespace anyway
const QString SenderMac = u"02:62:6c:00:00:01"_s;
const QString PeerMac = u"02:62:6c:00:00:02"_s;

} // namespace

VethNamespaces::VethNamespaces()
{
    const QString pid = QString::number(::getpid());
    m_senderNs = u"blight-bench-%1-tx"_s.arg(pid);
    m_peerNs = u"blight-bench-%1-rx"_s.arg(pid);
    // Interface names are at most 15 characters.
    m_senderDev = u"bbt%1a"_s.arg(pid);
    m_peerDev = u"bbt%1b"_s.arg(pid);
}

VethNamespaces::~VethNamespaces()
{
    tearDown();
}

QString VethNamespaces::runIp(const QStringList &arguments, QByteArray *output)
{
    QProcess process;
    process.start(u"ip"_s, arguments);
    if (!process.waitForFinished(10000)) {
        process.kill();
        process.waitForFinished(1000);
        return u"`ip %1` did not finish"_s.arg(arguments.join(u' '));
    }
    if (process.exitStatus() != QProcess::NormalExit || process.exitCode() != 0) {
        return u"`ip %1` failed: %2"_s.arg(arguments.join(u' '),
                                          QString::fromLocal8Bit(process.readAllStandardError().trimmed()));
    }
    if (output)
        *output = process.readAllStandardOutput();
    return {};
}

QString VethNamespaces::setUp()
{
    if (m_up)
        return {};
    if (::geteuid() != 0)
        return u"needs root to create network namespaces (running as uid %1)"_s.arg(::geteuid());
    if (QStandardPaths::findExecutable(u"ip"_s).isEmpty())
        return u"iproute2's `ip` is not installed"_s;

    const QList<QStringList> steps = {
        {u"netns"_s, u"add"_s, m_senderNs},
        {u"netns"_s, u"add"_s, m_peerNs},
        {u"-n"_s, m_senderNs, u"link"_s, u"add"_s, u"name"_s, m_senderDev, u"address"_s, SenderMac,
         u"mtu"_s, u"65535"_s, u"type"_s, u"veth"_s, u"peer"_s, u"name"_s, m_peerDev, u"address"_s,
         PeerMac, u"mtu"_s, u"65535"_s, u"netns"_s, m_peerNs},
        {u"-n"_s, m_senderNs, u"addr"_s, u"add"_s, QString::fromLatin1(SenderAddress) + u"/30"_s,
         u"dev"_s, m_senderDev},
        {u"-n"_s, m_senderNs, u"link"_s, u"set"_s, m_senderDev, u"up"_s},
        {u"-n"_s, m_peerNs, u"link"_s, u"set"_s, m_peerDev, u"up"_s},
        // No ARP: the peer has no address to answer with.
        {u"-n"_s, m_senderNs, u"neigh"_s, u"replace"_s, QString::fromLatin1(PeerAddress), u"lladdr"_s,
         PeerMac, u"dev"_s, m_senderDev, u"nud"_s, u"permanent"_s},
    };
    m_up = true; // so that tearDown() removes whatever was created
    for (const QStringList &step : steps) {
        const QString error = runIp(step);
        if (!error.isEmpty()) {
            tearDown();
            return u"network namespace setup failed: "_s + error;
        }
    }
    return {};
}

void VethNamespaces::tearDown()
{
    if (!m_up)
        return;
    m_up = false;
    // Deleting the namespaces destroys the veth pair with them.
    for (const QString &ns : {m_senderNs, m_peerNs}) {
        const QString error = runIp({u"netns"_s, u"del"_s, ns});
        if (!error.isEmpty() && !error.contains(u"No such file"_s))
            std::fprintf(stderr, "warning: %s\n", qPrintable(error));
    }
}

int VethNamespaces::openUdpSocket(QString *error)
{
    if (!m_up) {
        *error = u"the namespaces are not set up"_s;
        return -1;
    }
    const int home = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    const QByteArray path = "/run/netns/" + m_senderNs.toLocal8Bit();
    const int target = ::open(path.constData(), O_RDONLY | O_CLOEXEC);
    if (home < 0 || target < 0) {
        *error = u"open network namespace: "_s + errnoText(errno);
        if (home >= 0)
            ::close(home);
        if (target >= 0)
            ::close(target);
        return -1;
    }
    int fd = -1;
    // A socket belongs to the namespace it was created in, whatever the thread
    // does afterwards: enter, create, and come back at once.
    if (::setns(target, CLONE_NEWNET) != 0) {
        *error = u"setns: "_s + errnoText(errno);
    } else {
        fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            *error = u"socket: "_s + errnoText(errno);
        // Bound to the veth device: if a setup step failed, no datagram can
        // leave through another route.
        const QByteArray device = m_senderDev.toLatin1();
        if (fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device.constData(), socklen_t(device.size())) != 0) {
            *error = u"SO_BINDTODEVICE %1: "_s.arg(m_senderDev) + errnoText(errno);
            ::close(fd);
            fd = -1;
        }
        if (::setns(home, CLONE_NEWNET) != 0) {
            std::fprintf(stderr, "fatal: cannot return to the original network namespace: %s\n",
                         qPrintable(errnoText(errno)));
            std::abort();
        }
    }
    ::close(home);
    ::close(target);
    if (fd < 0)
        return -1;
    sockaddr_in peer{};
    peer.sin_family = AF_INET;
    peer.sin_port = htons(PeerPort);
    ::inet_pton(AF_INET, PeerAddress, &peer.sin_addr);
    if (::connect(fd, reinterpret_cast<sockaddr *>(&peer), sizeof peer) != 0) {
        *error = u"connect UDP socket: "_s + errnoText(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

std::optional<quint64> VethNamespaces::senderTxPackets(QString *error)
{
    QByteArray output;
    const QString failure = runIp({u"-n"_s, m_senderNs, u"-s"_s, u"-j"_s, u"link"_s, u"show"_s, u"dev"_s,
                                   m_senderDev},
                                  &output);
    if (!failure.isEmpty()) {
        *error = failure;
        return std::nullopt;
    }
    const QJsonArray links = QJsonDocument::fromJson(output).array();
    const QJsonValue packets = links.at(0)[u"stats64"_s][u"tx"_s][u"packets"_s];
    if (!packets.isDouble()) {
        *error = u"no tx packet counter in `ip -s -j link` output"_s;
        return std::nullopt;
    }
    return quint64(packets.toDouble());
}

QString VethNamespaces::describe() const
{
    return u"veth %1 (netns %2, %3) -> %4 (netns %5, no address, no listener), MTU 65535"_s.arg(
        m_senderDev, m_senderNs, QString::fromLatin1(SenderAddress), m_peerDev, m_peerNs);
}

} // namespace Bench
