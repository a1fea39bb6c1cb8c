// SPDX-License-Identifier: MIT
// Private state of BlightSocket: the engine that owns the descriptor, the
// notifiers and timers, and the pure layers (send queue, coalescing policy,
// zero-copy policy, completion tracker, send ledger, message assembler). Its
// methods are spread over one file per concern: socketsetup.cpp,
// socketconnect.cpp, socketenqueue.cpp, socketsend.cpp, socketreceive.cpp,
// socketcompletions.cpp, socketsharedmemory.cpp, socketclose.cpp and
// socketlifetime.cpp.
#pragma once

#include "coalescingpolicy_p.h"
#include "completiontracker_p.h"
#include "descriptorchannel_p.h"
#include "sendledger_p.h"
#include "sendqueue_p.h"
#include "sharedmemorysession_p.h"
#include "socketutil_p.h"
#include "turnclock_p.h"
#include "zerocopybackend_p.h"
#include "zerocopypolicy_p.h"

#include <BlightTransport/blightsocket.h>
#include <BlightTransport/endpoint.h>

#include <QtCore/QBasicTimer>
#include <QtCore/QHash>
#include <QtCore/QObject>
#include <QtCore/QPointer>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostAddress>

#include <deque>

#include <sys/socket.h>

namespace Blight {

class ReleaseChannel;
struct UringBackend;
struct UringCompletion;
struct UringFlight;

/*!
    The engine behind a BlightSocket. It is a QObject child of the public
    object, so it moves with it between threads, and it outlives it where it
    must: a slot may delete the public object from any signal (the engine then
    only unwinds: every emit is followed by a check of gone()), and a socket
    destroyed with zero-copy buffers in flight leaves its engine behind as the
    heir that keeps them until the kernel lets go.
*/
class BlightSocketPrivate : public QObject, public TurnListener
{
    Q_DECLARE_PUBLIC(BlightSocket)

public:
    explicit BlightSocketPrivate(BlightSocket *q, BlightSocket::Mode socketMode);
    ~BlightSocketPrivate() override;
    static BlightSocketPrivate *get(BlightSocket *socket) { return socket->d_func(); }

    // Lifetime (socketlifetime.cpp).
    /*! Held by every entry point (public call, notifier, timer, event) so that
        the engine outlives the frames on its stack. */
    class Busy
    {
    public:
        explicit Busy(BlightSocketPrivate *d);
        ~Busy();
        Q_DISABLE_COPY_MOVE(Busy)

    private:
        BlightSocketPrivate *const m_d;
    };
    /*! The public object was destroyed under a frame of this engine: unwind, touch
        nothing. (An heir has no public object either, but goes on quietly: every
        emit checks q_ptr.) */
    bool gone() const { return q_ptr == nullptr && !heir; }
    /*! After a slot called close(): the messages read with the one it
        handled may hold the releases that the close waits for. */
    bool readsForReleases() const { return !gone() && closing && !tornDown && fd >= 0; }
    /*! Called by ~BlightSocket. */
    void detach();
    /*! Emits \a notify if a property changed from \a before to \a after. */
    template<typename Value> bool notifyChange(const Value &before, const Value &after, void (BlightSocket::*notify)());

    // Setting up a descriptor (socketsetup.cpp).
    bool adopt(int newFd, BlightSocket::Ownership ownership, const QString &endpointName = QString());
    void startConnection();
    bool becomeConnected();
    void refreshRecordLimit();
    void detectZeroCopy();
    void setupNotifiers();
    bool setState(BlightSocket::State newState);
    bool announceEndpoint(const QString &text);
    QString describePeer() const;
    bool refuseDescriptor(const QString &why);

    // Connecting (socketconnect.cpp).
    void connectTo(const QString &text);
    void connectToAddressList();
    void startConnect(int newFd, const sockaddr *address, socklen_t length);
    void onConnectReady();
    void failConnect(int errorNumber);
    void cancelAttempt();
    QObject *newAttempt();
    void startCompositorHandshake(bool sessionBus); // compositor.cpp
    void finishHandshake(int newFd);

    // Sending (socketsend.cpp).
    bool acceptsMessage(MessageType type, qsizetype payloadSize);
    bool acceptsRaw();
    bool acceptable(qsizetype bytes);
    bool fitsDatagram(qsizetype total);
    // The enqueue functions return the send id, 0 when refused.
    quint64 enqueueMessage(const Header &header, const QByteArray &payload);
    quint64 enqueueMessageCopy(const Header &header, QByteArrayView payload);
    /*! A buffer's payload, after \a header (nullptr: a raw chunk). */
    quint64 enqueueBuffer(const Header *header, const BlightBuffer &buffer);
    quint64 enqueueRaw(const QByteArray &data);
    /*! Whether the message being accepted leaves inside the call (CoalescingPolicy). */
    bool sendsImmediately()
    {
        const bool writable = state == BlightSocket::State::Connected && !writeBlocked && !uringBlocking
            && !noBuffersTimer.isActive();
        return coalescing.sendsImmediately(TurnClock::current(), queue.isEmpty(), writable, SocketUtil::monotonicNs);
    }
    /*!
        A small message that joins the ones its turn already queued
        (CoalescingPolicy::joinsQueuedTurn()) goes straight into the staging
        array through the queue's lane: every other check of the full path
        answered the same for the message before it, and openLane() sized the
        lane so that the queue limit and the flush threshold still hold.
        Returns its send id, 0 to take the full path. Emits nothing.
    */
    Q_ALWAYS_INLINE quint64 queueBehindTurn(MessageType type, quint32 ackid, QByteArrayView payload)
    {
        if (!coalescing.joinsQueuedTurn(TurnClock::current()) || state != BlightSocket::State::Connected || closing
            || !isValidType(qint32(type)) || quint64(payload.size()) > maxPayloadSize
            || (payload.isEmpty() && requiresPayload(type)))
            return 0;
        char headerBytes[HeaderSize];
        writeHeader(headerBytes, makeHeader(type, ackid, quint32(payload.size())));
        if (!queue.appendThroughLane(headerBytes, payload, ledger.nextId()))
            return 0;
        lastSendError = BlightSocket::Error::NoError;
        countCopy(payload.size());
        stats.peakQueuedBytes = qMax(stats.peakQueuedBytes, queue.bytes());
        return ledger.accept();
    }
    /*! After a message was queued by the full path: opens the lane for the
        next ones of the turn. */
    void openLane();
    static constexpr int UnixSendBuffer = 1024 * 1024;
    void growSendBuffer();
    quint64 trySendImmediately(const char *header, QByteArrayView payload, const QByteArray *owner,
                               const BufferHold *hold);
    void afterEnqueue(bool immediate);
    void countCopy(qsizetype payloadBytes)
    {
        if (payloadBytes > 0) {
            ++stats.userSpaceCopies;
            stats.userSpaceCopyBytes += quint64(payloadBytes);
        }
    }
    void answerPing(quint32 ackid);
    void scheduleFlush();
    // Release notifications (socketlifetime.cpp): once per turn at most.
    void scheduleRelease();
    void scheduleTurnEnd();
    bool emitReleases();
    /*! Drops the send queue; its sends are reported as not delivered. */
    void dropQueue();
    void endOfTurn() override;
    bool flushQueue();
    enum class BatchResult { More, Stop, Gone };
    BatchResult sendBatch();
    bool holdForRetry(int errorNumber);
    BatchResult datagramFailed(int errorNumber, bool zeroCopy, qsizetype bytes);
    void waitForWritable();
    bool setCanSend(bool canSendNow);
    bool updateCanSend();
    bool reportQueueEmpty();
    bool onWritable();

    // Receiving (socketreceive.cpp).
    void onReadable();
    enum class Received { Bytes, Drained, Again, Failed };
    /*! One non-blocking recvmsg on the data path; on failure (and on 0 bytes
        where \a zeroIsEnd: the peer hung up) the socket has already reported
        it (Failed), or there is nothing more to read (Drained). */
    Received receive(msghdr *message, int flags, qsizetype *bytes, bool zeroIsEnd);
    void failClosed();
    bool readStream();
    bool readDatagrams();
    bool readRaw();
    bool deliverData(const QByteArray &data);
    bool dispatch(Message &message);
    void resumeReading();
    void resumeReadingLater();

    // Error queue and zero-copy completions (socketcompletions.cpp).
    void onErrorQueue();
    void onHangUp();
    bool drainErrorQueue(bool *sawAny = nullptr, bool followUp = true);
    bool handleCompletion(quint32 lo, quint32 hi, bool copied);
    /*! After completions came in: the budget, a retry, a close that waited. */
    bool afterCompletions();
    bool applyZeroCopyChange();
    void onProbeTimer();
    void retryAfterNoBuffers();

    // The io_uring SEND_ZC backend (socketuring.cpp).
    ZeroCopyBackendPolicy::Choice backendChoice() const;
    QString backendReason() const;
    /*! Settles the backend at the first zero-copy send of a connection;
        true when that is io_uring (its ring is set up). */
    bool settleBackend();
    BatchResult sendBatchUring(const SendQueue::Batch &batch, const iovec *iov, CompletionTracker::Buffers held);
    /*! Hands the queued SEND_ZC requests to the kernel, one io_uring_enter. */
    bool submitUring();
    /*! Queues the datagrams that wait to go again; false while they must wait. */
    bool resubmitDatagrams();
    /*! The connection ended: the ring goes to a reaper with what it holds. */
    void closeUring();
#ifdef BLIGHT_HAVE_LIBURING
    int fixedBufferFor(const SendQueue::Piece &piece, const void *data, quint32 size);
    bool queueUring(const UringFlight &flight);
    void onUringCompletions(const QList<UringCompletion> &records);
    bool uringSendDone(const UringCompletion &record);
    bool streamSendDone(const UringFlight &flight, qint32 sent);
    bool streamSendFailed(int errorNumber);
    bool datagramSendFailed(UringFlight flight, int errorNumber);
#endif

    // Shared memory on AF_UNIX, and over TCP to a loopback peer
    // (socketsharedmemory.cpp).
    bool sharedMemoryPossible() const;
    /*! AF_UNIX stream: pool descriptors travel on the socket itself; over
        TCP, on the descriptor channel. */
    bool descriptorsInBand() const
    {
        return kind == BlightSocket::SocketKind::UnixStream;
    }
    void takePeerChannel(const SharedMemoryWire::ChannelAddress &address);
    /*! Connects to the peer's channel once both Channel messages are out. */
    void connectChannel();
    void enableSharedMemory(bool enabled);
    /*! Sends this side's offer once per connection, when enabled. */
    void offerSharedMemory(bool adopting = false);
    QString sharedMemoryReason() const;
    /*! Sends \a buffer as a frame in shared memory when the agreement
        stands and the buffer is a shared pool's: the send id, or 0 when
        refused; *\a taken false when the buffer takes the copy path. */
    quint64 enqueueSharedFrame(const Header &header, const BlightBuffer &buffer, bool *taken);
    /*! Keeps the descriptors a recvmsg() brought (or fails on MSG_CTRUNC). */
    bool takeDescriptors(const msghdr &message);
    /*! Descriptors no Pool message took by the end of a read came with
        messages that carry none. */
    bool checkStrayDescriptors();
    void closeDescriptors();
    /*! The descriptor of the Pool message just read, now the caller's: the
        oldest one not taken yet, or over TCP the next on the descriptor
        channel; -1 with \a why if there is none. */
    int takeDescriptor(QString *why);
    /*! A complete message from the stream: shared-memory messages are
        handled here, the rest dispatched. */
    bool deliver(Message &message);
    bool handleSharedMemoryMessage(const Message &message);
    bool acceptPool(const SharedMemoryWire::PoolAnnounce &pool);
    bool acceptFrame(const SharedMemoryWire::FrameRef &frame);
    bool acceptRelease(const SharedMemoryWire::Decoded &release);
    bool dispatchFrame(const Header &header, BlightBuffer frame);
    /*! Sends the releases the application's frames queued. */
    void sendReleases();
    /*! The connection ended: frames out are retired and reported not
        delivered; received regions are let go of (handles keep theirs). */
    void endSharedMemory();
    /*! A graceful close waits for the peer's releases of frames it holds. */
    bool awaitingReleases() const
    {
        return closing && !tornDown && shm.framesOut() > 0;
    }
    /*! Reads what arrived and was never read before an AF_UNIX stream closes:
        unread data makes the kernel reset the peer's end (an Offer a plain
        peer never reads, say), where it should see an orderly close. */
    void discardUnread();
    bool protocolError(const QString &reason);

    // Errors, close and teardown (socketclose.cpp).
    bool warn(const QString &message);
    bool reportError(BlightSocket::Error newError, const QString &reason);
    bool becomeUnconnected();
    void fail(BlightSocket::Error newError, const QString &reason);
    void failErrno(int errorNumber, const QString &during);
    void beginClose(bool graceful);
    void onLingerTimeout();
    void maybeFinishClose();
    void teardown();
    void finalize();
    bool finishReplies(const QString &reason);
    bool emitStatistics();

protected:
    bool event(QEvent *event) override;
    void timerEvent(QTimerEvent *event) override;

public:
    BlightSocket *q_ptr;
    const BlightSocket::Mode mode;

    // Configuration the pure layers do not hold.
    int lingerTime = 2000;
    qint64 sendQueueLimit = 64 * 1024 * 1024;
    quint32 maxPayloadSize = DefaultMaxPayloadSize;
    bool autoAnswerPings = true;
    bool readingPaused = false;

    // The pure layers.
    SendQueue queue;
    CoalescingPolicy coalescing;
    ZeroCopyPolicy zeroCopy;
    CompletionTracker tracker;
    SendLedger ledger;
    MessageAssembler assembler;
    SocketStatistics stats;

    // Descriptor and state.
    int fd = -1;
    quint64 claimedInode = 0; // 0: none (sockfs inodes start at 1)
    bool ownsFd = true;
    BlightSocket::State state = BlightSocket::State::Unconnected;
    BlightSocket::SocketKind kind = BlightSocket::SocketKind::None;
    bool datagram = false;
    bool connectOnFirstDatagram = false; // a UDP server socket waiting for its peer
    qsizetype maxRecord = 0;             // SOCK_SEQPACKET: the largest record the kernel sends
    QString endpointText;
    BlightSocket::Error error = BlightSocket::Error::NoError;
    QString errorString;
    BlightSocket::Error lastSendError = BlightSocket::Error::NoError;
    QSocketNotifier *readNotifier = nullptr;
    QSocketNotifier *writeNotifier = nullptr;
    QSocketNotifier *errorNotifier = nullptr;

    // Connecting: everything of one attempt hangs off its context object, so
    // that a later attempt never hears from an earlier one.
    QObject *attempt = nullptr;
    Endpoint pendingEndpoint;
    QList<QHostAddress> pendingAddresses;
    int connectingFd = -1;
    int lookupId = -1; // QHostInfo's id of the attempt's lookup, while it runs

    // Sending.
    bool writeBlocked = false;
    quint64 streamHeldSince = 0; // the turn a held stream's first message was queued in
    bool canSend = true;
    bool queueDrained = false;
    bool flushScheduled = false;
    bool releaseScheduled = false;
    // In the turn clock's list (or its event posted): the two flags above
    // share one turn end, and a slot running inside endOfTurn() may need the
    // next one whichever flag it sets.
    bool turnEndPending = false;
    QList<SendIdRange> releasedSends; // reused for every notification
    bool datagramRetried = false;     // the front datagram met an error once already
    QBasicTimer noBuffersTimer;

    // Receiving.
    struct HeldMessage
    {
        Message message;
        BlightBuffer frame; // a frame in shared memory (message has its header only)
    };
    std::deque<HeldMessage> heldMessages; // assembled while reading was paused
    QByteArray rawBuffer;
    bool resumePosted = false;

    // Zero-copy.
    QBasicTimer probeTimer;
    BlightSocket::ZeroCopyBackend backendRequested = BlightSocket::ZeroCopyBackend::Auto;
    bool backendSettled = false; // at the first zero-copy send of a connection
    ZeroCopyBackendPolicy::Choice settledBackend;
    UringBackend *uring = nullptr; // io_uring chosen and its ring set up
    bool uringBlocking = false;    // a TCP SEND_ZC in flight: nothing may overtake it

    // Shared memory.
    bool sharedMemoryEnabled = false;
    qint64 sharedMemoryLimit = 64 * 1024 * 1024;
    QString sharedMemoryFallback; // why the last shared buffer took the copy path
    SharedMemorySession shm;
    ReleaseChannel *releaseChannel = nullptr;
    std::vector<int> pendingDescriptors;
    DescriptorChannel descriptorChannel;          // over TCP
    SharedMemoryWire::ChannelAddress peerChannel; // valid once shm.channelReceived
    QString offerFailure;                         // why this side could not offer
    bool peerOnLoopback = false;                  // TCP only: the peer shares this host's loopback
    std::vector<quint32> releaseTokens;           // reused for every batch of releases

    // Close.
    bool failed = false;
    bool closing = false;
    bool tornDown = false;
    QBasicTimer lingerTimer;
    QBasicTimer drainTimer; // after a teardown: POLLHUP makes the notifiers useless

    // Requests.
    quint32 lastAckId = 0;
    QHash<quint32, QPointer<BlightReply>> replies;

    // Lifetime.
    int busyDepth = 0;
    bool detachPending = false;
    bool heir = false; // the public object is gone; this engine finishes its close
    void finishDetach();
};

// Inline: every send passes through one.
inline BlightSocketPrivate::Busy::Busy(BlightSocketPrivate *d)
    : m_d(d)
{
    ++m_d->busyDepth;
}

inline BlightSocketPrivate::Busy::~Busy()
{
    if (--m_d->busyDepth == 0 && m_d->detachPending)
        m_d->finishDetach();
}

template<typename Value>
bool BlightSocketPrivate::notifyChange(const Value &before, const Value &after, void (BlightSocket::*notify)())
{
    if (before != after && q_ptr)
        Q_EMIT(q_ptr->*notify)();
    return !gone();
}

} // namespace Blight
