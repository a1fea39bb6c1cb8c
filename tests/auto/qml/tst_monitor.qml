// SPDX-License-Identifier: MIT
// TransportMonitor on real sockets: state and counters follow the traffic,
// only on the sampling timer, completion ranges and events fill the logs,
// and the controls reach the socket.
import QtQuick
import QtTest
import Oxide.Blight.Transport
import BlightTest

TestCase {
    id: testCase
    name: "TransportMonitor"

    // Blight::BlightSocket::ZeroCopyMode
    readonly property int modeAuto: 0
    readonly property int modeOn: 1
    readonly property int modeOff: 2
    // BlightSocket::ZeroCopyBackend
    readonly property int backendMsgZeroCopy: 1
    readonly property int backendIoUring: 2

    Component {
        id: monitorComponent
        TransportMonitor {
            interval: 20
        }
    }

    SignalSpy {
        id: countersSpy
        signalName: "countersChanged"
    }

    function init() {
        // A binding or type error in the module's QML fails the test.
        failOnWarning(/\.qml:\d+/);
    }

    function cleanup() {
        countersSpy.target = null;
        countersSpy.clear();
        BlightTest.destroyAll();
    }

    function watch(socket) {
        const monitor = createTemporaryObject(monitorComponent, testCase, { socket: socket });
        verify(monitor, "monitor created");
        return monitor;
    }

    function test_noSocket() {
        const monitor = watch(null);
        compare(monitor.zeroCopyState, TransportMonitor.NoSocket);
        compare(monitor.badgeText, "NO SOCKET");
        compare(monitor.endpoint, "");
        compare(monitor.messagesSent, 0);
    }

    function test_unixCopyPath() {
        const pair = BlightTest.unixPair();
        compare(pair.length, 2, BlightTest.lastError);
        const sender = watch(pair[0]);
        const receiver = watch(pair[1]);

        compare(sender.socketKind, "AF_UNIX stream");
        compare(sender.connectionState, "connected");
        verify(sender.endpoint.length > 0);
        compare(sender.zeroCopyState, TransportMonitor.Unsupported);
        compare(sender.zeroCopyActive, false);
        compare(sender.badgeText, "COPY PATH: AF_UNIX");
        verify(sender.zeroCopyReason.indexOf("AF_UNIX") >= 0, sender.zeroCopyReason);
        verify(sender.zeroCopyThreshold > 0);
        compare(sender.messagesSent, 0);

        verify(BlightTest.sendMessages(pair[0], 25, 1000), BlightTest.lastError);
        // Sampled on the timer, never per message: nothing moved yet.
        compare(sender.messagesSent, 0);
        compare(receiver.messagesReceived, 0);

        tryCompare(receiver, "messagesReceived", 25);
        tryCompare(sender, "messagesSent", 25);
        verify(sender.bytesSent >= 25 * (12 + 1000), "bytesSent " + sender.bytesSent);
        verify(sender.copySends > 0);
        compare(sender.zeroCopySends, 0);
        compare(sender.completions, 0);
        compare(sender.pendingBytes, 0);
        compare(sender.rangeLog.count, 0);
        tryVerify(function() { return sender.peakThroughput > 0; });
        verify(sender.throughputHistory.length > 0);
        verify(receiver.receiveRate >= 0);
    }

    function test_onlyTheTimerSamples() {
        const pair = BlightTest.unixPair();
        const sender = watch(pair[0]);
        sender.interval = 60000; // effectively never within this test
        const receiver = watch(pair[1]);
        verify(BlightTest.sendMessages(pair[0], 30, 100), BlightTest.lastError);
        // The event loop ran (the receiver's monitor saw everything), yet the
        // sender's counters did not move: no per-message or per-signal updates.
        tryCompare(receiver, "messagesReceived", 30);
        compare(sender.messagesSent, 0);
        sender.sample();
        compare(sender.messagesSent, 30);

        sender.running = false;
        sender.interval = 20;
        verify(BlightTest.sendMessages(pair[0], 5, 100), BlightTest.lastError);
        tryCompare(receiver, "messagesReceived", 35);
        compare(sender.messagesSent, 30);
        sender.running = true;
        tryCompare(sender, "messagesSent", 35);
    }

    function test_countersChangeOncePerSample() {
        const pair = BlightTest.unixPair();
        const sender = watch(pair[0]);
        const receiver = watch(pair[1]);
        countersSpy.target = sender;
        const samplesBefore = sender.samples;
        verify(BlightTest.sendMessages(pair[0], 400, 200), BlightTest.lastError);
        tryCompare(receiver, "messagesReceived", 400);
        tryCompare(sender, "messagesSent", 400);
        verify(countersSpy.count >= 1);
        // At most one notification per sample, however many messages went.
        verify(countersSpy.count <= sender.samples - samplesBefore,
               countersSpy.count + " notifications for " + (sender.samples - samplesBefore) + " samples");
    }

    function test_zeroCopyRanges_data() {
        return [
            // Loopback copies every send: forced on, the badge says what the kernel did.
            { tag: "forced-on", mode: modeOn, backend: backendMsgZeroCopy, badge: "KERNEL COPIED",
              state: TransportMonitor.Active, backendText: "MSG_ZEROCOPY" },
            { tag: "auto-backs-off", mode: modeAuto, backend: backendMsgZeroCopy, badge: "BACKED OFF: KERNEL COPIES",
              state: TransportMonitor.BackedOff, backendText: "MSG_ZEROCOPY" },
            { tag: "forced-on-io_uring", mode: modeOn, backend: backendIoUring, badge: "KERNEL COPIED",
              state: TransportMonitor.Active, backendText: "io_uring" },
            { tag: "auto-backs-off-io_uring", mode: modeAuto, backend: backendIoUring,
              badge: "BACKED OFF: KERNEL COPIES", state: TransportMonitor.BackedOff, backendText: "io_uring" },
        ];
    }

    function test_zeroCopyRanges(data) {
        const pair = BlightTest.tcpPair(data.mode, 4096);
        compare(pair.length, 2, BlightTest.lastError);
        // Before the first send: the probe's verdict for this socket.
        pair[0].zeroCopyBackend = data.backend;
        if (pair[0].activeZeroCopyBackend !== data.backend)
            skip("backend not available here: " + pair[0].zeroCopyReason);
        const sender = watch(pair[0]);
        const receiver = watch(pair[1]);
        compare(sender.socketKind, "TCP / IPv4");
        compare(sender.zeroCopyThreshold, 4096);
        compare(sender.badgeText, "ZERO-COPY READY"); // nothing sent with it yet
        compare(sender.zeroCopyActive, true);

        // Keep sending large messages until the kernel has reported enough
        // completions: loopback copies, so every range says COPIED.
        let sent = 0;
        tryVerify(function() {
            verify(BlightTest.sendMessages(pair[0], 2, 64 * 1024), BlightTest.lastError);
            sent += 2;
            return sender.rangeLog.count >= 3 && sender.badgeText === data.badge;
        }, 10000, "ranges " + sender.rangeLog.count + ", badge " + sender.badgeText);

        compare(sender.zeroCopyState, data.state);
        compare(sender.zeroCopyBackend, data.backendText);
        verify(sender.zeroCopySends > 0);
        verify(sender.completions >= 3);
        verify(sender.copiedCompletions >= 3);
        verify(sender.rangesSeen >= sender.rangeLog.count);
        const newest = sender.rangeLog.get(0);
        compare(newest.copied, true);
        verify(newest.count >= 1);
        compare(newest.count, newest.hi - newest.lo + 1);
        verify(newest.time instanceof Date);
        if (data.mode === modeAuto)
            verify(sender.backOffs >= 1);

        // Everything arrives, and every zero-copy buffer is released.
        tryCompare(receiver, "messagesReceived", sent, 10000);
        tryCompare(sender, "pendingBuffers", 0, 10000);
        tryVerify(function() { return sender.releasedBuffers === sender.zeroCopySends; }, 10000);
        compare(sender.pendingBytes, 0);
        verify(sender.peakPendingBytes >= 64 * 1024);
        // The pending-bytes history runs beside the throughput, sample for sample.
        verify(sender.pendingHistory.length >= 2);
        compare(sender.pendingHistory.length, sender.throughputHistory.length);
        compare(sender.historyTimes.length, sender.throughputHistory.length);
        for (let i = 1; i < sender.historyTimes.length; ++i)
            verify(sender.historyTimes[i] > sender.historyTimes[i - 1], "times increase");
        verify(sender.releaseLatencyP50 > 0);
        verify(sender.releaseLatencyP99 >= sender.releaseLatencyP50);
    }

    function test_rangeLogIsCapped() {
        const pair = BlightTest.tcpPair(modeOn, 4096);
        const sender = watch(pair[0]);
        sender.rangeLog.capacity = 4;
        tryVerify(function() {
            verify(BlightTest.sendMessages(pair[0], 1, 32 * 1024));
            return sender.rangesSeen > 6;
        }, 10000);
        compare(sender.rangeLog.count, 4);
        // Newest first: ranges are handed out in id order on one socket.
        verify(sender.rangeLog.get(0).lo >= sender.rangeLog.get(3).hi);
    }

    function test_socketDestroyed() {
        const pair = BlightTest.unixPair();
        const monitor = watch(pair[0]);
        compare(monitor.badgeText, "COPY PATH: AF_UNIX");
        BlightTest.destroyAll();
        tryCompare(monitor, "zeroCopyState", TransportMonitor.NoSocket);
        compare(monitor.socket, null);
        compare(monitor.badgeText, "NO SOCKET");
    }

    function eventTexts(monitor) {
        const texts = [];
        for (let i = 0; i < monitor.eventLog.count; ++i) {
            const event = monitor.eventLog.get(i);
            texts.push(event.kind + ": " + event.text);
        }
        return texts;
    }

    function test_eventLogRecordsStateAndZeroCopy() {
        const pair = BlightTest.tcpPair(modeAuto, 4096);
        const sender = watch(pair[0]);
        // The first snapshot: watching, and the zero-copy state with its reason.
        compare(sender.eventLog.get(sender.eventLog.count - 1).text, "watching: connected");
        verify(sender.eventLog.get(sender.eventLog.count - 1).time instanceof Date);
        verify(eventTexts(sender).some(t => t.indexOf("ZERO-COPY: payloads of ") === 0),
               eventTexts(sender).join(" | "));
        // Loopback copies: auto backs off, and the back-off is in the history.
        tryVerify(function() {
            verify(BlightTest.sendMessages(pair[0], 2, 64 * 1024), BlightTest.lastError);
            return sender.backOffs >= 1;
        }, 10000);
        tryVerify(function() { return eventTexts(sender).some(t => t.indexOf("next probe in") >= 0); }, 5000,
                  eventTexts(sender).join(" | "));
        pair[0].close();
        tryCompare(sender, "connectionState", "closed", 10000);
        verify(eventTexts(sender).indexOf("STATE: unconnected") >= 0, eventTexts(sender).join(" | "));
        // Still says which connection it was.
        verify(sender.endpoint.indexOf("tcp://127.0.0.1:") === 0, sender.endpoint);
        compare(sender.socketKind, "TCP / IPv4");
    }

    function test_labelIsTheApplications() {
        const pair = BlightTest.unixPair();
        const monitor = watch(pair[0]);
        compare(monitor.label, "");
        monitor.label = "demo unix sender";
        compare(monitor.label, "demo unix sender");
    }

    function test_controlsReachTheSocket() {
        const pair = BlightTest.tcpPair(modeOn, 4096);
        const sender = watch(pair[0]);
        const receiver = watch(pair[1]);
        compare(sender.zeroCopyMode, "on");
        compare(receiver.readingPaused, false);

        receiver.requestReadingPaused(true);
        tryCompare(receiver, "readingPaused", true);
        compare(pair[1].readingPaused, true);
        verify(BlightTest.sendMessages(pair[0], 10, 100), BlightTest.lastError);
        tryCompare(sender, "messagesSent", 10);
        // Paused: nothing is read however long the event loop runs.
        wait(0);
        receiver.sample();
        compare(receiver.messagesReceived, 0);
        receiver.requestReadingPaused(false);
        tryCompare(receiver, "messagesReceived", 10);

        sender.requestZeroCopyMode("off");
        tryCompare(sender, "zeroCopyMode", "off");
        compare(pair[0].zeroCopyMode, modeOff);
        compare(sender.badgeText, "COPY PATH: ZERO-COPY OFF");
        sender.requestZeroCopyMode("auto");
        tryCompare(sender, "zeroCopyMode", "auto");

        sender.resetStatistics();
        tryCompare(sender, "messagesSent", 0);
        compare(pair[0].messagesSent, 0);
        compare(sender.throughputHistory.length, 0);
        verify(eventTexts(sender).indexOf("RESET: counters reset") >= 0, eventTexts(sender).join(" | "));
    }
}
