// One socket in the panel: header and badge, pending gauge, counters,
// throughput sparkline, release latency and the log of released ranges.
import QtQuick
import Oxide.Blight.Transport

Column {
    id: view

    property QtObject socket
    property real unit: 16
    property int interval: 100
    property bool showSeparator: false
    /*! Rows of the released-range log to show. */
    property int rangeRows: 20
    readonly property TransportMonitor monitor: transportMonitor

    spacing: unit * 0.75

    TransportMonitor {
        id: transportMonitor
        socket: view.socket
        interval: view.interval
    }

    Rectangle {
        visible: view.showSeparator
        width: parent.width
        height: Math.max(3, view.unit / 6)
        color: "black"
    }

    // Header: endpoint, kind and connection state; the badge says the zero-copy state in words.
    Item {
        width: parent.width
        height: Math.max(headerText.implicitHeight, badge.height)

        Column {
            id: headerText
            anchors.left: parent.left
            anchors.right: badge.left
            anchors.rightMargin: view.unit
            spacing: view.unit * 0.2

            Text {
                objectName: "endpointText"
                width: parent.width
                text: transportMonitor.endpoint.length > 0 ? transportMonitor.endpoint : qsTr("(no endpoint)")
                color: "black"
                font.pixelSize: view.unit * 1.3
                font.bold: true
                font.family: "DejaVu Sans Mono"
                elide: Text.ElideMiddle
            }
            Text {
                width: parent.width
                text: transportMonitor.socketKind + " · " + transportMonitor.connectionState
                color: "black"
                font.pixelSize: view.unit
                elide: Text.ElideRight
            }
        }

        ZeroCopyBadge {
            id: badge
            objectName: "zeroCopyBadge"
            anchors.right: parent.right
            anchors.verticalCenter: parent.verticalCenter
            unit: view.unit
            text: transportMonitor.badgeText
            active: transportMonitor.zeroCopyActive
        }
    }

    Text {
        objectName: "zeroCopyReason"
        width: parent.width
        visible: text.length > 0
        text: transportMonitor.zeroCopyReason
        color: "black"
        font.pixelSize: view.unit * 0.85
        font.italic: true
        wrapMode: Text.Wrap
    }

    PendingGauge {
        objectName: "pendingGauge"
        width: parent.width
        unit: view.unit
        monitor: transportMonitor
    }

    CounterGrid {
        width: parent.width
        unit: view.unit
        monitor: transportMonitor
    }

    Sparkline {
        objectName: "throughputSparkline"
        width: parent.width
        height: view.unit * 5
        unit: view.unit
        values: transportMonitor.throughputHistory
        label: qsTr("Throughput %1/s (send %2/s, receive %3/s), peak %4/s")
            .arg(TransportFormat.bytes(transportMonitor.throughput))
            .arg(TransportFormat.bytes(transportMonitor.sendRate))
            .arg(TransportFormat.bytes(transportMonitor.receiveRate))
            .arg(TransportFormat.bytes(transportMonitor.peakThroughput))
    }

    Text {
        objectName: "latencyText"
        width: parent.width
        text: qsTr("Release latency  p50 %1   p99 %2   max %3")
            .arg(TransportFormat.microseconds(transportMonitor.releaseLatencyP50))
            .arg(TransportFormat.microseconds(transportMonitor.releaseLatencyP99))
            .arg(TransportFormat.microseconds(transportMonitor.releaseLatencyMax))
        color: "black"
        font.pixelSize: view.unit
        font.bold: true
        wrapMode: Text.Wrap
    }

    RangeLog {
        objectName: "rangeLog"
        width: parent.width
        maxRows: view.rangeRows
        unit: view.unit
        monitor: transportMonitor
    }
}
