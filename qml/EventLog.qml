// SPDX-License-Identifier: MIT
// What happened to the socket, newest first: time, a capital kind word and the library's reason.
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
        text: qsTr("Events (newest first, %1 kept)").arg(log.monitor.eventLog.count)
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

    Repeater {
        model: log.monitor.eventLog
        delegate: Row {
            id: entry
            required property int index
            required property date time
            required property string kind
            required property string text
            objectName: "eventRow"
            spacing: log.unit * 0.4
            visible: entry.index < log.maxRows
            height: visible ? implicitHeight : 0
            Text {
                id: timeText
                width: log.unit * 6.2
                text: Qt.formatTime(entry.time, "hh:mm:ss.zzz")
                color: "black"
                font.pixelSize: log.textSize
                font.family: "DejaVu Sans Mono"
            }
            Text {
                id: kindText
                width: log.unit * 6.6
                text: entry.kind
                color: "black"
                font.pixelSize: log.textSize
                font.bold: true
                elide: Text.ElideRight
            }
            Text {
                width: log.width - timeText.width - kindText.width - 2 * entry.spacing
                text: entry.text
                color: "black"
                font.pixelSize: log.textSize
                wrapMode: Text.Wrap
                maximumLineCount: 2
                elide: Text.ElideRight
            }
        }
    }
}
