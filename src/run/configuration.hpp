// One row of the results table: what was run and what came of it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "handoff/design.hpp"
#include "measurement/measurement.hpp"
#include "base/placement.hpp"
#include "handoff/target.hpp"
#include "handoff/work.hpp"

namespace handoff {

// When calls are sent in open-loop mode: evenly spaced, or a Poisson process.
enum class ArrivalKind { fixed, poisson };
std::string_view to_string(ArrivalKind kind);

// How the loop thread awaits a call.
enum class AwaitMode { callback, coroutine };
std::string_view to_string(AwaitMode mode);

// What a row measures.
enum class RowKind {
    handoff,  // a loop hands each call to a target and awaits it: what the lab is for
    inline_calls,  // the baseline: the same work called on the loop thread, no handoff
    floor,    // the limit: two threads spinning on one cache line, no work
};

// "handoff", "inline", "floor": an inline or floor row's name in the output.
std::string_view to_string(RowKind kind);

struct Configuration {
    RowKind kind = RowKind::handoff;
    std::string backend;      // a handoff row's registered backend; "inline" or "floor" otherwise
    TargetKind target = TargetKind::dedicated;  // ignored for inline
    Design design;            // dedicated only
    Work work;
    std::uint64_t calls = 250000;
    std::uint64_t warmup = 1000;
    unsigned threads = 4;     // pool size
    std::uint32_t inflight = 1;
    Placement placement;      // where the loop and workers run (default: free)
    std::chrono::nanoseconds timeout{0};  // --timeout: give up on a call after this (0: never)
    // Open-loop load (--rate): calls are sent at intended times drawn from
    // the arrival process, not when the previous one returns; `inflight` is
    // then the cap on outstanding calls. 0: closed loop (back to back).
    double rate = 0;                   // calls per second asked
    ArrivalKind arrival = ArrivalKind::fixed;
    std::uint64_t seed = 1;            // the arrival process's (poisson)
    // How the loop thread awaits each call (--await): a completion callback,
    // or a C++20 coroutine resumed on the loop thread.
    AwaitMode await_mode = AwaitMode::callback;

    bool open_loop() const { return rate > 0; }

    bool is_inline() const { return kind == RowKind::inline_calls; }
    bool is_floor() const { return kind == RowKind::floor; }

    // The inline or floor row of a run whose other rows are like `like`
    // (same work, calls, repetitions and placement).
    static Configuration reference(RowKind kind, Configuration like);
    std::string target_name() const;  // "dedicated", "pool", "-" for inline
    // The design for dedicated, "-" otherwise; ",timeout=DUR" and ",await=coroutine" added.
    std::string design_name() const;
};

// interrupted: a signal stopped the run before the row's first repetition ended.
enum class RowStatus { ok, failed, unavailable, interrupted };

std::string_view to_string(RowStatus status);

struct RowResult {
    Configuration config;
    RowStatus status = RowStatus::ok;
    std::string reason;          // why failed or unavailable; empty when ok
    std::string mechanism;       // how calls travel, e.g. "mutex fifo + condvar -> eventfd"
    std::uint64_t errors = 0;    // calls with a wrong, missing or duplicated result
    std::vector<Measurement> runs;  // one per repetition (ok rows have at least one)
    unsigned repeat = 1;         // repetitions asked for; fewer runs than this: interrupted
    // The floor only: repetitions that found the machine too busy to spin on
    // two CPUs are left out (the row keeps the others), and say so.
    unsigned runs_left_out = 0;
    std::string left_out_reason;  // the last one's
};

}  // namespace handoff
