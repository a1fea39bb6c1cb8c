// SPDX-License-Identifier: MIT
// One socket in the panel's overview: label, path, throughput, pending against the cap, errors.
// Tapping it selects the socket for the detail view.
import QtQuick
import Oxide.Blight.Transport

Rectangle {
    id: row

    required property TransportMonitor monitor
    property real unit: 24
    property bool selected: false
    /*! Widths of the five columns as fractions of the row. */
    property var columns: [0.28, 0.2, 0.17, 0.23, 0.12]
    readonly property real textSize: Math.max(20, unit * 0.9)
    signal activated()

    implicitHeight: cells.implicitHeight + unit * 0.5
    color: selected ? "black" : "white"
    border.color: "black"
    border.width: selected ? 0 : 2

    function cellWidth(column) {
        return (cells.width - 4 * cells.spacing) * row.columns[column];
    }

    function rateText() {
        if (row.monitor.throughput > 0)
            return TransportFormat.bytes(row.monitor.throughput) + "/s";
        if (row.monitor.peakThroughput > 0)
            return qsTr("peak %1/s").arg(TransportFormat.bytes(row.monitor.peakThroughput));
        return qsTr("idle");
    }

    Row {
        id: cells
        x: row.unit * 0.4
        width: row.width - 2 * x
        anchors.verticalCenter: parent.verticalCenter
        spacing: row.unit * 0.4

        Text {
            objectName: "rowLabel"
            width: row.cellWidth(0)
            text: (row.selected ? "\u25b6 " : "") + (row.monitor.label.length > 0 ? row.monitor.label : qsTr("(no label)"))
            color: row.selected ? "white" : "black"
            font.pixelSize: row.textSize
            font.bold: true
            elide: Text.ElideRight
        }
        Text {
            objectName: "rowPath"
            width: row.cellWidth(1)
            text: row.monitor.pathText
            color: row.selected ? "white" : "black"
            font.pixelSize: row.textSize
            font.bold: true
            elide: Text.ElideRight
        }
        Text {
            objectName: "rowThroughput"
            width: row.cellWidth(2)
            text: row.rateText()
            color: row.selected ? "white" : "black"
            font.pixelSize: row.textSize
            elide: Text.ElideRight
        }
        Text {
            objectName: "rowPending"
            width: row.cellWidth(3)
            text: row.monitor.pendingBytesLimit > 0
                  ? TransportFormat.bytes(row.monitor.pendingBytes) + " / " + TransportFormat.bytes(row.monitor.pendingBytesLimit)
                  : TransportFormat.bytes(row.monitor.pendingBytes) + qsTr(" / no cap")
            color: row.selected ? "white" : "black"
            font.pixelSize: row.textSize
            elide: Text.ElideRight
        }
        Text {
            objectName: "rowErrors"
            width: row.cellWidth(4)
            text: row.monitor.errors === 1 ? qsTr("1 error") : qsTr("%1 errors").arg(row.monitor.errors)
            color: row.selected ? "white" : "black"
            font.pixelSize: row.textSize
            font.bold: row.monitor.errors > 0
            elide: Text.ElideRight
        }
    }

    TapHandler {
        onTapped: row.activated()
    }
}
