// A made-up measured run for the tests of what reads results back (compare,
// plot): `calls` calls at `ns_per_call` of wall time each; CPU in fixed
// proportion to it (total = wall, loop 1/2, worker 1/4); latency percentiles
// at 1, 2, 4, 8 and 16 times it (p50, p90, p99, p99.9, max; see
// latency_levels.hpp), or none.
#pragma once

#include <cstdint>

#include "handoff/measurement.hpp"
#include "latency_levels.hpp"

namespace handoff::testing_support {

inline Measurement synthetic_run(std::uint64_t calls, double ns_per_call, bool latency = true) {
    Measurement m;
    m.calls = calls;
    m.wall_s = ns_per_call * double(calls) / 1e9;
    m.cpu_total_s = m.wall_s;
    m.cpu_loop_s = m.wall_s / 2;
    m.cpu_worker_s = m.wall_s / 4;
    if (latency) m.latency = latency_levels(calls, std::int64_t(ns_per_call));
    return m;
}

}  // namespace handoff::testing_support
