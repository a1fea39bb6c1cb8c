// The debugging panel: one TransportView per socket, black on white, sized
// from the window width so it reads on a 1404x1872 e-ink screen and a desktop.
pragma ComponentBehavior: Bound

import QtQuick
import Oxide.Blight.Transport

Rectangle {
    id: panel

    /*! The Blight::BlightSocket objects to watch, a list (set with setInitialProperties). */
    required property var sockets
    property string title: qsTr("Blight transport")
    /*! Sampling interval of every monitor, in milliseconds (10 Hz by default). */
    property int interval: 100
    /*! The base text size: everything else is a multiple of it. */
    readonly property real unit: Math.max(12, Math.min(width / 46, 34) * (views.count > 2 ? 0.8 : 1))
    /*! The TransportMonitor of each view, in the order of sockets (kept by the Repeater). */
    property list<TransportMonitor> monitors

    /*! The height that shows everything without scrolling. */
    readonly property real contentHeight: flickable.contentHeight

    /*! Samples every monitor now, e.g. right before a screenshot. */
    function sampleAll() {
        for (let i = 0; i < monitors.length; ++i)
            monitors[i].sample();
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
                onItemAdded: function(index, item) {
                    const list = [];
                    for (let i = 0; i < panel.monitors.length; ++i)
                        list.push(panel.monitors[i]);
                    list.splice(index, 0, item.monitor);
                    panel.monitors = list;
                }
                onItemRemoved: function(index, item) {
                    const list = [];
                    for (let i = 0; i < panel.monitors.length; ++i) {
                        if (i !== index)
                            list.push(panel.monitors[i]);
                    }
                    panel.monitors = list;
                }
                delegate: TransportView {
                    required property QtObject modelData
                    required property int index
                    width: content.width
                    unit: panel.unit
                    interval: panel.interval
                    socket: modelData
                    showSeparator: index > 0
                    // Several views share the page: a shorter log each.
                    rangeRows: panel.sockets.length > 2 ? 5 : (panel.sockets.length > 1 ? 8 : 20)
                }
            }
        }
    }
}
