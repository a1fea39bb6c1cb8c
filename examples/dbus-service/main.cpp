// SPDX-License-Identifier: MIT
// blight-dbus-service: an example Qt service that connects to blight the way
// Oxide's clients do (open() over D-Bus), asks List and then Info for every
// surface, and answers the compositor's pings itself.
#include <BlightTransport/blightsocket.h>
#include <BlightTransport/compositor.h>
#include <BlightTransport/protocol.h>

#include <QtCore/QCommandLineParser>
#include <QtCore/QCoreApplication>
#include <QtCore/QTextStream>

#include <cstring>

using namespace Blight;

namespace {

QTextStream &out()
{
    static QTextStream stream(stdout);
    return stream;
}

} // namespace

/*
    The service: one BlightSocket from connectToCompositor(). Requests go out
    with request(), which returns a BlightReply that finishes when blight's
    Ack arrives (or after a timeout); nothing here blocks the event loop.
*/
class BlightService : public QObject
{
    Q_OBJECT

public:
    BlightService(Bus bus, int pingsToAnswer, QObject *parent = nullptr)
        : QObject(parent)
        , m_pingsToAnswer(pingsToAnswer)
        , m_socket(connectToCompositor(bus, this))
    {
        // Answer pings here rather than automatically, to show how: an Ack
        // with the ping's ackid and no payload. blight reports a client that
        // does not answer as not responding.
        m_socket->setAutoAnswerPings(false);
        connect(m_socket, &BlightSocket::connected, this, &BlightService::askForSurfaces);
        connect(m_socket, &BlightSocket::pingReceived, this, &BlightService::answerPing);
        connect(m_socket, &BlightSocket::errorOccurred, this, &BlightService::fail);
    }

private:
    void askForSurfaces()
    {
        out() << "connected to " << m_socket->endpoint() << Qt::endl;
        BlightReply *reply = m_socket->request(MessageType::List);
        if (!reply)
            return fail(m_socket->lastSendError(), QStringLiteral("cannot send List"));
        connect(reply, &BlightReply::finished, this, [this, reply] {
            reply->deleteLater();
            if (!reply->isAcked())
                return fail(BlightSocket::Error::NoError, QStringLiteral("List: ") + reply->errorString());
            // List's reply: an array of uint16 surface identifiers.
            const QByteArray ids = reply->payload();
            QList<SurfaceId> surfaces(ids.size() / qsizetype(sizeof(SurfaceId)));
            if (!surfaces.isEmpty())
                std::memcpy(surfaces.data(), ids.constData(), size_t(surfaces.size()) * sizeof(SurfaceId));
            QStringList names;
            for (SurfaceId id : std::as_const(surfaces))
                names.append(QString::number(id));
            out() << "surfaces: " << (names.isEmpty() ? QStringLiteral("none") : names.join(QStringLiteral(", ")))
                  << Qt::endl;
            m_infosOutstanding = int(surfaces.size());
            for (SurfaceId id : std::as_const(surfaces))
                askForInfo(id);
            checkDone();
        });
    }

    void askForInfo(SurfaceId id)
    {
        BlightReply *reply = m_socket->request(MessageType::Info, encode(SurfacePayload{id}));
        if (!reply)
            return fail(m_socket->lastSendError(), QStringLiteral("cannot send Info"));
        connect(reply, &BlightReply::finished, this, [this, reply, id] {
            reply->deleteLater();
            --m_infosOutstanding;
            const std::optional<InfoReply> info = decode<InfoReply>(reply->payload());
            if (!reply->isAcked())
                return fail(BlightSocket::Error::NoError, QStringLiteral("Info: ") + reply->errorString());
            if (!info) // blight acks a surface it does not know with no payload
                out() << "surface " << id << ": unknown to the compositor" << Qt::endl;
            else
                out() << "surface " << id << ": " << info->width << 'x' << info->height << " at " << info->x << ','
                      << info->y << " stride " << info->stride << " format " << info->format << " scale " << info->scale
                      << Qt::endl;
            checkDone();
        });
    }

    void answerPing(quint32 ackid)
    {
        if (!m_socket->sendMessage(MessageType::Ack, ackid, {}))
            return;
        ++m_pingsAnswered;
        out() << "answered ping " << ackid << Qt::endl;
        checkDone();
    }

    void checkDone()
    {
        // Runs for as long as the compositor does, unless told how many pings to answer.
        if (m_pingsToAnswer > 0 && m_pingsAnswered >= m_pingsToAnswer && m_infosOutstanding == 0) {
            out() << "done" << Qt::endl;
            m_socket->close();
            QCoreApplication::exit(0);
        }
    }

    void fail(BlightSocket::Error, const QString &reason)
    {
        QTextStream(stderr) << "blight-dbus-service: " << reason << Qt::endl;
        QCoreApplication::exit(1);
    }

    int m_pingsToAnswer = 0;
    int m_pingsAnswered = 0;
    int m_infosOutstanding = -1; // until List's reply says how many
    BlightSocket *m_socket = nullptr;
};

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("blight-dbus-service"));
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Connects to blight through D-Bus, prints its surfaces (List, then Info for each) and\n"
                       "answers its pings."));
    parser.addHelpOption();
    const QCommandLineOption sessionOption(QStringLiteral("session"),
                                           QStringLiteral("Use the session bus (blight itself is on the system bus)."));
    const QCommandLineOption pingsOption(QStringLiteral("pings"),
                                         QStringLiteral(
                                             "Exit after answering <n> pings (default: run until blight goes)."),
                                         QStringLiteral("n"), QStringLiteral("0"));
    parser.addOptions({sessionOption, pingsOption});
    parser.process(app);
    bool ok = false;
    const int pings = parser.value(pingsOption).toInt(&ok);
    if (!ok || pings < 0) {
        QTextStream(stderr) << "blight-dbus-service: --pings needs a whole number of at least 0" << Qt::endl;
        return 2;
    }
    BlightService service(parser.isSet(sessionOption) ? Bus::Session : Bus::System, pings);
    return QCoreApplication::exec();
}

#include "main.moc"
