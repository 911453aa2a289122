// `handoff compare`: the same configurations in two sets of result files, side
// by side, the way Google Benchmark's compare.py and pyperf's compare_to do
// it: the ratio of medians per column, and a Mann-Whitney U test on wall per
// call that says whether the difference is more than noise.
//
// A run (one result file, one invocation of handoff) is not a sample: its
// repetitions share the run's conditions (on this VM the host decides, minute
// by minute, whether the two vCPUs share a core), so a test across one run's
// repetitions cannot see how the machine changes between runs. With enough
// runs a side the test's samples are the runs' medians; with fewer it falls
// back to the repetitions and says what that p-value covers. Rows tested
// together are corrected for it (Holm), and the floor and inline rows tell
// when the machine changed between the sides.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "analysis/result_file.hpp"

namespace handoff {

// The floor (two threads spinning on one cache line) and inline rows measure
// the machine. When their wall per call differs by more than this factor
// either way between the sides, the machine changed: within one host regime
// repetitions agree within 10-20% here, while the regimes differ 1.8x (a
// blocking round trip, 25 vs 45 us) to 6-8x (the floor, 55 vs 450 ns).
constexpr double machine_change_factor = 1.25;

// Which rows take part: KEY=VALUE terms of --filter. A row passes when, for
// every key named, its value is one of the values given for that key.
// Placement matches on its first word ("same" for "same (loop 0, ...)").
struct RowFilter {
    std::map<std::string, std::set<std::string>> allowed;  // key -> values
    bool matches(const ResultRow& row) const;
    bool empty() const { return allowed.empty(); }
};

// One side of a comparison: its runs, and which of their rows.
struct CompareSide {
    std::vector<ResultFile> files;  // one per run
    // Only rows of this design (two designs of one run compared with each
    // other: matching then ignores the design); empty: every row.
    std::string design;
};

struct CompareOptions {
    double alpha = 0.05;
    RowFilter filter;
};

// What the U test's samples are for a row.
enum class SampleUnit {
    runs,         // each run's median: covers the machine's changes between runs
    repetitions,  // every repetition of every run: covers only the noise inside a run
};

// One column of one matched configuration: the median of the values the test
// uses (per call, each repetition's total / its own calls), and B / A. NaN
// where a side has no value.
struct FigureComparison {
    double a = 0;
    double b = 0;
    double ratio = 0;
};

struct RowComparison {
    ResultRow a, b;  // the configuration's row in the first run of each side that has it ok
    FigureComparison wall, loop_cpu, worker_cpu, total_cpu, p99;  // per call, ns
    SampleUnit unit = SampleUnit::repetitions;
    std::size_t runs_a = 0, runs_b = 0;        // runs in which the row is ok
    std::size_t samples_a = 0, samples_b = 0;  // values with a wall time: the samples of the test
    double p = 1;             // two-sided Mann-Whitney U on wall per call
    bool exact = false;       // p from the exact distribution
    double min_p = 1;         // the smallest p these numbers of samples allow
    bool too_few = false;     // min_p >= alpha: no outcome could be significant; not in the family
    double p_adjusted = 1;    // Holm over the family (NaN when not in it)
    std::size_t family = 0;   // rows adjusted together (0 when not in it)
    bool significant = false; // p_adjusted < alpha (never when too_few)
};

// A configuration on both sides that is not ok in any run of at least one.
struct NotCompared {
    ResultRow a, b;
};

// A configuration ok in only some of a side's runs: fewer samples than runs.
struct Incomplete {
    std::string label;
    std::size_t ok_a = 0, runs_a = 0, ok_b = 0, runs_b = 0;
};

// A floor or inline row whose wall per call moved more than
// machine_change_factor between the sides (medians of the runs' medians).
struct MachineChange {
    std::string label;
    double a_ns = 0, b_ns = 0, ratio = 0;
};

struct ComparedFile {
    std::string name;
    ResultContext context;
    bool partial = false;
};

struct Comparison {
    std::vector<ComparedFile> a_files, b_files;
    std::string a_design, b_design;  // empty unless two designs are compared
    double alpha = 0.05;
    std::vector<std::string> context_differences;  // "host 'lab' vs 'vm'", ...
    // Matched rows whose calls travelled differently under the same names
    // (a preset redefined between versions): "LABEL: A ...; B ...".
    std::vector<std::string> mechanism_differences;
    std::vector<MachineChange> machine_changes;
    std::vector<RowComparison> rows;  // in A's order
    std::vector<NotCompared> not_ok;
    std::vector<Incomplete> incomplete;
    std::vector<ResultRow> only_a, only_b;  // no match on the other side
};

// Matches rows by backend, target, design, work, in-flight and placement (a
// configuration that appears twice in a run matches the other side's
// occurrences in order), over every run of a side, and compares every
// configuration that is ok in at least one run of each side.
Comparison compare_results(const CompareSide& a, const CompareSide& b, const CompareOptions& options);

// One run a side, every row: the plain `handoff compare A.json B.json`.
Comparison compare_results(const ResultFile& a, const ResultFile& b, double alpha);

// "1.42x slower (p=0.008)", "1.42x slower (p=0.004; adjusted for 3 rows 0.012)",
// "1.02x faster, not significant (p=0.31 >= 0.05)",
// "1.30x slower, too few repetitions (3 vs 3: p >= 0.1)", "1.00x, same, ...".
std::string verdict(const RowComparison& row, double alpha);

enum class CompareFormat { table, json, markdown };

void write_comparison(std::ostream& out, const Comparison& comparison, CompareFormat format);

}  // namespace handoff
