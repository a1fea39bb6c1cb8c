// SPDX-License-Identifier: MIT
// LinkRun: one link (an AF_UNIX socket pair, or TCP on loopback) with a producer and a receiver on it.
#pragma once

#include "frameproducer.h"
#include "linkreport.h"

#include <BlightTransport/blightserver.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QElapsedTimer>
#include <QtCore/QObject>
#include <QtCore/QTimer>

namespace FrameRing {

class FrameReceiver;

/*!
    Sets up both ends of one link in this thread, streams the frames and
    ends when the receiver has every frame and the producer every release
    (or on an error, or after a generous time limit). finished() follows;
    report() then says what happened.
*/
class LinkRun : public QObject
{
    Q_OBJECT

public:
    enum class Link { Unix, Tcp };

    LinkRun(Link link, const FrameProducer::Options &options, QObject *parent = nullptr);
    ~LinkRun() override;

    void start();
    LinkReport report() const { return m_report; }

Q_SIGNALS:
    void finished();

private:
    void startUnix();
    void startTcp();
    void acceptTcp();
    void watch(Blight::BlightSocket *socket);
    void startStreaming();
    void checkDone();
    void finish(const QString &error);

    Link m_link;
    FrameProducer::Options m_options;
    Blight::BlightSocket *m_sender = nullptr;
    Blight::BlightSocket *m_receiving = nullptr;
    Blight::BlightServer *m_server = nullptr;
    FrameProducer *m_producer = nullptr;
    FrameReceiver *m_receiver = nullptr;
    QTimer m_deadline;
    QElapsedTimer m_clock;
    qint64 m_lastFrameNs = 0;
    bool m_producerDone = false;
    bool m_receiverDone = false;
    bool m_finished = false;
    LinkReport m_report;
};

} // namespace FrameRing
