// Private state of BlightSocket: the send queue, the receive assembler, the
// zero-copy policy and the close/linger logic.
#pragma once

#include "completiontracker_p.h"
#include "errorqueue_p.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QBasicTimer>
#include <QtCore/QHash>
#include <QtCore/QPointer>
#include <QtCore/QSocketNotifier>
#include <QtNetwork/QHostAddress>

#include <deque>

#include <sys/socket.h>

namespace Blight {

/*! The current event-loop turn of this thread (it never returns 0). */
quint64 currentTurn();

class BlightSocketPrivate
{
    Q_DECLARE_PUBLIC(BlightSocket)

public:
    explicit BlightSocketPrivate(BlightSocket *q, BlightSocket::Mode socketMode);
    ~BlightSocketPrivate();

    // One queued piece of bytes. Pieces of a message stay in order; a
    // zero-copy eligible piece is never merged into a staging buffer.
    struct Piece
    {
        QByteArray bytes;
        qsizetype offset = 0;      // bytes of this piece already sent
        bool eligible = false;     // may go with MSG_ZEROCOPY
        bool staging = false;      // an appendable staging buffer of small messages
        int messagesEnding = 0;    // messages that end in this piece
        qsizetype remaining() const { return bytes.size() - offset; }
    };

    // Adoption and connection.
    bool adopt(int fd, BlightSocket::Ownership ownership, bool emitConnected);
    void connectTo(const Endpoint &endpoint);
    void connectToAddressList();
    void startConnect(int fd, const sockaddr *address, socklen_t length);
    void onConnectReady();
    void failConnect(int errorNumber);
    void dropConnectNotifier();
    void abandonConnect();
    void reset();
    static BlightSocketPrivate *get(BlightSocket *socket) { return socket->d_func(); }
    void startCompositorHandshake(bool sessionBus); // compositor.cpp
    /*! Adopts \a fd from an asynchronous handshake and emits connected(). */
    void finishHandshake(int fd);
    void setupNotifiers();
    void detectZeroCopy();
    void setState(BlightSocket::State state);

    // Sending.
    bool acceptsMessage(MessageType type, qsizetype payloadSize);
    bool enqueueMessage(const Header &header, const QByteArray &payload);
    bool enqueueRaw(const QByteArray &data);
    bool acceptable(qsizetype bytes);
    bool enqueueMessageCopy(const Header &header, QByteArrayView payload);
    bool sendsImmediately();
    bool checkDatagramSize(qsizetype total);
    bool trySendImmediately(const char *header, QByteArrayView payload, const QByteArray *owner);
    void appendPiece(QByteArray bytes, bool eligible, int messagesEnding);
    void appendStaged(const char *data, qsizetype size, int messagesEnding);
    void appendStaged(const char *header, QByteArrayView payload, int messagesEnding);
    void appendDatagram(const char *header, QByteArrayView payload);
    void afterEnqueue(bool immediate, bool rawData);
    void flushQueue();
    bool sendBatch();
    void advanceQueue(qsizetype bytes);
    void waitForCompletions();
    bool holdForRetry(int errorNumber);
    void waitForWritable();
    void detachRawData();
    bool zeroCopyNow() const;
    void updateCanSend();
    void scheduleEndOfTurn();
    void endOfTurn();
    void forgetEndOfTurn();
    bool claimSocket(quint64 inode);
    void releaseSocketClaim();

    // Receiving.
    void onReadable();
    void readStream();
    void readDatagrams();
    void readRaw();
    bool dispatch(Message &message);
    void resumeReading();

    // Error queue and zero-copy policy.
    void onErrorQueue();
    bool drainErrorQueue();
    void handleCompletion(quint32 lo, quint32 hi, bool copied);
    void backOff();
    void probe();
    void setZeroCopyState(BlightSocket::ZeroCopyState state, const QString &reason);
    void retryAfterNoBuffers();

    // Errors, close and teardown.
    void fail(BlightSocket::Error error, const QString &reason);
    void failErrno(int errorNumber, const QString &during);
    void beginClose(bool graceful);
    void maybeFinishClose();
    void teardown();
    void finalize();
    void finishReplies(const QString &reason);

    void emitStatistics();

    BlightSocket *q_ptr;
    const BlightSocket::Mode mode;

    // Configuration.
    BlightSocket::ZeroCopyMode zeroCopyMode = BlightSocket::ZeroCopyMode::Auto;
    qint64 zeroCopyThreshold;
    qint64 pendingBytesLimit;
    int pendingBuffersLimit;
    int copiedBackOffCount = 3;
    int backOffInterval = 1000;
    int lingerTime = 2000;
    qint64 sendQueueLimit = 64 * 1024 * 1024;
    qint64 flushThreshold = 64 * 1024;
    quint32 maxPayloadSize = DefaultMaxPayloadSize;
    bool autoAnswerPings = true;
    bool readingPaused = false;

    // Descriptor and state.
    int fd = -1;
    quint64 claimedInode = 0; // 0: none (sockfs inodes start at 1)
    bool ownsFd = true;
    BlightSocket::State state = BlightSocket::State::Unconnected;
    BlightSocket::SocketKind kind = BlightSocket::SocketKind::None;
    bool datagram = false;
    bool connectOnFirstDatagram = false; // a UDP server socket waiting for its peer
    QString endpointText;
    BlightSocket::Error error = BlightSocket::Error::NoError;
    QString errorString;
    BlightSocket::Error lastSendError = BlightSocket::Error::NoError;
    QSocketNotifier *readNotifier = nullptr;
    QSocketNotifier *writeNotifier = nullptr;
    QSocketNotifier *errorNotifier = nullptr;
    Endpoint pendingEndpoint;
    QList<QHostAddress> pendingAddresses; // still to try while connecting
    int connectingFd = -1;
    QSocketNotifier *connectNotifier = nullptr;
    bool failed = false;

    // Send queue.
    std::deque<Piece> queue;
    int queuedPieces = 0;
    quint64 immediateTurn = 0; // the event-loop turn of the last immediate send
    quint64 countedTurn = 0;   // the turn turnMessages counts for
    int turnMessages = 0;
    int previousTurnMessages = 0;
    bool endOfTurnPosted = false;
    bool writeBlocked = false;
    bool waitingForCompletions = false;
    bool canSend = true;
    bool queueDrained = false;
    QByteArray spareStaging;

    // Receive side.
    MessageAssembler assembler;
    std::deque<Message> heldMessages; // assembled while reading was paused
    QByteArray rawBuffer;
    bool resumePosted = false;

    // Zero-copy.
    bool zeroCopySupported = false;
    BlightSocket::ZeroCopyState zeroCopyState = BlightSocket::ZeroCopyState::Unsupported;
    QString zeroCopyReason;
    CompletionTracker tracker;
    int consecutiveCopied = 0;
    bool probing = false;
    quint32 probeStartId = 0;
    int currentBackOff = 0;
    QBasicTimer probeTimer;
    QBasicTimer noBuffersTimer;
    int noBuffersDelay = 1;

    // Close.
    bool closing = false;
    bool tornDown = false;
    QBasicTimer lingerTimer;

    // Requests.
    quint32 lastAckId = 0;
    QHash<quint32, QPointer<BlightReply>> replies;

    SocketStatistics stats;
};

} // namespace Blight
