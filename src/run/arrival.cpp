#include "run/arrival.hpp"

#include <cmath>

#include "base/mix.hpp"

namespace handoff {

ArrivalSchedule::ArrivalSchedule(double rate, ArrivalKind kind, std::uint64_t seed)
    : mean_gap_ns_(1e9 / rate), kind_(kind), seed_(mix64(seed ^ 0x5eed5eed5eed5eedULL)) {}

void ArrivalSchedule::restart(std::int64_t start_ns) {
    index_ = 0;
    start_ns_ = start_ns;
    since_start_ns_ = 0;
    next_ns_ = start_ns;
}

void ArrivalSchedule::advance() {
    // Fixed: the k-th time is start + k x gap, one product, so rounding
    // never accumulates (a sum of 300,000 gaps of 1/3 s drifts by 0.2 us).
    since_start_ns_ = kind_ == ArrivalKind::fixed ? double(index_ + 1) * mean_gap_ns_ : since_start_ns_ + gap_ns(index_);
    ++index_;
    next_ns_ = start_ns_ + std::int64_t(since_start_ns_);
}

double ArrivalSchedule::gap_ns(std::uint64_t k) const {
    if (kind_ == ArrivalKind::fixed) return mean_gap_ns_;
    // Poisson arrivals: exponential gaps, -ln(U) * mean, with U uniform in
    // (0, 1] from the seeded counter (53 bits; never 0, so never infinite).
    const double u = double((mix64(seed_ + k) >> 11) + 1) * 0x1.0p-53;
    return -std::log(u) * mean_gap_ns_;
}

}  // namespace handoff
