// SPDX-License-Identifier: MIT
// The blight wire structs and their layout checks, free of Qt so that ARM cross compilers can check them.
#pragma once

/*!
    \file wirelayout.h
    \brief The structs that go on the wire, byte-compatible with Oxide's libblight_protocol.

    This header needs nothing but the C++ standard library: tools/check-arm-layout.sh
    compiles it with the 32-bit (armhf) and 64-bit (aarch64) ARM cross compilers,
    where no Qt headers are installed, so that the static_asserts below prove the
    layout on the tablets' ABIs as well as on x86_64. Include protocol.h to use them.
*/

#include <cstddef>
#include <cstdint>

namespace Blight {

/*! A surface identifier as blight numbers surfaces. */
using SurfaceId = std::uint16_t;

/*! The 12-byte header, in host byte order. */
struct Header
{
    std::int32_t type = 0;   //!< A MessageType value; anything outside 1..11 is invalid.
    std::uint32_t ackid = 0; //!< Chosen by the sender; an Ack carries the ackid it answers.
    std::uint32_t size = 0;  //!< Bytes of payload that follow the header.
};

/*! Repaint payload, 36 bytes (two trailing bytes of padding). */
struct RepaintPayload
{
    std::int32_t x = 0;           //!< Left edge of the region to repaint.
    std::int32_t y = 0;           //!< Top edge of the region to repaint.
    std::uint32_t width = 0;      //!< Width of the region.
    std::uint32_t height = 0;     //!< Height of the region.
    std::int32_t waveform = 0;    //!< The e-paper waveform to use.
    std::int32_t contentType = 0; //!< What the region shows, as blight's content types.
    std::int32_t mode = 0;        //!< Update mode, as blight's modes.
    std::uint32_t marker = 0;     //!< Names this repaint for a later Wait.
    SurfaceId identifier = 0;     //!< The surface to repaint.
};

/*! Move payload, 12 bytes (two bytes of padding after the identifier). */
struct MovePayload
{
    SurfaceId identifier = 0; //!< The surface to move.
    std::int32_t x = 0;       //!< New left edge.
    std::int32_t y = 0;       //!< New top edge.
};

/*! The reply payload of an Ack that answers Info, 32 bytes. */
struct InfoReply
{
    std::int32_t x = 0;       //!< Left edge of the surface.
    std::int32_t y = 0;       //!< Top edge of the surface.
    std::uint32_t width = 0;  //!< Width in pixels.
    std::uint32_t height = 0; //!< Height in pixels.
    std::int32_t stride = 0;  //!< Bytes per line of the surface's buffer.
    std::int32_t format = 0;  //!< Pixel format of the surface's buffer, as blight reports it.
    double scale = 0;         //!< Scale factor of the surface, as blight reports it.
};

/*! Wait payload: the marker of the repaint to wait for. */
struct WaitPayload
{
    std::uint32_t marker = 0; //!< The marker a previous RepaintPayload carried.
};

/*! Info, Delete, Raise and Lower carry just a surface identifier. */
struct SurfacePayload
{
    SurfaceId identifier = 0; //!< The surface the message is about.
};

// The layout of every struct is fixed by Oxide's C structs (the offsets of
// DESIGN.md §3); checked here so that a change of compiler or ABI cannot shift
// a byte unnoticed. 32-bit ARM aligns double to 8 like x86_64, which keeps
// InfoReply::scale at 24 there too.
static_assert(sizeof(Header) == 12);
static_assert(offsetof(Header, type) == 0);
static_assert(offsetof(Header, ackid) == 4);
static_assert(offsetof(Header, size) == 8);

static_assert(sizeof(RepaintPayload) == 36);
static_assert(alignof(RepaintPayload) == 4);
static_assert(offsetof(RepaintPayload, x) == 0);
static_assert(offsetof(RepaintPayload, y) == 4);
static_assert(offsetof(RepaintPayload, width) == 8);
static_assert(offsetof(RepaintPayload, height) == 12);
static_assert(offsetof(RepaintPayload, waveform) == 16);
static_assert(offsetof(RepaintPayload, contentType) == 20);
static_assert(offsetof(RepaintPayload, mode) == 24);
static_assert(offsetof(RepaintPayload, marker) == 28);
static_assert(offsetof(RepaintPayload, identifier) == 32);

static_assert(sizeof(MovePayload) == 12);
static_assert(offsetof(MovePayload, identifier) == 0);
static_assert(offsetof(MovePayload, x) == 4);
static_assert(offsetof(MovePayload, y) == 8);

static_assert(sizeof(InfoReply) == 32);
static_assert(offsetof(InfoReply, x) == 0);
static_assert(offsetof(InfoReply, y) == 4);
static_assert(offsetof(InfoReply, width) == 8);
static_assert(offsetof(InfoReply, height) == 12);
static_assert(offsetof(InfoReply, stride) == 16);
static_assert(offsetof(InfoReply, format) == 20);
static_assert(offsetof(InfoReply, scale) == 24);
static_assert(sizeof(double) == 8);

static_assert(sizeof(WaitPayload) == 4);
static_assert(offsetof(WaitPayload, marker) == 0);
static_assert(sizeof(SurfacePayload) == 2);
static_assert(offsetof(SurfacePayload, identifier) == 0);

} // namespace Blight
