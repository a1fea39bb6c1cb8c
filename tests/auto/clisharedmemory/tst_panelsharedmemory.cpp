// SPDX-License-Identifier: MIT
// The panel on a live shared-memory pair: TransportMonitor reports the
// SharedMemory state and the receiver's mapped bytes, and TransportView shows
// both in words; on a pair where only one side enabled shared memory, neither.
#include "transportmonitor.h"

#include "rawsockets.h"

#include <BlightTransport/blightbufferpool.h>
#include <BlightTransport/blightsocket.h>

#include <QtQml/QQmlComponent>
#include <QtQml/QQmlEngine>
#include <QtQuick/QQuickItem>
#include <QtQuick/QQuickWindow>
#include <QtTest/QTest>

#include <cstring>
#include <memory>

using Blight::BlightBuffer;
using Blight::BlightBufferPool;
using Blight::BlightSocket;
using Blight::TransportMonitor;

namespace {

constexpr qsizetype FrameSize = 256 * 1024;

QQuickItem *findItem(QQuickItem *root, const QString &name)
{
    if (root->objectName() == name)
        return root;
    const QList<QQuickItem *> children = root->childItems();
    for (QQuickItem *child : children) {
        if (QQuickItem *found = findItem(child, name))
            return found;
    }
    return nullptr;
}

} // namespace

class tst_PanelSharedMemory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void stateAndMappedBytes_data();
    void stateAndMappedBytes();

private:
    bool makePair(bool senderShared, bool receiverShared);
    std::unique_ptr<QQuickItem> createView(QQmlEngine *engine, TransportMonitor *monitor);

    std::unique_ptr<BlightBufferPool> m_pool; // outlives the sockets' sends
    std::unique_ptr<BlightSocket> m_sender;
    std::unique_ptr<BlightSocket> m_receiver;
    QList<BlightBuffer> m_held; // frames the receiver keeps, so that their pool stays mapped
    int m_copies = 0;           // frames that came through messageReceived() instead
};

void tst_PanelSharedMemory::init()
{
    // A binding or type error in the panel's QML fails the test.
    QTest::failOnWarning(QRegularExpression(QStringLiteral("\\.qml:\\d+")));
}

void tst_PanelSharedMemory::cleanup()
{
    m_held.clear();
    m_receiver.reset();
    m_sender.reset();
    m_pool.reset();
    m_copies = 0;
}

bool tst_PanelSharedMemory::makePair(bool senderShared, bool receiverShared)
{
    RawSockets::UniqueFd a;
    RawSockets::UniqueFd b;
    if (!RawSockets::unixPair(&a, &b))
        return false;
    m_pool = std::make_unique<BlightBufferPool>(2, FrameSize, BlightBufferPool::Backing::SharedMemory);
    m_sender = std::make_unique<BlightSocket>(BlightSocket::Mode::Messages);
    m_receiver = std::make_unique<BlightSocket>(BlightSocket::Mode::Messages);
    m_sender->setSharedMemoryEnabled(senderShared);
    m_receiver->setSharedMemoryEnabled(receiverShared);
    QObject::connect(m_receiver.get(), &BlightSocket::bufferReceived, m_receiver.get(),
                     [this](Blight::MessageType, quint32, const BlightBuffer &frame) { m_held.append(frame); });
    QObject::connect(m_receiver.get(), &BlightSocket::messageReceived, m_receiver.get(),
                     [this](const Blight::Message &message) {
                         if (message.type() == Blight::MessageType::Ack && !message.payload.isEmpty())
                             ++m_copies;
                     });
    return m_pool->isValid() && m_sender->setSocketDescriptor(a.release())
        && m_receiver->setSocketDescriptor(b.release());
}

std::unique_ptr<QQuickItem> tst_PanelSharedMemory::createView(QQmlEngine *engine, TransportMonitor *monitor)
{
    engine->addImportPath(QStringLiteral(BLIGHT_QML_BUILD_DIR));
    QQmlComponent component(engine);
    component.setData(QByteArrayLiteral("import Oxide.Blight.Transport\nTransportView { width: 1404 }\n"),
                      QUrl(QStringLiteral("tst_panelsharedmemory.qml")));
    std::unique_ptr<QObject> object(
        component.createWithInitialProperties({{QStringLiteral("monitor"), QVariant::fromValue(monitor)}}));
    if (!object)
        qWarning("%s", qPrintable(component.errorString()));
    return std::unique_ptr<QQuickItem>(qobject_cast<QQuickItem *>(object.release()));
}

void tst_PanelSharedMemory::stateAndMappedBytes_data()
{
    QTest::addColumn<bool>("senderShared");
    QTest::addColumn<bool>("receiverShared");
    QTest::addRow("both-sides") << true << true;
    QTest::addRow("sender-only") << true << false;
    QTest::addRow("receiver-only") << false << true;
}

void tst_PanelSharedMemory::stateAndMappedBytes()
{
    QFETCH(bool, senderShared);
    QFETCH(bool, receiverShared);
    const bool agreed = senderShared && receiverShared;
    QVERIFY(makePair(senderShared, receiverShared));
    if (agreed)
        QTRY_VERIFY(m_sender->isSharedMemoryActive() && m_receiver->isSharedMemoryActive());

    TransportMonitor senderMonitor;
    TransportMonitor receiverMonitor;
    senderMonitor.setInterval(20);
    receiverMonitor.setInterval(20);
    senderMonitor.setSocket(m_sender.get());
    receiverMonitor.setSocket(m_receiver.get());
    if (agreed) {
        QTRY_COMPARE(receiverMonitor.zeroCopyState(), TransportMonitor::ZeroCopyState::SharedMemory);
        QCOMPARE(receiverMonitor.badgeText(), QStringLiteral("SHARED MEMORY READY")); // no frame yet
    }

    BlightBuffer frame = m_pool->acquire();
    QVERIFY(!frame.isNull());
    std::memset(frame.data(), 0x5a, size_t(frame.size()));
    QVERIFY(m_sender->sendBuffer(Blight::MessageType::Ack, 1, frame) != 0);
    frame = BlightBuffer();
    QTRY_COMPARE(int(m_held.size()) + m_copies, 1);
    QCOMPARE(int(m_held.size()), agreed ? 1 : 0);

    QQmlEngine engine;
    QQuickWindow window; // the view's charts want a window to live in
    window.resize(1404, 1872);
    if (agreed) {
        // The receiver maps the sender's pool and keeps it mapped while it holds the frame.
        QVERIFY(m_receiver->mappedBytes() >= FrameSize);
        QTRY_COMPARE(receiverMonitor.mappedBytes(), double(m_receiver->mappedBytes()));
        QTRY_COMPARE(receiverMonitor.badgeText(), QStringLiteral("SHARED MEMORY"));
        QCOMPARE(receiverMonitor.pathText(), QStringLiteral("SHARED MEMORY"));
        QTRY_COMPARE(senderMonitor.zeroCopyState(), TransportMonitor::ZeroCopyState::SharedMemory);
        QTRY_COMPARE(senderMonitor.badgeText(), QStringLiteral("SHARED MEMORY"));
        QCOMPARE(senderMonitor.mappedBytes(), 0.0); // its own pool is not a mapping of a peer's
    } else {
        receiverMonitor.sample();
        senderMonitor.sample();
        QCOMPARE(m_receiver->mappedBytes(), qint64(0));
        QCOMPARE(receiverMonitor.mappedBytes(), 0.0);
        QVERIFY(receiverMonitor.zeroCopyState() != TransportMonitor::ZeroCopyState::SharedMemory);
        QVERIFY(senderMonitor.zeroCopyState() != TransportMonitor::ZeroCopyState::SharedMemory);
        QVERIFY2(!receiverMonitor.badgeText().contains(u"SHARED"), qPrintable(receiverMonitor.badgeText()));
        QVERIFY2(!senderMonitor.badgeText().contains(u"SHARED"), qPrintable(senderMonitor.badgeText()));
    }

    // The detail view: the badge's words, and a line with the mapped bytes
    // only where shared memory is in play.
    for (TransportMonitor *monitor : {&receiverMonitor, &senderMonitor}) {
        std::unique_ptr<QQuickItem> view = createView(&engine, monitor);
        QVERIFY(view);
        view->setParentItem(window.contentItem());
        QQuickItem *badge = findItem(view.get(), QStringLiteral("zeroCopyBadge"));
        QVERIFY(badge);
        QCOMPARE(badge->property("text").toString(), monitor->badgeText());
        QQuickItem *line = findItem(view.get(), QStringLiteral("sharedMemoryText"));
        QVERIFY(line);
        QCOMPARE(line->isVisible(), agreed);
        if (agreed)
            QCOMPARE(line->property("text").toString(),
                     QStringLiteral("Shared memory: %1 of the peer's pools mapped")
                         .arg(TransportMonitor::formatBytes(monitor->mappedBytes())));
    }
}

QTEST_MAIN(tst_PanelSharedMemory)
#include "tst_panelsharedmemory.moc"
