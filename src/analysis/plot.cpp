#include "analysis/plot.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <limits>
#include <map>
#include <set>
#include <stdexcept>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "analysis/gnuplot_runner.hpp"
#include "base/duration.hpp"

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

// A per-call figure's text beside its bar: "2.50 us" (our own text, no quotes).
std::string quoted_text(double ns) {
    return std::isfinite(ns) && ns > 0 ? "\"" + format_per_call(ns / 1e9) + "\"" : "\"\"";
}

// Screen geometry in fractions of the picture, from the rows and their labels.
struct Layout {
    int width = 1400;
    int height = 0;
    double label_right = 0;  // where the left chart starts
    double middle = 0;       // where the left chart ends
    double right_start = 0;  // where the right chart starts
    double top = 0, bottom = 0;
    double px = 0;           // one pixel of height
};

Layout layout(const std::vector<PlotRow>& rows) {
    Layout l;
    std::size_t longest = 10;
    for (const PlotRow& row : rows) longest = std::max(longest, row.label.size());
    // Three bars a row need about 40 px to stay apart.
    l.height = std::max(480, 205 + int(rows.size()) * 40);
    l.px = 1.0 / l.height;
    // About 7 px per character of the 10-point labels, at most 40% of the width.
    l.label_right = std::min(0.40, (double(longest) * 7.0 + 30) / l.width);
    // The bars get more room than the latency: three per row, with their values.
    l.middle = l.label_right + (0.98 - l.label_right) * 0.56 - 0.01;
    l.right_start = l.middle + 0.03;
    l.top = 1.0 - 122 * l.px;
    l.bottom = 80 * l.px;
    return l;
}

// The left chart's axis, us: linear from 0 unless the values span more than
// 50x (inline's nanoseconds beside a blocking trip's hundreds of
// microseconds), then logarithmic from the power of ten below the smallest
// (a log axis has no zero). `high` leaves room for the value beside a bar.
struct BarAxis {
    bool log = false;
    double low = 0;
    double high = 1;
};

BarAxis bar_axis(const std::vector<PlotRow>& rows) {
    double smallest = std::numeric_limits<double>::infinity(), largest = 0;
    for (const PlotRow& r : rows) {
        for (const PlotFigure* f : {&r.wall, &r.loop_cpu, &r.worker_cpu}) {
            for (const double ns : {f->ns, f->min_ns, f->max_ns}) {
                if (!(ns > 0) || !std::isfinite(ns)) continue;
                smallest = std::min(smallest, ns / 1e3);
                largest = std::max(largest, ns / 1e3);
            }
        }
    }
    if (!(largest > 0)) return {};
    // The value written beside the longest bar needs about a fifth of the axis.
    constexpr double room = 0.2;
    if (largest / smallest <= 50) return {false, 0, largest / (1 - room)};
    const double low = std::pow(10.0, std::floor(std::log10(smallest)));
    return {true, low, std::exp((std::log(largest) - room * std::log(low)) / (1 - room))};
}

// Appends gnuplot commands, one per line.
struct Script {
    std::string text;
    void line(const std::string& command) { text += command + '\n'; }
};

void terminal_lines(Script& s, PlotTerminal terminal, const Layout& l, const std::string& output) {
    if (terminal == PlotTerminal::svg) {
        s.line(fmt::format("set terminal svg size {},{} noenhanced font 'sans,11' background rgb 'white'", l.width,
                           l.height));
    } else {
        s.line("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {");
        s.line(fmt::format("  set terminal pngcairo size {},{} noenhanced font 'sans,10' background rgb 'white'",
                           l.width, l.height));
        s.line("} else {");
        s.line(fmt::format("  set terminal png size {},{} noenhanced background rgb 'white'", l.width, l.height));
        s.line("}");
    }
    s.line("set output " + quote(output));
    s.line("set datafile missing 'NaN'");
}

// One line per row, row i at y = i. Columns (us): 1 row; 2-4 wall, its min,
// its max; 5-7 loop CPU; 8-10 worker CPU; 11-15 p50 p90 p99 p99.9 max;
// 16 the wall's text, shown at the end of its bar.
void data_block(Script& s, const std::vector<PlotRow>& rows) {
    s.line("$rows << EOD");
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const PlotRow& r = rows[i];
        std::string row = fmt::format("{}", i);
        for (const PlotFigure* f : {&r.wall, &r.loop_cpu, &r.worker_cpu}) {
            row += fmt::format(" {} {} {}", datum(f->ns), datum(f->min_ns), datum(f->max_ns));
        }
        for (const double ns : {r.p50_ns, r.p90_ns, r.p99_ns, r.p999_ns, r.max_ns}) row += " " + datum(ns);
        s.line(row + " " + quoted_text(r.wall.ns));
    }
    s.line("EOD");
}

// The picture's title (what ran), the line under it (where and when), and
// the note at the bottom (how to read the bars, what was left out).
void title_lines(Script& s, const ResultFile& file, const Layout& l) {
    s.line(fmt::format("set multiplot title {} font ',14'", quote("handoff: " + plot_run_line(file))));
    std::vector<std::string> where;
    const ResultContext& c = file.context;
    if (!c.date.empty()) where.push_back(c.host.empty() ? c.date : c.date + " on " + c.host);
    if (!c.cpu_model.empty()) {
        where.push_back(c.cpu_model + (c.online_cpus.empty() ? "" : ", " + c.online_cpus + " CPUs"));
    }
    if (!c.commit.empty()) where.push_back("commit " + c.commit);
    where.push_back(file.name + (file.partial ? " (partial: an interrupted run)" : ""));
    s.line(fmt::format("set label 1 {} at screen 0.5, screen {:.4f} center",
                       quote(fmt::format("{}", fmt::join(where, "; "))), 1 - 42 * l.px));
    std::string note = "Bars: each row's figure (its median repetition); whiskers: its fastest to slowest repetition";
    if (const std::string left_out = plot_left_out_note(file); !left_out.empty()) note += ". " + left_out;
    s.line(fmt::format("set label 2 {} at screen 0.01, screen {:.4f} left", quote(note), 14 * l.px));
}

void left_chart(Script& s, const std::vector<PlotRow>& rows, const Layout& l) {
    const BarAxis axis = bar_axis(rows);
    std::string ytics;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        ytics += fmt::format("{}{} {}", i ? ", " : "", quote(rows[i].label), i);
    }
    s.line(fmt::format("set ytics ({}) nomirror", ytics));
    s.line(fmt::format("set lmargin at screen {:.4f}", l.label_right));
    s.line(fmt::format("set rmargin at screen {:.4f}", l.middle));
    s.line(axis.log ? "set logscale x" : "unset logscale x");
    s.line(fmt::format("set xrange [{}:{}]", axis.low, axis.high));
    s.line(std::string("set xlabel 'per call (us") + (axis.log ? ", log scale" : "") + ")'");
    s.line("set title 'per call: wall, loop CPU, worker CPU; whisker: fastest to slowest repetition'");
    s.line(fmt::format("set key at screen {:.4f}, screen {:.4f} center top horizontal reverse Left samplen 2",
                       (l.label_right + l.middle) / 2, 1 - 62 * l.px));
    // Three bars a row, side by side from the axis start: never stacked,
    // since on a log axis a stacked segment's length means nothing.
    const auto bar = [&](int column, double offset, const char* colour, const char* title) {
        return fmt::format("$rows using ({0}):($1{1:+.2f}):({0}):{2}:($1{3:+.2f}):($1{4:+.2f}) with boxxyerror "
                           "lc rgb '{5}' title '{6}'",
                           axis.low, offset, column, offset - 0.13, offset + 0.13, colour, title);
    };
    const auto whisker = [](int column, double offset, bool titled) {
        return fmt::format("$rows using {0}:($1{1:+.2f}):{2}:{3} with xerrorbars lc rgb '#222222' lw 1.2 ps 0 {4}",
                           column, offset, column + 1, column + 2,
                           titled ? "title 'min-max'" : "notitle");
    };
    // The wall's value at its bar's end, on an opaque box: beside the
    // whisker (which may reach far beyond), not at the whisker's end.
    s.line("set style textbox opaque fillcolor rgb 'white' noborder margins 1,1");
    s.line("plot " + bar(2, -0.28, "#4477aa", "wall") + ", \\");
    s.line("     " + bar(5, 0.0, "#ee6677", "loop CPU") + ", \\");
    s.line("     " + bar(8, 0.28, "#228833", "worker CPU") + ", \\");
    s.line("     " + whisker(2, -0.28, true) + ", " + whisker(5, 0.0, false) + ", " + whisker(8, 0.28, false) + ", \\");
    s.line("     $rows using 2:($1-0.28):16 with labels boxed left offset char 0.5,0 font ',9' notitle");
}

void right_chart(Script& s, const std::vector<PlotRow>& rows, const Layout& l) {
    s.line(fmt::format("set lmargin at screen {:.4f}", l.right_start));
    s.line("set rmargin at screen 0.98");
    std::string empty;
    for (std::size_t i = 0; i < rows.size(); ++i) empty += fmt::format("{}'' {}", i ? ", " : "", i);
    s.line(fmt::format("set ytics ({}) nomirror", empty));
    s.line("set logscale x; set xrange [*:*]");
    s.line("set xlabel 'round trip, sent to delivered (us, log scale)'");
    s.line("set title 'latency per call, over every call of every repetition'");
    s.line(fmt::format("set key at screen {:.4f}, screen {:.4f} center top horizontal reverse Left samplen 1",
                       (l.right_start + 0.98) / 2, 1 - 62 * l.px));
    s.line("plot $rows using 11:1:($15-$11):(0) with vectors nohead lc rgb '#bbbbbb' notitle, \\");
    s.line("     $rows using 11:1 with points pt 7 ps 1.1 lc rgb '#4477aa' title 'p50', \\");
    s.line("     $rows using 12:1 with points pt 5 ps 1.0 lc rgb '#66ccee' title 'p90', \\");
    s.line("     $rows using 13:1 with points pt 9 ps 1.2 lc rgb '#ee6677' title 'p99', \\");
    s.line("     $rows using 14:1 with points pt 11 ps 1.2 lc rgb '#aa3377' title 'p99.9', \\");
    s.line("     $rows using 15:1 with points pt 2 ps 1.1 lc rgb '#000000' title 'max'");
}

// The smallest and largest of the repetitions' own per-call values of one
// figure (the total `of` a run, over its calls); NaN when none has one.
PlotFigure figure_of(const ResultRow& row, double ResultRun::*of) {
    PlotFigure f;
    f.ns = row.figures.per_call_ns(row.figures.*of);
    for (const ResultRun& run : row.runs) {
        const double ns = run.per_call_ns(run.*of);
        if (!std::isfinite(ns)) continue;
        f.min_ns = std::isfinite(f.min_ns) ? std::min(f.min_ns, ns) : ns;
        f.max_ns = std::isfinite(f.max_ns) ? std::max(f.max_ns, ns) : ns;
    }
    return f;
}

// "20000 calls", "1998 to 20000 calls": one value, or the range of them.
template <class Value>
std::string one_or_range(const std::set<Value>& values, const char* what) {
    if (values.size() == 1) return fmt::format("{} {}", *values.begin(), what);
    return fmt::format("{} to {} {}", *values.begin(), *values.rbegin(), what);
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
        p.wall = figure_of(row, &ResultRun::wall_s);
        p.loop_cpu = figure_of(row, &ResultRun::cpu_loop_s);
        p.worker_cpu = figure_of(row, &ResultRun::cpu_worker_s);
        const ResultRun& f = row.figures;
        p.p50_ns = f.lat_p50_ns;
        p.p90_ns = f.lat_p90_ns;
        p.p99_ns = f.lat_p99_ns;
        p.p999_ns = f.lat_p999_ns;
        p.max_ns = f.lat_max_ns;
        rows.push_back(std::move(p));
    }
    return rows;
}

std::string plot_run_line(const ResultFile& file) {
    std::set<std::string> works;
    std::set<std::uint64_t> calls, inflights;
    std::set<std::size_t> repetitions;
    for (const ResultRow& row : file.rows) {
        if (!row.ok()) continue;
        works.insert(row.work);
        calls.insert(row.calls);
        inflights.insert(row.inflight);
        repetitions.insert(row.runs.size());
    }
    if (calls.empty()) return "no row is ok";
    std::vector<std::string> parts;
    parts.push_back(works.size() == 1 ? "work " + *works.begin() : "work as labelled");
    parts.push_back(one_or_range(calls, "calls a row"));
    parts.push_back(inflights.size() == 1 ? fmt::format("in-flight {}", *inflights.begin()) : "in-flight as labelled");
    parts.push_back(one_or_range(repetitions, repetitions.size() == 1 && *repetitions.begin() == 1 ? "repetition"
                                                                                                  : "repetitions"));
    return fmt::format("{}", fmt::join(parts, ", "));
}

std::string plot_left_out_note(const ResultFile& file) {
    std::map<std::string, std::size_t> by_status;
    std::size_t left_out = 0;
    for (const ResultRow& row : file.rows) {
        if (row.ok()) continue;
        ++left_out;
        ++by_status[row.status];
    }
    if (left_out == 0) return {};
    std::vector<std::string> counts;
    for (const auto& [status, count] : by_status) counts.push_back(fmt::format("{} {}", count, status));
    return fmt::format("Not drawn: {} {} not ok ({})", left_out, left_out == 1 ? "row that is" : "rows that are",
                       fmt::join(counts, ", "));
}

std::string gnuplot_script(const ResultFile& file, const std::vector<PlotRow>& rows, const std::string& output,
                           PlotTerminal terminal) {
    const Layout l = layout(rows);
    Script s;
    terminal_lines(s, terminal, l, output);
    data_block(s, rows);
    title_lines(s, file, l);
    s.line(fmt::format("set yrange [{}:-0.6]", double(rows.size()) - 0.4));
    s.line(fmt::format("set tmargin at screen {:.4f}", l.top));
    s.line(fmt::format("set bmargin at screen {:.4f}", l.bottom));
    s.line("set grid xtics mxtics lc rgb '#dddddd'");
    s.line("set style fill solid 0.85 noborder");
    s.line("set errorbars small");
    left_chart(s, rows, l);
    // The labels belong to the picture, drawn once with the first chart.
    s.line("unset label");
    right_chart(s, rows, l);
    s.line("unset multiplot");
    s.line("unset output");
    return s.text;
}

// ---- A tune file: latency against Cores ----------------------------------------

namespace {

// A label inside inline data: double-quoted, so no double quote inside.
std::string data_label(std::string_view text) {
    std::string label = "\"";
    for (const char c : text) {
        const auto u = static_cast<unsigned char>(c);
        label += c == '"' ? '\'' : (u < 0x20 || u == 0x7f) ? '?' : c;
    }
    return label + "\"";
}

std::string us(double ns) { return std::isfinite(ns) && ns > 0 ? fmt::format("{:.6g}", ns / 1e3) : "NaN"; }
std::string real(double v) { return std::isfinite(v) && v > 0 ? fmt::format("{:.6g}", v) : "NaN"; }

// The staircase of one latency against Cores over the last round: the
// points no other has both as low (by Cores, each lower than all before).
std::vector<const TuneSummary::Candidate*> staircase(const std::vector<const TuneSummary::Candidate*>& last,
                                                     double TunePoint::*latency) {
    std::vector<const TuneSummary::Candidate*> sorted = last;
    std::stable_sort(sorted.begin(), sorted.end(), [&](const auto* a, const auto* b) {
        return a->point.cores != b->point.cores ? a->point.cores < b->point.cores
                                                : a->point.*latency < b->point.*latency;
    });
    std::vector<const TuneSummary::Candidate*> steps;
    double best = std::numeric_limits<double>::infinity();
    for (const auto* c : sorted) {
        if (c->point.*latency < best) {
            steps.push_back(c);
            best = c->point.*latency;
        }
    }
    return steps;
}

// "handoff tune: epoll dedicated, work none, in-flight 1, placement split"
std::string tune_title(const TuneSummary& t) {
    const std::string load = t.rate > 0 ? fmt::format("{:g} calls/s ({})", t.rate, t.arrival)
                                        : fmt::format("in-flight {}, back to back", t.inflight);
    return fmt::format("handoff tune: {} dedicated, work {}, {}, placement {}", t.backend, t.work, load, t.placement);
}

}  // namespace

std::string tune_gnuplot_script(const ResultFile& file, const TuneSummary& tune, const std::string& output,
                                PlotTerminal terminal) {
    std::vector<const TuneSummary::Candidate*> last, earlier;
    double low = std::numeric_limits<double>::infinity(), high = 0;
    for (const TuneSummary::Candidate& c : tune.candidates) {
        if (!c.point.measured() || !(c.point.cores > 0)) continue;
        (c.final_round ? last : earlier).push_back(&c);
        low = std::min(low, c.point.cores);
        high = std::max(high, c.point.cores);
    }
    if (!(high > 0)) low = high = 1;

    Script s;
    Layout l;
    l.width = 1400;
    l.height = 820;
    const double px = 1.0 / l.height;
    terminal_lines(s, terminal, l, output);

    s.line("$earlier << EOD");  // Cores, p99 (us)
    for (const auto* c : earlier) s.line(fmt::format("{} {}", real(c->point.cores), us(c->point.p99_ns)));
    s.line("EOD");
    s.line("$last << EOD");  // Cores, p50, p99, p99 min, p99 max (us)
    for (const auto* c : last) {
        const TunePoint& p = c->point;
        s.line(fmt::format("{} {} {} {} {}", real(p.cores), us(p.p50_ns), us(p.p99_ns), us(p.p99.min),
                           us(p.p99.max)));
    }
    s.line("EOD");
    for (const auto& [name, latency] : {std::pair{"$front99", &TunePoint::p99_ns}, std::pair{"$front50", &TunePoint::p50_ns}}) {
        s.line(std::string(name) + " << EOD");  // Cores, latency (us), label
        for (const auto* c : staircase(last, latency)) {
            s.line(fmt::format("{} {} {}", real(c->point.cores), us(c->point.*latency), data_label(c->design)));
        }
        s.line("EOD");
    }
    // Each recommended design once, numbered, with every objective it answers.
    std::vector<std::pair<std::string, std::vector<std::string>>> chosen;
    for (const TuneSummary::Choice& c : tune.recommendations) {
        if (!c.design) continue;
        const auto at = std::find_if(chosen.begin(), chosen.end(), [&](const auto& e) { return e.first == *c.design; });
        if (at == chosen.end()) chosen.push_back({*c.design, {c.label}});
        else at->second.push_back(c.label);
    }
    s.line("$recs << EOD");  // Cores, p99 (us), number
    for (std::size_t r = 0; r < chosen.size(); ++r) {
        const auto it = std::find_if(last.begin(), last.end(), [&](const auto* c) { return c->design == chosen[r].first; });
        if (it == last.end()) continue;
        s.line(fmt::format("{} {} \"{}\"", real((*it)->point.cores), us((*it)->point.p99_ns), r + 1));
    }
    s.line("EOD");

    // What ran and where, above; the recommendations beside the key; how to
    // read it, below.
    s.line(fmt::format("set label 1 {} at screen 0.5, screen {:.4f} center font ',14'", quote(tune_title(tune)),
                       1 - 24 * px));
    std::vector<std::string> where;
    const ResultContext& c = file.context;
    if (!c.date.empty()) where.push_back(c.host.empty() ? c.date : c.date + " on " + c.host);
    if (!c.commit.empty()) where.push_back("commit " + c.commit);
    where.push_back(fmt::format("{} candidates, {} in the last round; budget {:.0f}s, took {:.0f}s{}",
                                tune.candidates.size(), last.size(), tune.budget_s, tune.elapsed_s,
                                tune.interrupted ? " (interrupted)" : ""));
    s.line(fmt::format("set label 2 {} at screen 0.5, screen {:.4f} center", quote(fmt::format("{}", fmt::join(where, "; "))),
                       1 - 50 * px));
    double y = 1 - 300 * px;
    int tag = 3;
    s.line(fmt::format("set label {} 'Recommended (--design):' at screen 0.715, screen {:.4f} left font ',11'", tag++, y));
    for (std::size_t r = 0; r < chosen.size(); ++r) {
        y -= 24 * px;
        s.line(fmt::format("set label {} {} at screen 0.715, screen {:.4f} left font ',10'", tag++,
                           quote(fmt::format("({}) {}", r + 1, chosen[r].first)), y));
        for (const std::string& label : chosen[r].second) {
            y -= 17 * px;
            s.line(fmt::format("set label {} {} at screen 0.735, screen {:.4f} left font ',9' tc rgb '#444444'",
                               tag++, quote(label), y));
        }
    }
    for (const TuneSummary::Choice& choice : tune.recommendations) {
        if (choice.design) continue;
        y -= 24 * px;
        s.line(fmt::format("set label {} {} at screen 0.715, screen {:.4f} left font ',9' tc rgb '#444444'", tag++,
                           quote(choice.label + ": none"), y));
    }
    s.line(fmt::format("set label {} {} at screen 0.01, screen {:.4f} left font ',9'", tag++,
                       quote("Cores: (CpuEvtLoop + CpuWorker) / Wall of the median repetition. p50, p99: every call "
                             "of every repetition; bars: p99 from the fastest to the slowest repetition."),
                       30 * px));
    s.line(fmt::format("set label {} {} at screen 0.01, screen {:.4f} left font ',9'", tag++,
                       quote("Staircases: the frontier of the last round (no candidate has both lower). Grey: "
                             "dropped in an earlier round (its last figures)."),
                       12 * px));

    s.line(fmt::format("set tmargin at screen {:.4f}", 1 - 80 * px));
    s.line(fmt::format("set bmargin at screen {:.4f}", 110 * px));
    s.line("set lmargin at screen 0.07");
    s.line("set rmargin at screen 0.69");
    s.line(fmt::format("set key at screen 0.71, screen {:.4f} left top Left reverse samplen 2 font ',10'", 1 - 90 * px));
    s.line("set grid xtics ytics mxtics mytics lc rgb '#e4e4e4'");
    s.line("set logscale y");
    s.line("set format y '%g'");
    s.line("set ylabel 'round trip, sent to delivered (us, log scale)'");
    // Cores: linear from 0, unless the candidates span more than 20x (a
    // blocking design's 0.05 beside a spinner's 2).
    if (high / low > 20) {
        s.line("set logscale x");
        s.line(fmt::format("set xrange [{:.6g}:{:.6g}]", low / 1.5, high * 1.5));
        s.line("set xlabel 'Cores: CPUs kept busy (log scale)'");
    } else {
        s.line(fmt::format("set xrange [0:{:.6g}]", high * 1.15));
        s.line("set xlabel 'Cores: CPUs kept busy'");
    }
    s.line("set errorbars small");
    s.line("plot $earlier using 1:2 with points pt 6 ps 0.8 lc rgb '#bbbbbb' title 'p99, dropped earlier', \\");
    s.line("     $last using 1:3:4:5 with yerrorbars pt 9 ps 1.2 lc rgb '#ee6677' title 'p99, last round', \\");
    s.line("     $last using 1:2 with points pt 7 ps 0.9 lc rgb '#4477aa' title 'p50, last round', \\");
    s.line("     $front99 using 1:2 with steps lw 2 lc rgb '#ee6677' title 'p99 frontier', \\");
    s.line("     $front50 using 1:2 with steps lw 1.5 dt 2 lc rgb '#4477aa' title 'p50 frontier', \\");
    s.line("     $front99 using 1:2:3 with labels left offset char 0.7,-0.8 font ',8' tc rgb '#555555' notitle, \\");
    s.line("     $recs using 1:2 with points pt 6 ps 3.2 lw 2 lc rgb '#000000' title 'recommended (numbered)', \\");
    s.line("     $recs using 1:2:3 with labels offset char -1.6,1.2 font ',11' tc rgb '#000000' notitle");
    s.line("unset output");
    return s.text;
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

// The folder -o writes into must exist and take a new file: checked here, so
// that a typo gets one line and exit status 2 instead of gnuplot's messages.
void check_output_folder(const std::string& output) {
    const std::filesystem::path parent = std::filesystem::path(output).parent_path();
    const std::string folder = parent.empty() ? "." : parent.string();
    std::error_code error;
    const auto status = std::filesystem::status(folder, error);
    if (!std::filesystem::exists(status)) {
        throw PlotUsageError(fmt::format("-o: cannot write '{}': the folder '{}' does not exist", output, folder));
    }
    if (!std::filesystem::is_directory(status)) {
        throw PlotUsageError(fmt::format("-o: cannot write '{}': '{}' is not a folder", output, folder));
    }
    if (::access(folder.c_str(), W_OK | X_OK) != 0) {
        throw PlotUsageError(fmt::format("-o: cannot write '{}' into '{}': {}", output, folder, std::strerror(errno)));
    }
}

// Everything to draw, read and checked before gnuplot runs.
struct PlotJob {
    PlotTerminal terminal{};
    ResultFile file;
    std::vector<PlotRow> rows;
    std::optional<TuneSummary> tune;  // a tune file: drawn as its search
};

// The file's text again, for its "tune" object (the result file's reader
// has read and checked the rest).
std::string file_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Throws PlotUsageError or ResultFileError, one line each.
PlotJob prepare(const std::string& input, const std::string& output) {
    PlotJob job;
    job.terminal = terminal_for(output);
    if (std::any_of(output.begin(), output.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
        throw PlotUsageError("-o: the file name has a control character: expected a plain path");
    }
    check_output_folder(output);
    job.file = read_result_file(input);
    job.rows = plot_rows(job.file);
    job.tune = parse_tune_summary(file_text(input), input);
    if (job.tune) {
        const bool any = std::any_of(job.tune->candidates.begin(), job.tune->candidates.end(),
                                     [](const TuneSummary::Candidate& c) { return c.final_round && c.point.measured(); });
        if (!any) throw PlotUsageError(fmt::format("'{}': its search measured no candidate: nothing to plot", input));
        return job;
    }
    if (job.rows.empty()) {
        throw PlotUsageError(fmt::format("'{}' has no row with figures (no row is ok): nothing to plot", input));
    }
    return job;
}

// gnuplot writes beside the target and the picture replaces it only when
// whole: a failed run never leaves half a file where a good one was.
int draw(const PlotJob& job, const std::string& output, std::ostream& out, std::ostream& err) {
    const std::string temporary = output + ".tmp";
    const char* program = std::getenv("HANDOFF_GNUPLOT");
    const std::string script = job.tune ? tune_gnuplot_script(job.file, *job.tune, temporary, job.terminal)
                                        : gnuplot_script(job.file, job.rows, temporary, job.terminal);
    const GnuplotOutcome ran = run_gnuplot(program && *program ? program : "gnuplot", script);
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
    if (job.tune) {
        const auto last = std::count_if(job.tune->candidates.begin(), job.tune->candidates.end(),
                                        [](const TuneSummary::Candidate& c) { return c.final_round; });
        out << fmt::format("wrote {} (the search: {} candidates, {} in the last round)\n", output,
                           job.tune->candidates.size(), last);
        return 0;
    }
    out << fmt::format("wrote {} ({} rows)\n", output, job.rows.size());
    return 0;
}

}  // namespace

int run_plot(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
    CLI::App app{"handoff plot: draws a result file with gnuplot: per row, wall, loop CPU and worker CPU per call "
                 "side by side with the spread of the repetitions, and the latency percentiles, in one picture.",
                 "handoff plot"};
    app.footer("\nA file written by handoff tune is drawn as its search: p50 and p99 against Cores for every "
               "candidate,\nthe frontier, and the recommendations marked.\n"
               "The terminal follows the extension: .svg -> svg, .png -> pngcairo (png without cairo).\n"
               "Needs gnuplot (Debian: gnuplot-nox). Exit status: 0; 1 when gnuplot is missing or fails; "
               "2 on bad input (the output folder missing included).\n"
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
    try {
        return draw(prepare(input, output), output, out, err);
    } catch (const PlotUsageError& e) {
        err << "handoff: plot: " << e.what() << '\n';
    } catch (const ResultFileError& e) {
        err << "handoff: plot: " << e.what() << '\n';
    }
    return 2;
}

}  // namespace handoff
