// `handoff compare A.json B.json`: the same configurations in two result files,
// side by side, the way Google Benchmark's compare.py and pyperf's compare_to
// do it: the ratio of medians per column, and a Mann-Whitney U test across
// repetitions that says whether the difference in wall time is more than noise.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "result_file.hpp"

namespace handoff {

// One column of one matched configuration: medians over the runs of a
// per-call figure (each run's total / that run's calls, so repetitions of
// unequal size weigh the same), and B / A. NaN where a side has no value.
struct FigureComparison {
    double a = 0;
    double b = 0;
    double ratio = 0;
};

struct RowComparison {
    ResultRow a, b;  // the matched rows (same configuration)
    FigureComparison wall, loop_cpu, worker_cpu, total_cpu, p99;  // per call, ns
    std::size_t runs_a = 0, runs_b = 0;  // runs with a wall time: the samples of the test
    double p = 1;         // two-sided Mann-Whitney U on wall per call, A runs vs B runs
    bool exact = false;   // p from the exact distribution
    double min_p = 1;     // the smallest p these numbers of runs allow
    bool too_few = false;     // min_p >= alpha: no outcome could be significant
    bool significant = false; // p < alpha (never when too_few)
};

// A configuration in both files that is not ok in at least one of them.
struct NotCompared {
    ResultRow a, b;
};

struct Comparison {
    std::string a_name, b_name;
    ResultContext a_context, b_context;
    double alpha = 0.05;
    std::vector<std::string> context_differences;  // "host lab vs vm", ...
    // Matched rows whose calls travelled differently under the same names
    // (a preset redefined between versions): "LABEL: A ...; B ...".
    std::vector<std::string> mechanism_differences;
    std::vector<RowComparison> rows;                // in A's order
    std::vector<NotCompared> not_ok;
    std::vector<ResultRow> only_a, only_b;          // no match on the other side
};

// Matches rows by backend, target, design, work, in-flight and placement (a
// configuration that appears twice in a file matches the other file's
// occurrences in order) and compares every pair that is ok on both sides.
Comparison compare_results(const ResultFile& a, const ResultFile& b, double alpha);

// "1.42x slower (p=0.008)", "1.02x faster, not significant (p=0.31)",
// "1.30x slower, too few runs (3 vs 3: p >= 0.1)", "1.00x, same, ...".
std::string verdict(const RowComparison& row, double alpha);

enum class CompareFormat { table, json, markdown };

void write_comparison(std::ostream& out, const Comparison& comparison, CompareFormat format);

// The subcommand: argv[0] is "compare". Returns the exit status: 0, 1 when a
// wall ratio is above --fail-above (or nothing could be compared under it),
// 2 on bad input (a one-line message on `err`).
int run_compare(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

}  // namespace handoff
