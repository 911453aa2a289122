// Open-loop load (--rate): the arrival schedules, latency from each call's
// intended send time (a stall shows in p99, not only in one sample), and
// every call verified under a rate on every backend x target x design.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "run/arrival.hpp"
#include "run/runner.hpp"
#include "semantics_support.hpp"

namespace handoff {
namespace {

using testing_support::Shape;

// The gaps from next_ns(), as the awaiting side sees them.
std::vector<double> gaps_of(ArrivalSchedule& schedule, std::size_t n) {
    std::vector<double> gaps;
    schedule.restart(1'000'000'000);
    std::int64_t last = schedule.next_ns();
    for (std::size_t i = 0; i < n; ++i) {
        schedule.advance();
        gaps.push_back(double(schedule.next_ns() - last));
        last = schedule.next_ns();
    }
    return gaps;
}

double mean_of(const std::vector<double>& v) {
    double sum = 0;
    for (double x : v) sum += x;
    return sum / double(v.size());
}

double cv_of(const std::vector<double>& v) {
    const double mean = mean_of(v);
    double sq = 0;
    for (double x : v) sq += (x - mean) * (x - mean);
    return std::sqrt(sq / double(v.size())) / mean;
}

TEST(ArrivalSchedule, FixedIsEvenlySpacedAndNeverDrifts) {
    ArrivalSchedule schedule(3.0, ArrivalKind::fixed, 1);  // a gap of 333,333,333.3 ns
    schedule.restart(0);
    for (int k = 0; k < 300'000; ++k) schedule.advance();
    // Rounded each time, the gaps would lose 0.3 ns a call: 100 us here.
    EXPECT_NEAR(double(schedule.next_ns()), 300'000 * 1e9 / 3, 1.0);
    ArrivalSchedule tenk(10'000, ArrivalKind::fixed, 1);
    for (double gap : gaps_of(tenk, 1000)) EXPECT_EQ(gap, 100'000);
}

TEST(ArrivalSchedule, PoissonHasTheMeanRateAndExponentialDispersion) {
    ArrivalSchedule schedule(10'000, ArrivalKind::poisson, 7);
    const std::vector<double> gaps = gaps_of(schedule, 200'000);
    // Mean 100 us: the standard error of 200k exponential gaps is 0.22%.
    EXPECT_NEAR(mean_of(gaps), 100'000, 1'000);
    // An exponential's coefficient of variation is 1 (fixed's is 0).
    EXPECT_NEAR(cv_of(gaps), 1.0, 0.02);
    // Memoryless: P(gap > mean) = e^-1.
    std::size_t above = 0;
    for (double gap : gaps) above += gap > 100'000;
    EXPECT_NEAR(double(above) / double(gaps.size()), std::exp(-1.0), 0.01);
    for (double gap : gaps) EXPECT_GE(gap, 0);
}

TEST(ArrivalSchedule, ASeedGivesOneScheduleAndAnotherSeedAnother) {
    ArrivalSchedule a(1000, ArrivalKind::poisson, 1), b(1000, ArrivalKind::poisson, 1), c(1000, ArrivalKind::poisson, 2);
    EXPECT_EQ(gaps_of(a, 100), gaps_of(b, 100));
    EXPECT_NE(gaps_of(a, 100), gaps_of(c, 100));
}

// One call stalls 10 ms at 10,000 calls per second, one in flight: the calls
// meant to go out during the stall wait for it. Measured from their intended
// times, the 50 calls due in the stall's first 5 ms each took at least 5 ms:
// 2.5% of 2,000, so p99 is at least 5 ms however fast the machine. (Back to
// back the same stall is one slow sample and p99 never sees it.)
TEST(OpenLoop, AStallShowsInTheP99MeasuredFromIntendedTimes) {
    Configuration config;
    config.backend = "epoll";
    config.target = TargetKind::dedicated;
    config.calls = 2000;
    config.warmup = 10;
    config.rate = 10'000;
    // The first slow:P:10ms share that picks exactly one measured call.
    for (double share = 0.0001; share < 0.01; share *= 1.1) {
        config.work = Work::parse(fmt::format("none+slow:{}:10ms", share));
        if (testing_support::count_measured(config, [&](std::uint64_t arg) { return config.work.is_slow(arg); }) == 1) break;
    }
    ASSERT_EQ(testing_support::count_measured(config, [&](std::uint64_t arg) { return config.work.is_slow(arg); }), 1u);
    const RowResult row = run_configuration(config);
    ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
    const Measurement& m = row.runs.at(0);
    EXPECT_EQ(m.calls, 2000u);
    EXPECT_EQ(m.latency.count(), 2000u);
    EXPECT_GE(m.latency.percentile_ns(99), 5'000'000);
    EXPECT_GE(m.latency.percentile_ns(100), 10'000'000);
    EXPECT_EQ(m.rate_asked, 10'000);
    // The interval spans the schedule: 2,000 calls at 10k per second.
    EXPECT_GE(m.wall_s, 0.1999);
}

// The inline row keeps the schedule too: it waits for each intended time
// and measures from it, so it is the same load without the handoff.
TEST(OpenLoop, TheInlineRowRunsOnTheScheduleAndMeasuresLatency) {
    Configuration config = Configuration::reference(RowKind::inline_calls, Configuration{});
    config.work = Work::parse("none");
    config.calls = 500;
    config.warmup = 10;
    config.rate = 5'000;
    config.arrival = ArrivalKind::poisson;
    const RowResult row = run_configuration(config);
    ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
    const Measurement& m = row.runs.at(0);
    EXPECT_EQ(m.latency.count(), 500u);
    EXPECT_GE(m.wall_s, 0.05);  // 500 calls at 5k per second take 0.1 s on average
}

class OpenLoopEveryShape : public testing_support::OnAvailableBackend<Shape> {};

TEST_P(OpenLoopEveryShape, EveryCallVerifiedUnderARate) {
    testing_support::expect_every_call_verified_at_a_rate(GetParam());
}

// The designs that save wakes at a rate (defer=: results wait for the next
// arrival; hold=: calls wait to wake the worker once for several), on the
// loops that carry them.
TEST(OpenLoop, DeferAndHoldLoseNoCallUnderARate) {
    for (const char* backend : {"epoll", "uring", "uv"}) {
        for (const char* design : {"futex-gated,defer=100us", "futex-gated,defer=100us,hold=150us",
                                   "eventfd,queue=spsc,defer=100us,hold=300us", "spin-park:1us,defer=100us"}) {
            testing_support::expect_every_call_verified_at_a_rate({backend, TargetKind::dedicated, design});
            if (HasFatalFailure() || IsSkipped()) return;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Semantics, OpenLoopEveryShape, testing::ValuesIn(testing_support::every_shape()),
                         testing_support::shape_name);

}  // namespace
}  // namespace handoff
