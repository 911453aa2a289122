// Errors cross back: fail:P makes a deterministic share of calls throw on the
// worker; every backend, target and design delivers each exception to the
// loop thread, where it is rethrown and checked against its own call.
#include <gtest/gtest.h>

#include <cstdlib>
#include <stdexcept>

#include "run/runner.hpp"
#include "handoff/thread_registry.hpp"
#include "semantics_support.hpp"

namespace handoff {
namespace {

using testing_support::Shape;

TEST(WorkModifiers, ParseAndSpellBack) {
    const Work fail = Work::parse("fail:0.01");
    EXPECT_EQ(fail.kind, Work::Kind::none);
    EXPECT_DOUBLE_EQ(fail.fail_share, 0.01);
    EXPECT_EQ(fail.spec(), "fail:0.01");
    const Work mixed = Work::parse("sleep0+fail:0.5");
    EXPECT_EQ(mixed.kind, Work::Kind::sleep0);
    EXPECT_EQ(mixed.spec(), "sleep0+fail:0.5");
    const Work slow = Work::parse("spin:2us+slow:0.1:20ms+fail:0.25");
    EXPECT_EQ(slow.kind, Work::Kind::spin);
    EXPECT_DOUBLE_EQ(slow.slow_share, 0.1);
    EXPECT_EQ(slow.slow_duration, std::chrono::milliseconds(20));
    EXPECT_EQ(slow.longest(), std::chrono::microseconds(20002));
    for (const char* spec : {"fail:0.01", "sleep0+fail:0.5", "spin:2us+slow:0.1:20ms+fail:0.25", "slow:1:1ms",
                             "none", "fail:0", "fail:1"}) {
        EXPECT_EQ(Work::parse(Work::parse(spec).spec()), Work::parse(spec)) << spec;
    }
}

TEST(WorkModifiers, RejectsWhatItCannotMean) {
    for (const char* bad : {"fail:", "fail:2", "fail:-0.1", "fail:nan", "fail:0.1x", "fail:0.1+fail:0.2",
                            "slow:0.1", "slow:0.1:", "slow:0.1:5", "slow:x:1ms", "sleep0+", "+fail:0.1",
                            "fail:0.1+sleep0", "sleep0+sleep0", "bogus+fail:0.1"}) {
        EXPECT_THROW(Work::parse(bad), std::invalid_argument) << bad;
    }
}

// The share picked is close to P, and the same argument is always picked the same way.
TEST(WorkModifiers, PickADeterministicShare) {
    const Work work = Work::parse("fail:0.1");
    std::uint64_t picked = 0;
    for (std::uint64_t seq = 0; seq < 100000; ++seq) {
        const bool fails = work.must_fail(argument_for(seq));
        EXPECT_EQ(fails, work.must_fail(argument_for(seq)));
        picked += fails;
    }
    EXPECT_GT(picked, 9000u);
    EXPECT_LT(picked, 11000u);
    EXPECT_FALSE(Work::parse("fail:0").must_fail(argument_for(1)));
    EXPECT_TRUE(Work::parse("fail:1").must_fail(argument_for(1)));
}

// The runner catches what the work throws and stores it in the call.
TEST(WorkModifiers, CallRunnerStoresTheException) {
    ThreadRegistry registry;
    const CallRunner runner(Work::parse("fail:1"), registry);
    Call call;
    call.seq = 7;
    call.arg = argument_for(7);
    runner.run(call);
    ASSERT_EQ(call.status, CallStatus::failed);
    try {
        std::rethrow_exception(call.error);
    } catch (const WorkFailure& e) {
        EXPECT_EQ(std::string(e.what()), failure_message(call.arg));
    }
}

class ErrorsCrossBack : public testing_support::OnAvailableBackend<Shape> {};

// Every call is checked on the loop thread: the picked ones must arrive failed
// with their own exception, the others with their value. The run goes on and
// counts the failures exactly.
TEST_P(ErrorsCrossBack, EveryFailureReachesTheLoopThread) {
    for (const char* work : {"none+fail:0.2", "sleep0+fail:0.05", "fail:1"}) {
        for (std::uint32_t inflight : {1u, 8u}) {
            const Configuration config = testing_support::config_for(GetParam(), work, 400, inflight);
            const RowResult row = run_configuration(config);
            if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
            ASSERT_EQ(row.status, RowStatus::ok) << work << ": " << row.reason;
            ASSERT_EQ(row.runs.size(), 1u);
            const Measurement& m = row.runs[0];
            EXPECT_EQ(m.calls, 400u);
            EXPECT_EQ(m.failed_calls,
                      testing_support::count_measured(config, [&](std::uint64_t arg) { return config.work.must_fail(arg); }))
                << work;
            EXPECT_EQ(m.timed_out_calls, 0u);
            EXPECT_EQ(m.latency.count(), 400u);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Semantics, ErrorsCrossBack, testing::ValuesIn(testing_support::every_shape()),
                         testing_support::shape_name);

TEST(ErrorsInline, TheBaselineCountsThemToo) {
    Configuration config;
    config = Configuration::reference(RowKind::inline_calls, config);
    config.work = Work::parse("fail:0.3");
    config.calls = 1000;
    config.warmup = 10;
    const RowResult row = run_configuration(config);
    ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
    std::uint64_t expected = 0;
    for (std::uint64_t seq = 0; seq < 1000; ++seq) expected += config.work.must_fail(argument_for(seq));
    EXPECT_EQ(row.runs.at(0).failed_calls, expected);
}

}  // namespace
}  // namespace handoff
