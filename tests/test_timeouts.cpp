// Timeouts and cancellation: every loop's deadline timer (spinning designs
// too), and through the real runner on every backend x target x design: a
// call slower than the timeout is reported timed out; one still queued is
// cancelled and never runs; a late result is dropped; every measured call
// ends exactly once (ok, failed or timed out), with no error.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "handoff/clocks.hpp"
#include "run/runner.hpp"
#include "semantics_support.hpp"

namespace handoff {
namespace {

using testing_support::Shape;

class DeadlineSink final : public CallSink {
public:
    void deliver(Call&) override {}
    void on_deadline() override {
        fired_at.push_back(monotonic_ns());
        if (rearm > 0) {
            --rearm;
            loop->set_deadline(monotonic_ns() + 1'000'000);
        } else {
            loop->stop();
        }
    }
    Loop* loop = nullptr;
    int rearm = 0;
    std::vector<std::int64_t> fired_at;
};

struct LoopCase {
    std::string backend;
    std::string design;  // the loop's side: classic, a gate, spin forever, adaptive
};

std::vector<LoopCase> every_loop() {
    std::vector<LoopCase> all;
    for (const Backend* b : all_backends()) {
        for (const char* design : {"classic", "futex-gated", "spin", "inplace", "adaptive", "spin-park:2us"}) {
            all.push_back({std::string(b->name), design});
        }
    }
    return all;
}

class LoopDeadline : public testing::TestWithParam<LoopCase> {};

// The deadline fires on the loop thread, never early, again after a re-arm
// from the callback, and a later deadline replaces an earlier one.
TEST_P(LoopDeadline, FiresOnTheLoopThreadAndCanBeReplaced) {
    const Backend* backend = find_backend(GetParam().backend);
    ASSERT_NE(backend, nullptr);
    if (auto reason = backend_unavailable_reason(*backend)) GTEST_SKIP() << *reason;
    const Design design = parse_design(GetParam().design);
    DeadlineSink sink;
    std::unique_ptr<Loop> loop;
    try {
        loop = backend->make_loop({.sink = &sink, .window = 4, .design = &design});
    } catch (const Unsupported& e) {
        GTEST_SKIP() << e.what();
    }
    sink.loop = loop.get();
    sink.rearm = 2;
    const std::int64_t start = monotonic_ns();
    loop->set_deadline(start + 3'600'000'000'000);  // an hour: replaced below
    const std::int64_t deadline = start + 2'000'000;
    loop->set_deadline(deadline);
    loop->run();
    ASSERT_EQ(sink.fired_at.size(), 3u);
    EXPECT_GE(sink.fired_at[0], deadline);
    for (std::size_t i = 1; i < sink.fired_at.size(); ++i) {
        EXPECT_GE(sink.fired_at[i] - sink.fired_at[i - 1], 1'000'000);
    }
    EXPECT_LT(monotonic_ns() - start, 5'000'000'000);  // a sanity bound, not a timing test
}

INSTANTIATE_TEST_SUITE_P(Semantics, LoopDeadline, testing::ValuesIn(every_loop()),
                         [](const testing::TestParamInfo<LoopCase>& param_info) {
                             std::string name = param_info.param.backend + "_" + param_info.param.design;
                             for (char& c : name) {
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             }
                             return name;
                         });

class TimeoutsThroughTheRunner : public testing_support::OnAvailableBackend<Shape> {};

// slow:0.05:20ms picks calls that sleep 20 ms: past the 10 ms timeout
// whenever they start, so each of them times out; others may too on a busy
// machine (never fewer). A slow call comes back late if it started before
// its timeout, cancelled if it was still queued: which one is the
// scheduler's doing, so each run checks only that every timed-out call came
// back once as one of the two, and the late path is required once over both
// runs (a slow call that waits 10 ms to start is rare; all of them doing so
// would take a machine stalled for the whole test).
TEST_P(TimeoutsThroughTheRunner, EveryCallEndsExactlyOnce) {
    std::uint64_t late = 0;
    for (std::uint32_t inflight : {1u, 4u}) {
        SCOPED_TRACE(testing::Message() << "in-flight " << inflight);
        Configuration config = testing_support::config_for(GetParam(), "none+slow:0.05:20ms+fail:0.1", 200, inflight);
        config.timeout = std::chrono::milliseconds(10);
        const RowResult row = run_configuration(config);
        if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
        ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
        ASSERT_EQ(row.runs.size(), 1u);
        const Measurement& m = row.runs[0];
        const std::uint64_t slow =
            testing_support::count_measured(config, [&](std::uint64_t arg) { return config.work.is_slow(arg); });
        ASSERT_GT(slow, 0u);
        EXPECT_EQ(m.calls, 200u);
        // Each measured call ends once: delivered in time (ok or failed) or timed out.
        // Every call's round trip is recorded, a timed-out one when it came back.
        EXPECT_EQ(m.latency.count(), 200u);
        EXPECT_GE(m.timed_out_calls, slow) << "inflight " << inflight;
        // Each timed-out call came back once: cancelled unrun, or late.
        EXPECT_EQ(m.cancelled_calls + m.late_results, m.timed_out_calls);
        EXPECT_LE(m.failed_calls, testing_support::count_measured(
                                      config, [&](std::uint64_t arg) { return config.work.must_fail(arg); }));
        // A dedicated worker runs calls in order: those queued behind a
        // running slow one wait its 20 ms, time out while still queued, and
        // are cancelled.
        if (GetParam().target == TargetKind::dedicated && inflight > 1) {
            EXPECT_GE(m.cancelled_calls, 1u);
        }
        late += m.late_results;
    }
    EXPECT_GE(late, 1u) << "no slow call ever came back late: the late path never ran";
}

// Without anything slow, a generous timeout changes nothing but the machinery.
TEST_P(TimeoutsThroughTheRunner, NothingTimesOutWhenEverythingIsFast) {
    Configuration config = testing_support::config_for(GetParam(), "none", 500, 8);
    config.timeout = std::chrono::seconds(20);
    const RowResult row = run_configuration(config);
    if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
    ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
    EXPECT_EQ(row.runs.at(0).timed_out_calls, 0u);
    EXPECT_EQ(row.runs.at(0).latency.count(), 500u);
}

INSTANTIATE_TEST_SUITE_P(Semantics, TimeoutsThroughTheRunner, testing::ValuesIn(testing_support::every_shape()),
                         testing_support::shape_name);

}  // namespace
}  // namespace handoff
