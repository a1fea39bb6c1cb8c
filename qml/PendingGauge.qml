// SPDX-License-Identifier: MIT
// Bytes pending release against the cap, with the peak marked, and the
// number of pending buffers in words.
import QtQuick
import Oxide.Blight.Transport

Column {
    id: gauge

    required property TransportMonitor monitor
    property real unit: 24
    readonly property real textSize: Math.max(20, unit * 0.85)

    spacing: unit * 0.3

    // "0%" only when nothing is pending: a little is "<1%".
    function percentText(fraction) {
        if (fraction > 0 && fraction < 0.01)
            return "<1%";
        return Math.round(fraction * 100) + "%";
    }

    Text {
        width: parent.width
        text: qsTr("Pending release: %1 of %2 (%3)")
            .arg(TransportFormat.bytes(gauge.monitor.pendingBytes))
            .arg(gauge.monitor.pendingBytesLimit > 0 ? TransportFormat.bytes(gauge.monitor.pendingBytesLimit) : qsTr("no cap"))
            .arg(gauge.percentText(gauge.monitor.pendingFraction))
        color: "black"
        font.pixelSize: gauge.textSize
        font.bold: true
        wrapMode: Text.Wrap
    }

    Rectangle {
        id: track
        width: parent.width
        height: gauge.unit * 1.0
        color: "white"
        border.color: "black"
        border.width: Math.max(3, gauge.unit / 6)

        Rectangle {
            objectName: "pendingFill"
            x: track.border.width
            y: track.border.width
            height: track.height - 2 * track.border.width
            width: (track.width - 2 * track.border.width) * gauge.monitor.pendingFraction
            color: "black"
        }
        // The peak, as a tall tick above and below the bar.
        Rectangle {
            visible: gauge.monitor.peakPendingBytes > 0
            x: track.border.width + (track.width - 2 * track.border.width) * gauge.monitor.peakPendingFraction - width / 2
            y: -gauge.unit * 0.3
            width: Math.max(3, gauge.unit / 6)
            height: track.height + gauge.unit * 0.6
            color: "black"
        }
    }

    Text {
        width: parent.width
        text: qsTr("%1 buffers pending (limit %2) · peak %3 · queued %4")
            .arg(gauge.monitor.pendingBuffers)
            .arg(gauge.monitor.pendingBuffersLimit > 0 ? gauge.monitor.pendingBuffersLimit : qsTr("none"))
            .arg(TransportFormat.bytes(gauge.monitor.peakPendingBytes))
            .arg(TransportFormat.bytes(gauge.monitor.queuedBytes))
        color: "black"
        font.pixelSize: gauge.textSize
        elide: Text.ElideRight
    }
}
