// SPDX-License-Identifier: MIT
// The fixture of tst_deletion: a socket made with new, its peers, and a slot that deletes it from the row's signal.
#pragma once

#include "deletionrows.h"

#include <BlightTransport/blightserver.h>
#include <BlightTransport/blightsocket.h>

#include <QtCore/QMetaMethod>
#include <QtCore/QObject>
#include <QtCore/QPointer>

#include <functional>
#include <memory>

class tst_Deletion : public QObject
{
    Q_OBJECT

public Q_SLOTS:
    // Not a test function (public): connected to the row's signal.
    void deleteSocket();

private Q_SLOTS:
    void init();
    void cleanup();
    void deleteFromSignal_data();
    void deleteFromSignal();
    void everyEmitSiteHasARow();
    void siteCheckSeesANewEmit();

private:
    // Building scenarios.
    bool adoptUnixPair(Blight::BlightSocket::Mode mode = Blight::BlightSocket::Mode::Messages);
    bool adoptRawPeer(Blight::BlightSocket::Mode mode = Blight::BlightSocket::Mode::Messages);
    bool takeTcpPair();
    bool adoptUdpPair(Blight::BlightSocket::Mode mode, quint16 peerPort = 0);
    bool listenUdp(Blight::BlightSocket::Mode mode);
    int unusedPort(int type);
    bool writeToPeer(const QByteArray &bytes);
    bool fillQueueBehindSlowReader(int messages);
    void arm();
    void call(const std::function<void()> &action);
    void run(DeletionRows::Scenario scenario);

    Blight::BlightSocket *m_socket = nullptr;
    QPointer<Blight::BlightSocket> m_watch;
    QPointer<QObject> m_engine;
    std::unique_ptr<Blight::BlightSocket> m_peer;
    std::unique_ptr<Blight::BlightServer> m_server;
    QList<int> m_fds; // raw peers and placeholders, closed in cleanup()
    int m_rawFd = -1;
    QString m_skip;

    // The row's deleter.
    QMetaMethod m_signal;
    DeletionRows::When m_when = DeletionRows::When::Any;
    int m_onlyInState = -1;
    bool (*m_ready)(const Blight::BlightSocket *) = nullptr;
    bool m_inCall = false;
    bool m_fired = false;
    bool m_firedInCall = false;
    bool m_deletedInNestedLoop = false;
};
