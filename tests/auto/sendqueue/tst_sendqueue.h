// SPDX-License-Identifier: MIT
// The SendQueue test: its helpers (headers, payloads, draining a queue) and the test class, in three files.
#pragma once

#include "sendqueue_p.h"

#include <QtCore/QList>
#include <limits>
#include <QtTest/QTest>

#include <sys/uio.h>

using namespace Blight;

namespace SendQueueTest {

constexpr int MaxIov = 64;
constexpr qsizetype NoBudget = std::numeric_limits<qsizetype>::max();
constexpr qsizetype TestHeaderSize = 8; // the queue does not care; the socket's header is another size

// An 8-byte header, distinct per \a id, so that misplaced bytes show.
inline QByteArray headerFor(int id)
{
    QByteArray header = QByteArray::number(id).rightJustified(7, '0', true);
    return QByteArrayLiteral("H") + header;
}

// A payload of \a size bytes, distinct per \a id.
inline QByteArray payloadFor(int id, qsizetype size)
{
    // Byte i is 'a' + (id * 7 + i) % 26: cut from one long cycle, a copy each time.
    static const QByteArray cycle = [] {
        QByteArray bytes(128 * 1024, Qt::Uninitialized);
        for (qsizetype i = 0; i < bytes.size(); ++i)
            bytes[i] = char('a' + i % 26);
        return bytes;
    }();
    Q_ASSERT(size <= cycle.size() - 26);
    return cycle.mid((id * 7) % 26, size);
}

// A 12-byte ping answer carrying \a ackid.
inline QByteArray ackFor(int ackid)
{
    return QByteArrayLiteral("ACK:") + QByteArray::number(ackid).rightJustified(8, '0', true);
}

inline QByteArray bytesOf(const iovec *iov, int count)
{
    QByteArray bytes;
    for (int i = 0; i < count; ++i)
        bytes.append(static_cast<const char *>(iov[i].iov_base), qsizetype(iov[i].iov_len));
    return bytes;
}

inline void appendMessage(SendQueue &queue, int id, qsizetype payloadSize)
{
    const QByteArray header = headerFor(id);
    const QByteArray payload = payloadFor(id, payloadSize);
    queue.appendMessageCopy(header.constData(), header.size(), payload, quint64(id) + 1);
}

// What the kernel would get if it took everything, batch after batch.
struct Drained
{
    QByteArray bytes;
    quint64 messages = 0;
    int batches = 0;
};

inline Drained drain(SendQueue &queue, bool zeroCopy = false)
{
    Drained drained;
    while (!queue.isEmpty() && drained.batches < 100000) {
        iovec iov[MaxIov];
        const SendQueue::Batch batch = queue.fill(iov, MaxIov, zeroCopy, NoBudget, nullptr);
        drained.bytes += bytesOf(iov, batch.count);
        drained.messages += queue.advance(batch.bytes);
        ++drained.batches;
    }
    return drained;
}

} // namespace SendQueueTest

using namespace SendQueueTest;

class tst_SendQueue : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void emptyQueue();
    void messagesMergeIntoStaging();
    void stagingCapacity_data();
    void stagingCapacity();
    void largeMessageCopyHasOwnPiece();
    void copyLargerThanStaging();
    void appendCopyInParts();
    void datagramNeverMerges();
    void appendSharedKeepsSharing();
    void appendSharedFromOffset();
    void fillBudget_data();
    void fillBudget();
    void fillMaxIov();
    void fillKindsNeverMix();
    void fillHeldBuffers();
    void fillDatagramOneAtATime();
    void advancePartialPieces();
    void advanceCompletedMessages_data();
    void advanceCompletedMessages();
    void stagingReusedAfterSend();
    void descriptorStartsItsOwnCall();
    void droppedDescriptorIsClosed();
    void priorityAtFront_data();
    void priorityAtFront();
    void priorityAfterPartlySentFront();
    void priorityAfterHeaderAndPayload_data();
    void priorityAfterHeaderAndPayload();
    void priorityRewritten();
    void priorityRewrittenBehindStartedFront();
    void priorityAfterStartedOne();
    void priorityInDatagramMode();
    void dropFrontDatagram_data();
    void dropFrontDatagram();
    void makeFrontDatagramCopied();
    void clearReturnsDropped();
    void clearAfterPartlySentStaging();
    void clearForgetsMidMessage();
    void laneClosedUntilOpened();
    void laneTakesMessagesInOrder();
    void laneRoom_data();
    void laneRoom();
    void laneRefusesLargePayload();
    void laneCopiesEverySize_data();
    void laneCopiesEverySize();
    void laneNeedsStagingAtBack();
    void laneClosedByChange_data();
    void laneClosedByChange();
    void randomStream_data();
    void randomStream();
    void randomDatagrams_data();
    void randomDatagrams();
};
