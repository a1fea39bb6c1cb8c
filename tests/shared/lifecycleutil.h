// SPDX-License-Identifier: MIT
// Helpers for the lifecycle and datagram tests: raw stream parsing, plain descriptors, CPU time, qdiscs.
#pragma once

#include <BlightTransport/blightsocket.h>
#include <BlightTransport/protocol.h>

#include <QtCore/QList>
#include <QtCore/QMetaMethod>
#include <QtCore/QProcess>
#include <QtCore/QStandardPaths>
#include <QtCore/QString>
#include <QtTest/QSignalSpy>

#include <arpa/inet.h>
#include <cerrno>
#include <ctime>
#include <memory>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace TestUtil {

/*! One message found in a byte stream, with where its header starts. */
struct StreamMessage
{
    qint32 type = 0;
    quint32 ackid = 0;
    quint32 size = 0;
    qint64 offset = 0;
};

/*! Splits \a bytes (a stream from its first byte) into whole messages; a
    trailing partial message is left out. Returns the bytes those messages take. */
inline qint64 parseStream(const QByteArray &bytes, QList<StreamMessage> *out)
{
    qint64 at = 0;
    while (bytes.size() - at >= Blight::HeaderSize) {
        const Blight::Header header = Blight::readHeader(bytes.constData() + at);
        if (bytes.size() - at - Blight::HeaderSize < qint64(header.size))
            break;
        out->append(StreamMessage{header.type, header.ackid, header.size, at});
        at += Blight::HeaderSize + qint64(header.size);
    }
    return at;
}

/*! Reads what \a fd holds without blocking; \a eof tells whether the peer's end was seen. */
inline QByteArray readAvailable(int fd, bool *eof)
{
    QByteArray all;
    char chunk[64 * 1024];
    *eof = false;
    for (;;) {
        const ssize_t got = ::recv(fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (got > 0) {
            all.append(chunk, got);
            continue;
        }
        if (got == 0)
            *eof = true;
        else if (errno == EINTR)
            continue;
        return all;
    }
}

/*! A UDP port on 127.0.0.1 that was free a moment ago and has no socket now. */
inline quint16 closedUdpPort()
{
    const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0
        || ::getsockname(fd, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        if (fd >= 0)
            ::close(fd);
        return 0;
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

/*! A non-blocking TCP socket connected to 127.0.0.1:\a port (loopback connects at once). */
inline int connectedTcpDescriptor(quint16 port)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
        if (fd >= 0)
            ::close(fd);
        return -1;
    }
    const int one = 1;
    ::ioctl(fd, FIONBIO, &one);
    return fd;
}

/*! The port of an endpoint such as tcp://127.0.0.1:4242. */
inline quint16 portOf(const QString &endpoint)
{
    return quint16(endpoint.section(u':', -1).toUInt());
}

/*! CPU time this thread has used, in nanoseconds. */
inline qint64 threadCpuNs()
{
    timespec now{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return qint64(now.tv_sec) * 1000000000 + now.tv_nsec;
}

/*! One spy per signal that \a object's class declares (not QObject's own). */
class SignalCounter
{
public:
    explicit SignalCounter(const QObject *object)
    {
        const QMetaObject *meta = object->metaObject();
        for (int i = meta->methodOffset(); i < meta->methodCount(); ++i) {
            const QMetaMethod method = meta->method(i);
            if (method.methodType() != QMetaMethod::Signal)
                continue;
            m_names.append(QString::fromLatin1(method.methodSignature()));
            m_spies.push_back(std::make_unique<QSignalSpy>(object, method));
        }
    }
    int signalCount() const { return int(m_spies.size()); }
    int total() const
    {
        int sum = 0;
        for (const auto &spy : m_spies)
            sum += int(spy->size());
        return sum;
    }
    /*! The signals that fired, for a failure message. */
    QString fired() const
    {
        QStringList names;
        for (size_t i = 0; i < m_spies.size(); ++i) {
            if (!m_spies[i]->isEmpty())
                names.append(QStringLiteral("%1 x%2").arg(m_names.at(qsizetype(i))).arg(m_spies[i]->size()));
        }
        return names.join(QStringLiteral(", "));
    }

private:
    QStringList m_names;
    std::vector<std::unique_ptr<QSignalSpy>> m_spies;
};

/*! Runs tc (iproute2) with \a arguments; \a why says what failed. */
inline bool runTc(const QStringList &arguments, QString *why)
{
    const QString tc = QStandardPaths::findExecutable(QStringLiteral("tc"),
                                                      {QStringLiteral("/usr/sbin"), QStringLiteral("/sbin"),
                                                       QStringLiteral("/usr/bin")});
    if (tc.isEmpty()) {
        *why = QStringLiteral("the tc command (iproute2) is not installed");
        return false;
    }
    QProcess process;
    process.start(tc, arguments);
    if (!process.waitForFinished(10000) || process.exitCode() != 0) {
        *why = QStringLiteral("tc %1 failed: %2")
                   .arg(arguments.join(u' '), QString::fromLocal8Bit(process.readAllStandardError()).trimmed());
        return false;
    }
    return true;
}

/*! A root qdisc on \a device for the life of this object (tc qdisc add dev
    DEVICE root SPEC...; removed again on destruction). */
class ScopedQdisc
{
public:
    ScopedQdisc(const QString &device, const QStringList &spec)
        : m_device(device)
    {
        m_added = runTc(QStringList{QStringLiteral("qdisc"), QStringLiteral("add"), QStringLiteral("dev"), device,
                                    QStringLiteral("root")}
                            + spec,
                        &m_why);
    }
    ~ScopedQdisc()
    {
        QString ignored;
        if (m_added)
            runTc({QStringLiteral("qdisc"), QStringLiteral("del"), QStringLiteral("dev"), m_device,
                   QStringLiteral("root")},
                  &ignored);
    }
    Q_DISABLE_COPY_MOVE(ScopedQdisc)
    bool isAdded() const { return m_added; }
    QString errorString() const { return m_why; }

private:
    QString m_device;
    QString m_why;
    bool m_added = false;
};

} // namespace TestUtil
