// SPDX-License-Identifier: MIT
// Which zero-copy backend a socket uses: MSG_ZEROCOPY or io_uring SEND_ZC.
// Pure: the caller passes what the io_uring probe found.
#pragma once

#include "uringprobe_p.h"

#include <BlightTransport/blightsocket.h>

#include <QtCore/QString>

namespace Blight {

/*!
    Chooses the backend of one connection from the requested one, the kind
    of socket and what UringProbe found. IoUring is taken where io_uring
    works; Auto takes it only where the kernel can also say whether it
    copied (REPORT_USAGE: the COPIED back-off needs it) and where the
    benchmark measured it cheaper than MSG_ZEROCOPY for that kind of socket
    (uringMeasuredCheaper(), a fixed table, not a calibration at run time).
    Sockets that cannot do zero-copy (AF_UNIX) always get MsgZeroCopy, which
    then means "none"; the zero-copy policy says why.
*/
class ZeroCopyBackendPolicy
{
public:
    using Backend = BlightSocket::ZeroCopyBackend;
    using Kind = BlightSocket::SocketKind;

    struct Choice
    {
        Backend backend = Backend::MsgZeroCopy;
        QString reason;           //!< why, for zeroCopyReason(); empty where zero-copy is not possible at all
        bool reportUsage = false; //!< io_uring: ask each notification whether the kernel copied
    };

    static Choice choose(Backend requested, Kind kind, const UringSupport &support);

    /*! The benchmark's verdict, per kind of socket: whether io_uring SEND_ZC
        was measured to cost less CPU per byte than MSG_ZEROCOPY: UDP yes,
        TCP not measured off loopback (docs/io-uring.md). */
    static bool uringMeasuredCheaper(Kind kind);
};

} // namespace Blight
