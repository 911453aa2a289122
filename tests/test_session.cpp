// The run plan: --count split over --repeat, interleaved, folded into rows;
// a failed repetition ends its row; a stop discards the unfinished one.
#include <gtest/gtest.h>

#include <atomic>
#include <numeric>
#include <string>
#include <vector>

#include "run/session.hpp"

namespace handoff {
namespace {

Configuration config(std::string backend, std::uint64_t calls) {
    Configuration c;
    c.backend = std::move(backend);
    if (c.backend == "floor") c = Configuration::reference(RowKind::floor, c);
    c.calls = calls;
    c.warmup = 10;
    return c;
}

// A stand-in runner: records what it was asked to run, returns one run with
// figures proportional to the calls (1 us of wall each).
struct FakeRunner {
    std::vector<std::string> order;
    std::vector<std::uint64_t> calls;
    std::string fail_backend;
    unsigned fail_at = 0;  // 1-based repetition of fail_backend that fails
    RowStatus fail_status = RowStatus::failed;
    std::atomic<bool>* stop_on_call = nullptr;
    std::size_t stop_after = 0;  // raise the stop flag during this many-th call (1-based)

    RowResult operator()(const Configuration& c, const RunLimits& limits) {
        order.push_back(c.backend);
        calls.push_back(c.calls);
        RowResult row;
        row.config = c;
        row.mechanism = "fake " + c.backend;
        if (stop_on_call != nullptr && order.size() == stop_after) {
            stop_on_call->store(true);
            EXPECT_EQ(limits.stop_requested, stop_on_call);
            row.status = RowStatus::failed;  // as the runner does when stopped
            row.reason = "interrupted";
            return row;
        }
        const auto seen = std::count(order.begin(), order.end(), c.backend);
        if (c.backend == fail_backend && unsigned(seen) == fail_at) {
            row.status = fail_status;
            row.reason = fail_status == RowStatus::failed ? "lost wake-up" : "machine busy";
            return row;
        }
        Measurement m;
        m.calls = c.calls;
        m.wall_s = double(c.calls) * 1e-6;
        row.runs.push_back(m);
        return row;
    }
};

SessionOptions with(FakeRunner& runner, unsigned repeat) {
    SessionOptions options;
    options.repeat = repeat;
    options.run_one = [&runner](const Configuration& c, const RunLimits& l) { return runner(c, l); };
    return options;
}

TEST(Session, SplitsTheCountSoRepetitionsSumToIt) {
    EXPECT_EQ(split_calls(10, 3), (std::vector<std::uint64_t>{4, 3, 3}));
    EXPECT_EQ(split_calls(9, 3), (std::vector<std::uint64_t>{3, 3, 3}));
    EXPECT_EQ(split_calls(7, 7), (std::vector<std::uint64_t>(7, 1)));
    EXPECT_EQ(split_calls(250000, 1), (std::vector<std::uint64_t>{250000}));
    for (const auto& [calls, repeat] : {std::pair{250000ull, 5u}, {1001ull, 1000u}, {17ull, 4u}}) {
        const auto parts = split_calls(calls, repeat);
        EXPECT_EQ(parts.size(), repeat);
        EXPECT_EQ(std::accumulate(parts.begin(), parts.end(), std::uint64_t{0}), calls);
        EXPECT_LE(parts.front() - parts.back(), 1u);
    }
    EXPECT_THROW(split_calls(2, 3), std::invalid_argument);
    EXPECT_THROW(split_calls(2, 0), std::invalid_argument);
}

TEST(Session, ThreeRepetitionsOfTwoConfigurationsInterleave) {
    const std::vector<Configuration> configs{config("A", 10), config("B", 10)};
    const auto plan = plan_runs(configs, 3);
    ASSERT_EQ(plan.size(), 6u);
    const std::vector<std::size_t> rows{0, 1, 0, 1, 0, 1};
    const std::vector<unsigned> reps{0, 0, 1, 1, 2, 2};
    for (std::size_t i = 0; i < plan.size(); ++i) {
        EXPECT_EQ(plan[i].row, rows[i]) << i;
        EXPECT_EQ(plan[i].repetition, reps[i]) << i;
    }

    FakeRunner runner;
    const SessionOutcome outcome = run_session(configs, with(runner, 3));
    EXPECT_EQ(runner.order, (std::vector<std::string>{"A", "B", "A", "B", "A", "B"}));
    EXPECT_EQ(runner.calls, (std::vector<std::uint64_t>{4, 4, 3, 3, 3, 3}));
    EXPECT_FALSE(outcome.interrupted);
    ASSERT_EQ(outcome.rows.size(), 2u);
    for (const RowResult& row : outcome.rows) {
        EXPECT_EQ(row.status, RowStatus::ok);
        EXPECT_EQ(row.repeat, 3u);
        EXPECT_EQ(row.config.calls, 10u);  // the whole count, not one repetition's
        ASSERT_EQ(row.runs.size(), 3u);
        std::uint64_t sum = 0;
        for (const Measurement& m : row.runs) sum += m.calls;
        EXPECT_EQ(sum, 10u);
        EXPECT_EQ(row.mechanism, "fake " + row.config.backend);
    }
}

TEST(Session, AFailedRepetitionEndsItsRowAndTheOthersGoOn) {
    const std::vector<Configuration> configs{config("A", 30), config("B", 30)};
    FakeRunner runner;
    runner.fail_backend = "A";
    runner.fail_at = 2;
    const SessionOutcome outcome = run_session(configs, with(runner, 3));
    EXPECT_EQ(runner.order, (std::vector<std::string>{"A", "B", "A", "B", "B"}));
    EXPECT_EQ(outcome.rows[0].status, RowStatus::failed);
    EXPECT_EQ(outcome.rows[0].reason, "repetition 2 of 3: lost wake-up");
    EXPECT_EQ(outcome.rows[1].status, RowStatus::ok);
    EXPECT_EQ(outcome.rows[1].runs.size(), 3u);
    EXPECT_FALSE(outcome.interrupted);
}

// The floor is a reference: a busy moment costs it one repetition, not the row.
TEST(Session, ABusyFloorRepetitionIsLeftOutAndTheRowStaysOk) {
    FakeRunner runner;
    runner.fail_backend = "floor";
    runner.fail_at = 1;
    runner.fail_status = RowStatus::unavailable;
    const SessionOutcome outcome = run_session({config("floor", 30), config("epoll", 30)}, with(runner, 3));
    ASSERT_EQ(outcome.rows.size(), 2u);
    EXPECT_EQ(outcome.rows[0].status, RowStatus::ok) << outcome.rows[0].reason;
    EXPECT_EQ(outcome.rows[0].runs.size(), 2u);
    EXPECT_EQ(outcome.rows[1].runs.size(), 3u);
}

TEST(Session, AFloorBusyInEveryRepetitionIsUnavailable) {
    FakeRunner runner;
    runner.fail_backend = "floor";
    runner.fail_at = 1;
    runner.fail_status = RowStatus::unavailable;
    const SessionOutcome outcome = run_session({config("floor", 10)}, with(runner, 1));
    EXPECT_EQ(outcome.rows[0].status, RowStatus::unavailable);
    EXPECT_EQ(outcome.rows[0].reason, "machine busy");
}

TEST(Session, AStopDiscardsTheUnfinishedRepetitionAndRunsNothingMore) {
    const std::vector<Configuration> configs{config("A", 30), config("B", 30), config("C", 30)};
    std::atomic<bool> stop{false};
    FakeRunner runner;
    runner.stop_on_call = &stop;
    runner.stop_after = 5;  // A B C A [B stopped]
    SessionOptions options = with(runner, 3);
    options.stop_requested = &stop;
    const SessionOutcome outcome = run_session(configs, options);
    EXPECT_EQ(runner.order, (std::vector<std::string>{"A", "B", "C", "A", "B"}));
    EXPECT_TRUE(outcome.interrupted);
    // A: two whole repetitions, its calls now the 20 they measured.
    EXPECT_EQ(outcome.rows[0].status, RowStatus::ok);
    EXPECT_EQ(outcome.rows[0].runs.size(), 2u);
    EXPECT_EQ(outcome.rows[0].config.calls, 20u);
    // B: its second repetition was cut short and dropped.
    EXPECT_EQ(outcome.rows[1].status, RowStatus::ok);
    EXPECT_EQ(outcome.rows[1].runs.size(), 1u);
    EXPECT_EQ(outcome.rows[1].config.calls, 10u);
    EXPECT_EQ(outcome.rows[2].runs.size(), 1u);
}

TEST(Session, AStopBeforeARowsFirstRepetitionMarksItInterrupted) {
    const std::vector<Configuration> configs{config("A", 30), config("B", 30)};
    std::atomic<bool> stop{false};
    FakeRunner runner;
    runner.stop_on_call = &stop;
    runner.stop_after = 2;  // A [B stopped]
    SessionOptions options = with(runner, 3);
    options.stop_requested = &stop;
    const SessionOutcome outcome = run_session(configs, options);
    EXPECT_TRUE(outcome.interrupted);
    EXPECT_EQ(outcome.rows[0].runs.size(), 1u);
    EXPECT_EQ(outcome.rows[1].status, RowStatus::interrupted);
    EXPECT_TRUE(outcome.rows[1].runs.empty());
}

TEST(Session, ProgressCountsEveryRepetitionWithItsWarmUp) {
    const std::vector<Configuration> configs{config("A", 20), config("B", 20)};
    FakeRunner runner;
    SessionOptions options = with(runner, 2);
    std::vector<SessionProgress> seen;
    options.on_progress = [&](const SessionProgress& p) { seen.push_back(p); };
    run_session(configs, options);
    ASSERT_EQ(seen.size(), 4u);  // once as each repetition starts (the fake reports nothing itself)
    EXPECT_EQ(seen[0].total_calls, 2u * (2 * 10 + 20));
    EXPECT_EQ(seen[0].done_calls, 0u);
    EXPECT_EQ(seen[1].done_calls, 10u + 10u);  // A's first: 10 warm-up + 10 measured
    EXPECT_EQ(seen[2].repetition, 2u);
    EXPECT_EQ(seen[3].config->backend, "B");
    EXPECT_EQ(seen[3].repeat, 2u);
}

}  // namespace
}  // namespace handoff
