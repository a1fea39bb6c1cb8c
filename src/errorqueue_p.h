// Reading a socket's error queue: zero-copy completion ranges and other
// queued errors (ICMP for UDP). The parser does no I/O; drain() does.
#pragma once

#include <QtCore/QtGlobal>

#include <QtCore/QString>
#include <QtCore/QVarLengthArray>

#include <functional>

struct msghdr;

namespace Blight {

struct ErrorQueueEvent
{
    enum class Kind { ZeroCopyRange, SocketError };
    Kind kind = Kind::SocketError;
    // ZeroCopyRange
    quint32 lo = 0;
    quint32 hi = 0;
    bool copied = false;
    // SocketError (ICMP and the like)
    int errorNumber = 0;
    quint8 origin = 0;
    quint8 type = 0;
    quint8 code = 0;
    QString offender; //!< address that reported the error, when known

    QString describe() const;
};

namespace ErrorQueue {

using Events = QVarLengthArray<ErrorQueueEvent, 4>;

/*! Parses the control messages of one recvmsg(MSG_ERRQUEUE) result.
    Control messages of other levels or types are skipped. */
Events parse(const msghdr &message);

/*! Builds the control message the kernel would queue, for tests: the
    IPv4 (\a ipv6 false) or IPv6 form. Returns the bytes written to \a buffer. */
qsizetype buildControlMessage(char *buffer, qsizetype capacity, bool ipv6,
                                                     const ErrorQueueEvent &event);

struct DrainResult
{
    int calls = 0;       //!< recvmsg calls made, the last one saw EAGAIN
    int errorNumber = 0; //!< errno of a failure other than EAGAIN, else 0
};

/*! Reads the error queue of \a fd with MSG_DONTWAIT until it is empty,
    handing every event to \a sink. */
DrainResult drain(int fd, const std::function<void(const ErrorQueueEvent &)> &sink);

} // namespace ErrorQueue
} // namespace Blight
