// The floor: the cheapest possible round trip between two threads on this
// machine — two threads spinning on one cache line, no queue, no system call.
// Every design's row is compared with it (DESIGN.md, "floor").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "measurement/measurement.hpp"
#include "run/configuration.hpp"

namespace handoff {

// The floor measured like any row: thread A plays the loop (it opens and
// closes the interval), thread B the worker. Every CPU figure comes from the
// threads' own clocks (measurement.hpp), so CpuTotal holds every thread of
// the process and Other what neither spinner explains.
struct FloorResult {
    int cpu_a = -1;  // as requested; -1 = left to the scheduler
    int cpu_b = -1;
    // calls: round trips in the measured pass. A spinning thread makes no
    // switches of its own: any here are preemptions by other work on the
    // machine, which also make the CPU figures fall below wall.
    //
    // latency: from a second pass (at most 100000 trips) in which A takes a
    // timestamp per trip: the TSC on x86 (about 10 ns; see src/run/floor.cpp), so
    // the percentiles hold a little timing cost that wall / calls does not.
    Measurement measurement;

    double wall_ns_per_trip() const {
        return measurement.calls == 0 ? 0.0 : measurement.wall_s * 1e9 / double(measurement.calls);
    }
};

// A floor measurement, or the reason there is none.
struct FloorOutcome {
    std::optional<FloorResult> result;
    std::string error;  // set exactly when result is empty
    // The threads never had a CPU each (other work on a small machine): the
    // floor cannot be measured now, which says nothing about the lab.
    bool busy = false;

    explicit operator bool() const { return result.has_value(); }
};

// Measures `round_trips` round trips between two threads it creates: A writes
// a sequence number into one 64-byte-aligned atomic, B spins until it sees
// it and writes the next number into the same word, A spins until it sees
// that. `cpu_a`/`cpu_b` pin each thread (-1: not pinned); the calling thread
// only waits, so its own affinity is untouched.
//
// Refuses, with the reason in `error`, rather than take minutes or hang:
// - both threads pinned to one CPU (each spin would last a time slice);
// - a CPU that cannot be pinned to (offline, or outside this process's set);
// - unpinned threads that the warm-up shows are sharing a CPU;
// - a spin that sees no progress for 5 s.
FloorOutcome measure_floor(std::uint64_t round_trips, int cpu_a, int cpu_b);

// Two different CPUs this process may run on (the first two of its
// affinity set), or nullopt when it has only one: the default floor pair.
std::optional<std::pair<int, int>> default_floor_cpus();

// The floor's row: measure_floor on the placement's two CPUs (or the first
// two this process may use), as a row like any other. A machine too busy to
// give the two threads a CPU each makes it unavailable (the session leaves
// that repetition out), never failed.
RowResult run_floor_row(const Configuration& config);

}  // namespace handoff
