// Whether a row's repetitions agree well enough for its median to be trusted,
// and what to do when they do not. Pure: looks at the runs (and, for the
// advice, whether the row was pinned) only, so it is tested on synthetic runs.
#pragma once

#include <cstddef>
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

// Outlier: with at least this many repetitions, all but the slowest agree
// (within wide_spread_limit of each other) and the slowest is more than
// wide_spread_limit times the row's median. One repetition alone in its
// cost is a disturbance (the host took the CPU for a while), not a regime:
// the median already stands on the others. Two agreeing repetitions are the
// least that can outvote one, hence three.
constexpr std::size_t outlier_min_runs = 3;

struct RowWarnings {
    std::optional<double> spread;  // max / min wall per call; none below two usable runs
    bool wide = false;
    bool bimodal = false;
    bool outlier = false;  // wide because of one slow repetition (and not bimodal)
    std::size_t usable_runs = 0;  // repetitions with calls and a wall time
    double outlier_ratio = 0;     // the slowest over the row's median repetition, when outlier
    double share_low = 0, share_high = 0;  // SameCPU's range over the repetitions, when bimodal
    // A repetition's CpuTotal could not be made exact (a thread ended inside
    // its interval): the first such run's reason, or "".
    std::string cpu_total_caveat;

    // "wide", "bimodal", "outlier", "cpu-total-inexact": the words JSON and CSV carry.
    std::vector<std::string> codes() const;
    // "!" wide, "~" bimodal, "!~" both, "" neither: the table's mark.
    std::string mark() const;
    // What the spread means for this row and how to get a figure to trust,
    // one sentence; "" when neither wide nor bimodal. `pinned`: the loop and
    // the workers were pinned, so every repetition ran in one regime and
    // pinning is no remedy.
    std::string advice(bool pinned) const;
};

RowWarnings assess_runs(const std::vector<Measurement>& runs);

}  // namespace handoff
