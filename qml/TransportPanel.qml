// The debugging panel: one TransportView per socket, black on white, sized
// from the window width so it reads on a 1404x1872 e-ink screen and a desktop.
import QtQuick
import Oxide.Blight.Transport

Rectangle {
    id: panel

    /*! The Blight::BlightSocket objects to watch (set with setInitialProperties). */
    required property list<QtObject> sockets
    property string title: qsTr("Blight transport")
    /*! Sampling interval of every monitor, in milliseconds (10 Hz by default). */
    property int interval: 100
    /*! The base text size: everything else is a multiple of it. */
    readonly property real unit: Math.max(13, Math.min(width / 46, 34))
    /*! The monitors of the views, in the order of sockets. */
    readonly property var monitors: {
        let list = [];
        for (let i = 0; i < views.count; ++i) {
            const view = views.itemAt(i);
            if (view)
                list.push(view.monitor);
        }
        return list;
    }

    implicitWidth: 702
    implicitHeight: 936
    color: "white"

    Flickable {
        id: flickable
        anchors.fill: parent
        contentWidth: width
        contentHeight: content.implicitHeight + 2 * content.y
        boundsBehavior: Flickable.StopAtBounds
        clip: true

        Column {
            id: content
            x: panel.unit
            y: panel.unit
            width: flickable.width - 2 * panel.unit
            spacing: panel.unit

            Text {
                objectName: "panelTitle"
                width: parent.width
                text: panel.title
                color: "black"
                font.pixelSize: panel.unit * 1.5
                font.bold: true
                elide: Text.ElideRight
            }

            Text {
                visible: views.count === 0
                text: qsTr("No transports to show.")
                color: "black"
                font.pixelSize: panel.unit
            }

            Repeater {
                id: views
                model: panel.sockets
                delegate: TransportView {
                    required property QtObject modelData
                    required property int index
                    width: content.width
                    unit: panel.unit
                    interval: panel.interval
                    socket: modelData
                    showSeparator: index > 0
                }
            }
        }
    }
}
