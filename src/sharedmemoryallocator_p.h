// SPDX-License-Identifier: MIT
// The memory of a shared pool: a sealed memfd per region, mapped shared, with
// a read-only descriptor for peers.
#pragma once

#include <BlightTransport/blightbufferpool.h>

#include <memory>

namespace Blight {

/*! A pool allocator that makes each region a memfd sealed against shrinking
    and growing, mapped shared, with a read-only descriptor for peers. */
std::unique_ptr<BlightBufferAllocator> makeSharedMemoryAllocator();

} // namespace Blight
