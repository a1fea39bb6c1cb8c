// SPDX-License-Identifier: MIT
// Decoding the reply that an Ack carries into JSON (DESIGN.md §3: Info's
// 32-byte geometry, List's array of uint16 surface ids).
#include "replyjson.h"

#include <QtCore/QJsonArray>

#include <cstring>

namespace Blight::Cli {

QJsonObject describeAck(MessageType type, const QByteArray &requestPayload, quint32 ackid, const QByteArray &reply)
{
    QJsonObject object{
        {QStringLiteral("ack"), qint64(ackid)},
        {QStringLiteral("request"), typeName(qint32(type))},
        {QStringLiteral("size"), qint64(reply.size())},
    };
    switch (type) {
    case MessageType::Info: {
        const auto surface = decode<SurfacePayload>(requestPayload);
        if (surface)
            object.insert(QStringLiteral("surface"), int(surface->identifier));
        if (reply.isEmpty()) {
            object.insert(QStringLiteral("known"), false);
            object.insert(QStringLiteral("note"),
                          QStringLiteral("empty reply: the compositor does not know this surface"));
            break;
        }
        const auto info = decode<InfoReply>(reply);
        if (!info) {
            object
                .insert(QStringLiteral("error"),
                        QStringLiteral("an Info reply has %1 bytes, not %2").arg(reply.size()).arg(sizeof(InfoReply)));
            break;
        }
        object.insert(QStringLiteral("known"), true);
        object.insert(QStringLiteral("geometry"),
                      QJsonObject{
                          {QStringLiteral("x"), info->x},
                          {QStringLiteral("y"), info->y},
                          {QStringLiteral("width"), qint64(info->width)},
                          {QStringLiteral("height"), qint64(info->height)},
                          {QStringLiteral("stride"), info->stride},
                          {QStringLiteral("format"), info->format},
                          {QStringLiteral("scale"), info->scale},
                      });
        break;
    }
    case MessageType::List: {
        if (reply.size() % qsizetype(sizeof(SurfaceId)) != 0) {
            object.insert(QStringLiteral("error"),
                          QStringLiteral("a List reply of %1 bytes is not an array of uint16").arg(reply.size()));
            break;
        }
        QJsonArray surfaces;
        for (qsizetype at = 0; at < reply.size(); at += qsizetype(sizeof(SurfaceId))) {
            SurfaceId id;
            std::memcpy(&id, reply.constData() + at, sizeof(id));
            surfaces.append(int(id));
        }
        object.insert(QStringLiteral("surfaces"), surfaces);
        break;
    }
    default:
        // Other acks only say "done"; show what came, in case it is not nothing.
        if (!reply.isEmpty())
            object.insert(QStringLiteral("reply"), QString::fromLatin1(reply.toHex()));
        break;
    }
    return object;
}

} // namespace Blight::Cli
