#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/duration.hpp"
#include "base/printable.hpp"
#include "base/text.hpp"
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

std::string target_of(const RowResult& row) { return row.config.target_name(); }

std::string format_rate(double per_s);

// "open loop at 10k calls/s (poisson arrivals, seed 1)", or "" for a closed loop.
std::string rate_of(const RowResult& row) {
    const Configuration& c = row.config;
    if (!c.open_loop()) return "";
    return fmt::format("open loop at {} calls/s ({} arrivals{})", format_rate(c.rate), to_string(c.arrival),
                       c.arrival == ArrivalKind::poisson ? fmt::format(", seed {}", c.seed) : "");
}

// The target every handoff row shares, or "" when they differ (or there are none).
std::string shared_target(const Report& report) {
    std::set<std::string> targets;
    for (const RowResult& row : report.rows) {
        if (row.config.kind == RowKind::handoff) targets.insert(target_of(row));
    }
    return targets.size() == 1 ? *targets.begin() : std::string();
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
    if (const auto rates = distinct(report, rate_of); rates.size() == 1 && !rates.begin()->empty()) {
        run.push_back(*rates.begin());
    }
    if (const std::string target = shared_target(report); !target.empty() && !report.options.wide) {
        run.push_back("target " + target);  // no Target column then
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
    bool open_loop = false;
    for (const RowResult& row : report.rows) {
        if (!has_figures(row)) continue;
        counts.insert(row.runs.size());
        open_loop |= paced(row);
    }
    if (counts.size() == 1 && *counts.begin() == 1) return "one run each";
    const std::string of = counts.size() == 1 ? fmt::format(" of {}", *counts.begin()) : "";
    return fmt::format("all from the median run{} by Wall/call{}, its totals per call times the row's calls", of,
                       open_loop ? " (at a rate, where the arrivals set the wall time: by Cores)" : "");
}

std::string row_label(const RowResult& row) {
    std::string label = row.config.backend;
    if (const std::string target = row.config.target_name(); target != "-") label += " " + target;
    if (has_named_design(row)) label += " (" + row.config.design_name() + ")";
    return label;
}

// The label with its placement when not free and its in-flight level above
// 1: names one row among a sweep's.
std::string row_name(const RowResult& row) {
    std::string name = row_label(row);
    if (row.config.placement.name != "free" && !row.config.is_floor()) name += " " + row.config.placement.name;
    if (row.config.inflight > 1 && row.config.kind == RowKind::handoff) {
        name += fmt::format(" in-flight {}", row.config.inflight);
    }
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

// ---- The columns.
//
// The identity columns (Backend, Target, Design, Work, InFlight, Placement)
// tell rows apart and are shown when the rows differ in them, whatever else
// is chosen. The figure columns below are chosen: the default few, every
// one (--wide), or those named (--columns).

// What one row's figure cells are made from.
struct RowView {
    const RowResult& row;
    const RowResult* baseline;  // its inline row, for the overhead; nullptr: none in the run
    const RowResult* floor;     // the run's floor row, for xFloor; nullptr: none
    std::array<long long, 4> cpu_ms;  // CpuTotal, CpuEvtLoop, CpuWorker, Other as printed

    double figure(std::string_view key) const { return row_figure(row, key); }
};

// "12.84 us", "-5.20 us"; "-" where there is no value (no inline row).
std::string signed_ns_cell(double ns) {
    if (!std::isfinite(ns)) return "-";
    return ns < 0 ? "-" + format_per_call(-ns / 1e9) : format_per_call(ns / 1e9);
}

// Three significant digits: "9.98k", "10k", "1.25M", "500".
std::string short_rate(double per_s) {
    constexpr std::array<std::pair<double, const char*>, 3> units{{{1e6, "M"}, {1e3, "k"}, {1, ""}}};
    for (const auto& [scale, unit] : units) {
        if (per_s >= scale * 0.9995 || scale == 1) return fmt::format("{:.3g}{}", per_s / scale, unit);
    }
    return {};
}

std::string rate_cell(const RowView& v) {
    const double asked = v.figure("rate_asked");
    if (!(asked > 0)) return "-";
    return short_rate(v.figure("rate_achieved")) + "/" + short_rate(asked);
}

std::string same_cpu_cell(const RowResult& row) {
    const double same_cpu = row_figure(row, "same_cpu_share");
    const bool meaningless = row.config.is_inline() || row.config.is_floor() || std::isnan(same_cpu);
    return meaningless ? std::string("-") : fmt::format("{:.0f}%", 100 * same_cpu);
}

std::string fixed2_cell(double value) { return std::isfinite(value) ? fmt::format("{:.2f}", value) : "-"; }

// When a column has something to say.
enum class When {
    always,
    repeated,   // some row has more than one repetition
    floor,      // the run has a floor row with figures
    open_loop,  // some row was sent at a rate (--rate)
    free,       // by default only when some row can change regime (not all pinned); --wide always
};

struct ColumnDef {
    TableColumn column;  // name and meaning, for --columns list and the legend
    When when;
    bool in_default;
    std::string (*cell)(const RowView&);
};

constexpr bool shown_by_default = true;
constexpr bool wide_only = false;

const std::array<ColumnDef, 22> column_defs{{
    {{"Calls", "calls measured in the row, over all its repetitions"}, When::always, wide_only,
     [](const RowView& v) { return fmt::format("{}", v.row.config.calls); }},
    {{"Rate", "calls per second achieved/asked of an open-loop row (--rate); - when closed loop"}, When::open_loop,
     shown_by_default, rate_cell},
    {{"Wall", "seconds of wall time in the measured interval"}, When::always, wide_only,
     [](const RowView& v) { return fmt::format("{:.3f}", v.figure("wall_s")); }},
    {{"CpuTotal", "seconds of CPU of every thread of the process, each from its own CPU clock"}, When::always,
     wide_only, [](const RowView& v) { return ms_as_seconds(v.cpu_ms[0]); }},
    {{"CpuEvtLoop", "seconds of CPU of the loop thread"}, When::always, wide_only,
     [](const RowView& v) { return ms_as_seconds(v.cpu_ms[1]); }},
    {{"CpuWorker", "seconds of CPU of the threads that run calls (the worker, or every pool thread)"}, When::always,
     wide_only, [](const RowView& v) { return ms_as_seconds(v.cpu_ms[2]); }},
    {{"Other", "CpuTotal - CpuEvtLoop - CpuWorker as printed (the parts are rounded to add up): CPU of the threads "
               "no role explains"},
     When::always, wide_only, [](const RowView& v) { return ms_as_seconds(v.cpu_ms[3]); }},
    {{"Wall/call", "wall time per call, what one call costs end to end"}, When::always,
     shown_by_default, [](const RowView& v) { return ns_cell(v.figure("wall_per_call_ns")); }},
    {{"Spread", "slowest over fastest repetition's Wall/call; ! wide, ~ bimodal"}, When::repeated,
     shown_by_default, [](const RowView& v) { return spread_cell(v.row); }},
    {{"+Wall/call", "Wall/call minus the inline row's (same work, placement, rate; - without one): the wall time "
                    "the handoff adds"},
     When::always, shown_by_default, [](const RowView& v) { return signed_ns_cell(overhead(v.row, v.baseline).wall_ns); }},
    {{"CPU/call", "CpuTotal per call: the CPU a call costs, every thread"}, When::always, shown_by_default,
     [](const RowView& v) { return ns_cell(v.figure("total_cpu_per_call_ns")); }},
    {{"Loop/call", "CpuEvtLoop per call: what the loop thread pays"}, When::always, wide_only,
     [](const RowView& v) { return format_per_call(v.figure("loop_cpu_per_call_ns") / 1e9); }},
    {{"+Loop/call", "Loop/call minus the inline row's: the loop thread's CPU the handoff adds (negative: the loop "
                    "no longer runs the work)"},
     When::always, shown_by_default,
     [](const RowView& v) { return signed_ns_cell(overhead(v.row, v.baseline).loop_cpu_ns); }},
    {{"Worker/call", "CpuWorker per call: what the workers pay"}, When::always, wide_only,
     [](const RowView& v) { return format_per_call(v.figure("worker_cpu_per_call_ns") / 1e9); }},
    {{"Cores", "(CpuEvtLoop + CpuWorker) / Wall: CPUs kept busy, idle time between calls included"},
     When::always, shown_by_default, [](const RowView& v) { return fixed2_cell(v.figure("cores")); }},
    {{"CS/call", "context switches of the loop thread and the workers per call"}, When::always, wide_only,
     [](const RowView& v) { return fmt::format("{:.2f}", v.figure("switches_per_call")); }},
    {{"SameCPU", "share of the calls whose worker ran on the CPU the loop sent from"}, When::free,
     shown_by_default, [](const RowView& v) { return same_cpu_cell(v.row); }},
    {{"Calls/s", "calls per second of wall time"}, When::always, wide_only,
     [](const RowView& v) { return format_rate(v.figure("calls_per_s")); }},
    {{"Allocs/call", "heap allocations per call, every thread of the process; n/a where they were not counted"},
     When::always, wide_only,
     [](const RowView& v) {
         const double allocs = v.figure("allocs_per_call");
         return std::isfinite(allocs) ? fmt::format("{:.2f}", allocs) : std::string("n/a");
     }},
    {{"p50", "median round trip of one call, sent to back on the loop thread"}, When::always, shown_by_default,
     [](const RowView& v) { return ns_cell(v.figure("lat_p50_ns")); }},
    {{"p99", "99th percentile round trip of one call"}, When::always, shown_by_default,
     [](const RowView& v) { return ns_cell(v.figure("lat_p99_ns")); }},
    {{"xFloor", "Wall/call over the floor row's (two threads spinning on one cache line, the cheapest trip)"},
     When::floor, wide_only,
     [](const RowView& v) {
         if (v.row.config.is_inline() || v.floor == nullptr) return std::string("-");
         return fmt::format("{:.1f}", v.figure("wall_per_call_ns") / row_figure(*v.floor, "wall_per_call_ns"));
     }},
}};

// The columns that tell rows apart: accepted by --columns, always shown as needed.
constexpr std::array<std::string_view, 6> identity_names{"Backend", "Target", "Design", "Work", "InFlight", "Placement"};

const std::array<TableColumn, column_defs.size()> column_list = [] {
    std::array<TableColumn, column_defs.size()> list{};
    for (std::size_t i = 0; i < column_defs.size(); ++i) list[i] = column_defs[i].column;
    return list;
}();

const ColumnDef& column_def(std::string_view name) {
    for (const ColumnDef& def : column_defs) {
        if (def.column.name == name) return def;
    }
    throw std::out_of_range(fmt::format("no column named '{}'", name));
}

// The columns a report needs: those that vary, and those its rows have.
struct Columns {
    bool target = true;
    bool design = false;
    bool work = false;
    bool inflight = false;
    bool placement = false;
    std::vector<const ColumnDef*> figures;  // in the order shown
    const RowResult* floor = nullptr;       // the row xFloor divides by, if any
};

bool has_something_to_say(When when, const Report& report, const Columns& c, bool wide) {
    const auto any = [&](auto&& predicate) { return std::any_of(report.rows.begin(), report.rows.end(), predicate); };
    switch (when) {
        case When::always: return true;
        case When::repeated:
            return any([](const RowResult& row) { return row.repeat > 1 || row.runs.size() > 1; });
        case When::floor: return c.floor != nullptr;
        case When::open_loop:
            return any([](const RowResult& row) {
                return row.config.open_loop() || (has_figures(row) && row_figure(row, "rate_asked") > 0);
            });
        case When::free:
            return wide || any([](const RowResult& row) { return !one_regime(row); });
    }
    return false;
}

Columns choose_columns(const Report& report) {
    const ReportOptions& options = report.options;
    Columns c;
    for (const RowResult& row : report.rows) {
        c.design = c.design || has_named_design(row);
        // Every row against the cheapest possible round trip of the same run.
        if (row.config.is_floor() && has_figures(row)) c.floor = &row;
    }
    // A target every handoff row shares goes in the heading instead (not with --wide).
    c.target = options.wide || shared_target(report).empty();
    c.work = distinct(report, work_of).size() > 1;
    c.inflight = distinct(report, inflight_of).size() > 1;
    // The floor always runs split (its line under the table says how): it alone needs no column.
    std::set<std::string> placements;
    for (const RowResult& row : report.rows) {
        if (!row.config.is_floor()) placements.insert(placement_of(row));
    }
    c.placement = options.wide || placements.size() > 1 ||
                  (!placements.empty() && report.rows.front().config.placement.name != "free");
    if (!options.columns.empty()) {
        for (const std::string& name : options.columns) c.figures.push_back(&column_def(name));
        return c;
    }
    for (const ColumnDef& def : column_defs) {
        if ((options.wide || def.in_default) && has_something_to_say(def.when, report, c, options.wide)) {
            c.figures.push_back(&def);
        }
    }
    return c;
}

void add_titles(Grid& grid, const Columns& c) {
    const auto column = [&](std::string_view title, bool numeric) {
        grid.titles.emplace_back(title);
        grid.numeric.push_back(numeric);
    };
    column("Backend", false);
    if (c.target) column("Target", false);
    if (c.design) column("Design", false);
    if (c.work) column("Work", false);
    if (c.inflight) column("InFlight", true);
    if (c.placement) column("Placement", false);
    for (const ColumnDef* def : c.figures) column(def->column.name, true);
}

// What identifies the row: backend, and the columns that vary.
std::vector<std::string> identity_cells(const RowResult& row, const Columns& c) {
    std::vector<std::string> cells{row.config.backend};
    if (c.target) cells.push_back(row.config.target_name());
    if (c.design) cells.push_back(row.config.design_name());
    if (c.work) cells.push_back(row.config.work.spec());
    if (c.inflight) cells.push_back(fmt::format("{}", row.config.inflight));
    if (c.placement) cells.push_back(row.config.placement.name);
    return cells;
}

// The figures of a row that has them, in the order of add_titles.
void add_figure_cells(std::vector<std::string>& cells, const Report& report, const RowResult& row, const Columns& c) {
    const RowView view{row, baseline_of(report.rows, row), c.floor, printed_cpu_ms(row)};
    for (const ColumnDef* def : c.figures) cells.push_back(def->cell(view));
}

// Whole definitions joined by "; " into lines of about `width` characters,
// never split inside one (a Markdown legend keeps one bullet per line).
std::vector<std::string> pack(const std::vector<std::string>& parts, std::size_t width) {
    std::vector<std::string> lines;
    std::string line;
    for (const std::string& part : parts) {
        if (!line.empty() && line.size() + 2 + part.size() > width) {
            lines.push_back(line + ".");
            line.clear();
        }
        line += (line.empty() ? "" : "; ") + part;
    }
    if (!line.empty()) lines.push_back(line + ".");
    return lines;
}

// What the columns shown and their marks mean.
std::vector<std::string> column_legend(const Report& report, const Columns& c) {
    if (c.figures.empty()) return {};
    std::vector<std::string> lines{"Figures: " + runs_phrase(report) + "."};
    // Each column's meaning, except the latency columns and Spread, which
    // need a sentence of their own below.
    std::vector<std::string> definitions, latency;
    bool spread = false;
    for (const ColumnDef* def : c.figures) {
        const std::string_view name = def->column.name;
        if (name == "p50" || name == "p99") {
            latency.emplace_back(name);
        } else if (name == "Spread") {
            spread = true;
        } else {
            definitions.push_back(fmt::format("{}: {}", name, def->column.meaning));
        }
    }
    for (std::string& line : pack(definitions, 118)) lines.push_back(std::move(line));
    if (spread) {
        lines.push_back(fmt::format(
            "Spread: slowest over fastest repetition's Wall/call. ! wide (above {:.1f}x), ~ bimodal (SameCPU "
            "differs by more than {:.0f} points between repetitions); each marked row's cause and remedy follow "
            "the table.",
            wide_spread_limit, 100 * bimodal_share_range));
    }
    if (!latency.empty()) {
        // Which calls were timed: all, or (short calls) every 8th; open loop from the intended time.
        bool sampled = false, open_loop = false;
        for (const RowResult& row : report.rows) {
            if (row.config.is_floor() || !report_detail::has_figures(row)) continue;
            open_loop |= row.config.open_loop();
            std::uint64_t timed = 0, calls = 0;
            for (const Measurement& m : row.runs) {
                timed += m.latency.count();
                calls += m.calls;
            }
            sampled |= timed != 0 && timed < calls;
        }
        lines.push_back(fmt::format(
            "{}: round trip of one call, {} to back on the loop thread, from every call of every repetition{} (a "
            "timed-out call counts until it came back); log-linear histogram, <1.6% error.",
            fmt::join(latency, ", "), open_loop ? "from its intended send time" : "sent",
            sampled ? " (rows of calls under 2 us: every 8th call, so the clock read is not what is measured)" : ""));
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
        if (has_figures(row)) add_figure_cells(cells, report, row, columns);
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

std::span<const TableColumn> table_columns() { return report_detail::column_list; }

std::vector<std::string> parse_columns(std::string_view list) {
    const auto same = [](std::string_view a, std::string_view b) {
        return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
                   return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
               });
    };
    const auto allowed = [] {
        std::vector<std::string_view> names;
        for (const TableColumn& column : table_columns()) names.push_back(column.name);
        return fmt::format("a comma list of {} ('--columns list' says what each means)", fmt::join(names, ", "));
    };
    std::vector<std::string> chosen;
    for (const std::string_view item : split(list, ',')) {
        const auto column = std::find_if(table_columns().begin(), table_columns().end(),
                                         [&](const TableColumn& c) { return same(c.name, item); });
        if (column != table_columns().end()) {
            if (std::find(chosen.begin(), chosen.end(), column->name) == chosen.end()) chosen.emplace_back(column->name);
            continue;
        }
        const bool identity = std::any_of(report_detail::identity_names.begin(), report_detail::identity_names.end(),
                                          [&](std::string_view name) { return same(name, item); });
        if (identity) continue;  // shown whenever rows differ in it
        throw std::invalid_argument(fmt::format("{} is not a column: expected {}",
                                                item.empty() ? std::string("an empty name") : quote(item), allowed()));
    }
    if (chosen.empty()) throw std::invalid_argument("names no figure column: expected " + allowed());
    return chosen;
}

void print_columns(std::ostream& out) {
    out << "Columns of the table (--columns NAME,NAME,...; --wide shows every one that applies; JSON and CSV keep "
           "every figure):\n";
    for (const TableColumn& column : table_columns()) {
        out << fmt::format("  {:<12} {}\n", column.name, column.meaning);
    }
    std::vector<std::string_view> defaults;
    for (const report_detail::ColumnDef& def : report_detail::column_defs) {
        if (def.in_default) defaults.push_back(def.column.name);
    }
    out << fmt::format("Default: {} (Spread when repeated, Rate when open-loop, SameCPU when a row is not pinned).\n",
                       fmt::join(defaults, ", "))
        << "Backend, and Target, Design, Work, InFlight and Placement when rows differ in them, always come first.\n";
}

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
