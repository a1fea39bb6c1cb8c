// SPDX-License-Identifier: MIT
// tst_deletion: the scenario helpers, the deleting slot, the data-driven test and the check that every Q_EMIT has a
// row.
#include "tst_deletion.h"

#include <BlightTransport/blightserver.h>
#include <BlightTransport/blightsocket.h>

#include <testutil.h>

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QPointer>
#include <QtCore/QRegularExpression>
#include <QtCore/QSet>
#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <arpa/inet.h>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;
using namespace DeletionRows;

// ---------------------------------------------------------------------------
// Scenario building blocks

bool tst_Deletion::adoptUnixPair(BlightSocket::Mode mode)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        return false;
    m_socket = new BlightSocket(mode);
    m_peer = std::make_unique<BlightSocket>(mode);
    return m_socket->setSocketDescriptor(fds[0]) && m_peer->setSocketDescriptor(fds[1]);
}

bool tst_Deletion::adoptRawPeer(BlightSocket::Mode mode)
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return false;
    m_rawFd = fds[1];
    m_fds.append(fds[1]);
    m_socket = new BlightSocket(mode);
    return m_socket->setSocketDescriptor(fds[0]);
}

bool tst_Deletion::takeTcpPair()
{
    TestUtil::Pair pair = TestUtil::makePair(QStringLiteral("tcp4"));
    if (!pair.ok)
        return false;
    m_socket = pair.a.release(); // plain new, owned by nobody
    m_peer = std::move(pair.b);
    m_server = std::move(pair.server);
    return true;
}

static int boundUdp(quint16 *port)
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return -1;
    *port = ntohs(address.sin_port);
    return fd;
}

static bool connectUdp(int fd, quint16 port)
{
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    return ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0;
}

bool tst_Deletion::adoptUdpPair(BlightSocket::Mode mode, quint16 peerPort)
{
    // A connected UDP socket for the BlightSocket and a raw one for the peer;
    // with peerPort set, the socket talks to that port instead (nobody there).
    quint16 ownPort = 0;
    quint16 rawPort = 0;
    const int own = boundUdp(&ownPort);
    m_rawFd = boundUdp(&rawPort);
    if (own < 0 || m_rawFd < 0)
        return false;
    m_fds.append(m_rawFd);
    if (!connectUdp(own, peerPort ? peerPort : rawPort) || !connectUdp(m_rawFd, ownPort))
        return false;
    m_socket = new BlightSocket(mode);
    return m_socket->setSocketDescriptor(own);
}

bool tst_Deletion::listenUdp(BlightSocket::Mode mode)
{
    m_server = std::make_unique<BlightServer>(mode);
    if (!m_server->listen(QStringLiteral("udp://127.0.0.1:0")))
        return false;
    // The server's one socket, waiting for its first datagram; the server
    // keeps only a QPointer once it is reparented.
    m_socket = m_server->findChild<BlightSocket *>();
    if (!m_socket)
        return false;
    m_socket->setParent(nullptr);
    const quint16 port = quint16(m_server->endpoint().section(u':', -1).toUInt());
    quint16 rawPort = 0;
    m_rawFd = boundUdp(&rawPort);
    if (m_rawFd < 0)
        return false;
    m_fds.append(m_rawFd);
    return connectUdp(m_rawFd, port);
}

int tst_Deletion::unusedPort(int type)
{
    // Bound but not listening (TCP: connect is refused) or closed (UDP: ICMP
    // port unreachable), on loopback.
    const int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return 0;
    if (type == SOCK_STREAM)
        m_fds.append(fd); // kept bound so that nobody else takes the port
    else
        ::close(fd);
    return ntohs(address.sin_port);
}

bool tst_Deletion::writeToPeer(const QByteArray &bytes)
{
    return ::write(m_rawFd, bytes.constData(), size_t(bytes.size())) == bytes.size();
}

bool tst_Deletion::fillQueueBehindSlowReader(int messages)
{
    // The peer reads nothing: the kernel buffer fills and the rest queues.
    m_peer->setReadingPaused(true);
    const QByteArray payload = TestUtil::pattern(256 * 1024, 3);
    for (int i = 0; i < messages; ++i) {
        if (!m_socket->sendMessage(MessageType::Focus, quint32(i), payload))
            return false;
    }
    return m_socket->queuedBytes() > 0;
}

void tst_Deletion::arm()
{
    QVERIFY(m_socket);
    m_watch = m_socket;
    // The engine is the socket's one plain-QObject child (replies are BlightReplies).
    for (QObject *child : m_socket->children()) {
        if (child->metaObject() == &QObject::staticMetaObject)
            m_engine = child;
    }
    QVERIFY2(m_engine, "the socket's engine was not found among its children");
    const QMetaMethod slot = metaObject()->method(metaObject()->indexOfSlot("deleteSocket()"));
    // By QMetaMethod: one slot serves every signal of the table.
    QVERIFY(connect(m_socket, m_signal, this, slot));
}

void tst_Deletion::call(const std::function<void()> &action)
{
    m_inCall = true;
    action();
    m_inCall = false;
}

void tst_Deletion::deleteSocket()
{
    if (m_fired || !m_socket || sender() != m_socket)
        return;
    if ((m_when == When::InCall && !m_inCall) || (m_when == When::FromLoop && m_inCall))
        return;
    if (m_onlyInState >= 0 && int(m_socket->state()) != m_onlyInState)
        return;
    if (m_ready && !m_ready(m_socket))
        return;
    m_fired = true;
    m_firedInCall = m_inCall;
    delete std::exchange(m_socket, nullptr);
}

// ---------------------------------------------------------------------------
// The test functions (the scenarios, run(), are in deletionscenarios.cpp).

void tst_Deletion::init()
{
    // Nothing the library says after the deletion may be a warning.
    QTest::failOnWarning(QRegularExpression(QStringLiteral(".")));
}

void tst_Deletion::cleanup()
{
    delete std::exchange(m_socket, nullptr); // only when a row failed before its deletion
    m_peer.reset();
    m_server.reset();
    for (int fd : std::as_const(m_fds))
        ::close(fd);
    m_fds.clear();
    m_rawFd = -1;
    m_skip.clear();
    m_watch = nullptr;
    m_engine = nullptr;
    m_inCall = false;
    m_fired = false;
    m_firedInCall = false;
    m_deletedInNestedLoop = false;
}

void tst_Deletion::deleteFromSignal_data()
{
    QTest::addColumn<int>("row"); // into rows(): scenario, signal and conditions
    QTest::addColumn<QString>("site");
    for (qsizetype i = 0; i < rows().size(); ++i)
        QTest::newRow(rows().at(i).tag) << int(i) << QString::fromLatin1(rows().at(i).site);
}

void tst_Deletion::deleteFromSignal()
{
    QFETCH(int, row);
    QFETCH(QString, site);
    const Row &entry = rows().at(row);
    m_signal = entry.signal;
    QVERIFY(m_signal.isValid());
    // The row deletes from the signal its site emits (the property helper
    // emits whichever notify signal its setter passes).
    const QString siteSignal = site.section(u':', 2);
    if (siteSignal != u"notify")
        QCOMPARE(QString::fromLatin1(m_signal.name()), siteSignal);
    m_when = entry.when;
    m_onlyInState = entry.onlyInState;
    m_ready = entry.ready;

    run(entry.scenario);
    if (QTest::currentTestFailed())
        return;
    if (!m_skip.isEmpty())
        QSKIP(qPrintable(m_skip));
    QTRY_VERIFY2_WITH_TIMEOUT(m_fired, "the signal never came from this scenario", 5000);
    QVERIFY(m_watch.isNull());
    if (m_when != When::Any)
        QCOMPARE(m_firedInCall, m_when == When::InCall);
    // Let whatever the engine still had posted or armed run: it must only
    // unwind (ASan reports any touch of the freed object).
    QTest::qWait(50);
    // The engine goes too, at once or as the heir once the kernel released
    // its zero-copy buffers.
    QTRY_VERIFY_WITH_TIMEOUT(m_engine.isNull(), 5000);
    // A stream peer sees the hang-up: the descriptor was closed.
    if (m_peer && m_peer->kind() != BlightSocket::SocketKind::Udp4) {
        m_peer->setReadingPaused(false); // a slow reader has to read to the end first
        QTRY_COMPARE(m_peer->state(), BlightSocket::State::Unconnected);
    }
}

namespace {

/*! Every Q_EMIT in the socket's sources under \a dir, named <file>:<function>:<signal>
    after the nearest preceding definition of a BlightSocket(Private) member.
    \a problem says what could not be read or named. */
QSet<QString> emitSites(const QString &dir, QString *problem)
{
    const QStringList files = QDir(dir).entryList({QStringLiteral("socket*.cpp"), QStringLiteral("blightsocket*.cpp"),
                                                   QStringLiteral("blightsocket_p.h")},
                                                  QDir::Files, QDir::Name);
    if (!files.contains(QStringLiteral("blightsocket.cpp")))
        *problem = QStringLiteral("no blightsocket.cpp in ") + dir;
    static const QRegularExpression definition(
        QStringLiteral(R"(^[A-Za-z].*\b(?:BlightSocketPrivate|BlightSocket)::(~?\w+)\()"));
    static const QRegularExpression emitted(QStringLiteral(R"(\bQ_EMIT\s*\(?\s*q_ptr->\*?(\w+))"));
    QSet<QString> sites;
    for (const QString &name : files) {
        QFile file(QDir(dir).filePath(name));
        if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
            *problem = QStringLiteral("cannot read ") + file.fileName();
            continue;
        }
        QString function;
        int lineNumber = 0;
        while (!file.atEnd()) {
            const QString line = QString::fromUtf8(file.readLine());
            ++lineNumber;
            if (const auto match = definition.match(line); match.hasMatch() && !line.trimmed().endsWith(u';'))
                function = match.captured(1);
            if (!line.contains(u"Q_EMIT"))
                continue;
            const auto match = emitted.match(line);
            if (!match.hasMatch() || function.isEmpty()) {
                *problem = QStringLiteral("%1:%2: a Q_EMIT this check cannot name").arg(name).arg(lineNumber);
                continue;
            }
            sites.insert(QStringLiteral("%1:%2:%3").arg(name, function, match.captured(1)));
        }
    }
    return sites;
}

QSet<QString> tableSites()
{
    QSet<QString> sites;
    for (const Row &row : rows())
        sites.insert(QString::fromLatin1(row.site));
    return sites;
}

QStringList sorted(const QSet<QString> &set)
{
    QStringList list = set.values();
    list.sort();
    return list;
}

} // namespace

void tst_Deletion::everyEmitSiteHasARow()
{
    QString problem;
    const QSet<QString> inSources = emitSites(QStringLiteral(BLIGHT_SOURCE_DIR), &problem);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QVERIFY(!inSources.isEmpty());
    const QSet<QString> inTable = tableSites();
    const QStringList missing = sorted(inSources - inTable);
    const QStringList stale = sorted(inTable - inSources);
    for (const QString &site : missing)
        qInfo("emission site without a row: %s", qPrintable(site));
    for (const QString &site : stale)
        qInfo("row for a site that is not in the sources: %s", qPrintable(site));
    QVERIFY2(missing.isEmpty(), qPrintable(QStringLiteral("sites without a row: ") + missing.join(u", ")));
    QVERIFY2(stale.isEmpty(), qPrintable(QStringLiteral("rows for unknown sites: ") + stale.join(u", ")));
}

void tst_Deletion::siteCheckSeesANewEmit()
{
    // The check above must notice a new Q_EMIT: copy the sources, add one in
    // a new member, and it must come out as a site the table lacks.
    QTemporaryDir copy;
    QVERIFY(copy.isValid());
    const QDir sources(QStringLiteral(BLIGHT_SOURCE_DIR));
    for (const QString &name : sources.entryList(QDir::Files))
        QVERIFY(QFile::copy(sources.filePath(name), copy.filePath(name)));
    QFile send(copy.filePath(QStringLiteral("socketsend.cpp")));
    QVERIFY(send.open(QIODevice::Append | QIODevice::Text));
    send.write(
        "\nvoid BlightSocketPrivate::addedLater()\n{\n    if (q_ptr)\n        Q_EMIT q_ptr->sendQueueEmpty();\n}\n");
    send.close();
    QString problem;
    const QSet<QString> inCopy = emitSites(copy.path(), &problem);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    QCOMPARE(sorted(inCopy - tableSites()), QStringList{QStringLiteral("socketsend.cpp:addedLater:sendQueueEmpty")});
}

QTEST_GUILESS_MAIN(tst_Deletion)
