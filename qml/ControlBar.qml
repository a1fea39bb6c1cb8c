// SPDX-License-Identifier: MIT
// The live controls of one socket: zero-copy mode, pause or resume reading, reset counters.
pragma ComponentBehavior: Bound

import QtQuick
import Oxide.Blight.Transport

Flow {
    id: bar

    required property TransportMonitor monitor
    property real unit: 24
    readonly property real textSize: Math.max(20, unit * 0.85)

    spacing: unit * 0.4

    component PanelButton: Rectangle {
        id: button
        property string text
        property bool checked: false
        signal clicked()
        implicitWidth: caption.implicitWidth + bar.unit
        implicitHeight: caption.implicitHeight + bar.unit * 0.5
        color: checked ? "black" : "white"
        border.color: "black"
        border.width: 3
        radius: bar.unit / 5
        Text {
            id: caption
            anchors.centerIn: parent
            text: button.text
            color: button.checked ? "white" : "black"
            font.pixelSize: bar.textSize
            font.bold: true
        }
        TapHandler {
            onTapped: button.clicked()
        }
    }

    Text {
        height: modeOff.height
        verticalAlignment: Text.AlignVCenter
        text: qsTr("Zero-copy:")
        color: "black"
        font.pixelSize: bar.textSize
        font.bold: true
    }
    PanelButton {
        objectName: "modeAuto"
        text: qsTr("AUTO")
        checked: bar.monitor.zeroCopyMode === "auto"
        onClicked: bar.monitor.requestZeroCopyMode("auto")
    }
    PanelButton {
        objectName: "modeOn"
        text: qsTr("ON")
        checked: bar.monitor.zeroCopyMode === "on"
        onClicked: bar.monitor.requestZeroCopyMode("on")
    }
    PanelButton {
        id: modeOff
        objectName: "modeOff"
        text: qsTr("OFF")
        checked: bar.monitor.zeroCopyMode === "off"
        onClicked: bar.monitor.requestZeroCopyMode("off")
    }
    Item {
        width: bar.unit * 0.6
        height: 1
    }
    PanelButton {
        objectName: "pauseReading"
        text: bar.monitor.readingPaused ? qsTr("RESUME READING") : qsTr("PAUSE READING")
        checked: bar.monitor.readingPaused
        onClicked: bar.monitor.requestReadingPaused(!bar.monitor.readingPaused)
    }
    PanelButton {
        objectName: "resetCounters"
        text: qsTr("RESET COUNTERS")
        onClicked: bar.monitor.resetStatistics()
    }
}
