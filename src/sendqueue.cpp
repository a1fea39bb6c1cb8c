// SPDX-License-Identifier: MIT
// The send queue (see sendqueue_p.h).
#include "sendqueue_p.h"

#include <cstring>
#include <sys/uio.h>

namespace Blight {

void SendQueue::push(Piece piece)
{
    m_bytes += piece.remaining();
    m_messages += quint64(piece.messagesEnding);
    m_pieces.push_back(std::move(piece));
}

void SendQueue::appendShared(const QByteArray &bytes, qsizetype offset, bool eligible, int messagesEnding)
{
    Piece piece;
    piece.bytes = bytes;
    piece.offset = offset;
    piece.eligible = eligible;
    piece.messagesEnding = messagesEnding;
    piece.boundaryAtEnd = messagesEnding > 0;
    push(std::move(piece));
}

SendQueue::Piece &SendQueue::stagingBack(qsizetype room)
{
    // Datagram pieces hold exactly one message, so they are never merged.
    if (m_datagram || m_pieces.empty() || !m_pieces.back().staging
        || m_pieces.back().bytes.size() + room > StagingCapacity) {
        Piece piece;
        piece.bytes = std::exchange(m_spareStaging, QByteArray());
        if (piece.bytes.capacity() < StagingCapacity && !m_datagram)
            piece.bytes.reserve(StagingCapacity);
        piece.staging = true;
        m_pieces.push_back(std::move(piece));
    }
    return m_pieces.back();
}

void SendQueue::appendCopy(const char *data, qsizetype size, int messagesEnding)
{
    Piece &piece = stagingBack(size);
    piece.bytes.append(data, size);
    piece.messagesEnding += messagesEnding;
    piece.boundaryAtEnd = messagesEnding > 0;
    m_bytes += size;
    m_messages += quint64(messagesEnding);
}

void SendQueue::appendMessageCopy(const char *header, qsizetype headerSize, QByteArrayView payload)
{
    const qsizetype size = headerSize + payload.size();
    if (m_datagram || payload.size() > StageLimit) {
        // A datagram leaves in one piece; a large payload gets its own array.
        QByteArray whole(size, Qt::Uninitialized);
        std::memcpy(whole.data(), header, size_t(headerSize));
        if (!payload.isEmpty())
            std::memcpy(whole.data() + headerSize, payload.data(), size_t(payload.size()));
        appendShared(whole, 0, false, 1);
        return;
    }
    Piece &piece = stagingBack(size);
    const qsizetype at = piece.bytes.size();
    piece.bytes.resize(at + size);
    char *out = piece.bytes.data() + at;
    std::memcpy(out, header, size_t(headerSize));
    if (!payload.isEmpty())
        std::memcpy(out + headerSize, payload.data(), size_t(payload.size()));
    piece.messagesEnding += 1;
    piece.boundaryAtEnd = true;
    m_bytes += size;
    m_messages += 1;
}

bool SendQueue::putPriority(const char *message, qsizetype size)
{
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
    if (at != m_pieces.end() && (at->offset > 0 || m_frontStartsMidMessage)) {
        while (at != m_pieces.end() && !at->boundaryAtEnd)
            ++at;
        if (at != m_pieces.end())
            ++at;
    }
    Piece piece;
    piece.bytes = QByteArray(message, size);
    piece.messagesEnding = 1;
    piece.priority = true;
    m_bytes += size;
    m_messages += 1;
    m_pieces.insert(at, std::move(piece));
    return true;
}

SendQueue::Batch SendQueue::fill(iovec *iov, int maxIov, bool zeroCopy, qsizetype budget,
                                 CompletionTracker::Buffers *held) const
{
    Batch batch;
    if (m_pieces.empty())
        return batch;
    batch.zeroCopy = m_pieces.front().eligible && zeroCopy;
    for (const Piece &piece : m_pieces) {
        if ((piece.eligible && zeroCopy) != batch.zeroCopy || batch.count == maxIov)
            break;
        if (batch.bytes >= budget) {
            batch.cutByBudget = true;
            break;
        }
        const qsizetype take = qMin(piece.remaining(), budget - batch.bytes);
        if (take < piece.remaining())
            batch.cutByBudget = true;
        iov[batch.count++] = {const_cast<char *>(piece.bytes.constData()) + piece.offset, size_t(take)};
        batch.bytes += take;
        if (batch.zeroCopy && held)
            held->append(piece.bytes);
        if (m_datagram && piece.messagesEnding > 0)
            break;
    }
    return batch;
}

quint64 SendQueue::advance(qsizetype bytes)
{
    m_bytes -= bytes;
    quint64 completed = 0;
    while (!m_pieces.empty() && (bytes > 0 || m_pieces.front().remaining() == 0)) {
        Piece &piece = m_pieces.front();
        const qsizetype take = qMin(bytes, piece.remaining());
        piece.offset += take;
        piece.priority = false; // once started, it can no longer be rewritten
        bytes -= take;
        if (piece.remaining() > 0)
            break;
        completed += quint64(piece.messagesEnding);
        m_frontStartsMidMessage = !piece.boundaryAtEnd;
        if (piece.staging && m_spareStaging.isNull() && piece.bytes.isDetached()) {
            m_spareStaging = std::move(piece.bytes);
            m_spareStaging.resize(0);
        }
        m_pieces.pop_front();
    }
    m_messages -= completed;
    return completed;
}

qint64 SendQueue::dropFrontDatagram()
{
    if (m_pieces.empty())
        return 0;
    const Piece &piece = m_pieces.front();
    const qint64 dropped = piece.remaining();
    m_bytes -= dropped;
    m_messages -= quint64(piece.messagesEnding);
    m_pieces.pop_front();
    return dropped;
}

void SendQueue::makeFrontDatagramCopied()
{
    for (Piece &piece : m_pieces) {
        piece.eligible = false;
        if (piece.messagesEnding > 0)
            break;
    }
}

SendQueue::Dropped SendQueue::clear()
{
    const Dropped dropped{m_messages, m_bytes};
    m_pieces.clear();
    m_bytes = 0;
    m_messages = 0;
    m_frontStartsMidMessage = false;
    return dropped;
}

} // namespace Blight
