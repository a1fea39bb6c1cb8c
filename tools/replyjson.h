// SPDX-License-Identifier: MIT
// Decoding the reply that an Ack carries into JSON, per the request it answers.
#pragma once

#include <BlightTransport/protocol.h>

#include <QtCore/QJsonObject>

namespace Blight::Cli {

/*!
    One JSON object for the Ack of a request of \a type that carried \a
    requestPayload: {"ack": ackid, "request": "info", "size": n, ...}.
    Info: "surface" and "geometry" {x, y, width, height, stride, format,
    scale}, or "known": false when the Ack is empty (blight acks an unknown
    surface that way: not an error). List: "surfaces", an array of ids.
    A reply that cannot be what its request asks for gets an "error" text.
*/
QJsonObject describeAck(MessageType type, const QByteArray &requestPayload, quint32 ackid, const QByteArray &reply);

} // namespace Blight::Cli
