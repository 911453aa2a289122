// The measured interval's bookkeeping, the same for every way of awaiting:
// the interval opened just before the first measured call is sent and closed
// just after the last one ended, each measured call's round trip and where it
// ran, and how the calls ended. Loop thread only.
//
// Both awaiting sides keep their figures here: the callback side
// (run/awaiting_side.cpp) and the coroutine side (run/coroutine_side.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "handoff/call.hpp"
#include "handoff/thread_registry.hpp"
#include "measurement/latency_histogram.hpp"
#include "measurement/measurement.hpp"

namespace handoff {

class MeasuredCalls {
public:
    // Just before the first measured call is sent. (The worker list is
    // reserved here, so nothing is allocated inside the interval.)
    void open() {
        workers_.reserve(256);
        start_ = open_interval();
    }

    // A measured call is back at `now` (CLOCK_MONOTONIC): its round trip,
    // and where it ran (unknown for a call handed back unrun).
    void record(const Call& call, std::int64_t now) noexcept {
        latency_.record(now - call.sent_ns);
        if (call.worker_cpu >= 0) {
            ++cpu_known_;
            same_cpu_ += call.worker_cpu == call.loop_cpu;
        }
    }

    // Every measured call has ended (delivered or timed out): the interval
    // closes, with the threads of `registry` as the workers; `rate_asked`
    // is an open-loop run's (0: closed loop).
    void close(ThreadRegistry& registry, double rate_asked = 0);
    // Every timed-out call is back too (after the interval closed): their
    // round trips and late results complete the figures.
    void complete();

    // Set by close().
    const std::optional<Measurement>& measurement() const { return measurement_; }

    // How the measured calls ended; the awaiting side counts them.
    std::uint64_t delivered = 0;  // came back in time (ok or failed)
    std::uint64_t failed = 0;
    std::uint64_t timed_out = 0;
    std::uint64_t cancelled = 0;
    std::uint64_t late = 0;

private:
    std::uint64_t same_cpu_ = 0;   // measured calls that ran on the loop's CPU
    std::uint64_t cpu_known_ = 0;  // measured calls whose worker CPU is known
    IntervalEdge start_;
    std::vector<pid_t> workers_;  // the registry's threads at the end edge
    LatencyHistogram latency_;
    std::optional<Measurement> measurement_;
};

}  // namespace handoff
