// SPDX-License-Identifier: MIT
// Oxide's framing rules written out again for the fuzz harnesses, rather than
// calling validateHeader(), so that the two can disagree.
#pragma once

#include <BlightTransport/protocol.h>

namespace BlightFuzz {

inline Blight::HeaderError referenceValidate(const Blight::Header &header, quint32 cap)
{
    if (header.type < 1 || header.type > 11)
        return Blight::HeaderError::InvalidType;
    // Move, Repaint, Info, Delete, Raise, Lower and Wait carry a payload.
    static constexpr bool needsPayload[12] = {false, false, false, true, true, true,
                                              true,  false, true,  true, true, false};
    if (header.size == 0 && needsPayload[header.type])
        return Blight::HeaderError::MissingPayload;
    if (header.size > cap)
        return Blight::HeaderError::PayloadTooLarge;
    return Blight::HeaderError::None;
}

} // namespace BlightFuzz
