#include "analysis/mann_whitney.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace handoff {
namespace {

struct Ranked {
    double rank_sum_a = 0;  // sum of the (mid)ranks of the first sample
    double tie_term = 0;    // sum over tie groups of t^3 - t
};

// Ranks the pooled samples from 1, giving tied values the mean of their ranks.
Ranked rank(std::span<const double> a, std::span<const double> b) {
    std::vector<std::pair<double, bool>> pooled;  // value, from the first sample
    pooled.reserve(a.size() + b.size());
    for (const double v : a) pooled.emplace_back(v, true);
    for (const double v : b) pooled.emplace_back(v, false);
    std::sort(pooled.begin(), pooled.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    Ranked ranked;
    for (std::size_t start = 0; start < pooled.size();) {
        std::size_t end = start + 1;
        while (end < pooled.size() && pooled[end].first == pooled[start].first) ++end;
        const double ties = double(end - start);
        const double mid_rank = (double(start + 1) + double(end)) / 2;
        for (std::size_t i = start; i < end; ++i) {
            if (pooled[i].second) ranked.rank_sum_a += mid_rank;
        }
        ranked.tie_term += ties * ties * ties - ties;
        start = end;
    }
    return ranked;
}

// P(U <= u) under the null hypothesis, from the counts of arrangements:
// the largest of all n1 + n2 values is either from the first sample (it beats
// all n2 values of the second: U = n2 + U(n1-1, n2)) or from the second
// (U = U(n1, n2-1)). Counts stay exact in a double up to 25 + 25 values
// (C(50, 25) < 2^53).
double exact_cdf(std::size_t n1, std::size_t n2, std::size_t u) {
    // counts[i][j] = distribution of U for sizes i, j (length i*j + 1).
    std::vector<std::vector<std::vector<double>>> counts(n1 + 1, std::vector<std::vector<double>>(n2 + 1));
    for (std::size_t i = 0; i <= n1; ++i) {
        for (std::size_t j = 0; j <= n2; ++j) {
            std::vector<double>& c = counts[i][j];
            c.assign(i * j + 1, 0.0);
            if (i == 0 || j == 0) {
                c[0] = 1;
                continue;
            }
            const std::vector<double>& first_largest = counts[i - 1][j];
            const std::vector<double>& second_largest = counts[i][j - 1];
            for (std::size_t k = 0; k < first_largest.size(); ++k) c[k + j] += first_largest[k];
            for (std::size_t k = 0; k < second_largest.size(); ++k) c[k] += second_largest[k];
        }
    }
    const std::vector<double>& c = counts[n1][n2];
    double below = 0, total = 0;
    for (std::size_t k = 0; k < c.size(); ++k) {
        total += c[k];
        if (k <= u) below += c[k];
    }
    return below / total;
}

}  // namespace

MannWhitney mann_whitney_u(std::span<const double> a, std::span<const double> b) {
    MannWhitney result;
    if (a.empty() || b.empty()) {
        result.p = std::numeric_limits<double>::quiet_NaN();
        return result;
    }
    const double n1 = double(a.size()), n2 = double(b.size()), n = n1 + n2;
    const Ranked ranked = rank(a, b);
    result.u = ranked.rank_sum_a - n1 * (n1 + 1) / 2;
    const double mean = n1 * n2 / 2;

    if (ranked.tie_term == 0 && a.size() <= mann_whitney_exact_max && b.size() <= mann_whitney_exact_max) {
        // The distribution is symmetric: twice the tail of the smaller U.
        const double smaller = std::min(result.u, n1 * n2 - result.u);
        result.p = std::min(1.0, 2 * exact_cdf(a.size(), b.size(), std::size_t(smaller)));
        result.exact = true;
        return result;
    }
    const double variance = n1 * n2 / 12 * ((n + 1) - ranked.tie_term / (n * (n - 1)));
    if (!(variance > 0)) {
        result.p = 1;  // every value tied: nothing tells the samples apart
        return result;
    }
    const double z = std::max(0.0, std::abs(result.u - mean) - 0.5) / std::sqrt(variance);
    result.p = std::min(1.0, std::erfc(z / std::sqrt(2.0)));
    return result;
}

double mann_whitney_min_p(std::size_t n1, std::size_t n2) {
    if (n1 == 0 || n2 == 0) return 1;
    double arrangements = 1;  // C(n1 + n2, n1), built up exactly while it fits
    for (std::size_t k = 1; k <= n1; ++k) arrangements = arrangements * double(n2 + k) / double(k);
    return std::min(1.0, 2 / arrangements);
}

std::size_t mann_whitney_runs_needed(double alpha) {
    std::size_t n = 1;
    // 26 vs 26 already allow about 1e-15: a bound for an alpha of 0 or less.
    while (n <= 26 && mann_whitney_min_p(n, n) >= alpha) ++n;
    return n;
}

std::vector<double> holm_adjust(std::span<const double> p) {
    std::vector<std::size_t> order(p.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return p[x] < p[y]; });
    std::vector<double> adjusted(p.size());
    double running = 0;  // adjusted p-values never decrease along the sorted order
    for (std::size_t rank = 0; rank < order.size(); ++rank) {
        running = std::max(running, std::min(1.0, double(p.size() - rank) * p[order[rank]]));
        adjusted[order[rank]] = running;
    }
    return adjusted;
}

}  // namespace handoff
