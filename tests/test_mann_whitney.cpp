// The U test against values computed independently: by hand, and by
// tests/reference/mann_whitney.py (brute force over every split of the ranks
// for exact p-values, the textbook formula for the normal approximation).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "analysis/mann_whitney.hpp"

namespace handoff {
namespace {

MannWhitney test(const std::vector<double>& a, const std::vector<double>& b) { return mann_whitney_u(a, b); }

TEST(MannWhitney, ThreeAgainstThreeFullySeparatedIsPointOne) {
    const MannWhitney r = test({1, 2, 3}, {4, 5, 6});
    EXPECT_TRUE(r.exact);
    EXPECT_EQ(r.u, 0);
    EXPECT_NEAR(r.p, 0.1, 1e-12);  // 2 of the C(6,3) = 20 arrangements are this extreme
    // The other direction gives the other U and the same p.
    const MannWhitney flipped = test({4, 5, 6}, {1, 2, 3});
    EXPECT_EQ(flipped.u, 9);
    EXPECT_NEAR(flipped.p, 0.1, 1e-12);
}

TEST(MannWhitney, FiveAgainstFiveFullySeparatedIsTwoIn252) {
    const MannWhitney r = test({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
    EXPECT_TRUE(r.exact);
    EXPECT_NEAR(r.p, 2.0 / 252, 1e-15);
}

TEST(MannWhitney, ExactValuesMatchTheBruteForceReference) {
    const MannWhitney interleaved = test({1, 3, 5, 7, 9}, {2, 4, 6, 8, 10, 12});
    EXPECT_TRUE(interleaved.exact);
    EXPECT_EQ(interleaved.u, 10);
    EXPECT_NEAR(interleaved.p, 0.42857142857142855, 1e-12);

    const MannWhitney apart = test({10.5, 11.2, 12.9, 30.0}, {1.0, 2.5, 3.3, 4.1, 5.2, 11.0, 6.6});
    EXPECT_TRUE(apart.exact);
    EXPECT_EQ(apart.u, 27);
    EXPECT_NEAR(apart.p, 0.012121212121212121, 1e-12);
}

TEST(MannWhitney, IdenticalSamplesGiveOne) {
    EXPECT_EQ(test({5, 5, 5}, {5, 5, 5}).p, 1);  // all tied: no evidence at all
    EXPECT_EQ(test({1, 2, 3, 4}, {1, 2, 3, 4}).p, 1);
    EXPECT_EQ(test({7}, {7}).p, 1);
}

TEST(MannWhitney, TiesUseTheNormalApproximationWithCorrections) {
    const MannWhitney r = test({1, 2, 2, 3, 3, 3, 4}, {3, 4, 4, 5, 5, 6, 7, 7});
    EXPECT_FALSE(r.exact);
    EXPECT_EQ(r.u, 3.5);
    EXPECT_NEAR(r.p, 0.004793348746185464, 1e-12);
}

TEST(MannWhitney, LargeSamplesUseTheNormalApproximation) {
    std::vector<double> a, b;
    for (int i = 0; i < 30; ++i) {
        a.push_back(i);
        b.push_back(i + 10.5);
    }
    const MannWhitney r = test(a, b);
    EXPECT_FALSE(r.exact);
    EXPECT_EQ(r.u, 190);
    EXPECT_NEAR(r.p, 0.00012477053789099963, 1e-12);
}

TEST(MannWhitney, ExactAtTheLargestExactSizeStaysAProbability) {
    std::vector<double> a, b;
    for (std::size_t i = 0; i < mann_whitney_exact_max; ++i) {
        a.push_back(double(i));
        b.push_back(double(i) + 1000);
    }
    const MannWhitney r = test(a, b);
    EXPECT_TRUE(r.exact);
    EXPECT_NEAR(r.p, mann_whitney_min_p(a.size(), b.size()), 1e-25);
    EXPECT_GT(r.p, 0);
}

TEST(MannWhitney, EmptySampleHasNoP) {
    EXPECT_TRUE(std::isnan(test({}, {1, 2}).p));
    EXPECT_TRUE(std::isnan(test({1}, {}).p));
}

TEST(MannWhitney, SmallestAttainablePSaysWhenRepetitionsAreTooFew) {
    EXPECT_NEAR(mann_whitney_min_p(3, 3), 0.1, 1e-15);  // above 0.05: never significant
    EXPECT_NEAR(mann_whitney_min_p(5, 5), 2.0 / 252, 1e-15);
    EXPECT_NEAR(mann_whitney_min_p(4, 3), 2.0 / 35, 1e-15);  // 0.057: still above 0.05
    EXPECT_NEAR(mann_whitney_min_p(4, 4), 2.0 / 70, 1e-15);  // 0.029: can be significant
    EXPECT_EQ(mann_whitney_min_p(1, 1), 1);
    EXPECT_EQ(mann_whitney_min_p(0, 5), 1);
    EXPECT_EQ(mann_whitney_min_p(5, 1), 2.0 / 6);
}

TEST(MannWhitney, RunsNeededIsTheFewestThatCanBeSignificant) {
    EXPECT_EQ(mann_whitney_runs_needed(0.05), 4u);  // 3 vs 3: 0.1, 4 vs 4: 0.029
    EXPECT_EQ(mann_whitney_runs_needed(0.2), 3u);   // 0.1 < 0.2
    EXPECT_EQ(mann_whitney_runs_needed(0.01), 5u);  // 4 vs 4: 0.029, 5 vs 5: 0.0079
    EXPECT_EQ(mann_whitney_runs_needed(1.5), 1u);
}

// Known answers, as R's p.adjust(p, "holm") gives them.
TEST(Holm, AdjustsInStepsAndKeepsTheInputOrder) {
    const std::vector<double> p{0.01, 0.04, 0.03, 0.005};
    const std::vector<double> adjusted = holm_adjust(p);
    ASSERT_EQ(adjusted.size(), 4u);
    // Sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> raised to 0.06.
    EXPECT_NEAR(adjusted[0], 0.03, 1e-15);
    EXPECT_NEAR(adjusted[1], 0.06, 1e-15);
    EXPECT_NEAR(adjusted[2], 0.06, 1e-15);
    EXPECT_NEAR(adjusted[3], 0.02, 1e-15);
}

TEST(Holm, CapsAtOneAndLeavesASingleTestAlone) {
    const std::vector<double> capped = holm_adjust(std::vector<double>{0.3, 0.6, 0.9});
    EXPECT_NEAR(capped[0], 0.9, 1e-15);
    EXPECT_EQ(capped[1], 1.0);  // 0.6 x 2, capped
    EXPECT_EQ(capped[2], 1.0);  // 0.9 x 1, raised to the one before
    EXPECT_EQ(holm_adjust(std::vector<double>{0.008}), std::vector<double>{0.008});
    EXPECT_TRUE(holm_adjust(std::vector<double>{}).empty());
}

TEST(Holm, TiesGetTheSameAdjustedValue) {
    const std::vector<double> adjusted = holm_adjust(std::vector<double>{0.01, 0.01, 0.04});
    EXPECT_NEAR(adjusted[0], 0.03, 1e-15);  // 0.01 x 3
    EXPECT_NEAR(adjusted[1], 0.03, 1e-15);  // 0.01 x 2 = 0.02, raised to 0.03
    EXPECT_NEAR(adjusted[2], 0.04, 1e-15);
}

}  // namespace
}  // namespace handoff
