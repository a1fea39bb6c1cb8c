// The socket's counters as labelled tiles, four per row on a wide panel, fewer when narrow.
pragma ComponentBehavior: Bound

import QtQuick
import Oxide.Blight.Transport

Grid {
    id: grid

    required property TransportMonitor monitor
    property real unit: 16

    columns: width > unit * 40 ? 4 : (width > unit * 24 ? 3 : 2)
    columnSpacing: unit * 0.5
    rowSpacing: unit * 0.5

    // A fixed model: only the values in the tiles rebind when the monitor samples.
    readonly property var counters: [
        { label: qsTr("Messages sent"), key: "messagesSent", bytes: false },
        { label: qsTr("Messages received"), key: "messagesReceived", bytes: false },
        { label: qsTr("Bytes sent"), key: "bytesSent", bytes: true },
        { label: qsTr("Zero-copy sends"), key: "zeroCopySends", bytes: false },
        { label: qsTr("Copy sends"), key: "copySends", bytes: false },
        { label: qsTr("Zero-copy threshold"), key: "zeroCopyThreshold", bytes: true },
        { label: qsTr("Completions"), key: "completions", bytes: false },
        { label: qsTr("Copied completions"), key: "copiedCompletions", bytes: false },
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
            height: tileColumn.implicitHeight + grid.unit * 0.6
            color: "white"
            border.color: "black"
            border.width: 2

            Column {
                id: tileColumn
                x: grid.unit * 0.4
                y: grid.unit * 0.3
                width: parent.width - 2 * x
                Text {
                    width: parent.width
                    text: tile.modelData.label
                    color: "black"
                    font.pixelSize: grid.unit * 0.8
                    elide: Text.ElideRight
                }
                Text {
                    objectName: "counter_" + tile.modelData.key
                    width: parent.width
                    text: tile.modelData.bytes ? TransportFormat.bytes(grid.monitor[tile.modelData.key])
                                               : TransportFormat.count(grid.monitor[tile.modelData.key])
                    color: "black"
                    font.pixelSize: grid.unit * 1.3
                    font.bold: true
                    font.family: "DejaVu Sans Mono"
                    elide: Text.ElideRight
                }
            }
        }
    }
}
