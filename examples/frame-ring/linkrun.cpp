// SPDX-License-Identifier: MIT
// LinkRun: connecting the two ends of a link, running the ring on it, and collecting its report.
#include "linkrun.h"

#include "framereceiver.h"

#include <QtCore/QMetaEnum>

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

using namespace Blight;

namespace FrameRing {

namespace {

QString enumKey(auto value)
{
    return QString::fromLatin1(QMetaEnum::fromType<decltype(value)>().valueToKey(int(value)));
}

} // namespace

LinkRun::LinkRun(Link link, const FrameProducer::Options &options, QObject *parent)
    : QObject(parent)
    , m_link(link)
    , m_options(options)
{
    m_report.link = link == Link::Unix ? QStringLiteral("unix") : QStringLiteral("tcp");
    m_report.pace = options.pace == FrameProducer::Pace::FlatOut ? QStringLiteral("flat-out") : QStringLiteral("timer");
    m_report.writeWhileOut = options.writeWhileOut;
    // Far more than the frames need at their pace: only a hang ends here.
    m_deadline.setSingleShot(true);
    m_deadline.setInterval(10000 + options.frames * 1000 / qMax(1, options.framesPerSecond) * 2);
    connect(&m_deadline, &QTimer::timeout, this, [this] { finish(QStringLiteral("timed out")); });
}

LinkRun::~LinkRun() = default;

void LinkRun::start()
{
    m_deadline.start();
    m_sender = new BlightSocket(this);
    watch(m_sender);
    if (m_link == Link::Unix)
        startUnix();
    else
        startTcp();
}

void LinkRun::startUnix()
{
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0)
        return finish(QStringLiteral("socketpair: ") + QString::fromLocal8Bit(std::strerror(errno)));
    m_receiving = new BlightSocket(this);
    watch(m_receiving);
    const bool adopted = m_sender->setSocketDescriptor(fds[0]);
    if (!adopted)
        ::close(fds[0]);
    if (!m_receiving->setSocketDescriptor(fds[1]))
        ::close(fds[1]);
    if (!m_sender->isConnected() || !m_receiving->isConnected())
        return finish(QStringLiteral("socket pair: ") + m_sender->errorString() + m_receiving->errorString());
    startStreaming();
}

void LinkRun::startTcp()
{
    m_server = new BlightServer(BlightSocket::Mode::Messages, this);
    if (!m_server->listen(QStringLiteral("tcp://127.0.0.1:0")))
        return finish(QStringLiteral("listen: ") + m_server->errorString());
    connect(m_server, &BlightServer::newConnection, this, &LinkRun::acceptTcp);
    connect(m_sender, &BlightSocket::connected, this, &LinkRun::startStreaming);
    m_sender->connectToEndpoint(m_server->endpoint());
}

void LinkRun::acceptTcp()
{
    if (m_receiving)
        return; // only the first connection is ours
    m_receiving = m_server->nextPendingConnection();
    if (!m_receiving)
        return;
    watch(m_receiving);
    m_server->close();
    startStreaming();
}

void LinkRun::watch(BlightSocket *socket)
{
    connect(socket, &BlightSocket::errorOccurred, this, [this, socket](BlightSocket::Error, const QString &reason) {
        finish((socket == m_sender ? QStringLiteral("sender: ") : QStringLiteral("receiver: ")) + reason);
    });
}

void LinkRun::startStreaming()
{
    // TCP: both the connect and the accept must have happened, in either order.
    if (m_producer || m_finished || !m_receiving || !m_sender->isConnected())
        return;
    m_receiver = new FrameReceiver(m_receiving, m_options.frames, this);
    connect(m_receiver, &FrameReceiver::allReceived, this, [this] {
        m_receiverDone = true;
        m_lastFrameNs = m_clock.nsecsElapsed();
        checkDone();
    });
    m_producer = new FrameProducer(m_sender, m_options, this);
    if (!m_producer->isValid())
        return finish(QStringLiteral("the buffer pool could not allocate its memory"));
    connect(m_producer, &FrameProducer::finished, this, [this] {
        m_producerDone = true;
        checkDone();
    });
    connect(m_producer, &FrameProducer::failed, this, &LinkRun::finish);
    m_clock.start();
    m_producer->start();
}

void LinkRun::checkDone()
{
    if (m_producerDone && m_receiverDone)
        finish(QString());
}

void LinkRun::finish(const QString &error)
{
    if (m_finished)
        return;
    m_finished = true;
    m_deadline.stop();
    m_report.error = error;
    if (m_receiver) {
        m_report.framesVerified = m_receiver->framesVerified();
        if (m_report.error.isEmpty() && !m_receiver->firstFailure().isEmpty())
            m_report.error = m_receiver->firstFailure();
    }
    if (m_producer) {
        m_report.frames = m_producer->framesSent();
        m_report.misplacedBuffers = m_producer->misplacedBuffers();
        m_report.stalls = m_producer->stalls();
        m_report.sendsReleased = m_producer->sendsReleased();
        m_report.sendsUndelivered = m_producer->sendsUndelivered();
        m_report.writesWhileOut = m_producer->writesWhileOut();
        m_report.releaseLatencyMaxMs = m_producer->releaseLatencyMaxMs();
        m_report.poolWaits = m_producer->pool().waitingAcquires();
        m_report.poolPeakInUse = m_producer->pool().peakInUse();
    }
    const SocketStatistics stats = m_sender ? m_sender->statistics() : SocketStatistics();
    m_report.socketCopies = stats.userSpaceCopies;
    m_report.zeroCopySends = stats.zeroCopySends;
    m_report.copiedCompletions = stats.copiedCompletions;
    if (m_sender)
        m_report.zeroCopyState = enumKey(m_sender->zeroCopyState());
    if (m_receiverDone && m_lastFrameNs > 0)
        m_report.framesPerSecond = double(m_report.framesVerified) * 1e9 / double(m_lastFrameNs);
    // Leave the event loop's current pass before the sockets go.
    QMetaObject::invokeMethod(this, &LinkRun::finished, Qt::QueuedConnection);
}

} // namespace FrameRing
