// SPDX-License-Identifier: MIT
// The application's window: its own heading and status above the transport panel.
import QtQuick
import Oxide.Blight.Transport

Rectangle {
    id: root

    /*! Handed over by main.cpp with setInitialProperties. */
    required property var sockets
    required property var labels
    property int framesSent: 0

    color: "white"

    Column {
        anchors.fill: parent

        Rectangle {
            id: heading
            width: parent.width
            height: headingText.implicitHeight + 24
            color: "black"
            Text {
                id: headingText
                x: 24
                anchors.verticalCenter: parent.verticalCenter
                text: qsTr("Frame service · %1 frames sent").arg(root.framesSent)
                color: "white"
                font.pixelSize: 32
                font.bold: true
            }
        }

        // The panel takes the rest of the window; it scrolls when that is too short.
        TransportPanel {
            objectName: "transportPanel"
            width: parent.width
            height: parent.height - heading.height
            title: qsTr("Transport")
            sockets: root.sockets
            labels: root.labels
        }
    }
}
