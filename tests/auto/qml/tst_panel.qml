// TransportPanel on real sockets: the badge states the path in words, the
// counters and the range log fill as messages go.
import QtQuick
import QtTest
import Oxide.Blight.Transport
import BlightTest

TestCase {
    id: testCase
    name: "TransportPanel"
    when: windowShown
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
        compare(endpoint.text, panel.monitors[0].endpoint);

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
        compare(badge.text, "ZERO-COPY ACTIVE");
        compare(badge.active, true);
        const monitor = panel.monitors[0];
        tryVerify(function() {
            verify(BlightTest.sendMessages(pair[0], 2, 64 * 1024), BlightTest.lastError);
            return monitor.rangeLog.count >= 3;
        }, 10000);
        const copied = findChild(panel, "counter_copiedCompletions");
        verify(Number(copied.text.replace(/,/g, "")) >= 1, copied.text);
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
}
