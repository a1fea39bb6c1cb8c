// SPDX-License-Identifier: MIT
// The frame content: what frame k holds, written by the producer and checked by the receiver.
#pragma once

#include <QtCore/QtGlobal>

namespace FrameRing {

/*! A reMarkable 2 screen in RGB32: 1404x1872 pixels, 4 bytes each. */
inline constexpr int FrameWidth = 1404;
inline constexpr int FrameHeight = 1872;
inline constexpr qsizetype FrameBytes = qsizetype(FrameWidth) * FrameHeight * 4; // 10,513,152
static_assert(FrameBytes % 8 == 0, "frames are checked in 64-bit words");

/*!
    Fills \a size bytes (a multiple of 8) at \a out with frame \a frame's
    pattern: 64-bit word j holds base(frame) + j, where base() spreads frame
    numbers over all 64 bits, so that every word of a frame differs from the
    same word of any other frame the ring can still hold, and from its
    neighbours (a shifted copy fails too).
*/
void renderFrame(char *out, qsizetype size, quint32 frame);

/*! The index of the first 64-bit word of \a bytes that is not frame \a
    frame's, or -1 when all \a size bytes are exactly frame \a frame. */
qsizetype firstWrongWord(const char *bytes, qsizetype size, quint32 frame);

} // namespace FrameRing
