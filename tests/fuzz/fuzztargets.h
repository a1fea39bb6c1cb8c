// SPDX-License-Identifier: MIT
// The harness entry points, by target name, for tst_fuzzreplay.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace BlightFuzz {

int assemblerOneInput(const uint8_t *data, size_t size);
int datagramOneInput(const uint8_t *data, size_t size);
int errorQueueOneInput(const uint8_t *data, size_t size);
int endpointOneInput(const uint8_t *data, size_t size);
int sharedMemoryOneInput(const uint8_t *data, size_t size);

struct Target
{
    const char *name; //!< the executable, and the folder in corpus/ and regressions/
    int (*oneInput)(const uint8_t *data, size_t size);
};

inline constexpr std::array<Target, 5> targets = {{
    {"fuzz_assembler", &assemblerOneInput},
    {"fuzz_datagram", &datagramOneInput},
    {"fuzz_errorqueue", &errorQueueOneInput},
    {"fuzz_endpoint", &endpointOneInput},
    {"fuzz_sharedmemory", &sharedMemoryOneInput},
}};

} // namespace BlightFuzz
