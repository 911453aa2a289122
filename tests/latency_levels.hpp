// Latency samples for made-up runs: `calls` round trips whose percentiles
// are known. Half the calls take `base`, up to 90% take 2x, up to 99% 4x, up
// to 99.9% 8x, the rest 16x, so (from 1000 calls on) p50, p90, p99, p99.9
// and the maximum are 1, 2, 4, 8 and 16 times `base` — as the histogram
// reports them: the upper edge of the value's bucket, at most 1/64 above.
#pragma once

#include <cstdint>

#include "measurement/latency_histogram.hpp"

namespace handoff::testing_support {

inline LatencyHistogram latency_levels(std::uint64_t calls, std::int64_t base) {
    LatencyHistogram latency;
    const auto up_to = [&](std::uint64_t per_mille) { return (calls * per_mille + 999) / 1000; };
    for (std::uint64_t i = 1; i <= calls; ++i) {
        const std::int64_t level = i <= up_to(500) ? 1 : i <= up_to(900) ? 2 : i <= up_to(990) ? 4 : i <= up_to(999) ? 8 : 16;
        latency.record(level * base);
    }
    return latency;
}

}  // namespace handoff::testing_support
