#include "measurement/latency_histogram.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace handoff {
namespace {

// q is taken in units of 1e-7 percent (parts per billion of the samples), so
// the rank is computed in integers and q = 99.9 means exactly 999/1000.
constexpr std::uint64_t ppb_per_whole = 1'000'000'000;

std::uint64_t parts_per_billion(double q) {
    // Written so NaN fails too.
    if (!(q >= 0.0 && q <= 100.0)) {
        throw std::invalid_argument("percentile must be within [0, 100], got " + std::to_string(q));
    }
    return std::uint64_t(std::llround(q * 1e7));
}

}  // namespace

double LatencyHistogram::mean_ns() const noexcept {
    return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
}

std::int64_t LatencyHistogram::percentile_ns(double q) const {
    const std::uint64_t ppb = parts_per_billion(q);
    if (count_ == 0) return 0;
    // rank = ceil(count * ppb / 1e9), at least 1; the product needs 94 bits.
    __extension__ typedef unsigned __int128 Wide;
    const auto rank = std::max<std::uint64_t>(
        std::uint64_t((Wide(count_) * ppb + (ppb_per_whole - 1)) / ppb_per_whole), 1);
    std::uint64_t seen = 0;
    for (std::size_t index = 0; index < bucket_count; ++index) {
        seen += counts_[index];
        if (seen >= rank) {
            return std::clamp(bucket_upper_ns(index), min_ns(), max_ns());
        }
    }
    return max_ns();  // unreachable: the counts add up to count_
}

void LatencyHistogram::merge(const LatencyHistogram& other) noexcept {
    for (std::size_t index = 0; index < bucket_count; ++index) counts_[index] += other.counts_[index];
    count_ += other.count_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

void LatencyHistogram::reset() noexcept { *this = LatencyHistogram{}; }

LatencySummary summarize(const LatencyHistogram& histogram) {
    return {
        .p50_ns = histogram.percentile_ns(50),
        .p90_ns = histogram.percentile_ns(90),
        .p99_ns = histogram.percentile_ns(99),
        .p999_ns = histogram.percentile_ns(99.9),
        .max_ns = histogram.max_ns(),
        .samples = histogram.count(),
    };
}

}  // namespace handoff
