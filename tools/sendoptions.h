// SPDX-License-Identifier: MIT
// The options of blight-transport send, parsed and checked before anything is sent.
#pragma once

#include <BlightTransport/blightsocket.h>
#include <BlightTransport/protocol.h>

#include <QtCore/QByteArray>
#include <QtCore/QString>
#include <QtCore/QStringList>

#include <optional>

namespace Blight::Cli {

struct SendOptions
{
    QString endpoint;
    MessageType type = MessageType::Repaint;
    qint64 count = 1;
    BlightSocket::ZeroCopyMode zeroCopyMode = BlightSocket::ZeroCopyMode::Auto;
    std::optional<qint64> zeroCopyThreshold;
    bool waitAcks = false;
    int timeoutMs = 0; //!< 0: no limit
    /*! Pattern payloads of this size (message k gets patternPayload(k, size)),
        unless fixedPayload is set. */
    qint64 patternSize = 0;
    std::optional<QByteArray> fixedPayload;
    /*! --pool: send from a BlightBufferPool of this many buffers (0: no pool). */
    int poolBuffers = 0;
    /*! --shared-memory: sharedMemoryEnabled on the socket, and the pool (of
        poolBuffers, set by default when --pool is not given) backed by a sealed memfd. */
    bool sharedMemory = false;

    /*! The payload of message \a k. */
    QByteArray payload(qint64 k) const;
    /*! The size of every message's payload. */
    qsizetype payloadSize() const;
    /*! Writes the payload of message \a k to \a out (payloadSize() bytes). */
    void writePayload(qint64 k, char *out) const;
};

/*!
    Parses and checks every option of send. Returns nullopt with \a exitCode
    set when the command must stop: after --help or --version (0), or after a
    bad option, printed (2).
*/
std::optional<SendOptions> parseSendOptions(const QStringList &arguments, int *exitCode);

} // namespace Blight::Cli
