// SPDX-License-Identifier: MIT
// The detail of one socket: heading and badge, shared-memory mapping, controls, pending gauge, counters,
// throughput and pending-bytes histories, event history, released ranges and latency.
import QtQuick
import Oxide.Blight.Transport

Column {
    id: view

    required property TransportMonitor monitor
    property real unit: 24
    /*! Rows of the event history and of the released-range log. */
    property int logRows: 6
    readonly property real textSize: Math.max(20, unit * 0.85)

    spacing: unit * 0.5

    // Heading: the application's label, then endpoint, kind and state; the badge says what happened.
    Item {
        width: parent.width
        height: Math.max(headerText.implicitHeight, badge.height)

        Column {
            id: headerText
            anchors.left: parent.left
            anchors.right: badge.left
            anchors.rightMargin: view.unit
            spacing: view.unit * 0.1

            Text {
                objectName: "labelText"
                width: parent.width
                text: view.monitor.label.length > 0 ? view.monitor.label : qsTr("(no label)")
                color: "black"
                font.pixelSize: view.unit * 1.2
                font.bold: true
                elide: Text.ElideRight
            }
            Text {
                objectName: "endpointText"
                width: parent.width
                text: (view.monitor.endpoint.length > 0 ? view.monitor.endpoint : qsTr("(no endpoint)"))
                      + " · " + view.monitor.socketKind + " · " + view.monitor.connectionState
                color: "black"
                font.pixelSize: view.textSize
                font.family: "DejaVu Sans Mono"
                elide: Text.ElideMiddle
            }
        }

        ZeroCopyBadge {
            id: badge
            objectName: "zeroCopyBadge"
            anchors.right: parent.right
            anchors.verticalCenter: parent.verticalCenter
            unit: view.unit
            text: view.monitor.badgeText
            active: view.monitor.zeroCopyActive
        }
    }

    Text {
        objectName: "zeroCopyReason"
        width: parent.width
        visible: text.length > 0
        text: view.monitor.zeroCopyReason
        color: "black"
        font.pixelSize: view.textSize
        font.italic: true
        wrapMode: Text.Wrap
        maximumLineCount: 2
        elide: Text.ElideRight
    }

    // Only where shared memory is in play, so that other sockets keep their layout.
    Text {
        objectName: "sharedMemoryText"
        width: parent.width
        visible: view.monitor.zeroCopyState === TransportMonitor.SharedMemory || view.monitor.mappedBytes > 0
        text: qsTr("Shared memory: %1 of the peer's pools mapped").arg(TransportFormat.bytes(view.monitor.mappedBytes))
        color: "black"
        font.pixelSize: view.textSize
        font.bold: true
        elide: Text.ElideRight
    }

    ControlBar {
        objectName: "controlBar"
        width: parent.width
        unit: view.unit
        monitor: view.monitor
    }

    PendingGauge {
        objectName: "pendingGauge"
        width: parent.width
        unit: view.unit
        monitor: view.monitor
    }

    CounterGrid {
        width: parent.width
        unit: view.unit
        monitor: view.monitor
    }

    Row {
        width: parent.width
        spacing: view.unit

        HistoryChart {
            objectName: "throughputChart"
            width: (parent.width - parent.spacing) / 2
            unit: view.unit
            plotHeight: view.unit * 6
            values: view.monitor.throughputHistory
            times: view.monitor.historyTimes
            formatValue: function(value) { return TransportFormat.bytes(value) + "/s"; }
            title: qsTr("Throughput %1/s, peak %2/s")
                .arg(TransportFormat.bytes(view.monitor.throughput))
                .arg(TransportFormat.bytes(view.monitor.peakThroughput))
        }
        HistoryChart {
            objectName: "pendingChart"
            width: (parent.width - parent.spacing) / 2
            unit: view.unit
            plotHeight: view.unit * 6
            values: view.monitor.pendingHistory
            times: view.monitor.historyTimes
            formatValue: function(value) { return TransportFormat.bytes(value); }
            title: qsTr("Pending release %1, peak %2")
                .arg(TransportFormat.bytes(view.monitor.pendingBytes))
                .arg(TransportFormat.bytes(view.monitor.peakPendingBytes))
        }
    }

    Row {
        width: parent.width
        spacing: view.unit

        EventLog {
            objectName: "eventLog"
            width: (parent.width - parent.spacing) * 0.62
            unit: view.unit
            maxRows: view.logRows
            monitor: view.monitor
        }
        RangeLog {
            objectName: "rangeLog"
            width: (parent.width - parent.spacing) * 0.38
            unit: view.unit
            maxRows: view.logRows
            monitor: view.monitor
        }
    }

    Text {
        objectName: "latencyText"
        width: parent.width
        text: qsTr("Release latency  p50 %1   p99 %2   max %3")
            .arg(TransportFormat.microseconds(view.monitor.releaseLatencyP50))
            .arg(TransportFormat.microseconds(view.monitor.releaseLatencyP99))
            .arg(TransportFormat.microseconds(view.monitor.releaseLatencyMax))
        color: "black"
        font.pixelSize: view.textSize
        font.bold: true
        elide: Text.ElideRight
    }
}
