// A line of recent samples, scaled to their maximum, drawn with Canvas.
import QtQuick

Column {
    id: sparkline

    property var values: []
    property string label
    property real unit: 16
    readonly property real maximum: {
        let top = 0;
        for (let i = 0; i < values.length; ++i)
            top = Math.max(top, values[i]);
        return top;
    }

    spacing: unit * 0.3
    onValuesChanged: canvas.requestPaint()

    Text {
        width: parent.width
        text: sparkline.label
        color: "black"
        font.pixelSize: sparkline.unit
        font.bold: true
        wrapMode: Text.Wrap
    }

    Canvas {
        id: canvas

        Text {
            anchors.centerIn: parent
            visible: sparkline.values.length < 2
            text: qsTr("no traffic while watching")
            color: "black"
            font.pixelSize: sparkline.unit * 0.85
            font.italic: true
        }

        width: parent.width
        height: Math.max(sparkline.unit * 2, sparkline.height - y)
        renderTarget: Canvas.Image
        onWidthChanged: requestPaint()
        onHeightChanged: requestPaint()

        onPaint: {
            const ctx = getContext("2d");
            const frame = Math.max(2, sparkline.unit / 8);
            ctx.reset();
            ctx.fillStyle = "white";
            ctx.fillRect(0, 0, width, height);
            ctx.strokeStyle = "black";
            ctx.lineWidth = frame;
            ctx.strokeRect(frame / 2, frame / 2, width - frame, height - frame);
            const count = sparkline.values.length;
            if (count < 2 || sparkline.maximum <= 0)
                return;
            const left = frame * 2, right = width - frame * 2;
            const top = frame * 2, bottom = height - frame * 2;
            ctx.lineWidth = Math.max(3, sparkline.unit / 6);
            ctx.lineJoin = "round";
            ctx.beginPath();
            for (let i = 0; i < count; ++i) {
                const x = left + (right - left) * i / (count - 1);
                const y = bottom - (bottom - top) * sparkline.values[i] / sparkline.maximum;
                if (i === 0)
                    ctx.moveTo(x, y);
                else
                    ctx.lineTo(x, y);
            }
            ctx.stroke();
        }
    }
}
