// --await coroutine: C++20 coroutines on the loop thread, each awaiting its
// calls one after another (Asio's awaitable on asio, the lab's awaitable over
// the loop's delivery elsewhere). Through the real runner on every backend x
// target: every call completes exactly once with its result checked;
// exceptions, timeouts and cancellation reach the co_await; a run stopped
// with coroutines suspended destroys them unresumed (make asan, make tsan).
// No timing thresholds. That the lab's coroutine path allocates nothing per
// call is in test_allocation.cpp, beside the callback path's.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <sstream>
#include <string>

#include "cli/cli.hpp"
#include "handoff/backend.hpp"
#include "run/runner.hpp"
#include "faulty_loop.hpp"
#include "semantics_support.hpp"

namespace handoff {
namespace {

using testing_support::Shape;

Configuration coroutine_config(const Shape& shape, const std::string& work, std::uint64_t calls,
                               std::uint32_t inflight) {
    Configuration config = testing_support::config_for(shape, work, calls, inflight);
    config.await_mode = AwaitMode::coroutine;
    return config;
}

// Every backend x target (the dedicated worker classic).
std::vector<Shape> every_backend_and_target() {
    std::vector<Shape> all;
    for (const Backend* backend : all_backends()) {
        all.push_back({std::string(backend->name), TargetKind::dedicated, "classic"});
        all.push_back({std::string(backend->name), TargetKind::pool, ""});
    }
    return all;
}

class CoroutineEveryBackend : public testing_support::OnAvailableBackend<Shape> {};

// Every result is checked by the window and again against what the co_await
// gave; an ok row with exactly `calls` measured calls, each with a round
// trip, means each call completed exactly once with the right result.
TEST_P(CoroutineEveryBackend, CompletesEveryCallExactlyOnce) {
    for (std::uint32_t inflight : {1u, 16u}) {
        SCOPED_TRACE(testing::Message() << "in-flight " << inflight);
        const RowResult row = run_configuration(coroutine_config(GetParam(), "none", 3000, inflight));
        if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
        ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
        EXPECT_EQ(row.errors, 0u);
        ASSERT_EQ(row.runs.size(), 1u);
        const Measurement& m = row.runs[0];
        EXPECT_EQ(m.calls, 3000u);
        EXPECT_EQ(m.latency.count(), 3000u);
        EXPECT_EQ(m.failed_calls + m.timed_out_calls + m.cancelled_calls + m.late_results, 0u);
        EXPECT_GE(m.worker_threads, 1u);
        // Asio awaits with its own coroutines; the others with the lab's awaitable.
        const std::string how = GetParam().backend == "asio" ? "asio::awaitable" : "lab awaitable";
        EXPECT_NE(row.mechanism.find("await: " + how), std::string::npos) << row.mechanism;
    }
}

// Open loop: callers wait for each call's intended time (the loop's
// deadline); every call verified as the callback side's are.
TEST_P(CoroutineEveryBackend, CompletesEveryCallAtARate) {
    testing_support::expect_every_call_verified_at_a_rate(GetParam(), AwaitMode::coroutine);
}

// Without a warm-up the callers of the measured phase are the first ones.
TEST_P(CoroutineEveryBackend, RunsWithoutAWarmUp) {
    Configuration config = coroutine_config(GetParam(), "none", 500, 4);
    config.warmup = 0;
    const RowResult row = run_configuration(config);
    if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
    ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
    EXPECT_EQ(row.runs.at(0).calls, 500u);
    EXPECT_EQ(row.runs.at(0).latency.count(), 500u);
}

// fail:P: each picked call's own exception is rethrown at its co_await (the
// side checks it is that very exception object), the others return.
TEST_P(CoroutineEveryBackend, RethrowsEachCallsOwnExceptionAtTheCoAwait) {
    for (std::uint32_t inflight : {1u, 8u}) {
        SCOPED_TRACE(testing::Message() << "in-flight " << inflight);
        const Configuration config = coroutine_config(GetParam(), "none+fail:0.3", 1000, inflight);
        const RowResult row = run_configuration(config);
        if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
        ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
        const Measurement& m = row.runs.at(0);
        EXPECT_EQ(m.calls, 1000u);
        EXPECT_EQ(m.failed_calls, testing_support::count_measured(
                                      config, [&](std::uint64_t arg) { return config.work.must_fail(arg); }));
        EXPECT_GT(m.failed_calls, 0u);
    }
}

// As TimeoutsThroughTheRunner does for callbacks: slow calls time out (the
// caller gets CallTimedOut at its co_await and sends its next call); one still
// queued is cancelled and never runs; one running comes back late; every
// measured call ends exactly once.
TEST_P(CoroutineEveryBackend, TimesOutCancelsAndTakesLateResultsBack) {
    std::uint64_t late = 0;
    for (std::uint32_t inflight : {1u, 4u}) {
        SCOPED_TRACE(testing::Message() << "in-flight " << inflight);
        Configuration config = coroutine_config(GetParam(), "none+slow:0.05:20ms+fail:0.1", 200, inflight);
        config.timeout = std::chrono::milliseconds(10);
        const RowResult row = run_configuration(config);
        if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
        ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
        const Measurement& m = row.runs.at(0);
        const std::uint64_t slow =
            testing_support::count_measured(config, [&](std::uint64_t arg) { return config.work.is_slow(arg); });
        EXPECT_EQ(m.calls, 200u);
        EXPECT_EQ(m.latency.count(), 200u);
        // Every slow call, even when the loop thread stalled past a deadline
        // and found the result already queued (Asio runs a posted handler
        // before it polls its timers): a result older than its timeout is
        // timed out whenever the loop finds it (AwaitingPhases::settle_back).
        EXPECT_GE(m.timed_out_calls, slow);
        EXPECT_GE(m.timed_out_calls, 1u);
        EXPECT_EQ(m.cancelled_calls + m.late_results, m.timed_out_calls);
        if (GetParam().target == TargetKind::dedicated && inflight > 1) {
            EXPECT_GE(m.cancelled_calls, 1u);
        }
        late += m.late_results;
    }
    EXPECT_GE(late, 1u) << "no slow call ever came back late: the late path never ran";
}

// Every call slower than the timeout: the spares fill with timed-out calls
// still out, and a caller resumed with its timeout finds no free slot and
// waits for one (await_slot) until a late or cancelled call comes back.
TEST_P(CoroutineEveryBackend, ACallerWaitsForASlotHeldByTimedOutCalls) {
    Configuration config = coroutine_config(GetParam(), "sleep:3ms", 30, 2);
    config.warmup = 4;
    config.timeout = std::chrono::microseconds(500);
    const RowResult row = run_configuration(config);
    if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
    ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
    const Measurement& m = row.runs.at(0);
    EXPECT_EQ(m.calls, 30u);
    EXPECT_EQ(m.latency.count(), 30u);
    // All of them, unless a stalled loop saw a result before its deadline.
    EXPECT_GE(m.timed_out_calls, 1u);
    EXPECT_EQ(m.cancelled_calls + m.late_results, m.timed_out_calls);
}

// Stopped from outside (a signal) with every caller suspended on a call:
// the row says interrupted, and the callers are destroyed, never resumed,
// with nothing leaked (make asan) and no race (make tsan).
TEST_P(CoroutineEveryBackend, AStopWithCoroutinesSuspendedDestroysThem) {
    for (std::uint32_t inflight : {1u, 8u}) {
        std::atomic<bool> stop{false};
        RunLimits limits;
        limits.stop_requested = &stop;
        limits.on_progress = [&](std::uint64_t delivered) {
            if (delivered > 0) stop = true;
        };
        const RowResult row = run_configuration(coroutine_config(GetParam(), "sleep:2ms", 100000, inflight), limits);
        if (row.status == RowStatus::unavailable) GTEST_SKIP() << row.reason;
        EXPECT_EQ(row.status, RowStatus::failed);
        EXPECT_EQ(row.reason, "interrupted");
    }
}

INSTANTIATE_TEST_SUITE_P(Coroutine, CoroutineEveryBackend, testing::ValuesIn(every_backend_and_target()),
                         testing_support::shape_name);

// Every design that changes the loop's or the worker's side (gated, spin,
// in place, adaptive, native), in coroutine mode: ok, or refused with the
// reason, as in callback mode.
class CoroutineEveryShape : public testing::TestWithParam<Shape> {};

TEST_P(CoroutineEveryShape, CompletesEveryCallOrSaysWhyNot) {
    const Backend* backend = find_backend(GetParam().backend);
    ASSERT_NE(backend, nullptr);
    if (auto reason = backend_unavailable_reason(*backend)) GTEST_SKIP() << *reason;
    Configuration callback = testing_support::config_for(GetParam(), "none", 200, 4);
    Configuration coroutine = callback;
    coroutine.await_mode = AwaitMode::coroutine;
    const RowResult by_callback = run_configuration(callback);
    const RowResult by_coroutine = run_configuration(coroutine);
    if (by_callback.status == RowStatus::unavailable && by_coroutine.status == RowStatus::unavailable) {
        GTEST_SKIP() << by_coroutine.reason;
    }
    EXPECT_EQ(by_coroutine.status, by_callback.status) << by_coroutine.reason;
    if (by_coroutine.status == RowStatus::unavailable) return;
    ASSERT_EQ(by_coroutine.status, RowStatus::ok) << by_coroutine.reason;
    EXPECT_EQ(by_coroutine.runs.at(0).calls, 200u);
    EXPECT_EQ(by_coroutine.runs.at(0).latency.count(), 200u);
}

INSTANTIATE_TEST_SUITE_P(Coroutine, CoroutineEveryShape, testing::ValuesIn(testing_support::every_shape()),
                         testing_support::shape_name);

// --- Faults: a broken completion path stops the run with callers suspended.

using testing_support::Fault;
using testing_support::fault;
using testing_support::faulty_backend;
using testing_support::faulty_call;

RowResult run_faulty(Fault which, std::uint32_t inflight) {
    fault = which;
    Configuration config = coroutine_config({"faulty", TargetKind::dedicated, "classic"}, "none", 200, inflight);
    config.warmup = 50;
    faulty_call = which == Fault::duplicate ? config.warmup + config.calls - 1 : 80;
    RunLimits limits;
    limits.stall_timeout = std::chrono::milliseconds(300);
    return run_configuration(config, faulty_backend, limits);
}

TEST(CoroutineFaults, ALostCallFailsTheRowAndItsCallerIsDestroyed) {
    for (std::uint32_t inflight : {1u, 4u}) {
        const RowResult row = run_faulty(Fault::drop, inflight);
        EXPECT_EQ(row.status, RowStatus::failed);
        EXPECT_NE(row.reason.find("lost"), std::string::npos) << row.reason;
        EXPECT_NE(row.reason.find(std::to_string(faulty_call)), std::string::npos) << row.reason;
    }
}

TEST(CoroutineFaults, AWrongResultFailsTheRow) {
    for (std::uint32_t inflight : {1u, 4u}) {
        const RowResult row = run_faulty(Fault::corrupt, inflight);
        EXPECT_EQ(row.status, RowStatus::failed);
        EXPECT_NE(row.reason.find("expected"), std::string::npos) << row.reason;
        EXPECT_GE(row.errors, 1u);
    }
}

TEST(CoroutineFaults, ADuplicatedDeliveryFailsTheRowWithoutResumingTwice) {
    for (std::uint32_t inflight : {1u, 4u}) {
        const RowResult row = run_faulty(Fault::duplicate, inflight);
        EXPECT_EQ(row.status, RowStatus::failed);
        EXPECT_NE(row.reason.find("twice"), std::string::npos) << row.reason;
    }
}

// --- What cannot be built, and the command line.


TEST(CoroutineNames, TheDesignNameTellsTheRowsApart) {
    Configuration config = coroutine_config({"epoll", TargetKind::pool, ""}, "none", 100, 1);
    EXPECT_EQ(config.design_name(), "await=coroutine");
    config.target = TargetKind::dedicated;
    config.design = parse_design("inplace");
    config.timeout = std::chrono::milliseconds(10);
    EXPECT_EQ(config.design_name(), "inplace,timeout=10ms,await=coroutine");
    config.await_mode = AwaitMode::callback;
    EXPECT_EQ(config.design_name(), "inplace,timeout=10ms");  // callback rows keep their names
}

std::optional<Options> parse(std::vector<const char*> args, std::string* error = nullptr) {
    args.insert(args.begin(), "handoff");
    std::ostringstream out, err;
    ParseResult result = parse_command_line(int(args.size()), args.data(), out, err);
    if (error != nullptr) *error = err.str();
    return result.options;
}

TEST(CoroutineCommandLine, AwaitPicksTheModeAndAllRunsEachRowBothWays) {
    const auto callback = parse({"--backend", "epoll", "--target", "pool", "--no-floor"});
    ASSERT_TRUE(callback);
    ASSERT_EQ(callback->configurations.size(), 2u);  // inline, epoll pool
    EXPECT_EQ(callback->configurations[1].await_mode, AwaitMode::callback);

    const auto coroutine = parse({"--backend", "epoll", "--target", "pool", "--no-floor", "--await", "coroutine"});
    ASSERT_TRUE(coroutine);
    ASSERT_EQ(coroutine->configurations.size(), 2u);
    EXPECT_EQ(coroutine->configurations[1].await_mode, AwaitMode::coroutine);

    const auto all = parse({"--backend", "epoll,asio", "--no-floor", "--await", "all", "--timeout", "5ms"});
    ASSERT_TRUE(all);
    // inline, then each of 2 backends x 2 targets x (without, with the timeout) x (callback, coroutine).
    ASSERT_EQ(all->configurations.size(), 1u + 2 * 2 * 2 * 2);
    EXPECT_EQ(all->configurations[0].await_mode, AwaitMode::callback);  // inline is never awaited
    for (std::size_t i = 1; i < all->configurations.size(); i += 2) {
        EXPECT_EQ(all->configurations[i].await_mode, AwaitMode::callback);
        EXPECT_EQ(all->configurations[i + 1].await_mode, AwaitMode::coroutine);
        EXPECT_NE(all->configurations[i].design_name(), all->configurations[i + 1].design_name());
    }
}

TEST(CoroutineCommandLine, AnUnknownModeIsRefusedNamingTheChoices) {
    std::string error;
    EXPECT_FALSE(parse({"--await", "fiber"}, &error));
    EXPECT_NE(error.find("--await"), std::string::npos) << error;
    EXPECT_NE(error.find("callback, coroutine or all"), std::string::npos) << error;
}

}  // namespace
}  // namespace handoff
