// One measured interval: what the four columns and their companions hold.
//
// Every CPU figure comes from per-thread CPU clocks read at the two edges of
// the interval: the loop thread's own clock, each worker's, and every other
// thread of the process. CpuTotal is their sum, so it is exact at any
// interval length, and Other (Total - loop - workers) is the CPU of the
// threads no role explains, never negative. The process CPU clock is not
// used for the figures: it brings only the calling thread up to date, so a
// thread running on another CPU is missing from it until a scheduler tick
// (4 ms here) or a switch.
#pragma once

#include <sys/types.h>

#include <cmath>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "handoff/clocks.hpp"
#include "measurement/latency_histogram.hpp"

namespace handoff {

struct Measurement {
    std::uint64_t calls = 0;
    double wall_s = 0;        // CLOCK_MONOTONIC across the interval
    double cpu_total_s = 0;   // every thread of the process, each from its own CPU clock
    double cpu_loop_s = 0;    // the loop thread's CPU clock
    double cpu_worker_s = 0;  // sum of the CPU clocks of every worker thread
    ContextSwitches loop_switches;
    ContextSwitches worker_switches;
    // SameCPU: of the calls whose worker CPU is known (every call that ran and
    // came back), how many ran on the CPU the loop sent them from.
    std::uint64_t same_cpu_calls = 0;
    std::uint64_t cpu_known_calls = 0;
    unsigned worker_threads = 0;  // how many threads are the workers
    // Each measured call's round trip, sent to back on the loop thread; a call
    // that timed out is recorded when it comes back (a late result, or handed
    // back cancelled), so its sample is at least the timeout.
    LatencyHistogram latency;
    // How the measured calls ended, beside the ok ones (calls counts them all):
    std::uint64_t failed_calls = 0;     // the work threw; the exception reached the loop thread
    std::uint64_t timed_out_calls = 0;  // not back within --timeout: the awaiting side gave up
    std::uint64_t cancelled_calls = 0;  // timed out while queued, cancelled: never ran
    std::uint64_t late_results = 0;     // timed out while running: the result came back later, dropped
    // Heap allocations made by any thread of the process inside the interval
    // (the binary's allocation hook, summed at the edges); unknown when the
    // hook cannot see them (a sanitizer owns malloc, or a foreign process).
    std::uint64_t allocations = 0;
    bool allocations_known = false;
    // Open-loop rows (--rate): the rate asked, in calls per second (0: closed
    // loop); latency is then measured from each call's intended send time.
    double rate_asked = 0;
    // Empty when CpuTotal is exact; otherwise why it is not (a thread ended
    // inside the interval, so its CPU after the first edge cannot be read).
    std::string cpu_total_caveat;

    // What no role explains: Total - loop - workers (reported, never hidden).
    // The clocks count whole nanoseconds: so does Other, free of the
    // doubles' rounding (never -1e-19 s).
    double cpu_other_s() const { return std::round((cpu_total_s - cpu_loop_s - cpu_worker_s) * 1e9) / 1e9 + 0.0; }  // + 0.0: never -0
    double same_cpu_share() const {
        return cpu_known_calls ? double(same_cpu_calls) / double(cpu_known_calls) : 0;
    }
};

// Readings at one edge of the interval, taken on the loop thread.
struct IntervalEdge {
    struct ThreadSample {
        std::int64_t cpu_ns = 0;
        ContextSwitches switches;
    };
    std::int64_t wall_ns = 0;
    std::int64_t process_cpu_ns = 0;  // lagging; only to notice threads that came and went inside
    pid_t loop_tid = 0;
    std::map<pid_t, ThreadSample> threads;  // every thread of the process, the loop thread too
    // Heap allocations by every thread so far (allocation_counter.hpp), read
    // innermost: after the edge's own allocations at the start, before them
    // at the end. Unknown when the build has no allocation hook.
    std::uint64_t allocations = 0;
    bool allocations_known = false;
};

// Called on the loop thread just before the first measured call is sent.
IntervalEdge open_interval();
// Called on the loop thread just after the last result was delivered;
// `workers` are the threads that ran calls (the run's ThreadRegistry). The
// wall clock's span encloses every CPU clock's (see measurement.cpp).
IntervalEdge close_interval(const IntervalEdge& start, const std::vector<pid_t>& workers);

// The figures between two edges (both taken on the same loop thread). A
// thread absent at the start was created inside the interval and counts
// from 0. A worker missing at the end is an error (std::runtime_error): its
// CPU cannot be read. Another thread missing at the end leaves CpuTotal
// short by what it ran inside the interval, and the caveat says so; so does
// more process CPU than the threads seen can explain (a thread that started
// and ended inside), beyond what the process clock's lag allows.
Measurement measure_interval(const IntervalEdge& start, const IntervalEdge& end,
                             const std::vector<pid_t>& workers, std::uint64_t calls);

}  // namespace handoff
