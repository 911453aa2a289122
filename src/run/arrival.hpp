// When an open-loop run (--rate) sends each call: the arrival process.
//
// A real service does not send its next call when the previous one returns:
// requests arrive at their own times, and the loop hands each one off when it
// arrives. The schedule gives each call an intended send time; the awaiting
// side sends it then (or as soon as the in-flight cap lets it), and measures
// its latency from that intended time, so a stall that delays later sends
// shows in their latency instead of hiding (coordinated omission, as wrk2 and
// HdrHistogram correct it).
#pragma once

#include <cstdint>

#include "run/configuration.hpp"

namespace handoff {

class ArrivalSchedule {
public:
    // `rate` calls per second (> 0); poisson draws its gaps from `seed`.
    ArrivalSchedule(double rate, ArrivalKind kind, std::uint64_t seed);

    // Starts the schedule: the first call is intended at `start_ns`.
    void restart(std::int64_t start_ns);
    // The intended send time of the next call.
    std::int64_t next_ns() const { return next_ns_; }
    // The next call was sent: move on to the one after it.
    void advance();

    // The gap after call number `k` since restart(), in nanoseconds, as a
    // real number (tests check the schedule's mean and dispersion with it).
    double gap_ns(std::uint64_t k) const;

private:
    double mean_gap_ns_;
    ArrivalKind kind_;
    std::uint64_t seed_;
    std::uint64_t index_ = 0;
    std::int64_t start_ns_ = 0;
    double since_start_ns_ = 0;  // the next call's intended time after start
    std::int64_t next_ns_ = 0;
};

}  // namespace handoff
