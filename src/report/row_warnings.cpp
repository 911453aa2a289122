#include "report/row_warnings.hpp"

#include <algorithm>

namespace handoff {

std::vector<std::string> RowWarnings::codes() const {
    std::vector<std::string> words;
    if (wide) words.emplace_back("wide");
    if (bimodal) words.emplace_back("bimodal");
    if (!cpu_total_caveat.empty()) words.emplace_back("cpu-total-inexact");
    return words;
}

std::string RowWarnings::mark() const { return std::string(wide ? "!" : "") + (bimodal ? "~" : ""); }

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
    if (per_call.size() < 2) return result;
    const auto [fastest, slowest] = std::minmax_element(per_call.begin(), per_call.end());
    result.spread = *slowest / *fastest;
    result.wide = *result.spread > wide_spread_limit;
    if (shares.size() >= 2) {
        const auto [low, high] = std::minmax_element(shares.begin(), shares.end());
        result.bimodal = *high - *low > bimodal_share_range;
    }
    return result;
}

}  // namespace handoff
