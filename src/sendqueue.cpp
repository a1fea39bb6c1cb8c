// SPDX-License-Identifier: MIT
// The send queue (see sendqueue_p.h).
#include "sendqueue_p.h"

#include <algorithm>
#include <cstring>
#include <sys/uio.h>
#include <unistd.h>

namespace Blight {

void OwnedFd::reset()
{
    if (m_fd >= 0)
        ::close(std::exchange(m_fd, -1));
}

void SendQueue::push(Piece piece, quint64 endsId)
{
    closeLane();
    m_bytes += piece.remaining();
    piece.messagesEnding = endsId != NoId ? 1 : 0;
    piece.boundaryAtEnd = endsId != NoId;
    m_pieces.push_back(std::move(piece));
    ++m_pieceCount;
    if (endsId != NoId)
        endMessage(endsId);
}

void SendQueue::appendShared(const QByteArray &bytes, qsizetype offset, bool eligible, quint64 endsId)
{
    Piece piece;
    piece.bytes = bytes;
    piece.offset = offset;
    piece.eligible = eligible;
    push(std::move(piece), endsId);
}

void SendQueue::appendBuffer(const BufferHold &hold, const char *begin, qsizetype length, bool eligible, quint64 endsId)
{
    Piece piece;
    piece.hold = hold;
    piece.begin = begin;
    piece.length = length;
    piece.eligible = eligible;
    push(std::move(piece), endsId);
}

void SendQueue::appendWithDescriptor(const char *bytes, qsizetype size, OwnedFd descriptor, quint64 endsId)
{
    Piece piece;
    piece.bytes = QByteArray(bytes, size);
    piece.descriptor = std::move(descriptor);
    push(std::move(piece), endsId);
    // A ping answer may come after it, never a message that ends in it.
    m_pieces.back().boundaryAtEnd = true;
    if (endsId == NoId)
        endMessage(NoId);
    m_pieces.back().messagesEnding = 1;
}

void SendQueue::openLane(qsizetype room)
{
    m_laneRoom = 0;
    if (m_datagram || m_pieces.empty() || !m_pieces.back().staging || room <= 0)
        return;
    Piece &back = m_pieces.back();
    m_laneRoom = qMin(room, back.bytes.size() - back.length);
    m_laneOut = back.bytes.data() + back.length; // detached here, once, not per message
    // Each message through the lane takes at least a header of the room: the
    // end table grows now, so that the lane never has to.
    const size_t ends = m_ends.size() + size_t(m_laneRoom / BlightHeaderSize) + 1;
    if (ends > m_ends.capacity())
        m_ends.reserve(std::max(ends, 2 * m_ends.capacity()));
}

quint64 SendQueue::idAt(qsizetype offset) const
{
    const quint64 position = m_sent + quint64(offset);
    const auto front = m_ends.begin() + qsizetype(m_endsHead);
    if (front != m_ends.end() && position < front->position)
        return front->id; // the front message: most calls
    const auto end = std::upper_bound(front, m_ends.end(), position,
                                      [](quint64 byte, const End &messageEnd) { return byte < messageEnd.position; });
    return end == m_ends.end() ? NoId : end->id;
}

SendQueue::Piece &SendQueue::stagingBack(qsizetype room)
{
    // A staging array is sized once and filled up to its length, so that an
    // append is a copy and no resize. Datagram pieces hold exactly one
    // message, so they are never merged; a copy larger than a staging array
    // gets an array of its own size.
    if (m_datagram || m_pieces.empty() || !m_pieces.back().staging
        || m_pieces.back().length + room > m_pieces.back().bytes.size()) {
        Piece piece;
        if (m_datagram || room > StagingCapacity) {
            piece.bytes = QByteArray(room, Qt::Uninitialized);
        } else {
            piece.bytes = std::exchange(m_spareStaging, QByteArray());
            if (piece.bytes.size() != StagingCapacity)
                piece.bytes = QByteArray(StagingCapacity, Qt::Uninitialized);
        }
        piece.staging = true;
        m_pieces.push_back(std::move(piece));
        ++m_pieceCount;
    }
    return m_pieces.back();
}

void SendQueue::appendCopy(const char *data, qsizetype size, quint64 endsId)
{
    closeLane();
    Piece &piece = stagingBack(size);
    std::memcpy(piece.bytes.data() + piece.length, data, size_t(size));
    piece.length += size;
    piece.messagesEnding += endsId != NoId ? 1 : 0;
    piece.boundaryAtEnd = endsId != NoId;
    m_bytes += size;
    if (endsId != NoId)
        endMessage(endsId);
}

void SendQueue::appendMessageCopyToNewPiece(const char *header, qsizetype headerSize, QByteArrayView payload,
                                            quint64 id)
{
    const qsizetype size = headerSize + payload.size();
    if (m_datagram || payload.size() > StageLimit) {
        // A datagram leaves in one piece; a large payload gets its own array.
        QByteArray whole(size, Qt::Uninitialized);
        std::memcpy(whole.data(), header, size_t(headerSize));
        if (!payload.isEmpty())
            std::memcpy(whole.data() + headerSize, payload.data(), size_t(payload.size()));
        appendShared(whole, 0, false, id);
        return;
    }
    copyIntoStaging(stagingBack(size), header, headerSize, payload, id);
}

bool SendQueue::putPriority(const char *message, qsizetype size)
{
    closeLane();
    for (Piece &piece : m_pieces) {
        if (piece.priority && piece.offset == 0) {
            std::memcpy(piece.bytes.data(), message, size_t(size));
            return false;
        }
    }
    // The first place where a message starts: the front if nothing of it was
    // sent yet and it does not continue a message, else after the first
    // piece that ends one.
    auto at = m_pieces.begin();
    quint64 position = m_sent;
    if (at != m_pieces.end() && (at->offset > 0 || m_frontStartsMidMessage)) {
        while (at != m_pieces.end() && !at->boundaryAtEnd) {
            position += quint64(at->remaining());
            ++at;
        }
        if (at != m_pieces.end()) {
            position += quint64(at->remaining());
            ++at;
        }
    }
    Piece piece;
    piece.bytes = QByteArray(message, size);
    piece.messagesEnding = 1;
    piece.priority = true;
    m_bytes += size;
    m_pieces.insert(at, std::move(piece));
    ++m_pieceCount;
    // Messages ending after the insertion point now end later; the answer
    // ends right after it (rare: once per ping, so a linear pass is fine).
    auto end = std::lower_bound(m_ends.begin() + qsizetype(m_endsHead), m_ends.end(), position + 1,
                                [](const End &messageEnd, quint64 byte) { return messageEnd.position < byte; });
    for (auto later = end; later != m_ends.end(); ++later)
        later->position += quint64(size);
    m_ends.insert(end, End{position + quint64(size), NoId});
    return true;
}

SendQueue::Batch SendQueue::fill(iovec *iov, int maxIov, bool zeroCopy, qsizetype budget,
                                 CompletionTracker::Buffers *held) const
{
    Batch batch;
    if (m_pieces.empty())
        return batch;
    batch.zeroCopy = m_pieces.front().eligible && zeroCopy;
    batch.descriptor = m_pieces.front().descriptor.get();
    for (const Piece &piece : m_pieces) {
        if ((piece.eligible && zeroCopy) != batch.zeroCopy || batch.count == maxIov)
            break;
        if (batch.count > 0 && piece.descriptor.get() >= 0)
            break; // its descriptor must arrive with its own first byte
        if (batch.bytes >= budget) {
            batch.cutByBudget = true;
            break;
        }
        const qsizetype take = qMin(piece.remaining(), budget - batch.bytes);
        if (take < piece.remaining())
            batch.cutByBudget = true;
        iov[batch.count++] = {const_cast<char *>(piece.data()) + piece.offset, size_t(take)};
        batch.bytes += take;
        if (batch.zeroCopy && held)
            held->append(HeldBytes{piece.bytes, piece.hold});
        if (m_datagram && piece.messagesEnding > 0)
            break;
    }
    return batch;
}

quint64 SendQueue::consume(qsizetype bytes)
{
    m_sent += quint64(bytes);
    quint64 ended = 0;
    while (m_endsHead < m_ends.size() && m_ends[m_endsHead].position <= m_sent) {
        if (m_ends[m_endsHead].id != NoId)
            m_lastEndedId = m_ends[m_endsHead].id;
        ++m_endsHead;
        ++ended;
    }
    if (m_endsHead == m_ends.size()) {
        m_ends.clear(); // keeps the capacity: the next messages need no allocation
        m_endsHead = 0;
    } else if (m_endsHead >= EndsCompactAt && m_endsHead * 2 >= m_ends.size()) {
        // The passed ends are at least half: moving the rest costs no more
        // than pushing them did.
        m_ends.erase(m_ends.begin(), m_ends.begin() + qsizetype(m_endsHead));
        m_endsHead = 0;
    }
    return ended;
}

quint64 SendQueue::advance(qsizetype bytes)
{
    closeLane();
    m_bytes -= bytes;
    const quint64 completed = consume(bytes);
    while (!m_pieces.empty() && (bytes > 0 || m_pieces.front().remaining() == 0)) {
        Piece &piece = m_pieces.front();
        const qsizetype take = qMin(bytes, piece.remaining());
        piece.offset += take;
        piece.priority = false; // once started, it can no longer be rewritten
        bytes -= take;
        if (piece.remaining() > 0)
            break;
        m_frontStartsMidMessage = !piece.boundaryAtEnd;
        if (piece.staging && piece.bytes.size() == StagingCapacity && m_spareStaging.isNull()
            && piece.bytes.isDetached())
            m_spareStaging = std::move(piece.bytes);
        m_pieces.pop_front();
        --m_pieceCount;
    }
    return completed;
}

qint64 SendQueue::dropFrontDatagram()
{
    closeLane();
    // A datagram may be a header piece and a payload piece: drop through the
    // piece that ends it.
    qint64 dropped = 0;
    while (!m_pieces.empty()) {
        const Piece piece = std::move(m_pieces.front());
        m_pieces.pop_front();
        --m_pieceCount;
        dropped += piece.remaining();
        if (piece.messagesEnding > 0)
            break;
    }
    m_bytes -= dropped;
    consume(dropped);
    return dropped;
}

void SendQueue::makeFrontDatagramCopied()
{
    closeLane();
    for (Piece &piece : m_pieces) {
        piece.eligible = false;
        if (piece.messagesEnding > 0)
            break;
    }
}

SendQueue::Dropped SendQueue::clear()
{
    closeLane();
    const quint64 messages = messageCount();
    const Dropped dropped{messages, m_bytes, messages == 0 ? 0 : m_lastQueuedId};
    m_pieces.clear();
    m_pieceCount = 0;
    if (messages > 0)
        m_lastEndedId = m_lastQueuedId;
    m_ends = {}; // the connection's queue is over: give its memory back
    m_endsHead = 0;
    m_sent += quint64(m_bytes);
    m_bytes = 0;
    m_frontStartsMidMessage = false;
    return dropped;
}

} // namespace Blight
