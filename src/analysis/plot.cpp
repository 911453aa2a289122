#include "analysis/plot.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "analysis/gnuplot_runner.hpp"
#include "report/figures.hpp"

namespace handoff {
namespace {

// A gnuplot single-quoted string: only '' is special inside one; control
// characters (which would end the command) are replaced.
std::string quote(std::string_view text) {
    std::string quoted = "'";
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\'') {
            quoted += "''";
        } else {
            quoted += (u < 0x20 || u == 0x7f) ? '?' : c;
        }
    }
    return quoted + "'";
}

// A value for the inline data: a number, or NaN (gnuplot skips the point).
std::string datum(double ns) { return std::isfinite(ns) && ns > 0 ? fmt::format("{:.6g}", ns / 1e3) : "NaN"; }

struct Layout {
    int width = 1400;
    int height = 0;
    double label_right = 0;  // where the left chart starts, screen fraction
    double middle = 0;       // where the left chart ends
    double right_start = 0;  // where the right chart starts
    double top = 0, bottom = 0;
};

Layout layout(const std::vector<PlotRow>& rows) {
    Layout l;
    std::size_t longest = 10;
    for (const PlotRow& row : rows) longest = std::max(longest, row.label.size());
    l.height = std::max(420, 150 + int(rows.size()) * 28);
    // About 7 px per character of the 10-point labels, at most 40% of the width.
    l.label_right = std::min(0.40, (double(longest) * 7.0 + 30) / l.width);
    l.middle = l.label_right + (0.98 - l.label_right) * 0.5 - 0.01;
    l.right_start = l.middle + 0.03;
    l.top = 1.0 - 100.0 / l.height;
    l.bottom = 55.0 / l.height;
    return l;
}

// The smallest power of ten at or below the smallest positive value: where
// bars start on a log axis (a log axis has no zero).
double log_base(const std::vector<double>& values_us) {
    double smallest = std::numeric_limits<double>::infinity();
    for (const double v : values_us) {
        if (v > 0 && std::isfinite(v)) smallest = std::min(smallest, v);
    }
    return std::isfinite(smallest) ? std::pow(10.0, std::floor(std::log10(smallest))) : 1e-3;
}

}  // namespace

std::vector<PlotRow> plot_rows(const ResultFile& file) {
    std::set<std::string> works;
    std::set<std::uint64_t> inflights;
    for (const ResultRow& row : file.rows) {
        works.insert(row.work);
        inflights.insert(row.inflight);
    }
    std::vector<PlotRow> rows;
    for (const ResultRow& row : file.rows) {
        if (!row.ok()) continue;
        PlotRow p;
        p.label = row.label();
        if (works.size() > 1) p.label += " work=" + row.work;
        if (inflights.size() > 1) p.label += fmt::format(" inflight={}", row.inflight);
        // The row's figures as its table printed them.
        const ResultRun& f = row.figures;
        p.wall_ns = f.per_call_ns(f.wall_s);
        p.loop_cpu_ns = f.per_call_ns(f.cpu_loop_s);
        p.worker_cpu_ns = f.per_call_ns(f.cpu_worker_s);
        p.p50_ns = f.lat_p50_ns;
        p.p90_ns = f.lat_p90_ns;
        p.p99_ns = f.lat_p99_ns;
        p.p999_ns = f.lat_p999_ns;
        p.max_ns = f.lat_max_ns;
        rows.push_back(std::move(p));
    }
    return rows;
}

std::string gnuplot_script(const ResultFile& file, const std::vector<PlotRow>& rows, const std::string& output,
                           PlotTerminal terminal) {
    const Layout l = layout(rows);
    std::string s;
    const auto line = [&](const std::string& text) { s += text + '\n'; };

    if (terminal == PlotTerminal::svg) {
        line(fmt::format("set terminal svg size {},{} noenhanced font 'sans,11' background rgb 'white'", l.width,
                         l.height));
    } else {
        line("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {");
        line(fmt::format("  set terminal pngcairo size {},{} noenhanced font 'sans,10' background rgb 'white'",
                         l.width, l.height));
        line("} else {");
        line(fmt::format("  set terminal png size {},{} noenhanced background rgb 'white'", l.width, l.height));
        line("}");
    }
    line("set output " + quote(output));
    line("set datafile missing 'NaN'");

    // Rows top to bottom in file order: row i at y = i on a reversed axis.
    // Columns: 1 row, 2 wall, 3 loop CPU end, 4 loop+worker CPU end, 5-9 p50 p90 p99 p99.9 max (us).
    std::vector<double> cpu_and_wall;
    line("$rows << EOD");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const PlotRow& r = rows[i];
        const double loop = std::isfinite(r.loop_cpu_ns) ? r.loop_cpu_ns : 0;
        const double worker = std::isfinite(r.worker_cpu_ns) ? r.worker_cpu_ns : 0;
        cpu_and_wall.insert(cpu_and_wall.end(), {r.wall_ns / 1e3, loop / 1e3, (loop + worker) / 1e3});
        line(fmt::format("{} {} {} {} {} {} {} {} {}", i, datum(r.wall_ns), datum(loop), datum(loop + worker),
                         datum(r.p50_ns), datum(r.p90_ns), datum(r.p99_ns), datum(r.p999_ns), datum(r.max_ns)));
    }
    line("EOD");

    std::string title = "handoff: " + file.name;
    if (!file.context.date.empty()) title += "  " + file.context.date;
    if (!file.context.host.empty()) title += "  host " + file.context.host;
    if (!file.context.cpu_model.empty()) title += "  " + file.context.cpu_model;
    line(fmt::format("set multiplot title {}", quote(title)));
    line(fmt::format("set yrange [{}:-0.5]", double(rows.size()) - 0.5));
    line(fmt::format("set tmargin at screen {:.4f}", l.top));
    line(fmt::format("set bmargin at screen {:.4f}", l.bottom));
    line("set grid xtics mxtics lc rgb '#dddddd'");
    line("set style fill solid 0.85 noborder");
    // Each chart's key sits between the picture's title and the chart's own title.
    const double key_y = 1.0 - 34.0 / l.height;

    // Left chart: wall per call (upper bar) and CPU per call, loop then worker stacked (lower bar).
    double smallest = std::numeric_limits<double>::infinity(), largest = 0;
    for (const double v : cpu_and_wall) {
        if (v > 0 && std::isfinite(v)) {
            smallest = std::min(smallest, v);
            largest = std::max(largest, v);
        }
    }
    // Wide ranges (inline at nanoseconds beside blocking rows at tens of microseconds) need a log axis.
    const bool log_axis = largest > 0 && largest / smallest > 50;
    const double base = log_axis ? log_base(cpu_and_wall) : 0;
    std::string ytics;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        ytics += fmt::format("{}{} {}", i ? ", " : "", quote(rows[i].label), i);
    }
    line(fmt::format("set ytics ({}) nomirror", ytics));
    line(fmt::format("set lmargin at screen {:.4f}", l.label_right));
    line(fmt::format("set rmargin at screen {:.4f}", l.middle));
    line(log_axis ? fmt::format("set logscale x; set xrange [{}:*]", base) : "unset logscale x; set xrange [0:*]");
    line(std::string("set xlabel 'per call (us)") + (log_axis ? ", log scale" : "") + "'");
    line("set title 'wall per call (upper bar); CPU per call: loop + worker (lower bar)'");
    line(fmt::format("set key at screen {:.4f}, screen {:.4f} center top horizontal samplen 2",
                     (l.label_right + l.middle) / 2, key_y));
    const std::string b = fmt::format("({})", base);
    line("plot $rows using " + b + ":1:" + b + ":2:($1-0.42):($1-0.02) with boxxyerror lc rgb '#4477aa' title 'wall', \\");
    line("     $rows using " + b + ":1:" + b + ":3:($1+0.02):($1+0.42) with boxxyerror lc rgb '#ee6677' title 'loop CPU', \\");
    line("     $rows using 3:1:3:4:($1+0.02):($1+0.42) with boxxyerror lc rgb '#228833' title 'worker CPU'");

    // Right chart: latency percentiles, one line of markers per row, log axis.
    line(fmt::format("set lmargin at screen {:.4f}", l.right_start));
    line("set rmargin at screen 0.98");
    line("set ytics format ''");
    line(fmt::format("set ytics ({}) nomirror", [&] {
        std::string empty;
        for (std::size_t i = 0; i < rows.size(); ++i) empty += fmt::format("{}'' {}", i ? ", " : "", i);
        return empty;
    }()));
    line("set logscale x; set xrange [*:*]");
    line("set xlabel 'round trip, sent to delivered (us, log scale)'");
    line("set title 'latency percentiles per call'");
    line(fmt::format("set key at screen {:.4f}, screen {:.4f} center top horizontal samplen 1",
                     (l.right_start + 0.98) / 2, key_y));
    line("plot $rows using 5:1:($9-$5):(0) with vectors nohead lc rgb '#bbbbbb' notitle, \\");
    line("     $rows using 5:1 with points pt 7 ps 1.1 lc rgb '#4477aa' title 'p50', \\");
    line("     $rows using 6:1 with points pt 5 ps 1.0 lc rgb '#66ccee' title 'p90', \\");
    line("     $rows using 7:1 with points pt 9 ps 1.2 lc rgb '#ee6677' title 'p99', \\");
    line("     $rows using 8:1 with points pt 11 ps 1.2 lc rgb '#aa3377' title 'p99.9', \\");
    line("     $rows using 9:1 with points pt 2 ps 1.1 lc rgb '#000000' title 'max'");
    line("unset multiplot");
    line("unset output");
    return s;
}

namespace {

struct PlotUsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

PlotTerminal terminal_for(const std::string& path) {
    std::string lower;
    for (const char c : path) lower += char(std::tolower(static_cast<unsigned char>(c)));
    if (lower.ends_with(".svg")) return PlotTerminal::svg;
    if (lower.ends_with(".png")) return PlotTerminal::png;
    throw PlotUsageError(fmt::format("-o: '{}' is not allowed: expected a file name ending in .svg or .png", path));
}

}  // namespace

int run_plot(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
    CLI::App app{"handoff plot: draws a result file with gnuplot: wall per call of every row beside its CPU per "
                 "call (loop + worker), and the latency percentiles per row, side by side in one picture.",
                 "handoff plot"};
    app.footer("\nThe terminal follows the extension: .svg -> svg, .png -> pngcairo (png without cairo).\n"
               "Needs gnuplot (Debian: gnuplot-nox). Exit status: 0; 1 when gnuplot is missing or fails; "
               "2 on bad input.\n"
               "Example: handoff plot results/today.json -o results/today.svg");
    std::string input, output;
    app.add_option("file", input, "a result file written with --format json")->required();
    app.add_option("-o,--output", output, "OUT.svg or OUT.png")->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        app.exit(e, out, err);
        return 0;
    } catch (const CLI::ParseError& e) {
        err << "handoff: plot: " << e.what() << " (see handoff plot --help)\n";
        return 2;
    }

    PlotTerminal terminal{};
    std::vector<PlotRow> rows;
    ResultFile file;
    try {
        terminal = terminal_for(output);
        if (std::any_of(output.begin(), output.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
            throw PlotUsageError("-o: the file name has a control character: expected a plain path");
        }
        file = read_result_file(input);
        rows = plot_rows(file);
        if (rows.empty()) {
            throw PlotUsageError(fmt::format("'{}' has no row with figures (no row is ok): nothing to plot", input));
        }
    } catch (const PlotUsageError& e) {
        err << "handoff: plot: " << e.what() << '\n';
        return 2;
    } catch (const ResultFileError& e) {
        err << "handoff: plot: " << e.what() << '\n';
        return 2;
    }

    // gnuplot writes beside the target and the picture replaces it only when
    // whole: a failed run never leaves half a file where a good one was.
    const std::string temporary = output + ".tmp";
    const char* program = std::getenv("HANDOFF_GNUPLOT");
    const GnuplotOutcome ran =
        run_gnuplot(program && *program ? program : "gnuplot", gnuplot_script(file, rows, temporary, terminal));
    if (!ran.started) {
        err << fmt::format("handoff: plot: cannot run gnuplot: {}; install it (Debian package gnuplot-nox, "
                           "which tools/ensure-deps installs)\n",
                           ran.error);
        return 1;
    }
    if (ran.exit_status != 0) {
        std::remove(temporary.c_str());
        err << fmt::format("handoff: plot: gnuplot failed (exit status {}), see its messages above\n", ran.exit_status);
        return 1;
    }
    if (std::rename(temporary.c_str(), output.c_str()) != 0) {
        const int error = errno;
        std::remove(temporary.c_str());
        err << fmt::format("handoff: plot: cannot write '{}': {}\n", output, std::strerror(error));
        return 1;
    }
    out << fmt::format("wrote {} ({} rows)\n", output, rows.size());
    return 0;
}

}  // namespace handoff
