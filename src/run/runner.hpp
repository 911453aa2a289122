// Runs configurations: builds the loop and target, warms up, measures one
// interval, verifies every result, tears down.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>

#include "run/configuration.hpp"

namespace handoff {

struct RunLimits {
    // A run that delivers no result for this long is stopped and failed with
    // what was outstanding: the signature of a lost wake-up. Raised
    // automatically for long work (sleep:DUR, spin:DUR).
    std::chrono::milliseconds stall_timeout{10000};
    // When set and true, the run stops at the next call boundary and the row
    // fails with "interrupted" (SIGINT, SIGTERM). Polled about every 100 ms.
    const std::atomic<bool>* stop_requested = nullptr;
    // Called on the calling thread about every 100 ms while the run goes on,
    // with the calls delivered so far (warm-up included): progress displays.
    std::function<void(std::uint64_t delivered)> on_progress;
};

// Runs one configuration once (warm-up, then the measured interval). Never
// throws for a configuration problem: the row says failed or unavailable.
RowResult run_configuration(const Configuration& config, const RunLimits& limits = {});

struct Backend;
// The same with the backend given rather than looked up by name (tests use it
// to run deliberately broken backends through the real runner).
RowResult run_configuration(const Configuration& config, const Backend& backend,
                            const RunLimits& limits = {});

}  // namespace handoff
