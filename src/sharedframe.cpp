// SPDX-License-Identifier: MIT
// Frames received in shared memory (see sharedframe_p.h).
#include "sharedframe_p.h"
#include "mappedregion_p.h"

#include <QtCore/QCoreApplication>

#include <atomic>

namespace Blight {

namespace {

struct ReceivedFrame final : Detail::BufferBlock
{
    MappedRegion *region = nullptr;
    ReleaseChannel *channel = nullptr;
    quint32 token = 0;
    std::atomic<bool> released{false};

    void release()
    {
        if (!released.exchange(true))
            channel->post(token);
    }
    void recycle() override
    {
        release();
        channel->deref();
        region->deref(); // may unmap: the last handle is gone
        delete this;
    }
};

ReceivedFrame *asReceivedFrame(const BlightBuffer &buffer)
{
    Detail::BufferBlock *block = Detail::BufferAccess::block(buffer);
    return block && block->shared && !block->pooled ? static_cast<ReceivedFrame *>(block) : nullptr;
}

} // namespace

QEvent::Type ReleaseChannel::eventType()
{
    static const auto type = QEvent::Type(QEvent::registerEventType());
    return type;
}

void ReleaseChannel::post(quint32 token)
{
    QMutexLocker locker(&m_mutex);
    if (!m_socket)
        return;
    m_tokens.push_back(token);
    if (!std::exchange(m_posted, true))
        QCoreApplication::postEvent(m_socket, new QEvent(eventType()));
}

void ReleaseChannel::take(std::vector<quint32> *out)
{
    out->clear();
    QMutexLocker locker(&m_mutex);
    m_posted = false;
    std::swap(*out, m_tokens);
}

void ReleaseChannel::close()
{
    QMutexLocker locker(&m_mutex);
    m_socket = nullptr;
    m_tokens.clear();
}

BlightBuffer makeReceivedFrame(MappedRegion *region, const char *data, qsizetype length, ReleaseChannel *channel,
                               quint32 token)
{
    auto *frame = new ReceivedFrame;
    frame->payload = const_cast<char *>(data); // mapped PROT_READ: writable is false
    frame->size = length;
    frame->capacity = length;
    frame->writable = false;
    frame->shared = true;
    frame->region = region;
    frame->channel = channel;
    frame->token = token;
    region->ref();
    channel->ref();
    return Detail::BufferAccess::adopt(frame);
}

bool releaseReceivedFrame(const BlightBuffer &buffer)
{
    ReceivedFrame *frame = asReceivedFrame(buffer);
    if (!frame || frame->released.load())
        return false;
    frame->release();
    return true;
}

} // namespace Blight
