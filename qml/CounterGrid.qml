// SPDX-License-Identifier: MIT
// The socket's counters as labelled tiles, six per row on a wide panel, fewer when narrow.
pragma ComponentBehavior: Bound

import QtQuick
import Oxide.Blight.Transport

Grid {
    id: grid

    required property TransportMonitor monitor
    property real unit: 24
    readonly property real textSize: Math.max(20, unit * 0.8)

    columns: width > unit * 50 ? 6 : (width > unit * 34 ? 4 : (width > unit * 24 ? 3 : 2))
    columnSpacing: unit * 0.5
    rowSpacing: unit * 0.5

    // A fixed model: only the values in the tiles rebind when the monitor samples.
    readonly property var counters: [
        { label: qsTr("Messages sent"), key: "messagesSent", bytes: false },
        { label: qsTr("Messages received"), key: "messagesReceived", bytes: false },
        { label: qsTr("Bytes sent"), key: "bytesSent", bytes: true },
        { label: qsTr("Zero-copy sends"), key: "zeroCopySends", bytes: false },
        { label: qsTr("Copy sends"), key: "copySends", bytes: false },
        { label: qsTr("ZC threshold"), key: "zeroCopyThreshold", bytes: true },
        { label: qsTr("Completions"), key: "completions", bytes: false },
        { label: qsTr("Copied by kernel"), key: "copiedCompletions", bytes: false },
        { label: qsTr("Released buffers"), key: "releasedBuffers", bytes: false },
        { label: qsTr("ENOBUFS"), key: "noBufferErrors", bytes: false },
        { label: qsTr("Back-offs"), key: "backOffs", bytes: false },
        { label: qsTr("Would block"), key: "wouldBlock", bytes: false }
    ]

    Repeater {
        model: grid.counters
        delegate: Rectangle {
            id: tile
            required property var modelData
            width: (grid.width - (grid.columns - 1) * grid.columnSpacing) / grid.columns
            height: tileColumn.implicitHeight + grid.unit * 0.4
            color: "white"
            border.color: "black"
            border.width: 2

            Column {
                id: tileColumn
                x: grid.unit * 0.4
                y: grid.unit * 0.2
                width: parent.width - 2 * x
                Text {
                    width: parent.width
                    text: tile.modelData.label
                    color: "black"
                    font.pixelSize: grid.textSize
                    elide: Text.ElideRight
                }
                Text {
                    objectName: "counter_" + tile.modelData.key
                    width: parent.width
                    readonly property real value: grid.monitor[tile.modelData.key]
                    text: tile.modelData.bytes ? TransportFormat.bytes(value) : TransportFormat.count(value)
                    color: "black"
                    font.pixelSize: grid.unit * 1.1
                    font.bold: true
                    font.family: "DejaVu Sans Mono"
                    elide: Text.ElideRight
                }
            }
        }
    }
}
