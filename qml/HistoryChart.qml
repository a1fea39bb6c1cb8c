// SPDX-License-Identifier: MIT
// A line of recent samples with a labelled value axis (0 to the maximum) and time axis.
import QtQuick

Column {
    id: chart

    /*! The samples, oldest first, and when each was taken (seconds). */
    property var values: []
    property var times: []
    property string title
    /*! Formats an axis value, e.g. TransportFormat.bytes(v) + "/s". */
    property var formatValue: function(value) { return String(value); }
    property real unit: 24
    property real plotHeight: unit * 5
    readonly property real maximum: {
        let top = 0;
        for (let i = 0; i < values.length; ++i)
            top = Math.max(top, values[i]);
        return top;
    }
    readonly property real textSize: Math.max(20, unit * 0.85)

    spacing: unit * 0.2
    onValuesChanged: canvas.requestPaint()

    function secondsText(seconds) {
        return seconds < 10 ? seconds.toFixed(1) + " s" : Math.round(seconds) + " s";
    }

    Text {
        width: parent.width
        text: chart.title
        color: "black"
        font.pixelSize: chart.textSize
        font.bold: true
        elide: Text.ElideRight
    }

    Item {
        width: parent.width
        height: chart.plotHeight

        // Value axis: the maximum at the top, half way, zero at the bottom.
        Column {
            id: valueAxis
            width: chart.unit * 6.4
            height: parent.height
            Text {
                objectName: "axisMaximum"
                width: parent.width
                height: parent.height / 2
                text: chart.formatValue(chart.maximum)
                color: "black"
                font.pixelSize: chart.textSize
                horizontalAlignment: Text.AlignRight
                verticalAlignment: Text.AlignTop
                rightPadding: chart.unit * 0.3
                elide: Text.ElideLeft
            }
            Text {
                width: parent.width
                height: parent.height / 2
                text: chart.formatValue(0)
                color: "black"
                font.pixelSize: chart.textSize
                horizontalAlignment: Text.AlignRight
                verticalAlignment: Text.AlignBottom
                rightPadding: chart.unit * 0.3
            }
        }

        Canvas {
            id: canvas
            anchors.left: valueAxis.right
            anchors.right: parent.right
            height: parent.height
            renderTarget: Canvas.Image
            onWidthChanged: requestPaint()
            onHeightChanged: requestPaint()

            Text {
                anchors.centerIn: parent
                visible: chart.values.length < 2
                text: qsTr("no traffic while watching")
                color: "black"
                font.pixelSize: chart.textSize
                font.italic: true
            }

            onPaint: {
                const ctx = getContext("2d");
                const frame = Math.max(2, chart.unit / 10);
                ctx.reset();
                ctx.fillStyle = "white";
                ctx.fillRect(0, 0, width, height);
                ctx.strokeStyle = "black";
                ctx.lineWidth = frame;
                ctx.strokeRect(frame / 2, frame / 2, width - frame, height - frame);
                // A dotted middle line for the half-way label.
                ctx.lineWidth = 1;
                for (let x = frame * 2; x < width - frame * 2; x += 12)
                    ctx.fillRect(x, height / 2, 4, 2);
                const count = chart.values.length;
                if (count < 2 || chart.maximum <= 0)
                    return;
                const left = frame * 2, right = width - frame * 2;
                const top = frame * 2, bottom = height - frame * 2;
                ctx.lineWidth = Math.max(3, chart.unit / 7);
                ctx.lineJoin = "round";
                ctx.beginPath();
                for (let i = 0; i < count; ++i) {
                    const x = left + (right - left) * i / (count - 1);
                    const y = bottom - (bottom - top) * chart.values[i] / chart.maximum;
                    if (i === 0)
                        ctx.moveTo(x, y);
                    else
                        ctx.lineTo(x, y);
                }
                ctx.stroke();
            }
        }
    }

    // Time axis: first and last sample, in seconds since the monitor started watching.
    Item {
        width: parent.width
        height: timeFirst.implicitHeight
        Text {
            id: timeFirst
            objectName: "axisTimeFirst"
            x: valueAxis.width
            text: chart.times.length > 0 ? chart.secondsText(chart.times[0]) : ""
            color: "black"
            font.pixelSize: chart.textSize
        }
        Text {
            anchors.horizontalCenter: parent.horizontalCenter
            anchors.horizontalCenterOffset: valueAxis.width / 2
            text: qsTr("time since watching")
            color: "black"
            font.pixelSize: chart.textSize
            font.italic: true
        }
        Text {
            objectName: "axisTimeLast"
            anchors.right: parent.right
            text: chart.times.length > 0 ? chart.secondsText(chart.times[chart.times.length - 1]) : ""
            color: "black"
            font.pixelSize: chart.textSize
        }
    }
}
