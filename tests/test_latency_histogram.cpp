// The round-trip histogram: bucket layout, percentiles against a sorted list,
// merge, empty and huge values.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "measurement/latency_histogram.hpp"

namespace handoff {
namespace {

using H = LatencyHistogram;
constexpr std::int64_t one_hour_ns = 3600LL * 1'000'000'000;
constexpr std::int64_t int64_max = std::numeric_limits<std::int64_t>::max();

// Counters live inside the object: copying it copies everything, nothing is on the heap.
static_assert(std::is_trivially_copyable_v<H>);
static_assert(noexcept(std::declval<H&>().record(0)));

// The true percentile of `sorted` for q = q_milli / 1000 percent, by the
// documented rule (nearest rank, rank = ceil(q/100 * n), at least 1),
// computed here independently in integers.
std::int64_t nearest_rank(const std::vector<std::int64_t>& sorted, std::uint64_t q_milli) {
    const std::uint64_t n = sorted.size();
    const std::uint64_t rank = std::max<std::uint64_t>((n * q_milli + 99'999) / 100'000, 1);
    return sorted[rank - 1];
}

// Records `samples`, then checks count, min, max, mean and many percentiles
// against the sorted list: the histogram is never below the true value and
// exceeds it by less than the documented relative error.
void check_against_sorted(std::vector<std::int64_t> samples, const std::string& name) {
    SCOPED_TRACE(name);
    H histogram;
    for (const std::int64_t s : samples) histogram.record(s);
    std::sort(samples.begin(), samples.end());

    ASSERT_EQ(histogram.count(), samples.size());
    EXPECT_EQ(histogram.min_ns(), samples.front());
    EXPECT_EQ(histogram.max_ns(), samples.back());
    long double sum = 0;
    for (const std::int64_t s : samples) sum += s;
    EXPECT_DOUBLE_EQ(histogram.mean_ns(), double(sum / samples.size()));

    std::vector<std::uint64_t> quantiles{0,      1,      1'000,  10'000, 25'000, 50'000, 75'000,
                                         90'000, 99'000, 99'900, 99'990, 99'999, 100'000};
    std::mt19937_64 pick(7);
    std::uniform_int_distribution<std::uint64_t> any_q(0, 100'000);
    for (int i = 0; i < 200; ++i) quantiles.push_back(any_q(pick));

    for (const std::uint64_t q_milli : quantiles) {
        const double q = double(q_milli) / 1000.0;
        const std::int64_t truth = nearest_rank(samples, q_milli);
        const std::int64_t reported = histogram.percentile_ns(q);
        SCOPED_TRACE("q=" + std::to_string(q));
        EXPECT_GE(reported, truth);
        EXPECT_LE(double(reported - truth), double(truth) * H::max_relative_error);
        if (truth < std::int64_t(H::exact_limit)) {
            EXPECT_EQ(reported, truth);
        }
    }
    EXPECT_EQ(histogram.percentile_ns(0), samples.front());
    EXPECT_EQ(histogram.percentile_ns(100), samples.back());
}

TEST(LatencyHistogram, BucketsTileTheRangeWithBoundedWidth) {
    EXPECT_EQ(H::bucket_count, 2241u);
    EXPECT_LT(sizeof(H), 20'000u);
    EXPECT_EQ(H::bucket_lower_ns(0), 0);
    for (std::size_t i = 0; i < H::bucket_count; ++i) {
        SCOPED_TRACE("bucket " + std::to_string(i));
        const std::int64_t lower = H::bucket_lower_ns(i);
        const std::int64_t upper = H::bucket_upper_ns(i);
        ASSERT_LE(lower, upper);
        ASSERT_EQ(H::bucket_of(lower), i);
        ASSERT_EQ(H::bucket_of(upper), i);
        if (i + 1 < H::bucket_count) {
            ASSERT_EQ(upper + 1, H::bucket_lower_ns(i + 1));
            // A bucket is never wider than 1/64 of the values it holds.
            ASSERT_LE(double(upper - lower + 1), std::max(1.0, double(lower) * H::max_relative_error));
        }
        if (i < H::exact_limit) {
            ASSERT_EQ(lower, upper);
        }
    }
    EXPECT_EQ(H::bucket_of((std::int64_t{1} << 40) - 1), H::overflow_bucket - 1);
    EXPECT_EQ(H::bucket_of(std::int64_t{1} << 40), H::overflow_bucket);
    EXPECT_EQ(H::bucket_lower_ns(H::overflow_bucket), std::int64_t{1} << 40);
    EXPECT_EQ(H::bucket_upper_ns(H::overflow_bucket), int64_max);
    EXPECT_EQ(H::bucket_of(-1), 0u);
    EXPECT_EQ(H::bucket_of(std::numeric_limits<std::int64_t>::min()), 0u);
}

TEST(LatencyHistogram, SmallIntegersAreExact) {
    H histogram;
    for (std::int64_t v = 100; v >= 1; --v) histogram.record(v);  // order must not matter
    for (int q = 1; q <= 100; ++q) EXPECT_EQ(histogram.percentile_ns(q), q) << "q=" << q;
    EXPECT_EQ(histogram.percentile_ns(0), 1);
    EXPECT_EQ(histogram.percentile_ns(0.5), 1);   // rank ceil(0.5) = 1
    EXPECT_EQ(histogram.percentile_ns(99.5), 100);  // rank ceil(99.5) = 100
    EXPECT_EQ(histogram.percentile_ns(50.0001), 51);
    EXPECT_EQ(histogram.min_ns(), 1);
    EXPECT_EQ(histogram.max_ns(), 100);
    EXPECT_DOUBLE_EQ(histogram.mean_ns(), 50.5);
    for (std::int64_t v = 0; v < std::int64_t(H::exact_limit); ++v) {
        EXPECT_EQ(histogram.count_in_bucket(std::size_t(v)), v >= 1 && v <= 100 ? 1u : 0u);
    }
}

TEST(LatencyHistogram, RankUsesTheDecimalPercentile) {
    // 1000 samples 1..1000: p99.9 is rank 999 exactly (a careless double
    // computation makes it ceil(999.0000000000001) = 1000).
    H histogram;
    std::vector<std::int64_t> samples;
    for (std::int64_t v = 1; v <= 1000; ++v) samples.push_back(v * 1000);
    for (const std::int64_t s : samples) histogram.record(s);
    const std::int64_t p999 = histogram.percentile_ns(99.9);
    EXPECT_GE(p999, 999'000);
    EXPECT_LT(p999, 1'000'000);
}

TEST(LatencyHistogram, MatchesSortedListOnUniformData) {
    std::mt19937_64 random(1);
    std::uniform_int_distribution<std::int64_t> uniform(0, 1'000'000);
    std::vector<std::int64_t> samples(200'000);
    for (auto& s : samples) s = uniform(random);
    check_against_sorted(std::move(samples), "uniform 0..1ms");
}

TEST(LatencyHistogram, MatchesSortedListOnLogUniformData) {
    std::mt19937_64 random(2);
    std::uniform_real_distribution<double> exponent(std::log(100.0), std::log(10'000'000.0));
    std::vector<std::int64_t> samples(200'000);
    for (auto& s : samples) s = std::llround(std::exp(exponent(random)));
    check_against_sorted(std::move(samples), "log-uniform 100ns..10ms");
}

TEST(LatencyHistogram, MatchesSortedListOnBimodalData) {
    // This machine's blocking round trip: ~2 us when both threads share a
    // CPU, ~60 us when a sleeping CPU must be woken, and a rare long tail.
    std::mt19937_64 random(3);
    std::bernoulli_distribution cross_cpu(0.3);
    std::bernoulli_distribution outlier(0.002);
    std::normal_distribution<double> same(2'000, 200);
    std::normal_distribution<double> cross(60'000, 8'000);
    std::exponential_distribution<double> tail(1.0 / 2'000'000);
    std::vector<std::int64_t> samples(200'000);
    for (auto& s : samples) {
        const double v = outlier(random) ? tail(random) : cross_cpu(random) ? cross(random) : same(random);
        s = std::max<std::int64_t>(std::llround(v), 0);
    }
    check_against_sorted(std::move(samples), "bimodal 2us/60us");
}

TEST(LatencyHistogram, MatchesSortedListOnTinyAndEqualSamples) {
    check_against_sorted({5'000}, "one sample");
    check_against_sorted({123'456, 123'456, 123'456}, "all equal");
    check_against_sorted({0, 1, 127, 128, 129, 255, 256, 1'000'000'007}, "edges");
}

TEST(LatencyHistogram, MaxIsExact) {
    H histogram;
    for (int i = 0; i < 1000; ++i) histogram.record(2'000);
    histogram.record(1'234'567);  // in a bucket of width 2^14
    EXPECT_EQ(histogram.max_ns(), 1'234'567);
    EXPECT_EQ(histogram.percentile_ns(100), 1'234'567);
    EXPECT_EQ(summarize(histogram).max_ns, 1'234'567);
    // The median's bucket is [2000, 2015]: its upper edge is reported.
    EXPECT_EQ(histogram.percentile_ns(50), H::bucket_upper_ns(H::bucket_of(2'000)));
    EXPECT_EQ(histogram.percentile_ns(50), 2'015);
}

TEST(LatencyHistogram, MergeEqualsRecordingBoth) {
    std::mt19937_64 random(4);
    std::uniform_real_distribution<double> exponent(std::log(50.0), std::log(1e9));
    H a;
    H b;
    H both;
    for (int i = 0; i < 50'000; ++i) {
        const std::int64_t v = std::llround(std::exp(exponent(random)));
        (i % 3 == 0 ? a : b).record(v);
        both.record(v);
    }
    b.record(one_hour_ns);
    both.record(one_hour_ns);

    H merged = a;
    merged.merge(b);
    EXPECT_TRUE(merged == both);
    EXPECT_EQ(merged.count(), both.count());
    EXPECT_EQ(merged.min_ns(), both.min_ns());
    EXPECT_EQ(merged.max_ns(), one_hour_ns);
    EXPECT_EQ(merged.mean_ns(), both.mean_ns());
    EXPECT_EQ(summarize(merged), summarize(both));

    // Merging with an empty histogram changes nothing, either way round.
    H empty;
    H copy = both;
    copy.merge(empty);
    EXPECT_TRUE(copy == both);
    empty.merge(both);
    EXPECT_TRUE(empty == both);
    EXPECT_EQ(empty.min_ns(), both.min_ns());
}

TEST(LatencyHistogram, EmptyReportsZeros) {
    const H histogram;
    EXPECT_EQ(histogram.count(), 0u);
    EXPECT_EQ(histogram.min_ns(), 0);
    EXPECT_EQ(histogram.max_ns(), 0);
    EXPECT_EQ(histogram.mean_ns(), 0.0);
    for (const double q : {0.0, 50.0, 99.9, 100.0}) EXPECT_EQ(histogram.percentile_ns(q), 0);
    EXPECT_EQ(summarize(histogram), LatencySummary{});
}

TEST(LatencyHistogram, ResetEmpties) {
    H histogram;
    for (int i = 0; i < 100; ++i) histogram.record(i * 977);
    histogram.reset();
    EXPECT_TRUE(histogram == H{});
    EXPECT_EQ(histogram.count(), 0u);
    EXPECT_EQ(histogram.percentile_ns(50), 0);
    histogram.record(42);
    EXPECT_EQ(histogram.min_ns(), 42);
    EXPECT_EQ(histogram.percentile_ns(50), 42);
}

TEST(LatencyHistogram, HugeValuesGoToTheTopBucket) {
    H histogram;
    histogram.record(1'000);
    histogram.record(one_hour_ns);
    histogram.record(int64_max);
    histogram.record(int64_max);
    histogram.record(int64_max);  // the sum exceeds 64 bits: the mean stays right
    EXPECT_EQ(histogram.count_in_bucket(H::overflow_bucket), 4u);
    EXPECT_EQ(histogram.max_ns(), int64_max);
    EXPECT_EQ(histogram.percentile_ns(100), int64_max);
    EXPECT_EQ(histogram.percentile_ns(20), 1'007);  // the upper edge of [1000, 1007]
    // Rank 2 is the hour, in the overflow bucket: reported as the maximum (documented).
    EXPECT_EQ(histogram.percentile_ns(40), int64_max);
    const long double sum = 1000.0L + one_hour_ns + 3.0L * int64_max;
    EXPECT_DOUBLE_EQ(histogram.mean_ns(), double(sum / 5));

    H hour;
    hour.record(one_hour_ns);
    EXPECT_EQ(hour.count_in_bucket(H::overflow_bucket), 1u);
    EXPECT_EQ(hour.percentile_ns(50), one_hour_ns);
    EXPECT_EQ(summarize(hour).p999_ns, one_hour_ns);
}

TEST(LatencyHistogram, NegativeDurationsCountAsZero) {
    H histogram;
    histogram.record(-5);
    histogram.record(std::numeric_limits<std::int64_t>::min());
    histogram.record(10);
    EXPECT_EQ(histogram.count(), 3u);
    EXPECT_EQ(histogram.count_in_bucket(0), 2u);
    EXPECT_EQ(histogram.min_ns(), 0);
    EXPECT_EQ(histogram.max_ns(), 10);
    EXPECT_EQ(histogram.percentile_ns(50), 0);
    EXPECT_DOUBLE_EQ(histogram.mean_ns(), 10.0 / 3);
}

TEST(LatencyHistogram, RejectsPercentilesOutsideZeroToHundred) {
    H histogram;
    histogram.record(1);
    EXPECT_THROW(histogram.percentile_ns(-0.1), std::invalid_argument);
    EXPECT_THROW(histogram.percentile_ns(100.01), std::invalid_argument);
    EXPECT_THROW(histogram.percentile_ns(std::nan("")), std::invalid_argument);
    EXPECT_THROW(H{}.percentile_ns(101), std::invalid_argument);  // even when empty
}

TEST(LatencyHistogram, SummaryPicksTheFourPercentiles) {
    // 1000 samples: 1..100, ten of each, all in exact buckets.
    H histogram;
    for (int round = 0; round < 10; ++round) {
        for (std::int64_t v = 1; v <= 100; ++v) histogram.record(v);
    }
    const LatencySummary summary = summarize(histogram);
    EXPECT_EQ(summary.p50_ns, 50);    // rank 500
    EXPECT_EQ(summary.p90_ns, 90);    // rank 900
    EXPECT_EQ(summary.p99_ns, 99);    // rank 990
    EXPECT_EQ(summary.p999_ns, 100);  // rank 999
    EXPECT_EQ(summary.max_ns, 100);
    EXPECT_EQ(summary.samples, 1000u);
}

}  // namespace
}  // namespace handoff
