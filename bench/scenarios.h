// SPDX-License-Identifier: MIT
// The scenarios and targets of issue 6, with their sizes for a full and a
// --quick run, and the shared state (cold pools, namespaces) they use.
#pragma once

#include "harness.h"
#include "netns.h"
#include "workload.h"

#include <memory>
#include <vector>

namespace Bench {

struct BenchContext
{
    bool quick = false;
    VethNamespaces veth;
    std::unique_ptr<ColdPool> frames; //!< 5 MiB frames for frames-tcp and memcpy-limit
    std::unique_ptr<ColdPool> tiles;  //!< datagrams of the current tiles scenario
    std::unique_ptr<ColdPool> latencyFrames;
    // The same bytes in BlightBufferPools, for the transport-uring contenders.
    std::unique_ptr<PooledFrames> pooledFrames;
    std::unique_ptr<PooledFrames> pooledTiles;
    std::unique_ptr<PooledFrames> pooledLatencyFrames;
};

std::vector<Scenario> makeScenarios(BenchContext &context);
std::vector<Target> makeTargets();
/*! Scenarios that may be skipped with a printed reason (they need root). */
bool maySkip(const QString &scenarioKey);

} // namespace Bench
