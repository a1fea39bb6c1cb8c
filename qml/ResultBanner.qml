// SPDX-License-Identifier: MIT
// The outcome of a run across the top of the panel: every byte checked, yes or no, in words.
import QtQuick

Rectangle {
    id: banner

    /*! True when every byte arrived and matched. */
    property bool verified: false
    /*! What was checked, or why it failed. */
    property string detail
    property real unit: 24

    implicitHeight: column.implicitHeight + unit * 0.6
    color: verified ? "white" : "black"
    border.color: "black"
    border.width: Math.max(4, unit / 5)

    Column {
        id: column
        x: banner.unit * 0.5
        y: banner.unit * 0.3
        width: banner.width - 2 * x
        Text {
            objectName: "resultText"
            width: parent.width
            text: banner.verified ? qsTr("RESULT: EVERY BYTE CHECKED: YES") : qsTr("RESULT: EVERY BYTE CHECKED: NO")
            color: banner.verified ? "black" : "white"
            font.pixelSize: banner.unit * 1.1
            font.bold: true
            elide: Text.ElideRight
        }
        Text {
            width: parent.width
            visible: text.length > 0
            text: banner.detail
            color: banner.verified ? "black" : "white"
            font.pixelSize: Math.max(20, banner.unit * 0.85)
            wrapMode: Text.Wrap
            maximumLineCount: 2
            elide: Text.ElideRight
        }
    }
}
