// `handoff plot FILE.json -o OUT.svg|OUT.png`: two charts of a result file in
// one picture, drawn by gnuplot (Debian package gnuplot-nox): on the left,
// per row, wall per call, loop CPU per call and worker CPU per call as three
// bars side by side, each with a whisker from its fastest to its slowest
// repetition; on the right, the round-trip latency percentiles (p50, p90,
// p99, p99.9, max). The title says what ran (work, calls, in-flight) and
// where (date, host); a note counts the rows left out.
#pragma once

#include <limits>
#include <ostream>
#include <string>
#include <vector>

#include "analysis/result_file.hpp"
#include "analysis/tune_report.hpp"

namespace handoff {

// One per-call figure of a row, ns: the row's own (its median repetition's,
// as its table printed it) and the smallest and largest of its repetitions'
// own values. NaN where the file has nothing.
struct PlotFigure {
    double ns = std::numeric_limits<double>::quiet_NaN();
    double min_ns = std::numeric_limits<double>::quiet_NaN();
    double max_ns = std::numeric_limits<double>::quiet_NaN();
};

// What one row of the charts shows. NaN where the file has nothing (inline
// has no latency).
struct PlotRow {
    std::string label;  // "backend target design placement" (+ work, in-flight when rows differ)
    PlotFigure wall, loop_cpu, worker_cpu;
    // Pooled over every call of every repetition, as the row printed them.
    double p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
};

// The rows that have figures (status ok), in file order.
std::vector<PlotRow> plot_rows(const ResultFile& file);

// "work none, 20000 calls, in-flight 1, 3 repetitions a row": what the drawn
// rows share; what differs between them is in their labels instead.
std::string plot_run_line(const ResultFile& file);

// "not drawn: 2 rows that are not ok (1 failed, 1 unavailable)", or "".
std::string plot_left_out_note(const ResultFile& file);

enum class PlotTerminal { svg, png };

// The complete gnuplot script, data inline, that draws `rows` into `output`.
// Every text from the file is quoted for gnuplot and stripped of control
// characters, so a file cannot inject commands.
std::string gnuplot_script(const ResultFile& file, const std::vector<PlotRow>& rows, const std::string& output,
                           PlotTerminal terminal);

// A result file of `handoff tune` (one with a "tune" object) is drawn as
// its search instead: latency (p50 and p99, log scale) against Cores for
// every candidate of the last round, with its spread over repetitions, the
// frontier of each as a staircase, the candidates dropped earlier in grey,
// and each recommendation circled and labelled with its objectives.
std::string tune_gnuplot_script(const ResultFile& file, const TuneSummary& tune, const std::string& output,
                                PlotTerminal terminal);

// The subcommand: argv[0] is "plot"; a tune file is drawn as its search.
// Exit status 0; 1 when gnuplot is missing or fails; 2 on bad input, an
// output folder that is missing or not writable included (a one-line
// message on `err`, gnuplot not run).
int run_plot(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

}  // namespace handoff
