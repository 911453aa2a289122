// Spread and its warnings, on synthetic repetitions.
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

}  // namespace
}  // namespace handoff
