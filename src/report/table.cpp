#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/duration.hpp"
#include "report/report.hpp"
#include "report/figures.hpp"
#include "report/grid.hpp"
#include "report/row_warnings.hpp"

namespace handoff {
namespace report_detail {
namespace {

// Values every row shares go in the heading; values that vary get a column.
template <class Value>
std::set<Value> distinct(const Report& report, Value (*of)(const RowResult&)) {
    std::set<Value> values;
    for (const RowResult& row : report.rows) values.insert(of(row));
    return values;
}

std::string work_of(const RowResult& row) { return row.config.work.spec(); }
std::uint64_t calls_of(const RowResult& row) { return row.config.calls; }
std::uint64_t inflight_of(const RowResult& row) { return row.config.inflight; }
std::string placement_of(const RowResult& row) { return describe(row.config.placement); }
// A design worth a column: a dedicated worker of another shape than the
// default (compared axis by axis, not by name), a timeout, or coroutines.
bool has_named_design(const RowResult& row) {
    const Configuration& c = row.config;
    const bool designed = c.kind == RowKind::handoff && c.target == TargetKind::dedicated &&
                          c.design.describe() != Design{}.describe();
    return designed || c.timeout.count() != 0 || c.await_mode == AwaitMode::coroutine;
}

std::string heading(const Report& report) {
    std::vector<std::string> run;
    if (const auto works = distinct(report, work_of); works.size() == 1) {
        run.push_back("work " + *works.begin());
    }
    if (const auto calls = distinct(report, calls_of); calls.size() == 1) {
        run.push_back(fmt::format("{} calls", *calls.begin()));
    }
    if (const auto inflight = distinct(report, inflight_of); inflight.size() == 1) {
        run.push_back(fmt::format("in-flight {}", *inflight.begin()));
    }
    const RunContext& c = report.context;
    std::vector<std::string> parts;
    if (!run.empty()) parts.push_back(fmt::format("{}", fmt::join(run, ", ")));
    if (!c.date.empty() || !c.host.empty()) {
        parts.push_back(c.host.empty() ? c.date : fmt::format("{} on {}", c.date, c.host));
    }
    if (!c.cpu_model.empty() || c.online_cpus != 0) {
        parts.push_back(fmt::format("{}{}{} online CPUs", c.cpu_model, c.cpu_model.empty() ? "" : ", ",
                                    c.online_cpus));
    }
    if (!c.kernel.empty()) parts.push_back("kernel " + c.kernel);
    return fmt::format("{}", fmt::join(parts, "; "));
}

// "failed: <reason>" in place of the figures of a row that has none.
std::string status_text(const RowResult& row) {
    std::string text(row.status == RowStatus::ok ? "no measurements" : to_string(row.status));
    if (!row.reason.empty()) text += ": " + row.reason;
    return text;
}

// "1.23M", "456k", "789": throughput at a glance.
std::string format_rate(double per_s) {
    if (per_s >= 1e6) return fmt::format("{:.2f}M", per_s / 1e6);
    if (per_s >= 1e3) return fmt::format("{:.0f}k", per_s / 1e3);
    return fmt::format("{:.0f}", per_s);
}

// A figure in ns as a per-call duration; "-" where none was recorded (inline).
std::string ns_cell(double ns) { return ns > 0 ? format_per_call(ns / 1e9) : std::string("-"); }

// "1.07x", "2.31x!", "1.20x~"; "-" below two repetitions.
std::string spread_cell(const RowResult& row) {
    const RowWarnings warnings = assess_runs(row.runs);
    return warnings.spread ? fmt::format("{:.2f}x{}", *warnings.spread, warnings.mark()) : std::string("-");
}

// CpuTotal, CpuEvtLoop, CpuWorker and Other as printed, in ms: each within
// a millisecond of its value and the last three adding up to the first, so
// the legend's identity holds to the last digit and Other never prints
// below zero (rounding each alone could make 0.0834 - 0.0354 - 0.0487 print
// as 0.083 - 0.035 - 0.049 = -0.001). The parts are apportioned by largest
// remainder: each rounded down, then the milliseconds the total still lacks
// go to the parts with the largest fractions.
std::array<long long, 4> printed_cpu_ms(const RowResult& row) {
    const double total = row_figure(row, "cpu_total_s") * 1e3;
    std::array<double, 3> parts{row_figure(row, "cpu_loop_s") * 1e3, row_figure(row, "cpu_worker_s") * 1e3, 0};
    parts[2] = std::max(0.0, total - parts[0] - parts[1]);
    const long long total_ms = std::llround(total);
    std::array<long long, 3> ms{};
    long long lacking = total_ms;
    for (std::size_t i = 0; i < 3; ++i) lacking -= ms[i] = (long long)std::floor(parts[i]);
    std::array<std::size_t, 3> order{0, 1, 2};
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return parts[a] - double(ms[a]) > parts[b] - double(ms[b]);
    });
    for (std::size_t i = 0; lacking > 0 && i < 3; ++i, --lacking) ++ms[order[i]];
    return {total_ms, ms[0], ms[1], ms[2]};
}

std::string ms_as_seconds(long long ms) {
    return fmt::format("{}{}.{:03}", ms < 0 ? "-" : "", std::llabs(ms) / 1000, std::llabs(ms) % 1000);
}

std::string runs_phrase(const Report& report) {
    std::set<std::size_t> counts;
    for (const RowResult& row : report.rows) {
        if (has_figures(row)) counts.insert(row.runs.size());
    }
    if (counts.size() == 1 && *counts.begin() == 1) return "one run each";
    const std::string of = counts.size() == 1 ? fmt::format(" of {}", *counts.begin()) : "";
    return fmt::format("all from the median run{} by Wall/call, its totals per call times the row's calls", of);
}

std::string row_label(const RowResult& row) {
    std::string label = row.config.backend;
    if (const std::string target = row.config.target_name(); target != "-") label += " " + target;
    if (has_named_design(row)) label += " (" + row.config.design_name() + ")";
    return label;
}

// The label with its placement when not free: names one row among a sweep's.
std::string row_name(const RowResult& row) {
    std::string name = row_label(row);
    if (row.config.placement.name != "free" && !row.config.is_floor()) name += " " + row.config.placement.name;
    return name;
}

// The lines before the table of an interrupted run: which signal, which rows
// hold fewer repetitions than asked for.
std::vector<std::string> notices(const Report& report) {
    if (!report.partial) return {};
    std::vector<std::string> incomplete;
    for (const RowResult& row : report.rows) {
        if (row.status == RowStatus::interrupted) {
            incomplete.push_back(row_name(row) + " (not run)");
        } else if (row.status == RowStatus::ok && row.runs.size() < row.repeat) {
            incomplete.push_back(fmt::format("{} ({} of {} repetitions)", row_name(row), row.runs.size(), row.repeat));
        }
    }
    std::vector<std::string> lines{fmt::format(
        "INTERRUPTED{}: partial results; an unfinished repetition was discarded.",
        report.interrupted_by.empty() ? "" : " by " + report.interrupted_by)};
    if (!incomplete.empty()) lines.push_back(fmt::format("Incomplete rows: {}.", fmt::join(incomplete, ", ")));
    return lines;
}

// Whether every repetition ran in one scheduling regime: inline has one
// thread, the floor pins its two, and a row whose loop and workers are all
// pinned cannot change regime between repetitions.
bool one_regime(const RowResult& row) {
    const Placement& p = row.config.placement;
    if (row.config.is_inline() || row.config.is_floor()) return true;
    const bool workers_pinned = row.config.target == TargetKind::dedicated ? p.worker_cpu >= 0 : !p.pool_cpus.empty();
    return p.loop_cpu >= 0 && workers_pinned;
}

// The columns a report needs: those that vary, and those its rows have.
struct Columns {
    bool design = false;
    bool work = false;
    bool inflight = false;
    bool placement = false;
    bool spread = false;               // some row was repeated
    const RowResult* floor = nullptr;  // the row xFloor divides by, if any
};

Columns choose_columns(const Report& report) {
    Columns c;
    for (const RowResult& row : report.rows) {
        c.design = c.design || has_named_design(row);
        c.spread = c.spread || row.repeat > 1 || row.runs.size() > 1;
        // Every row against the cheapest possible round trip of the same run.
        if (row.config.is_floor() && has_figures(row)) c.floor = &row;
    }
    c.work = distinct(report, work_of).size() > 1;
    c.inflight = distinct(report, inflight_of).size() > 1;
    c.placement = distinct(report, placement_of).size() > 1 || report.rows.front().config.placement.name != "free";
    return c;
}

void add_titles(Grid& grid, const Columns& c) {
    const auto column = [&](std::string title, bool numeric) {
        grid.titles.push_back(std::move(title));
        grid.numeric.push_back(numeric);
    };
    column("Backend", false);
    column("Target", false);
    if (c.design) column("Design", false);
    if (c.work) column("Work", false);
    if (c.inflight) column("InFlight", true);
    if (c.placement) column("Placement", false);
    for (const char* title : {"Calls", "Wall", "CpuTotal", "CpuEvtLoop", "CpuWorker", "Other", "Wall/call"}) {
        column(title, true);
    }
    if (c.spread) column("Spread", true);
    for (const char* title : {"Loop/call", "Worker/call", "CS/call", "SameCPU", "Calls/s", "p50", "p99"}) {
        column(title, true);
    }
    if (c.floor != nullptr) column("xFloor", true);
}

// What identifies the row: backend, target, and the columns that vary.
std::vector<std::string> identity_cells(const RowResult& row, const Columns& c) {
    std::vector<std::string> cells{row.config.backend, row.config.target_name()};
    if (c.design) cells.push_back(row.config.design_name());
    if (c.work) cells.push_back(row.config.work.spec());
    if (c.inflight) cells.push_back(fmt::format("{}", row.config.inflight));
    if (c.placement) cells.push_back(row.config.placement.name);
    return cells;
}

std::string same_cpu_cell(const RowResult& row) {
    const double same_cpu = row_figure(row, "same_cpu_share");
    const bool meaningless = row.config.is_inline() || row.config.is_floor() || std::isnan(same_cpu);
    return meaningless ? std::string("-") : fmt::format("{:.0f}%", 100 * same_cpu);
}

// The figures of a row that has them, in the order of add_titles.
void add_figure_cells(std::vector<std::string>& cells, const RowResult& row, const Columns& c) {
    const auto figure = [&](std::string_view key) { return row_figure(row, key); };
    cells.push_back(fmt::format("{}", row.config.calls));
    cells.push_back(fmt::format("{:.3f}", figure("wall_s")));
    for (const long long ms : printed_cpu_ms(row)) cells.push_back(ms_as_seconds(ms));
    cells.push_back(ns_cell(figure("wall_per_call_ns")));
    if (c.spread) cells.push_back(spread_cell(row));
    cells.push_back(format_per_call(figure("loop_cpu_per_call_ns") / 1e9));
    cells.push_back(format_per_call(figure("worker_cpu_per_call_ns") / 1e9));
    cells.push_back(fmt::format("{:.2f}", figure("switches_per_call")));
    cells.push_back(same_cpu_cell(row));
    cells.push_back(format_rate(figure("calls_per_s")));
    cells.push_back(ns_cell(figure("lat_p50_ns")));
    cells.push_back(ns_cell(figure("lat_p99_ns")));
    if (c.floor != nullptr) {
        cells.push_back(row.config.is_inline() ? "-"
                                               : fmt::format("{:.1f}", figure("wall_per_call_ns") /
                                                                           row_figure(*c.floor, "wall_per_call_ns")));
    }
}

// What the columns and marks mean.
std::vector<std::string> column_legend(const Report& report, const Columns& c) {
    std::vector<std::string> lines{
        "Wall, Cpu*: seconds in the measured interval (" + runs_phrase(report) +
            "); /call: per call; CS/call: loop + worker context switches per call.",
        "CpuTotal: every thread of the process, each from its own CPU clock. Other = CpuTotal - CpuEvtLoop - "
        "CpuWorker (as printed: the parts are rounded to add up): CPU of the threads no role explains.",
    };
    if (c.spread) {
        lines.push_back(fmt::format(
            "Spread: slowest over fastest repetition's Wall/call. ! wide (above {:.1f}x), ~ bimodal (SameCPU "
            "differs by more than {:.0f} points between repetitions); each marked row's cause and remedy follow "
            "the table.",
            wide_spread_limit, 100 * bimodal_share_range));
    }
    lines.push_back("SameCPU: share of the calls that ran whose worker ran on the CPU the loop sent from (all "
                    "repetitions).");
    lines.push_back("p50, p99: round trip of one call, sent to back on the loop thread, from every call of every "
                    "repetition (a timed-out call counts until it came back); log-linear histogram, <1.6% error.");
    if (c.floor != nullptr) {
        lines.push_back("xFloor: Wall/call over the floor's (two threads spinning on one cache line, the cheapest "
                        "trip).");
    }
    return lines;
}

// How each row's calls travelled, once per distinct label and mechanism.
std::vector<std::string> mechanism_legend(const Report& report) {
    std::vector<std::string> lines;
    std::set<std::pair<std::string, std::string>> seen;
    for (const RowResult& row : report.rows) {
        if (row.mechanism.empty()) continue;
        auto entry = std::make_pair(row_label(row), row.mechanism);
        if (seen.insert(entry).second) lines.push_back(entry.first + ": " + entry.second);
    }
    return lines;
}

// What a reader must know about one row: left-out repetitions, its spread's
// cause and remedy, an inexact CpuTotal, wrong results (which a row with
// no figures can have too).
std::vector<std::string> row_notes(const RowResult& row) {
    std::vector<std::string> lines;
    if (row.status == RowStatus::ok && row.errors != 0) {
        lines.push_back(fmt::format("warning: {}: {} calls had a wrong or missing result", row_label(row), row.errors));
    }
    if (!has_figures(row)) return lines;
    if (row.runs_left_out != 0) {
        lines.push_back(fmt::format("{}: measured in {} of {} repetitions, {} left out ({})", row_label(row),
                                    row.runs.size(), row.runs.size() + row.runs_left_out, row.runs_left_out,
                                    row.left_out_reason));
    }
    const RowWarnings warnings = assess_runs(row.runs);
    if (const std::string advice = warnings.advice(one_regime(row)); !advice.empty()) {
        lines.push_back(fmt::format("{}: Spread {}: {}", row_name(row), spread_cell(row), advice));
    }
    if (!warnings.cpu_total_caveat.empty()) {
        lines.push_back(
            fmt::format("warning: {}: CpuTotal is not exact: {}", row_label(row), warnings.cpu_total_caveat));
    }
    return lines;
}

}  // namespace

Grid table_grid(const Report& report) {
    Grid grid;
    grid.heading = heading(report);
    grid.environment = describe_environment(report.context);
    grid.notices = notices(report);
    if (report.rows.empty()) return grid;

    const Columns columns = choose_columns(report);
    add_titles(grid, columns);
    for (const RowResult& row : report.rows) {
        std::vector<std::string> cells = identity_cells(row, columns);
        if (has_figures(row)) add_figure_cells(cells, row, columns);
        grid.status.push_back(has_figures(row) ? std::string() : status_text(row));
        grid.cells.push_back(std::move(cells));
    }

    grid.legend = column_legend(report, columns);
    for (std::string& line : mechanism_legend(report)) grid.legend.push_back(std::move(line));
    for (const RowResult& row : report.rows) {
        for (std::string& line : row_notes(row)) grid.legend.push_back(std::move(line));
    }
    return grid;
}

}  // namespace report_detail

void write_table(std::ostream& out, const Report& report) {
    const report_detail::Grid grid = report_detail::table_grid(report);
    out << grid.heading << '\n';
    if (!grid.environment.empty()) out << grid.environment << '\n';
    out << '\n';
    for (const std::string& line : grid.notices) out << line << '\n';
    if (!grid.notices.empty()) out << '\n';
    if (report.rows.empty()) {
        out << "no results\n";
        return;
    }

    std::vector<std::size_t> width(grid.titles.size());
    for (std::size_t i = 0; i < grid.titles.size(); ++i) width[i] = grid.titles[i].size();
    for (const auto& line : grid.cells) {
        for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
    }

    const auto print = [&](const std::vector<std::string>& line, const std::string& tail) {
        std::string text;
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (i != 0) text += "  ";
            text += grid.numeric[i] ? fmt::format("{:>{}}", line[i], width[i])
                                    : fmt::format("{:<{}}", line[i], width[i]);
        }
        if (!tail.empty()) text += "  " + tail;
        text.erase(text.find_last_not_of(' ') + 1);
        out << text << '\n';
    };

    print(grid.titles, "");
    for (std::size_t r = 0; r < grid.cells.size(); ++r) print(grid.cells[r], grid.status[r]);
    out << '\n';
    for (const std::string& line : grid.legend) out << line << '\n';
}

}  // namespace handoff
