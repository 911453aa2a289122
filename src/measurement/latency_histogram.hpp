// The distribution of round-trip times: a fixed-size log-linear histogram.
//
// The runner records one duration per delivered call on the loop thread, so
// record() is inline, O(1), and touches no heap, lock or system call: a
// clamp, a count-leading-zeros, a shift and an add pick the bucket. Every
// counter lives in a std::array inside the object (about 18 KB).
//
// Buckets (HDR-histogram style):
//   - values 0..127 ns have one exact bucket each;
//   - from 128 ns on, each power of two [2^e, 2^(e+1)) is split into 64 equal
//     sub-buckets of width 2^(e-6), so a bucket's width is at most 1/64 of
//     any value in it (relative error below 1.5625%);
//   - up to 2^40 ns (about 18.3 minutes); every value at or above 2^40 ns
//     goes to one overflow bucket at the top. count, min, max and the sum
//     stay exact whatever the value.
// Negative durations (a clock read out of order) are recorded as 0.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace handoff {

class LatencyHistogram {
public:
    static constexpr int sub_bucket_bits = 6;
    static constexpr std::uint64_t sub_buckets = std::uint64_t{1} << sub_bucket_bits;  // 64 per power of two
    static constexpr std::uint64_t exact_limit = 2 * sub_buckets;  // 0..127 ns are exact
    static constexpr int top_bits = 40;
    static constexpr std::uint64_t overflow_ns = std::uint64_t{1} << top_bits;  // and above: top bucket
    // Buckets 0..127, then 64 per power of two from 2^7 to 2^39, then the overflow bucket.
    static constexpr std::size_t bucket_count = exact_limit + (top_bits - sub_bucket_bits - 1) * sub_buckets + 1;
    static constexpr std::size_t overflow_bucket = bucket_count - 1;
    // The most a reported percentile exceeds the true one, relative to it
    // (below 2^40 ns; it is never below the true one).
    static constexpr double max_relative_error = 1.0 / double(sub_buckets);

    // The bucket that holds `ns` (negative counts as 0). Branch-free.
    static constexpr std::size_t bucket_of(std::int64_t ns) noexcept {
        const std::uint64_t v = std::min(clamp_negative(ns), overflow_ns);
        // ORing in 127 makes every value below 128 look like 2^6..2^7-1, so
        // their shift is 0 and their index is the value itself: no branch.
        const int magnitude = std::bit_width(v | (exact_limit - 1)) - 1;  // floor(log2), at least 6
        const int shift = magnitude - sub_bucket_bits;
        return (std::size_t(shift) << sub_bucket_bits) + std::size_t(v >> shift);
    }
    // The smallest and largest value bucket `index` holds (the overflow
    // bucket's upper edge is INT64_MAX). index < bucket_count.
    static constexpr std::int64_t bucket_lower_ns(std::size_t index) noexcept {
        if (index < exact_limit) return std::int64_t(index);
        const std::size_t shift = index / sub_buckets - 1;
        return std::int64_t((index % sub_buckets + sub_buckets) << shift);
    }
    static constexpr std::int64_t bucket_upper_ns(std::size_t index) noexcept {
        if (index >= overflow_bucket) return std::numeric_limits<std::int64_t>::max();
        return bucket_lower_ns(index + 1) - 1;
    }

    // The loop thread's per-call work: O(1), no allocation, no branch the
    // compiler cannot turn into a conditional move.
    void record(std::int64_t ns) noexcept {
        const std::uint64_t v = clamp_negative(ns);
        ++counts_[bucket_of(ns)];
        ++count_;
        sum_ += v;
        min_ = std::min(min_, v);
        max_ = std::max(max_, v);
    }

    std::uint64_t count() const noexcept { return count_; }
    std::int64_t min_ns() const noexcept { return count_ ? std::int64_t(min_) : 0; }  // 0 when empty
    std::int64_t max_ns() const noexcept { return std::int64_t(max_); }               // 0 when empty
    double mean_ns() const noexcept;                                                  // 0 when empty
    std::uint64_t count_in_bucket(std::size_t index) const noexcept { return counts_[index]; }

    // The q-th percentile, q in [0, 100] (std::invalid_argument otherwise,
    // NaN included); 0 when empty.
    //
    // Rank rule, nearest rank: rank = ceil(q/100 * count), at least 1, with q
    // taken to 1e-7 of a percent (q = 99.9 means exactly 999/1000, not the
    // binary double nearest to it), computed in integers. The true percentile
    // is the rank-th smallest sample: the smallest recorded value v such that
    // at least q% of samples are <= v. q = 0 gives the minimum, q = 100 the maximum.
    //
    // Reported value: the upper edge of the bucket holding the rank-th
    // sample, clamped to [min, max]. So it is never below the true
    // percentile and exceeds it by less than max_relative_error of it; it is
    // exact below 128 ns, at q = 0 and q = 100, and when all samples share a
    // value. A rank in the overflow bucket (>= 2^40 ns) reports the maximum.
    std::int64_t percentile_ns(double q) const;

    // Adds every sample of `other`, as if recorded here.
    void merge(const LatencyHistogram& other) noexcept;
    // Back to empty.
    void reset() noexcept;

    bool operator==(const LatencyHistogram&) const = default;

private:
    static constexpr std::uint64_t clamp_negative(std::int64_t ns) noexcept {
        return std::uint64_t(std::max<std::int64_t>(ns, 0));
    }

    std::array<std::uint64_t, bucket_count> counts_{};
    std::uint64_t count_ = 0;
    // 128 bits: the sum of a run stays exact even when a sample is near INT64_MAX.
    __extension__ unsigned __int128 sum_ = 0;
    std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();  // no sample yet
    std::uint64_t max_ = 0;
};

// What a results row shows of one run's distribution (all 0 when empty).
struct LatencySummary {
    std::int64_t p50_ns = 0;
    std::int64_t p90_ns = 0;
    std::int64_t p99_ns = 0;
    std::int64_t p999_ns = 0;
    std::int64_t max_ns = 0;
    std::uint64_t samples = 0;

    bool operator==(const LatencySummary&) const = default;
};

LatencySummary summarize(const LatencyHistogram& histogram);

}  // namespace handoff
