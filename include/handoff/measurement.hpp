// One measured interval: what the four columns and their companions hold.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <vector>

#include "handoff/clocks.hpp"
#include "handoff/latency_histogram.hpp"

namespace handoff {

struct Measurement {
    std::uint64_t calls = 0;
    double wall_s = 0;        // CLOCK_MONOTONIC across the interval
    double cpu_total_s = 0;   // process CPU clock across the interval
    double cpu_loop_s = 0;    // the loop thread's CPU clock
    double cpu_worker_s = 0;  // sum of the CPU clocks of every thread that ran calls
    ContextSwitches loop_switches;
    ContextSwitches worker_switches;
    std::uint64_t same_cpu_calls = 0;  // calls whose worker ran on the CPU the loop sent from
    unsigned worker_threads = 0;       // how many threads ran calls
    LatencySummary latency;            // each call's round trip, sent to delivered
    // How the measured calls ended, beside the ok ones (calls counts them all):
    std::uint64_t failed_calls = 0;     // the work threw; the exception reached the loop thread
    std::uint64_t timed_out_calls = 0;  // not back within --timeout: the awaiting side gave up
    std::uint64_t cancelled_calls = 0;  // timed out while queued, cancelled: never ran
    std::uint64_t late_results = 0;     // timed out while running: the result came back later, dropped

    // What no role explains: Total - loop - workers (reported, never hidden).
    double cpu_other_s() const { return cpu_total_s - cpu_loop_s - cpu_worker_s; }
    double same_cpu_share() const { return calls ? double(same_cpu_calls) / double(calls) : 0; }
};

// Readings taken on the loop thread at one edge of the interval.
struct IntervalEdge {
    std::int64_t wall_ns = 0;
    std::int64_t process_cpu_ns = 0;
    std::int64_t loop_cpu_ns = 0;
    ContextSwitches loop_switches;
    struct ThreadSample {
        std::int64_t cpu_ns = 0;
        ContextSwitches switches;
    };
    std::map<pid_t, ThreadSample> threads;  // every thread of the process
};

// Called on the loop thread just before the first measured call is sent.
IntervalEdge open_interval();
// Called on the loop thread just after the last result was delivered;
// `workers` are the threads that ran calls (the run's ThreadRegistry).
IntervalEdge close_interval(const IntervalEdge& start, const std::vector<pid_t>& workers);

// The figures between two edges. `workers` are the threads that ran calls; a
// worker absent at the start was created inside the interval and counts from 0.
Measurement measure_interval(const IntervalEdge& start, const IntervalEdge& end,
                             const std::vector<pid_t>& workers, std::uint64_t calls,
                             std::uint64_t same_cpu_calls);

}  // namespace handoff
