// SPDX-License-Identifier: MIT
// TransportPanel on real sockets: rows carry the application's labels, the badge
// states the path in words, the controls work by touch, the banner says the result.
import QtQuick
import QtTest
import Oxide.Blight.Transport
import BlightTest

TestCase {
    id: testCase
    name: "TransportPanel"
    when: windowShown
    // Shown, so that visibility and touch on the panel are real.
    visible: true
    width: 702
    height: 936

    Component {
        id: panelComponent
        TransportPanel {
            width: 702
            height: 936
            interval: 20
        }
    }

    function init() {
        // A binding or type error in the module's QML fails the test.
        failOnWarning(/\.qml:\d+/);
    }

    function cleanup() {
        BlightTest.destroyAll();
    }

    function makePanel(sockets) {
        const panel = createTemporaryObject(panelComponent, testCase, { sockets: sockets });
        verify(panel, "panel created");
        tryVerify(function() { return panel.monitors.length === sockets.length; });
        return panel;
    }

    function test_unixBadgeAndCounters() {
        const pair = BlightTest.unixPair();
        const panel = makePanel([pair[0], pair[1]]);
        const badge = findChild(panel, "zeroCopyBadge");
        verify(badge);
        compare(badge.text, "COPY PATH: AF_UNIX");
        compare(badge.active, false);
        const endpoint = findChild(panel, "endpointText");
        verify(panel.monitors[0].endpoint.length > 0);
        compare(endpoint.text.indexOf(panel.monitors[0].endpoint), 0, endpoint.text);

        verify(BlightTest.sendMessages(pair[0], 30, 500), BlightTest.lastError);
        const sentText = findChild(panel, "counter_messagesSent");
        verify(sentText);
        tryCompare(sentText, "text", "30");
        tryCompare(panel.monitors[1], "messagesReceived", 30);
        const log = findChild(panel, "rangeLog");
        verify(log);
        compare(panel.monitors[0].rangeLog.count, 0);
    }

    function test_tcpZeroCopyFillsRangeLog() {
        const pair = BlightTest.tcpPair(1 /* ZeroCopyMode.On */, 4096);
        const panel = makePanel([pair[0]]);
        const badge = findChild(panel, "zeroCopyBadge");
        compare(badge.text, "ZERO-COPY READY");
        compare(badge.active, true);
        const monitor = panel.monitors[0];
        tryVerify(function() {
            verify(BlightTest.sendMessages(pair[0], 2, 64 * 1024), BlightTest.lastError);
            return monitor.rangeLog.count >= 3;
        }, 10000);
        const copied = findChild(panel, "counter_copiedCompletions");
        verify(Number(copied.text.replace(/,/g, "")) >= 1, copied.text);
        // Loopback: the kernel copied every send, and the badge says so.
        tryCompare(badge, "text", "KERNEL COPIED");
        const gauge = findChild(panel, "pendingGauge");
        verify(gauge);
        const latency = findChild(panel, "latencyText");
        tryVerify(function() { return latency.text.indexOf("µs") >= 0 || latency.text.indexOf("ms") >= 0; },
                  5000, latency.text);
    }

    function test_noSockets() {
        const panel = createTemporaryObject(panelComponent, testCase, { sockets: [] });
        verify(panel);
        compare(panel.monitors.length, 0);
    }

    function test_labelsInRowsAndSelection() {
        const pair = BlightTest.unixPair();
        const panel = createTemporaryObject(panelComponent, testCase,
                                            { sockets: [pair[0], pair[1]], labels: ["demo unix sender"] });
        tryVerify(function() { return panel.monitors.length === 2; });
        compare(panel.monitors[0].label, "demo unix sender");
        // No label given: the socket's objectName, else its position.
        compare(panel.monitors[1].label, "socket 2");
        const detailLabel = findChild(panel, "labelText");
        compare(detailLabel.text, "demo unix sender");
        panel.currentIndex = 1;
        tryCompare(findChild(panel, "labelText"), "text", "socket 2");
    }

    function test_controlsByTouch() {
        const pair = BlightTest.unixPair();
        const panel = makePanel([pair[0], pair[1]]);
        panel.currentIndex = 1;
        tryCompare(findChild(panel, "labelText"), "text", "socket 2");
        const pause = findChild(panel, "pauseReading");
        verify(pause);
        mouseClick(pause);
        tryCompare(panel.monitors[1], "readingPaused", true);
        compare(pair[1].readingPaused, true);
        mouseClick(findChild(panel, "pauseReading"));
        tryCompare(panel.monitors[1], "readingPaused", false);

        verify(BlightTest.sendMessages(pair[0], 5, 100), BlightTest.lastError);
        tryCompare(panel.monitors[1], "messagesReceived", 5);
        mouseClick(findChild(panel, "resetCounters"));
        tryCompare(panel.monitors[1], "messagesReceived", 0);
        compare(pair[1].messagesReceived, 0);
    }

    function test_resultBanner_data() {
        return [
            { tag: "verified", verified: true, text: "RESULT: EVERY BYTE CHECKED: YES" },
            { tag: "failed", verified: false, text: "RESULT: EVERY BYTE CHECKED: NO" },
        ];
    }

    function test_resultBanner(data) {
        const panel = makePanel([]);
        const banner = findChild(panel, "resultBanner");
        verify(banner);
        compare(banner.visible, false);
        panel.verified = data.verified;
        panel.resultDetail = "a detail";
        panel.finished = true;
        compare(banner.visible, true);
        compare(findChild(panel, "resultText").text, data.text);
    }
}
