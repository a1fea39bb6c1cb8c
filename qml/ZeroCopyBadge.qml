// SPDX-License-Identifier: MIT
// The zero-copy state in capital words inside a thick frame; "active" is
// also drawn inverted, but the words alone carry the meaning.
import QtQuick

Rectangle {
    id: badge

    property string text
    property bool active: false
    property real unit: 24

    implicitWidth: label.implicitWidth + 1.2 * unit
    implicitHeight: label.implicitHeight + unit * 0.6
    width: implicitWidth
    height: implicitHeight
    color: active ? "black" : "white"
    border.color: "black"
    border.width: Math.max(3, unit / 6)
    radius: unit / 4

    Text {
        id: label
        anchors.centerIn: parent
        text: badge.text
        color: badge.active ? "white" : "black"
        font.pixelSize: badge.unit
        font.bold: true
        font.letterSpacing: badge.unit * 0.05
    }
}
