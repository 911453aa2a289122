// AdaptiveSpin, the budget behind wait=adaptive and loop-spin=adaptive: what
// it does after each kind of wait, without threads or clocks.
#include <gtest/gtest.h>

#include "handoff/spin.hpp"

namespace handoff {
namespace {

TEST(AdaptiveSpin, NeverSpinsForAPeerOnThisCpu) {
    AdaptiveSpin spin;
    EXPECT_EQ(spin.budget(true), 0);
    EXPECT_EQ(spin.budget(false), AdaptiveSpin::initial_ns);
}

TEST(AdaptiveSpin, AWonSpinCoversTwiceTheWaitSeenUpToTheMaximum) {
    AdaptiveSpin spin;
    spin.won(100);  // short waits keep the initial budget
    EXPECT_EQ(spin.current_ns(), AdaptiveSpin::initial_ns);
    spin.won(20'000);
    EXPECT_EQ(spin.current_ns(), 40'000);
    spin.won(1'000'000);
    EXPECT_EQ(spin.current_ns(), AdaptiveSpin::max_ns);
}

TEST(AdaptiveSpin, ALostSpinWhoseWaitWasShortSpinsLongerNextTime) {
    AdaptiveSpin spin;
    // Spun 10 us, slept, and the other side answered 15 us into the wait:
    // spinning 30 us would have saved the wake-up.
    spin.lost(AdaptiveSpin::initial_ns, 15'000);
    EXPECT_EQ(spin.current_ns(), 30'000);
}

TEST(AdaptiveSpin, LongWaitsHalveTheBudgetToZeroThenItIsProbedNowAndThen) {
    AdaptiveSpin spin;
    int losses = 0;
    while (spin.current_ns() != 0) {
        spin.lost(spin.budget(false), 1'000'000);  // the other side is really idle
        ASSERT_LT(++losses, 20);
    }
    EXPECT_GE(losses, 5);  // 10 us, 5, 2.5, 1.25, 0.6, 0.3, then below 250 ns
    unsigned probes = 0;
    for (unsigned i = 0; i < 10 * AdaptiveSpin::probe_every; ++i) probes += spin.budget(false) != 0;
    EXPECT_EQ(probes, 10u);
    // A lost spin of no budget teaches nothing.
    spin.lost(0, 5'000);
    EXPECT_EQ(spin.current_ns(), 0);
}

}  // namespace
}  // namespace handoff
