// Spread, its warnings and the advice each case gets, on synthetic repetitions.
#include <gtest/gtest.h>

#include "report/row_warnings.hpp"

namespace handoff {
namespace {

Measurement run(double us_per_call, double same_cpu_share, std::uint64_t calls = 1000) {
    Measurement m;
    m.calls = calls;
    m.wall_s = us_per_call * 1e-6 * double(calls);
    m.same_cpu_calls = std::uint64_t(same_cpu_share * double(calls));
    m.cpu_known_calls = calls;
    return m;
}

TEST(RowWarnings, CleanRunsHaveASpreadAndNoWarning) {
    const RowWarnings w = assess_runs({run(10, 0.98), run(11, 0.99), run(10.5, 1.0), run(12, 0.97), run(10.2, 1)});
    ASSERT_TRUE(w.spread);
    EXPECT_DOUBLE_EQ(*w.spread, 1.2);
    EXPECT_FALSE(w.wide);
    EXPECT_FALSE(w.bimodal);
    EXPECT_TRUE(w.codes().empty());
    EXPECT_EQ(w.mark(), "");
}

TEST(RowWarnings, WideWhenTheSlowestIsMoreThanOneAndAHalfTimesTheFastest) {
    const RowWarnings w = assess_runs({run(10, 1), run(16, 1), run(11, 1)});
    EXPECT_DOUBLE_EQ(*w.spread, 1.6);
    EXPECT_TRUE(w.wide);
    EXPECT_FALSE(w.bimodal);
    EXPECT_EQ(w.codes(), std::vector<std::string>{"wide"});
    EXPECT_EQ(w.mark(), "!");
    EXPECT_FALSE(assess_runs({run(10, 1), run(15, 1)}).wide);  // exactly 1.5x is not above it
}

TEST(RowWarnings, BimodalWhenTheSameCpuShareSwingsByMoreThanHalf) {
    // Wall per call close, yet one repetition ran mostly on one CPU and
    // another mostly across two: they measured different machines.
    const RowWarnings w = assess_runs({run(50, 0.1), run(55, 0.9), run(52, 0.5)});
    EXPECT_FALSE(w.wide);
    EXPECT_TRUE(w.bimodal);
    EXPECT_EQ(w.codes(), std::vector<std::string>{"bimodal"});
    EXPECT_EQ(w.mark(), "~");
    EXPECT_FALSE(assess_runs({run(50, 0.2), run(50, 0.7)}).bimodal);  // a range of 0.5 is not above it
}

TEST(RowWarnings, BothMarks) {
    const RowWarnings w = assess_runs({run(5, 1.0), run(60, 0.0)});
    EXPECT_FALSE(w.outlier);  // two regimes explain the slow one
    EXPECT_EQ(w.codes(), (std::vector<std::string>{"wide", "bimodal"}));
    EXPECT_EQ(w.mark(), "!~");
}

TEST(RowWarnings, RepetitionsOfDifferentLengthsCompareAtPerCallCost) {
    const RowWarnings w = assess_runs({run(10, 1, 1001), run(10, 1, 1000)});
    EXPECT_NEAR(*w.spread, 1.0, 1e-12);
}

TEST(RowWarnings, NoSpreadBelowTwoUsableRuns) {
    EXPECT_FALSE(assess_runs({}).spread);
    EXPECT_FALSE(assess_runs({run(10, 1)}).spread);
    EXPECT_FALSE(assess_runs({run(10, 1), run(10, 1, 0)}).spread);  // an empty run says nothing
}

// Per-call ns of a pinned row's repetitions: one regime, SameCPU constant.
std::vector<Measurement> pinned_runs(std::initializer_list<double> ns) {
    std::vector<Measurement> runs;
    for (const double v : ns) runs.push_back(run(v / 1000, 0.0));
    return runs;
}

TEST(RowWarnings, OneDisturbedRepetitionOfAPinnedRowIsAnOutlierNotAReasonToPin) {
    // Seen: epoll spin at split, 208, 208, 213, 211 and 1651 ns a call.
    const RowWarnings w = assess_runs(pinned_runs({208, 208, 213, 211, 1651}));
    EXPECT_TRUE(w.wide);
    EXPECT_TRUE(w.outlier);
    EXPECT_EQ(w.codes(), (std::vector<std::string>{"wide", "outlier"}));
    EXPECT_EQ(w.mark(), "!");
    const std::string advice = w.advice(true);
    EXPECT_EQ(advice,
              "one repetition of 5 is 7.8x the others: a disturbance; the row's figure is the median repetition's, "
              "so it stands, but re-run or raise --repeat for a clean spread");
    EXPECT_EQ(w.advice(false), advice);  // a lone slow repetition is no regime, pinned or not
}

TEST(RowWarnings, NoOutlierWithoutAgreeingOthers) {
    EXPECT_FALSE(assess_runs(pinned_runs({208, 1651})).outlier);            // two cannot outvote
    EXPECT_FALSE(assess_runs(pinned_runs({208, 400, 213, 1651})).outlier);  // the others disagree
    EXPECT_FALSE(assess_runs(pinned_runs({208, 208, 900, 1651})).outlier);  // two slow ones
    EXPECT_FALSE(assess_runs(pinned_runs({208, 210, 213})).outlier);        // nothing wide
}

TEST(RowWarnings, ABimodalFreeRowIsToldToPin) {
    const RowWarnings w = assess_runs({run(50, 0.1), run(55, 0.9), run(52, 0.5)});
    EXPECT_EQ(w.advice(false),
              "SameCPU ranged 10% to 90% over the repetitions: they ran in two regimes (one CPU, two CPUs) and the "
              "median mixes them; pin with --placement same or split");
    // Pinned yet bimodal: the pin left the workers a choice of CPUs.
    EXPECT_NE(w.advice(true).find("though pinned"), std::string::npos);
    EXPECT_EQ(w.advice(true).find("--placement"), std::string::npos);
}

TEST(RowWarnings, AWideRowIsToldToPinOnlyWhenFree) {
    const RowWarnings w = assess_runs(pinned_runs({200, 210, 400, 450, 500}));  // several slow: no outlier
    ASSERT_TRUE(w.wide);
    ASSERT_FALSE(w.outlier);
    EXPECT_EQ(w.advice(true),
              "repetitions 2.50x apart, all in one regime (pinned): the host disturbed several of them; re-run at a "
              "quieter moment or raise --repeat");
    EXPECT_NE(w.advice(false).find("pin with --placement same or split"), std::string::npos) << w.advice(false);
}

TEST(RowWarnings, NoAdviceForAgreeingRepetitions) {
    EXPECT_EQ(assess_runs(pinned_runs({208, 210, 213})).advice(true), "");
    EXPECT_EQ(assess_runs({}).advice(false), "");
}

}  // namespace
}  // namespace handoff
