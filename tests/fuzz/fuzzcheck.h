// SPDX-License-Identifier: MIT
// What every fuzz harness shares: the invariant check and the libFuzzer entry point.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

namespace BlightFuzz {

[[noreturn]] inline void failCheck(const char *what, const char *file, int line)
{
    std::fprintf(stderr, "fuzz: invariant violated: %s (%s:%d)\n", what, file, line);
    std::abort();
}

} // namespace BlightFuzz

// A failed invariant aborts, which libFuzzer and tst_fuzzreplay both report.
#define FUZZ_CHECK(condition) \
  do { \
    if (!(condition)) \
      ::BlightFuzz::failCheck(#condition, __FILE__, __LINE__); \
  } while (false)

// Each harness is a plain function so that tst_fuzzreplay can link all of
// them; only the libFuzzer executables (BLIGHT_LIBFUZZER) get the C entry point.
#if defined(BLIGHT_LIBFUZZER)
#  define BLIGHT_FUZZ_ENTRY(function) \
    extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) \
    { \
      return function(data, size); \
    }
#else
#  define BLIGHT_FUZZ_ENTRY(function)
#endif
