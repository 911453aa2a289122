#include <fmt/format.h>

#include <algorithm>
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
bool has_named_design(const RowResult& row) {
    const std::string design = row.config.design_name();
    return design != "-" && design != "classic";
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

// Other as the difference of the three printed figures beside it, so the
// legend's identity holds to the last printed digit.
std::string other_cell(const RowResult& row) {
    const auto printed_ms = [&](std::string_view key) { return std::llround(row_figure(row, key) * 1e3); };
    const long long other_ms = printed_ms("cpu_total_s") - printed_ms("cpu_loop_s") - printed_ms("cpu_worker_s");
    return fmt::format("{}{}.{:03}", other_ms < 0 ? "-" : "", std::llabs(other_ms) / 1000, std::llabs(other_ms) % 1000);
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

}  // namespace

Grid table_grid(const Report& report) {
    Grid grid;
    grid.heading = heading(report);
    grid.environment = describe_environment(report.context);
    grid.notices = notices(report);
    if (report.rows.empty()) return grid;

    bool any_design = false;
    bool repeated = false;
    for (const RowResult& row : report.rows) {
        any_design = any_design || has_named_design(row);
        repeated = repeated || row.repeat > 1 || row.runs.size() > 1;
    }
    const bool show_work = distinct(report, work_of).size() > 1;
    const bool show_inflight = distinct(report, inflight_of).size() > 1;
    const bool show_placement = distinct(report, placement_of).size() > 1 ||
                                report.rows.front().config.placement.name != "free";

    const auto column = [&](std::string title, bool numeric) {
        grid.titles.push_back(std::move(title));
        grid.numeric.push_back(numeric);
    };
    column("Backend", false);
    column("Target", false);
    if (any_design) column("Design", false);
    if (show_work) column("Work", false);
    if (show_inflight) column("InFlight", true);
    if (show_placement) column("Placement", false);
    for (const char* title : {"Calls", "Wall", "CpuTotal", "CpuEvtLoop", "CpuWorker", "Other", "Wall/call"}) {
        column(title, true);
    }
    if (repeated) column("Spread", true);
    for (const char* title : {"Loop/call", "Worker/call", "CS/call", "SameCPU", "Calls/s", "p50", "p99"}) {
        column(title, true);
    }
    // Every row against the cheapest possible round trip of the same run.
    const RowResult* floor = nullptr;
    for (const RowResult& row : report.rows) {
        if (row.config.is_floor() && has_figures(row)) floor = &row;
    }
    if (floor != nullptr) column("xFloor", true);

    const auto seconds = [](double s) { return fmt::format("{:.3f}", s); };
    for (const RowResult& row : report.rows) {
        std::vector<std::string> line{row.config.backend, row.config.target_name()};
        if (any_design) line.push_back(row.config.design_name());
        if (show_work) line.push_back(row.config.work.spec());
        if (show_inflight) line.push_back(fmt::format("{}", row.config.inflight));
        if (show_placement) line.push_back(row.config.placement.name);
        if (has_figures(row)) {
            const auto figure = [&](std::string_view key) { return row_figure(row, key); };
            line.push_back(fmt::format("{}", row.config.calls));
            for (const char* key : {"wall_s", "cpu_total_s", "cpu_loop_s", "cpu_worker_s"}) {
                line.push_back(seconds(figure(key)));
            }
            line.push_back(other_cell(row));
            line.push_back(ns_cell(figure("wall_per_call_ns")));
            if (repeated) line.push_back(spread_cell(row));
            line.push_back(format_per_call(figure("loop_cpu_per_call_ns") / 1e9));
            line.push_back(format_per_call(figure("worker_cpu_per_call_ns") / 1e9));
            line.push_back(fmt::format("{:.2f}", figure("switches_per_call")));
            const double same_cpu = figure("same_cpu_share");
            line.push_back(row.config.is_inline() || row.config.is_floor() || std::isnan(same_cpu)
                               ? std::string("-")
                               : fmt::format("{:.0f}%", 100 * same_cpu));
            line.push_back(format_rate(figure("calls_per_s")));
            line.push_back(ns_cell(figure("lat_p50_ns")));
            line.push_back(ns_cell(figure("lat_p99_ns")));
            if (floor != nullptr) {
                line.push_back(row.config.is_inline()
                                   ? "-"
                                   : fmt::format("{:.1f}", figure("wall_per_call_ns") /
                                                               row_figure(*floor, "wall_per_call_ns")));
            }
            grid.status.emplace_back();
        } else {
            grid.status.push_back(status_text(row));
        }
        grid.cells.push_back(std::move(line));
    }

    grid.legend = {
        "Wall, Cpu*: seconds in the measured interval (" + runs_phrase(report) +
            "); /call: per call; CS/call: loop + worker context switches per call.",
        "CpuTotal: every thread of the process, each from its own CPU clock. Other = CpuTotal - CpuEvtLoop - "
        "CpuWorker (of the figures printed): CPU of the threads no role explains.",
    };
    if (repeated) {
        grid.legend.push_back(fmt::format(
            "Spread: slowest over fastest repetition's Wall/call. ! wide (above {:.1f}x), ~ bimodal (SameCPU "
            "differs by more than {:.0f} points between repetitions): the median is not to be trusted; pin "
            "with --placement same or split, or raise --repeat.",
            wide_spread_limit, 100 * bimodal_share_range));
    }
    grid.legend.insert(
        grid.legend.end(),
        {"SameCPU: share of the calls that ran whose worker ran on the CPU the loop sent from (all repetitions).",
         "p50, p99: round trip of one call, sent to back on the loop thread, from every call of every repetition "
         "(a timed-out call counts until it came back); log-linear histogram, <1.6% error."});
    if (floor != nullptr) {
        grid.legend.push_back(
            "xFloor: Wall/call over the floor's (two threads spinning on one cache line, the cheapest trip).");
    }

    std::set<std::pair<std::string, std::string>> seen;
    for (const RowResult& row : report.rows) {
        if (row.mechanism.empty()) continue;
        auto entry = std::make_pair(row_label(row), row.mechanism);
        if (seen.insert(entry).second) grid.legend.push_back(entry.first + ": " + entry.second);
    }
    for (const RowResult& row : report.rows) {
        if (row.runs_left_out != 0 && has_figures(row)) {
            grid.legend.push_back(fmt::format("{}: measured in {} of {} repetitions, {} left out ({})", row_label(row),
                                              row.runs.size(), row.runs.size() + row.runs_left_out,
                                              row.runs_left_out, row.left_out_reason));
        }
        if (const std::string caveat = has_figures(row) ? assess_runs(row.runs).cpu_total_caveat : "";
            !caveat.empty()) {
            grid.legend.push_back(fmt::format("warning: {}: CpuTotal is not exact: {}", row_label(row), caveat));
        }
        if (row.status == RowStatus::ok && row.errors != 0) {
            grid.legend.push_back(
                fmt::format("warning: {}: {} calls had a wrong or missing result", row_label(row), row.errors));
        }
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
