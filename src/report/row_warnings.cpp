#include "report/row_warnings.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace handoff {
namespace {

// The row's median repetition as report.cpp picks it: the lower of the
// middle two for an even count. `sorted` is ascending and not empty.
double median_of_sorted(const std::vector<double>& sorted) { return sorted[(sorted.size() - 1) / 2]; }

// One slow repetition among agreeing others (see outlier_min_runs): its
// ratio to the median, or 0 when the row has no such outlier.
double outlier_ratio(std::vector<double> per_call) {
    if (per_call.size() < outlier_min_runs) return 0;
    std::sort(per_call.begin(), per_call.end());
    const double slowest = per_call.back();
    const double others_spread = per_call[per_call.size() - 2] / per_call.front();
    const double ratio = slowest / median_of_sorted(per_call);
    return others_spread <= wide_spread_limit && ratio > wide_spread_limit ? ratio : 0;
}

}  // namespace

std::vector<std::string> RowWarnings::codes() const {
    std::vector<std::string> words;
    if (wide) words.emplace_back("wide");
    if (bimodal) words.emplace_back("bimodal");
    if (outlier) words.emplace_back("outlier");
    if (!cpu_total_caveat.empty()) words.emplace_back("cpu-total-inexact");
    return words;
}

std::string RowWarnings::mark() const { return std::string(wide ? "!" : "") + (bimodal ? "~" : ""); }

// Bimodal first: two regimes explain any spread, so the cure is the regime.
// An outlier next: the median is sound, only the spread is noisy. A wide
// row otherwise: pinning cures a regime change, nothing but time cures a
// busy host, and a pinned row can only have the latter.
std::string RowWarnings::advice(bool pinned) const {
    if (bimodal && !pinned) {
        return fmt::format("SameCPU ranged {:.0f}% to {:.0f}% over the repetitions: they ran in two regimes (one "
                           "CPU, two CPUs) and the median mixes them; pin with --placement same or split",
                           100 * share_low, 100 * share_high);
    }
    if (bimodal) {
        return fmt::format("SameCPU ranged {:.0f}% to {:.0f}% though pinned: the pin lets the workers run on the "
                           "loop's CPU or beside it; pin them all onto the loop's CPU or all away from it",
                           100 * share_low, 100 * share_high);
    }
    if (outlier) {
        return fmt::format("one repetition of {} is {:.1f}x the others: a disturbance; the row's figure is the "
                           "median repetition's, so it stands, but re-run or raise --repeat for a clean spread",
                           usable_runs, outlier_ratio);
    }
    if (wide && pinned) {
        return fmt::format("repetitions {:.2f}x apart, all in one regime (pinned): the host disturbed several of "
                           "them; re-run at a quieter moment or raise --repeat",
                           spread.value_or(0));
    }
    if (wide) {
        return fmt::format("repetitions {:.2f}x apart: a change of regime or a disturbance; pin with --placement "
                           "same or split so every repetition runs in one regime, and raise --repeat",
                           spread.value_or(0));
    }
    return {};
}

RowWarnings assess_runs(const std::vector<Measurement>& runs) {
    RowWarnings result;
    std::vector<double> per_call;
    std::vector<double> shares;
    for (const Measurement& run : runs) {
        if (result.cpu_total_caveat.empty()) result.cpu_total_caveat = run.cpu_total_caveat;
        if (run.calls == 0 || !(run.wall_s > 0)) continue;  // nothing to compare
        per_call.push_back(run.wall_s / double(run.calls));
        if (run.cpu_known_calls != 0) shares.push_back(run.same_cpu_share());
    }
    result.usable_runs = per_call.size();
    if (per_call.size() < 2) return result;
    const auto [fastest, slowest] = std::minmax_element(per_call.begin(), per_call.end());
    result.spread = *slowest / *fastest;
    result.wide = *result.spread > wide_spread_limit;
    if (shares.size() >= 2) {
        const auto [low, high] = std::minmax_element(shares.begin(), shares.end());
        result.share_low = *low;
        result.share_high = *high;
        result.bimodal = *high - *low > bimodal_share_range;
    }
    // Two regimes explain a lone slow repetition as well as a disturbance does.
    if (!result.bimodal) {
        result.outlier_ratio = outlier_ratio(per_call);
        result.outlier = result.outlier_ratio > 0;
    }
    return result;
}

}  // namespace handoff
