// SPDX-License-Identifier: MIT
// The last released zero-copy ranges, newest first: lo..hi, how many sends,
// and whether the kernel copied after all (in words).
pragma ComponentBehavior: Bound

import QtQuick
import Oxide.Blight.Transport

Column {
    id: log

    required property TransportMonitor monitor
    property real unit: 24
    /*! Rows shown at most; the model keeps its own capacity. */
    property int maxRows: 6
    readonly property real textSize: Math.max(20, unit * 0.85)

    spacing: unit * 0.15

    Text {
        width: parent.width
        text: qsTr("Released ranges (%1 seen)").arg(log.monitor.rangesSeen)
        color: "black"
        font.pixelSize: log.textSize
        font.bold: true
        elide: Text.ElideRight
    }

    Rectangle {
        width: parent.width
        height: 2
        color: "black"
    }

    Text {
        visible: log.monitor.rangeLog.count === 0
        width: parent.width
        text: log.monitor.completions > 0
              ? qsTr("%1 completions before watching").arg(log.monitor.completions)
              : log.monitor.zeroCopySends > 0 ? qsTr("waiting for the kernel…")
                                              : qsTr("no zero-copy sends")
        color: "black"
        font.pixelSize: log.textSize
        font.italic: true
        elide: Text.ElideRight
    }

    Repeater {
        model: log.monitor.rangeLog
        delegate: Row {
            id: entry
            required property int index
            required property real lo
            required property real hi
            required property real count
            required property bool copied
            spacing: log.unit * 0.4
            visible: entry.index < log.maxRows
            height: visible ? implicitHeight : 0
            Text {
                id: rangeText
                width: log.width * 0.5
                text: entry.lo + ".." + entry.hi
                color: "black"
                font.pixelSize: log.textSize
                font.family: "DejaVu Sans Mono"
                elide: Text.ElideRight
            }
            Text {
                width: log.width - rangeText.width - entry.spacing
                text: (entry.copied ? qsTr("COPIED") : qsTr("zero-copy")) + " · "
                      + (entry.count === 1 ? qsTr("1 send") : qsTr("%1 sends").arg(entry.count))
                color: "black"
                font.pixelSize: log.textSize
                font.bold: entry.copied
                elide: Text.ElideRight
            }
        }
    }
}
