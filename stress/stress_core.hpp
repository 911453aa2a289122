// The stress core: drives one backend x target x design through many calls in
// bursts of random size separated by random idle gaps, and checks that every
// call is delivered exactly once, with the right result, on the loop thread.
//
// It uses the public interfaces only (Backend::make_loop, Loop::make_target, a
// CallSink of its own), not the runner, so it tests the loops and targets
// themselves. `make stress` runs it at 10^6 calls per combination
// (stress/main.cpp); tests/test_stress.cpp runs it small, under the sanitizers.
//
// What varies, from one seeded generator per combination:
//   - in-flight: half the calls at 1, half at 64;
//   - segments: the calls are cut into segments of random length; each builds
//     a fresh loop and target with a random placement (free, same, split;
//     split only for `spin`) and a random work (mostly none, sometimes sleep0,
//     yield, a system call, or a short sleep or spin: the worker-side gaps);
//   - bursts: a random number of calls sent as fast as the window allows;
//   - gaps after each burst: none, a short busy wait on the loop thread, a
//     sleep on the loop thread (the worker goes idle, the loop does not wait),
//     or an idle loop (it goes back into its own wait and is woken 10 us..2 ms
//     later by another thread through Loop::complete, so both sides sleep),
//     or paced (open loop, as --rate: calls arrive one at a time on the
//     loop's own deadline timer, 2..200 us apart, outstanding or not).
//
// A watchdog thread fails the combination if any call (or the idle loop's
// wake) waits longer than the stall limit: the signature of a lost wake-up.
#pragma once

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "handoff/backend.hpp"
#include "handoff/target.hpp"

namespace handoff::stress {

struct Combination {
    const Backend* backend = nullptr;
    TargetKind target = TargetKind::dedicated;
    std::string design;  // a preset for dedicated; empty for pool

    std::string name() const;  // "epoll dedicated futex-gated", "uv pool"
};

// The main presets on a dedicated worker (classic, futex-gated, spin-park:2us,
// adaptive, spin, inplace; defer= and hold= where the loop carries them) and
// the pool, for each backend given.
std::vector<Combination> main_combinations(const std::vector<const Backend*>& backends);

struct Options {
    std::uint64_t calls = 1'000'000;  // per combination, half at in-flight 1, half at 64
    std::uint64_t seed = 1;
    std::chrono::milliseconds stall_limit{5000};
    // Where the watchdog writes what was outstanding when it fires (stderr in
    // the binary). Null: only the result says it.
    std::ostream* alarm = nullptr;
    // Where to write one line per segment (--verbose), or null.
    std::ostream* segments = nullptr;
};

struct Result {
    bool skipped = false;   // the backend is unavailable or refuses the design
    bool ok = false;        // every call delivered once with the right result
    std::string message;    // why skipped, or the first failure
    std::uint64_t calls = 0;          // delivered and verified
    double seconds = 0;               // wall time of the combination
    std::int64_t max_round_trip_ns = 0;
    std::uint64_t segments = 0;       // fresh loop + target each
    std::uint64_t bursts = 0;
    std::uint64_t idle_gaps = 0;      // gaps where the loop went back into its wait
    std::uint64_t paced_runs = 0;     // open-loop stretches: calls sent on the loop's deadline timer
};

// Runs one combination to the end; never throws for a failure of the lab (the
// result says it). If the watchdog fires and the loop then does not stop
// within another stall limit, writes what it knows to `alarm` (or stderr) and
// ends the process with status 3: a hang is never silent.
Result run_combination(const Combination& combination, const Options& options);

// The seed a combination's generator starts from: the run's seed mixed with
// the combination's name, so one combination run alone (--backend) sees the
// same sequence as in a full run.
std::uint64_t combination_seed(std::uint64_t seed, const Combination& combination);

}  // namespace handoff::stress
