// The two-sided Mann-Whitney U test (Wilcoxon rank-sum): are two samples of
// repetitions drawn from the same distribution? It assumes nothing about the
// shape of the distribution, which suits timings on a noisy machine (skewed,
// often bimodal) better than a t-test.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace handoff {

// Exact p-values are used when neither sample is larger than this and no value
// is tied; enumerating the U distribution is then cheap (at most 25 x 25 x 626
// cells) and the normal approximation is at its weakest. Otherwise the normal
// approximation with tie and continuity corrections.
constexpr std::size_t mann_whitney_exact_max = 25;

struct MannWhitney {
    double u = 0;      // U of the first sample: pairs (a, b) with a > b, ties counting 1/2
    double p = 1;      // two-sided p-value; NaN when either sample is empty
    bool exact = false;  // from the exact distribution, not the normal approximation
};

// NaN values must be filtered out by the caller (they have no rank).
MannWhitney mann_whitney_u(std::span<const double> a, std::span<const double> b);

// The smallest two-sided p the exact test can give for samples of n1 and n2
// values: 2 / C(n1+n2, n1), capped at 1. When it is above the significance
// level no outcome can be significant: 3 vs 3 repetitions give at best 0.1.
double mann_whitney_min_p(std::size_t n1, std::size_t n2);

// The fewest runs a side (the same number on both) for which the smallest
// attainable p is below `alpha`: 4 at 0.05 (4 vs 4 allow 0.029).
std::size_t mann_whitney_runs_needed(double alpha);

// Holm's step-down adjustment of p-values tested together: sorted ascending,
// the i-th smallest (from 0) is multiplied by (m - i), then each is raised to
// the largest adjusted value before it, capped at 1. Rejecting where the
// adjusted p is below alpha keeps the chance of any false "significant" in the
// family at most alpha, whatever the dependence between the tests. Returned in
// the input's order.
std::vector<double> holm_adjust(std::span<const double> p);

}  // namespace handoff
