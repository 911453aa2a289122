// A session: every configuration, repeated and interleaved, folded into one
// row each. The run plan lives here so main() stays a list of steps.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "run/configuration.hpp"
#include "run/runner.hpp"

namespace handoff {

// The calls of each of `repeat` repetitions: calls / repeat each, the first
// calls % repeat one more, so they sum to `calls`. Needs calls >= repeat >= 1.
std::vector<std::uint64_t> split_calls(std::uint64_t calls, unsigned repeat);

// One repetition of one configuration, in the order it runs.
struct PlannedRun {
    std::size_t row;        // index into the configurations
    unsigned repetition;    // 0-based
    std::uint64_t calls;    // measured calls of this repetition
};

// Interleaved so drift spreads over every row: the first repetition of
// every configuration, then the second of every one, ... (A B C A B C).
std::vector<PlannedRun> plan_runs(const std::vector<Configuration>& configs, unsigned repeat);

// Where a session is, for a progress display.
struct SessionProgress {
    const Configuration* config = nullptr;  // the one running
    unsigned repetition = 0;                // 1-based
    unsigned repeat = 1;
    std::uint64_t done_calls = 0;   // delivered so far in the whole session, warm-up included
    std::uint64_t total_calls = 0;  // the whole session's, warm-up included
};

struct SessionOptions {
    unsigned repeat = 5;
    // The limits every repetition runs with (stall timeout, ...); the session
    // adds its stop flag and progress callback.
    RunLimits limits;
    // Set (by a signal): the running repetition is stopped and discarded, no
    // further one starts.
    const std::atomic<bool>* stop_requested = nullptr;
    std::function<void(const SessionProgress&)> on_progress;
    // Runs one repetition; run_configuration unless a test replaces it.
    std::function<RowResult(const Configuration&, const RunLimits&)> run_one;
};

struct SessionOutcome {
    std::vector<RowResult> rows;  // one per configuration, in their order
    bool interrupted = false;
};

// Runs the plan. A row's config.calls is the whole count; each repetition
// appends its Measurement to the row's runs. A failed or unavailable
// repetition ends its row (reason kept) and the row's later repetitions are
// skipped. When interrupted, a row keeps the repetitions it completed (its
// config.calls becomes the calls they measured) or, with none, says interrupted.
SessionOutcome run_session(const std::vector<Configuration>& configs, const SessionOptions& options);

}  // namespace handoff
