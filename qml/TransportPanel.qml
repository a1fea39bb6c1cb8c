// SPDX-License-Identifier: MIT
// The debugging panel, black on white for a 1404x1872 e-ink screen: a result banner,
// one overview row per socket, and the detail of the selected socket below.
pragma ComponentBehavior: Bound

import QtQuick
import Oxide.Blight.Transport

Rectangle {
    id: panel

    /*! The Blight::BlightSocket objects to watch, a list (set with setInitialProperties). */
    required property var sockets
    /*! What the application calls each socket, in the order of sockets; a
        missing entry falls back to the socket's objectName. */
    property var labels: []
    property string title: qsTr("Blight transport")
    /*! Sampling interval of every monitor, in milliseconds (10 Hz by default). */
    property int interval: 100
    /*! The socket shown in the detail view. */
    property int currentIndex: 0
    /*! The result banner: shown once finished is set, saying verified in words. */
    property bool finished: false
    property bool verified: false
    property string resultDetail
    /*! The base text size: everything else is a multiple of it, and no text is below 20 px. */
    readonly property real unit: Math.max(24, Math.min(width / 56, 32))
    /*! The TransportMonitor of each socket, in the order of sockets. A monitor
        stays while its socket stays in the list, so its histories survive
        sockets being added or removed around it. */
    property list<TransportMonitor> monitors
    readonly property TransportMonitor currentMonitor:
        currentIndex >= 0 && currentIndex < monitors.length ? monitors[currentIndex] : null

    /*! The height that shows everything without scrolling. */
    readonly property real contentHeight: content.implicitHeight + 2 * content.y

    /*! Samples every monitor now, e.g. right before a screenshot. */
    function sampleAll() {
        for (let i = 0; i < monitors.length; ++i)
            monitors[i].sample();
    }

    // Reuses the monitor of every socket still listed, makes monitors for new
    // ones and destroys the rest only after nothing shows them any more.
    function syncMonitors() {
        const old = [];
        for (let i = 0; i < monitors.length; ++i)
            old.push(monitors[i]);
        const next = [];
        const list = sockets ? sockets : [];
        for (let i = 0; i < list.length; ++i) {
            const socket = list[i];
            let monitor = null;
            for (let j = 0; j < old.length; ++j) {
                if (old[j] && old[j].socket === socket) {
                    monitor = old.splice(j, 1)[0];
                    break;
                }
            }
            if (!monitor)
                monitor = monitorComponent.createObject(panel, { socket: socket });
            const index = i;
            monitor.interval = Qt.binding(function() { return panel.interval; });
            monitor.label = Qt.binding(function() { return panel.labelFor(index, socket); });
            next.push(monitor);
        }
        monitors = next;
        if (currentIndex >= next.length)
            currentIndex = Math.max(0, next.length - 1);
        for (let j = 0; j < old.length; ++j) {
            if (old[j])
                old[j].destroy();
        }
    }

    onSocketsChanged: syncMonitors()
    Component.onCompleted: syncMonitors()

    Component {
        id: monitorComponent
        TransportMonitor {}
    }

    function labelFor(index, socket) {
        if (index < labels.length && labels[index])
            return labels[index];
        return socket && socket.objectName ? socket.objectName : qsTr("socket %1").arg(index + 1);
    }

    implicitWidth: 1404
    implicitHeight: contentHeight
    color: "white"

    Flickable {
        id: flickable
        anchors.fill: parent
        contentWidth: width
        contentHeight: panel.contentHeight
        boundsBehavior: Flickable.StopAtBounds
        clip: true

        Column {
            id: content
            x: panel.unit
            y: panel.unit
            width: flickable.width - 2 * panel.unit
            spacing: panel.unit * 0.5

            Text {
                objectName: "panelTitle"
                width: parent.width
                text: panel.title
                color: "black"
                font.pixelSize: panel.unit * 1.4
                font.bold: true
                elide: Text.ElideRight
            }

            ResultBanner {
                objectName: "resultBanner"
                visible: panel.finished
                width: parent.width
                unit: panel.unit
                verified: panel.verified
                detail: panel.resultDetail
            }

            Text {
                visible: rows.count === 0
                text: qsTr("No transports to show.")
                color: "black"
                font.pixelSize: panel.unit
            }

            // Column headings of the overview.
            Row {
                id: headings
                visible: rows.count > 0
                x: panel.unit * 0.4
                width: parent.width - 2 * x
                spacing: panel.unit * 0.4
                readonly property var names: [qsTr("Socket"), qsTr("Path"), qsTr("Throughput"), qsTr("Pending / cap"), qsTr("Errors")]
                readonly property var fractions: [0.28, 0.2, 0.17, 0.23, 0.12]
                Repeater {
                    model: headings.names.length
                    delegate: Text {
                        required property int index
                        width: (headings.width - 4 * headings.spacing) * headings.fractions[index]
                        text: headings.names[index]
                        color: "black"
                        font.pixelSize: Math.max(20, panel.unit * 0.85)
                        font.italic: true
                        elide: Text.ElideRight
                    }
                }
            }

            Column {
                objectName: "overview"
                width: parent.width
                spacing: -2 // rows share their frame lines

                Repeater {
                    id: rows
                    model: panel.monitors
                    delegate: SocketRow {
                        required property TransportMonitor modelData
                        required property int index
                        objectName: "socketRow"
                        width: content.width
                        unit: panel.unit
                        monitor: modelData
                        columns: headings.fractions
                        selected: index === panel.currentIndex
                        onActivated: panel.currentIndex = index
                    }
                }
            }

            Rectangle {
                visible: detail.count > 0
                width: parent.width
                height: Math.max(4, panel.unit / 5)
                color: "black"
            }

            // A Repeater of at most one: the view is made with its monitor as an
            // initial property, so no binding inside it ever sees a null monitor.
            Repeater {
                id: detail
                model: panel.currentMonitor ? [panel.currentMonitor] : []
                delegate: TransportView {
                    required property TransportMonitor modelData
                    objectName: "detailView"
                    width: content.width
                    unit: panel.unit
                    monitor: modelData
                    logRows: 8
                }
            }
        }
    }
}
