// The stress core (stress/stress_core.hpp), run small on one backend so the
// suite, and with it ThreadSanitizer and ASan in CI, covers the same bursts,
// idle gaps, segments and checks that `make stress` runs at 10^6 calls.
#include <gtest/gtest.h>

#include <set>

#include "handoff/backend.hpp"
#include "stress/stress_core.hpp"

namespace handoff::stress {
namespace {

TEST(StressCore, TheMainCombinationsCoverEveryBackendDesignAndThePool) {
    const auto all = main_combinations({find_backend("epoll"), find_backend("uv")});
    ASSERT_EQ(all.size(), 12u);
    std::set<std::string> names;
    for (const Combination& c : all) names.insert(c.name());
    EXPECT_EQ(names.size(), 12u);
    for (const char* name : {"epoll dedicated classic", "epoll dedicated futex-gated", "epoll dedicated spin-park:2us",
                             "epoll dedicated adaptive", "epoll dedicated spin", "epoll pool", "uv pool"}) {
        EXPECT_EQ(names.count(name), 1u) << name;
    }
}

TEST(StressCore, TheSeedDependsOnTheRunSeedAndTheCombination) {
    const auto all = main_combinations({find_backend("epoll")});
    EXPECT_EQ(combination_seed(1, all[0]), combination_seed(1, all[0]));
    EXPECT_NE(combination_seed(1, all[0]), combination_seed(2, all[0]));
    EXPECT_NE(combination_seed(1, all[0]), combination_seed(1, all[1]));
}

// Every design and the pool on the epoll loop, a few thousand calls each:
// every call delivered once, right result, on the loop thread, none stalled.
TEST(StressCore, EpollEveryCombinationDeliversEachCallOnce) {
    Options options;
    options.calls = 3000;
    options.seed = 7;
    for (const Combination& combination : main_combinations({find_backend("epoll")})) {
        SCOPED_TRACE(combination.name());
        const Result result = run_combination(combination, options);
        if (result.skipped) {
            // Only `spin` may be skipped, on a machine with one CPU.
            EXPECT_EQ(combination.design, "spin") << result.message;
            continue;
        }
        EXPECT_TRUE(result.ok) << result.message;
        EXPECT_EQ(result.calls, options.calls);
        EXPECT_GE(result.segments, 2u);  // at least one at in-flight 1 and one at 64
        EXPECT_GE(result.bursts, result.segments);
        EXPECT_GT(result.max_round_trip_ns, 0);
    }
}

}  // namespace
}  // namespace handoff::stress
