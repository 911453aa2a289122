// `handoff plot FILE.json -o OUT.svg|OUT.png`: two charts of a result file in
// one picture, drawn by gnuplot (Debian package gnuplot-nox): on the left, wall
// per call of every row beside its CPU per call split into loop and worker;
// on the right, the round-trip latency percentiles (p50, p90, p99, p99.9, max).
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "analysis/result_file.hpp"

namespace handoff {

// What one row of the charts shows: medians over the row's runs, per call, ns.
// NaN where the file has nothing (inline has no latency).
struct PlotRow {
    std::string label;  // "backend target design placement" (+ work, in-flight when rows differ)
    double wall_ns = 0, loop_cpu_ns = 0, worker_cpu_ns = 0;
    double p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
};

// The rows that have figures (status ok), in file order.
std::vector<PlotRow> plot_rows(const ResultFile& file);

enum class PlotTerminal { svg, png };

// The complete gnuplot script, data inline, that draws `rows` into `output`.
// Every text from the file is quoted for gnuplot and stripped of control
// characters, so a file cannot inject commands.
std::string gnuplot_script(const ResultFile& file, const std::vector<PlotRow>& rows, const std::string& output,
                           PlotTerminal terminal);

// The subcommand: argv[0] is "plot". Exit status 0; 1 when gnuplot is missing
// or fails; 2 on bad input (a one-line message on `err`).
int run_plot(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

}  // namespace handoff
