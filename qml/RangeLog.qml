// The last released zero-copy ranges, newest first: lo..hi, how many sends,
// when, and whether the kernel copied after all (in words).
pragma ComponentBehavior: Bound

import QtQuick
import Oxide.Blight.Transport

Column {
    id: log

    required property TransportMonitor monitor
    property real unit: 16
    /*! Rows shown at most; the model keeps its own capacity. */
    property int maxRows: 20

    spacing: unit * 0.2

    Text {
        width: parent.width
        text: qsTr("Released ranges (last %1 of %2)").arg(Math.min(log.monitor.rangeLog.count, log.maxRows)).arg(log.monitor.rangesSeen)
        color: "black"
        font.pixelSize: log.unit
        font.bold: true
    }

    Text {
        visible: log.monitor.rangeLog.count === 0
        width: parent.width
        text: log.monitor.completions > 0
              ? qsTr("%1 completions arrived before this panel was watching.").arg(log.monitor.completions)
              : log.monitor.zeroCopySends > 0 ? qsTr("Waiting for the kernel to release buffers…")
                                              : qsTr("No zero-copy sends, so no ranges to release.")
        color: "black"
        font.pixelSize: log.unit * 0.85
        font.italic: true
        wrapMode: Text.Wrap
    }

    Rectangle {
        visible: log.monitor.rangeLog.count > 0
        width: parent.width
        height: 2
        color: "black"
    }

    Repeater {
        model: log.monitor.rangeLog
        delegate: Row {
            id: entry
            required property int index
            required property real lo
            required property real hi
            required property real count
            required property date time
            required property bool copied
            spacing: log.unit
            visible: entry.index < log.maxRows
            height: visible ? implicitHeight : 0
            Text {
                width: log.width * 0.42
                text: entry.lo + ".." + entry.hi
                color: "black"
                font.pixelSize: log.unit * 0.85
                font.family: "DejaVu Sans Mono"
                elide: Text.ElideRight
            }
            Text {
                width: log.width * 0.14
                text: entry.count === 1 ? qsTr("1 send") : qsTr("%1 sends").arg(entry.count)
                color: "black"
                font.pixelSize: log.unit * 0.85
            }
            Text {
                width: log.width * 0.2
                text: Qt.formatTime(entry.time, "hh:mm:ss.zzz")
                color: "black"
                font.pixelSize: log.unit * 0.85
                font.family: "DejaVu Sans Mono"
            }
            Text {
                text: entry.copied ? qsTr("COPIED") : qsTr("zero-copy")
                color: "black"
                font.pixelSize: log.unit * 0.85
                font.bold: entry.copied
            }
        }
    }
}
