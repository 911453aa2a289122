// Whether a row's repetitions agree well enough for its median to be trusted.
// Pure: looks at the runs only, so it is tested on synthetic runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "measurement/measurement.hpp"

namespace handoff {

// Wide: the slowest repetition's wall per call over the fastest's is above
// this. Repetitions in one scheduling regime agree within ~10-20% on this
// VM; beyond 1.5x the median may be a third off and the cause is nearly
// always a regime change (same CPU vs two CPUs) or host interference.
constexpr double wide_spread_limit = 1.5;

// Bimodal: the share of calls that ran on the loop's own CPU spans more than
// this (max - min) across repetitions. The two regimes differ 5-30x in cost,
// so repetitions half a range apart measured different machines, whatever
// their wall times say.
constexpr double bimodal_share_range = 0.5;

struct RowWarnings {
    std::optional<double> spread;  // max / min wall per call; none below two usable runs
    bool wide = false;
    bool bimodal = false;
    // A repetition's CpuTotal could not be made exact (a thread ended inside
    // its interval): the first such run's reason, or "".
    std::string cpu_total_caveat;

    // "wide", "bimodal", "cpu-total-inexact": the words JSON and CSV carry.
    std::vector<std::string> codes() const;
    // "!" wide, "~" bimodal, "!~" both, "" neither: the table's mark.
    std::string mark() const;
};

RowWarnings assess_runs(const std::vector<Measurement>& runs);

}  // namespace handoff
