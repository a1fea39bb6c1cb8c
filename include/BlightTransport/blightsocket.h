// SPDX-License-Identifier: MIT
// BlightSocket: one connected socket speaking blight's wire protocol (or a raw
// byte stream), with a coalescing copy path and a MSG_ZEROCOPY path.
#pragma once

#include <BlightTransport/blightbuffer.h>
#include <BlightTransport/blighttransport_global.h>
#include <BlightTransport/endpoint.h>
#include <BlightTransport/protocol.h>
#include <BlightTransport/sendidrange.h>
#include <BlightTransport/socketstatistics.h>

#include <QtCore/QObject>

namespace Blight {

class BlightReply;
class BlightSocketPrivate;

/*!
    \class Blight::BlightSocket
    \brief Wraps one connected socket and speaks the blight wire protocol on it.

    The object owns (or adopts) the descriptor, reads without blocking and
    emits messageReceived() per complete message, answers pings, matches acks
    and sends without blocking: the first message of an event-loop turn leaves
    inside the call (one sendmsg(), no allocation), later ones in the same
    turn are coalesced into one sendmsg() when control returns to the event
    loop, or as soon as flushThreshold() bytes are queued, or on flush(). A
    socket that sent in the pass just before (less than 200 us ago) and has
    read nothing since is taken to be streaming: then the first message of a
    turn waits with the rest, and the queue leaves when the socket reports
    itself writable, after two more passes have added their messages. A
    message after a read (a reply) or after an idle pause leaves at once. The
    end of a turn is seen through the thread's event
    dispatcher (aboutToBlock()/awake()), so it costs no system call; messages
    queued outside a running event loop leave on flush() or when the
    threshold is reached. On an AF_UNIX stream whose SO_SNDBUF is still the
    system's default (net.core.wmem_default), the socket asks for 1 MiB when
    it adopts the descriptor (the kernel caps it at net.core.wmem_max), so
    that a fast sender does not stall at every refill of a small buffer; a
    size the application set is kept.

    \section zc Zero-copy

    On TCP and UDP sockets, payloads of at least zeroCopyThreshold() bytes go
    out with MSG_ZEROCOPY. The socket then keeps a reference to the caller's
    QByteArray (implicit sharing: no copy) until the kernel reports the pages
    released, and emits buffersReleased(). A caller that modifies its own array
    after send() detaches and does not disturb the bytes in flight; writing
    through a pointer taken from data() \e before the call bypasses that
    protection and can change bytes on the wire. Arrays made with
    QByteArray::fromRawData() do not own their bytes: they are copied once.
    AF_UNIX sockets (blight's own) cannot do zero-copy; they use the copy path,
    and zeroCopyState() says so.

    Sends never block and never drop a message: when the kernel is full the
    message is queued. The queue is bounded by sendQueueLimit(): past it
    send() and sendMessage() refuse the message (return 0, lastSendError()
    is QueueFull) and canSend() turns false until the queue drains to half.

    \section ids Send ids and release

    Every send the socket accepts (sendMessage(), sendMessageCopy(),
    sendPayload(), sendBuffer(), send(), sendRawBuffer(), request()) returns
    its send id: 1, 2, ... for the life of the object, reconnects included;
    a refused send returns 0. Answers to pings are the socket's own and take
    none. sendsReleased() then says, once per event-loop turn at most and as
    ranges, which sends the socket no longer holds the bytes of: on the copy
    path once the kernel took them, on the zero-copy path once the kernel's
    completion arrived (ids are reported when released, also out of order).
    Sends dropped by abort(), an error or a close() past lingerTime() are
    reported with \c delivered false. A destroyed socket emits nothing; its
    buffers still go back to their pools, and release functions of
    BlightBuffer::fromForeign() are still called, when the kernel lets go.
    buffersReleased() is a different thing: the kernel's own MSG_ZEROCOPY
    counter ranges, one per sendmsg() call (on io_uring, the socket's own
    numbering: see \ref uring).

    To reuse frame buffers without copying, send them from a
    BlightBufferPool with sendBuffer(): a buffer returns to its pool by
    itself once its send is released and the caller dropped its handle.

    \section uring io_uring SEND_ZC

    With zeroCopyBackend() IoUring (or Auto, where the benchmark measured
    io_uring cheaper for the kind of socket: UDP) eligible payloads go as
    io_uring SEND_ZC requests on a
    ring of the socket's own, several per io_uring_enter(); completions come
    into the event loop through an eventfd and a QSocketNotifier. The first
    non-shared BlightBufferPool region a socket sends from is registered
    with the ring once, within RLIMIT_MEMLOCK, and its buffers go as fixed
    sends that pin nothing per send; other memory goes as plain SEND_ZC,
    which pins per send as MSG_ZEROCOPY does. Everything else holds as on
    MSG_ZEROCOPY: send ids, the pinned budget, back-pressure (a full ring or
    -ENOBUFS keeps the message queued), the COPIED back-off, close and
    destruction with sends in flight (the ring outlives them), thread moves
    (the ring moves with the socket). buffersReleased(lo, hi) then carries
    the socket's own count of SEND_ZC requests on the connection, one id per
    request, lo == hi. A TCP socket keeps one SEND_ZC in flight at a time
    (with MSG_WAITALL), so the stream stays in order; UDP keeps up to
    pendingBuffersLimit(). Where io_uring is missing, disabled or refused,
    the socket uses MSG_ZEROCOPY and zeroCopyReason() says why.
    docs/io-uring.md has the details.

    \section shm Shared memory on AF_UNIX

    With sharedMemoryEnabled() on both sockets of an AF_UNIX stream
    connection in messages mode, buffers of a
    BlightBufferPool::Backing::SharedMemory pool travel as a small message
    naming a part of a sealed memfd the peer maps read-only once: no copy
    at all. The receiver gets each frame from bufferReceived() as a
    read-only BlightBuffer, or a copy in messageReceived() when nothing is
    connected to bufferReceived(); the sender's send id is released when
    the receiver let go of the frame. Off by default; towards a peer that
    did not offer it (Oxide's own code), nothing changes on the wire.
    docs/shared-memory.md has the protocol and the receiver's checks.
*/
class BLIGHTTRANSPORT_EXPORT BlightSocket : public QObject
{
    Q_OBJECT
    Q_PROPERTY(QString endpoint READ endpoint NOTIFY endpointChanged)
    Q_PROPERTY(SocketKind kind READ kind NOTIFY endpointChanged)
    Q_PROPERTY(Mode mode READ mode CONSTANT)
    Q_PROPERTY(State state READ state NOTIFY stateChanged)
    Q_PROPERTY(QString errorString READ errorString NOTIFY errorOccurred)

    Q_PROPERTY(ZeroCopyMode zeroCopyMode READ zeroCopyMode WRITE setZeroCopyMode NOTIFY zeroCopyModeChanged)
    Q_PROPERTY(bool zeroCopySupported READ isZeroCopySupported NOTIFY zeroCopyStateChanged)
    Q_PROPERTY(bool zeroCopyActive READ isZeroCopyActive NOTIFY zeroCopyStateChanged)
    Q_PROPERTY(ZeroCopyState zeroCopyState READ zeroCopyState NOTIFY zeroCopyStateChanged)
    Q_PROPERTY(QString zeroCopyReason READ zeroCopyReason NOTIFY zeroCopyStateChanged)
    Q_PROPERTY(
        ZeroCopyBackend zeroCopyBackend READ zeroCopyBackend WRITE setZeroCopyBackend NOTIFY zeroCopyBackendChanged)
    Q_PROPERTY(ZeroCopyBackend activeZeroCopyBackend READ activeZeroCopyBackend NOTIFY zeroCopyStateChanged)
    Q_PROPERTY(
        qint64 zeroCopyThreshold READ zeroCopyThreshold WRITE setZeroCopyThreshold NOTIFY zeroCopyThresholdChanged)
    Q_PROPERTY(
        qint64 pendingBytesLimit READ pendingBytesLimit WRITE setPendingBytesLimit NOTIFY pendingBytesLimitChanged)
    Q_PROPERTY(
        int pendingBuffersLimit READ pendingBuffersLimit WRITE setPendingBuffersLimit NOTIFY pendingBuffersLimitChanged)
    Q_PROPERTY(
        int copiedBackOffCount READ copiedBackOffCount WRITE setCopiedBackOffCount NOTIFY copiedBackOffCountChanged)
    Q_PROPERTY(int backOffInterval READ backOffInterval WRITE setBackOffInterval NOTIFY backOffIntervalChanged)
    Q_PROPERTY(int lingerTime READ lingerTime WRITE setLingerTime NOTIFY lingerTimeChanged)
    Q_PROPERTY(bool sharedMemoryEnabled READ isSharedMemoryEnabled WRITE setSharedMemoryEnabled NOTIFY
                   sharedMemoryEnabledChanged)
    Q_PROPERTY(bool sharedMemoryActive READ isSharedMemoryActive NOTIFY zeroCopyStateChanged)
    Q_PROPERTY(
        qint64 sharedMemoryLimit READ sharedMemoryLimit WRITE setSharedMemoryLimit NOTIFY sharedMemoryLimitChanged)
    Q_PROPERTY(qint64 mappedBytes READ mappedBytes NOTIFY statisticsChanged)

    Q_PROPERTY(qint64 sendQueueLimit READ sendQueueLimit WRITE setSendQueueLimit NOTIFY sendQueueLimitChanged)
    Q_PROPERTY(qint64 flushThreshold READ flushThreshold WRITE setFlushThreshold NOTIFY flushThresholdChanged)
    Q_PROPERTY(quint32 maxPayloadSize READ maxPayloadSize WRITE setMaxPayloadSize NOTIFY maxPayloadSizeChanged)
    Q_PROPERTY(bool autoAnswerPings READ autoAnswerPings WRITE setAutoAnswerPings NOTIFY autoAnswerPingsChanged)
    Q_PROPERTY(bool readingPaused READ isReadingPaused WRITE setReadingPaused NOTIFY readingPausedChanged)
    Q_PROPERTY(bool canSend READ canSend NOTIFY canSendChanged)

    Q_PROPERTY(Blight::SocketStatistics statistics READ statistics NOTIFY statisticsChanged)
    Q_PROPERTY(quint64 messagesSent READ messagesSent NOTIFY statisticsChanged)
    Q_PROPERTY(quint64 bytesSent READ bytesSent NOTIFY statisticsChanged)
    Q_PROPERTY(quint64 messagesReceived READ messagesReceived NOTIFY statisticsChanged)
    Q_PROPERTY(quint64 bytesReceived READ bytesReceived NOTIFY statisticsChanged)
    Q_PROPERTY(quint64 systemCalls READ systemCalls NOTIFY statisticsChanged)
    Q_PROPERTY(qint64 queuedBytes READ queuedBytes NOTIFY statisticsChanged)
    Q_PROPERTY(qint64 pendingBuffers READ pendingBuffers NOTIFY statisticsChanged)
    Q_PROPERTY(qint64 pendingBytes READ pendingBytes NOTIFY statisticsChanged)
    Q_PROPERTY(quint64 errorCount READ errorCount NOTIFY statisticsChanged)

public:
    /*! A socket carries blight messages or a raw byte stream, never both. */
    enum class Mode { Messages, RawStream };
    Q_ENUM(Mode)
    enum class SocketKind { None, UnixStream, UnixSeqPacket, Tcp4, Tcp6, Udp4, Udp6 };
    Q_ENUM(SocketKind)
    enum class State { Unconnected, Connecting, Connected, Closing };
    Q_ENUM(State)
    enum class ZeroCopyMode { Auto, On, Off };
    Q_ENUM(ZeroCopyMode)
    /*!
        Active: eligible payloads go with MSG_ZEROCOPY. Unsupported: the socket
        cannot (AF_UNIX). Disabled: zeroCopyMode() is Off. BackedOff: the
        kernel reported copies and zero-copy is suspended until a later probe.
        Budget: the pinned-bytes budget is exhausted for now. SharedMemory:
        an AF_UNIX socket whose peer agreed to shared memory: buffers of a
        shared BlightBufferPool travel without a copy (see \ref shm).
    */
    enum class ZeroCopyState { Unsupported, Disabled, Active, BackedOff, Budget, SharedMemory };
    Q_ENUM(ZeroCopyState)
    /*!
        How zero-copy sends reach the kernel on TCP and UDP (see \ref uring).
        MsgZeroCopy: sendmsg() with MSG_ZEROCOPY, released through the error
        queue. IoUring: io_uring SEND_ZC, from registered pool buffers where
        it can. Auto: io_uring where it works, can report copies and was
        measured cheaper for the kind of socket; MSG_ZEROCOPY elsewhere.
    */
    enum class ZeroCopyBackend { Auto, MsgZeroCopy, IoUring };
    Q_ENUM(ZeroCopyBackend)
    enum class Error {
        NoError,
        InvalidDescriptor, //!< not a socket, listening, closed, or an unsupported family
        InvalidEndpoint,
        HostNotFound,
        ConnectionRefused,
        ConnectError,
        RemoteClosed, //!< orderly hang-up by the peer
        ConnectionReset,
        BrokenPipe,
        ProtocolError,      //!< malformed header from the peer
        NetworkError,       //!< any other errno on the socket
        ServiceUnavailable, //!< blight: endpoint: no compositor on the bus
        QueueFull,          //!< send refused: sendQueueLimit() reached
        MessageTooLarge,    //!< send refused: over maxPayloadSize() or a datagram
        WrongMode,          //!< send() on a message socket or sendMessage() on a raw one
        NotConnected,
        Undelivered, //!< close() could not deliver every accepted message within lingerTime()
    };
    Q_ENUM(Error)
    enum class Ownership { TakeOwnership, Borrow };
    Q_ENUM(Ownership)

    explicit BlightSocket(QObject *parent = nullptr);
    explicit BlightSocket(Mode mode, QObject *parent = nullptr);
    /*! Emits no signal. Drops what was not yet handed to the kernel, as Qt's
        sockets do; zero-copy buffers the kernel still holds are kept by a
        background closer until released (or, past lingerTime(), until the
        kernel dropped their data), never freed early. */
    ~BlightSocket() override;

    /*!
        Adopts a connected stream or datagram socket. Refuses (returns false,
        error() is InvalidDescriptor) anything that is not a connected AF_UNIX,
        AF_INET or AF_INET6 socket. With Borrow the descriptor is not closed.
    */
    bool setSocketDescriptor(int fd, Ownership ownership = Ownership::TakeOwnership);
    /*! Connects asynchronously; connected() or errorOccurred() follows. */
    void connectToEndpoint(const QString &endpoint);
    int socketDescriptor() const;

    QString endpoint() const;
    SocketKind kind() const;
    Mode mode() const;
    State state() const;
    bool isConnected() const { return state() == State::Connected; }
    Error error() const;
    QString errorString() const;
    /*! Why the last send() or sendMessage() returned 0. */
    Error lastSendError() const;
    /*! The id of the last send accepted (0: none yet). */
    quint64 lastSendId() const;

    ZeroCopyMode zeroCopyMode() const;
    void setZeroCopyMode(ZeroCopyMode mode);
    bool isZeroCopySupported() const;
    bool isZeroCopyActive() const;
    ZeroCopyState zeroCopyState() const;
    QString zeroCopyReason() const;
    /*! The backend asked for (Auto by default). It is settled at the first
        zero-copy send of each connection: a change after that applies from
        the next connection on. */
    ZeroCopyBackend zeroCopyBackend() const;
    void setZeroCopyBackend(ZeroCopyBackend backend);
    /*! The backend zero-copy sends take on this connection: MsgZeroCopy or
        IoUring, never Auto (MsgZeroCopy on sockets without zero-copy). */
    ZeroCopyBackend activeZeroCopyBackend() const;
    qint64 zeroCopyThreshold() const;
    void setZeroCopyThreshold(qint64 bytes);
    qint64 pendingBytesLimit() const;
    void setPendingBytesLimit(qint64 bytes);
    int pendingBuffersLimit() const;
    void setPendingBuffersLimit(int count);
    int copiedBackOffCount() const;
    void setCopiedBackOffCount(int count);
    /*! First delay (ms) before zero-copy is probed again after the kernel
        copied; it doubles on every further back-off, up to a minute. */
    int backOffInterval() const;
    void setBackOffInterval(int msecs);
    /*! How long close() waits for zero-copy buffers in flight before it tears
        the connection down so that the kernel drops their data. */
    int lingerTime() const;
    void setLingerTime(int msecs);
    /*! Offers shared memory to the peer and uses it once the peer offered
        too (see \ref shm). Takes effect at once when connected. */
    bool isSharedMemoryEnabled() const;
    void setSharedMemoryEnabled(bool enabled);
    /*! Both sides offered shared memory on this connection. */
    bool isSharedMemoryActive() const;
    /*! The bytes of the peer's pools this side maps per connection at most
        (64 MiB by default); told to the peer in the offer. */
    qint64 sharedMemoryLimit() const;
    void setSharedMemoryLimit(qint64 bytes);
    /*! Bytes of the peer's pools mapped for this connection. */
    qint64 mappedBytes() const;

    qint64 sendQueueLimit() const;
    void setSendQueueLimit(qint64 bytes);
    qint64 flushThreshold() const;
    void setFlushThreshold(qint64 bytes);
    quint32 maxPayloadSize() const;
    void setMaxPayloadSize(quint32 bytes);
    bool autoAnswerPings() const;
    void setAutoAnswerPings(bool answer);
    bool isReadingPaused() const;
    void setReadingPaused(bool paused);
    bool canSend() const;

    SocketStatistics statistics() const;
    quint64 messagesSent() const;
    quint64 bytesSent() const;
    quint64 messagesReceived() const;
    quint64 bytesReceived() const;
    /*! sendmsg, readv/recvmsg and error-queue calls made by this socket. */
    quint64 systemCalls() const;
    qint64 queuedBytes() const;
    qint64 pendingBuffers() const;
    qint64 pendingBytes() const;
    quint64 errorCount() const;

    /*! A fresh ackid for a request (never 0). */
    quint32 nextAckId();
    /*!
        Sends a request and returns a reply object that finishes when the
        matching Ack arrives or after \a timeoutMs. The reply is a child of
        this socket; delete it when done. Returns nullptr if the send was refused.
    */
    BlightReply *request(Blight::MessageType type, const QByteArray &payload = {}, int timeoutMs = 5000);

    /*!
        Sends a message whose payload is copied from \a payload when it has to
        wait in the queue: no allocation for small payloads, never zero-copy.
        For typed payloads see sendPayload().
    */
    quint64 sendMessageCopy(Blight::MessageType type, quint32 ackid, QByteArrayView payload);
    /*! Sends a message whose payload is a wire struct (RepaintPayload,
        MovePayload, ...), without allocating. */
    template<WireStruct T> quint64 sendPayload(Blight::MessageType type, quint32 ackid, const T &payload)
    {
        char bytes[sizeof(T)];
        encodeInto(bytes, payload);
        return sendMessageCopy(type, ackid, QByteArrayView(bytes, qsizetype(sizeof(T))));
    }

public Q_SLOTS:
    /*! Queues a blight message; returns its send id, or 0 (and
        lastSendError()) when refused. Pass an empty array for a message
        without payload. */
    quint64 sendMessage(Blight::MessageType type, quint32 ackid, const QByteArray &payload);
    quint64 forwardMessage(const Blight::Message &message);
    /*!
        Sends a message whose payload is \a buffer's bytes, without copying
        them where the path allows (zero-copy, or straight from the buffer on
        the copy path). The socket holds a handle until the send is released;
        a pool buffer then returns to its pool once the caller dropped its
        handles too. The header is written into the buffer's header room
        when no other send holds it.
    */
    quint64 sendBuffer(Blight::MessageType type, quint32 ackid, const Blight::BlightBuffer &buffer);
    /*! Raw-stream mode: sends the bytes as they are. */
    quint64 send(const QByteArray &data);
    /*! Raw-stream mode: sends \a buffer's bytes as they are (see sendBuffer()). */
    quint64 sendRawBuffer(const Blight::BlightBuffer &buffer);
    /*! Sends the release of a frame received in shared memory now, before its
        last handle is dropped; handles still held then read memory the
        sender may rewrite. Does nothing for other buffers or a second time. */
    void releaseBuffer(const Blight::BlightBuffer &buffer);
    /*! Hands everything queued to the kernel now, as far as it takes it. */
    void flush();
    /*!
        Closes gracefully, like QAbstractSocket::disconnectFromHost(): accepts
        no more sends, hands every message already accepted to the kernel
        (also those waiting on the pinned budget, ENOBUFS or a slow reader),
        waits for their zero-copy completions and for the peer's release of
        frames sent in shared memory, then closes; disconnected() follows.
        All of it within lingerTime(): what could not be delivered by then is
        dropped and reported with errorOccurred(Undelivered), whose text
        gives the messages and bytes, before disconnected(). (Frames the peer
        still holds then were delivered; they are reported as not delivered
        in sendsReleased() only, and their pool region is retired.)
    */
    void close();
    /*! Closes at once and drops what was not yet handed to the kernel, as
        QAbstractSocket::abort() does; zero-copy buffers the kernel still holds
        are kept until it has dropped them. disconnected() follows. */
    void abort();
    /*! Sets every counter of statistics() back to zero (peaks restart from
        the current values); emits statisticsChanged(). */
    void resetStatistics();

Q_SIGNALS:
    void connected();
    void disconnected();
    void stateChanged(Blight::BlightSocket::State state);
    /*! A fatal error; disconnected() follows. */
    void errorOccurred(Blight::BlightSocket::Error error, const QString &reason);
    /*! A non-fatal condition worth reporting (an ICMP error on UDP, say). */
    void warning(const QString &message);
    void endpointChanged();

    void messageReceived(const Blight::Message &message);
    void ackReceived(quint32 ackid, const QByteArray &payload);
    void pingReceived(quint32 ackid);
    /*! Raw-stream mode: bytes as they arrived. */
    void dataReceived(const QByteArray &data);
    /*! A message whose payload arrived in shared memory, as a read-only
        handle on the peer's memory (no copy). The release goes back when the
        last handle is dropped (or on releaseBuffer()). Without a receiver
        here, such messages come through messageReceived() with a copy. */
    void bufferReceived(Blight::MessageType type, quint32 ackid, const Blight::BlightBuffer &buffer);

    /*! The socket no longer holds the bytes of these sends (see \ref ids);
        at most once per event-loop turn. */
    void sendsReleased(const QList<Blight::SendIdRange> &ranges);
    /*! The kernel's MSG_ZEROCOPY counter: it released the zero-copy
        sendmsg() calls numbered lo..hi (inclusive, may wrap). These count
        system calls, not the caller's sends: see sendsReleased(). On the
        io_uring backend each SEND_ZC request has its own number (0, 1, 2,
        ... per connection) and lo == hi (see \ref uring). */
    void buffersReleased(quint32 lo, quint32 hi);
    /*! Every completion range, with the kernel's COPIED flag. */
    void completionReceived(quint32 lo, quint32 hi, bool copied);
    /*! The send queue became empty: everything was handed to the kernel. */
    void sendQueueEmpty();

    void canSendChanged(bool canSend);
    void statisticsChanged();
    void zeroCopyModeChanged();
    void zeroCopyStateChanged();
    void zeroCopyBackendChanged();
    void zeroCopyThresholdChanged();
    void pendingBytesLimitChanged();
    void pendingBuffersLimitChanged();
    void copiedBackOffCountChanged();
    void backOffIntervalChanged();
    void lingerTimeChanged();
    void sharedMemoryEnabledChanged();
    void sharedMemoryLimitChanged();
    void sendQueueLimitChanged();
    void flushThresholdChanged();
    void maxPayloadSizeChanged();
    void autoAnswerPingsChanged();
    void readingPausedChanged();

protected:
    /*! A receiver connected to sendsReleased() later than the sends hears of
        them at the next turn. */
    void connectNotify(const QMetaMethod &signal) override;

private:
    friend class BlightReply;
    Q_DECLARE_PRIVATE(BlightSocket)
    BlightSocketPrivate *d_ptr; // a child QObject that may outlive this object (see the destructor)
};

/*!
    \class Blight::BlightReply
    \brief The pending answer to a request sent with BlightSocket::request().
*/
class BLIGHTTRANSPORT_EXPORT BlightReply : public QObject
{
    Q_OBJECT
    Q_PROPERTY(quint32 ackid READ ackid CONSTANT)
    Q_PROPERTY(quint64 sendId READ sendId CONSTANT)
    Q_PROPERTY(bool finished READ isFinished NOTIFY finished)
    Q_PROPERTY(bool acked READ isAcked NOTIFY finished)

public:
    ~BlightReply() override;
    quint32 ackid() const { return m_ackid; }
    /*! The send id of the request. */
    quint64 sendId() const { return m_sendId; }
    bool isFinished() const { return m_finished; }
    /*! True when the Ack arrived; false after a timeout or disconnect. */
    bool isAcked() const { return m_acked; }
    QByteArray payload() const { return m_payload; }
    QString errorString() const { return m_errorString; }

Q_SIGNALS:
    void finished();

private:
    friend class BlightSocket;
    friend class BlightSocketPrivate;
    BlightReply(quint32 ackid, BlightSocket *socket);
    void finish(bool acked, const QByteArray &payload, const QString &errorString);
    void timerEvent(QTimerEvent *event) override;

    quint32 m_ackid;
    quint64 m_sendId = 0;
    int m_timerId = 0;
    bool m_finished = false;
    bool m_acked = false;
    QByteArray m_payload;
    QString m_errorString;
};

} // namespace Blight
