#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "handoff/duration.hpp"
#include "handoff/report.hpp"
#include "report_figures.hpp"

namespace handoff {
namespace {

using report_detail::median_over;

struct Column {
    std::string title;
    bool numeric;  // right-aligned
};

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

// A round-trip percentile; "-" where none was recorded (inline).
std::string latency_cell(double ns) { return ns > 0 ? format_per_call(ns / 1e9) : std::string("-"); }

std::vector<std::string> figure_cells(const RowResult& row) {
    const auto& runs = row.runs;
    const auto seconds = [](double s) { return fmt::format("{:.3f}", s); };
    const auto per_call = [&](double (*role_s)(const Measurement&)) {
        return format_per_call(median_over(runs, [&](const Measurement& m) {
            return m.calls ? role_s(m) / double(m.calls) : 0.0;
        }));
    };
    const double switches_per_call = median_over(runs, [](const Measurement& m) {
        const double all = double(m.loop_switches.voluntary + m.loop_switches.involuntary +
                                  m.worker_switches.voluntary + m.worker_switches.involuntary);
        return m.calls ? all / double(m.calls) : 0.0;
    });
    return {
        fmt::format("{}", median_over(runs, &Measurement::calls)),
        seconds(median_over(runs, &Measurement::wall_s)),
        seconds(median_over(runs, &Measurement::cpu_total_s)),
        seconds(median_over(runs, &Measurement::cpu_loop_s)),
        seconds(median_over(runs, &Measurement::cpu_worker_s)),
        seconds(median_over(runs, &Measurement::cpu_other_s)),
        per_call([](const Measurement& m) { return m.wall_s; }),
        per_call([](const Measurement& m) { return m.cpu_loop_s; }),
        per_call([](const Measurement& m) { return m.cpu_worker_s; }),
        fmt::format("{:.2f}", switches_per_call),
        row.config.is_inline() || row.config.is_floor()
            ? std::string("-")
            : fmt::format("{:.0f}%", 100 * median_over(runs, &Measurement::same_cpu_share)),
        format_rate(median_over(runs, [](const Measurement& m) { return m.wall_s > 0 ? double(m.calls) / m.wall_s : 0.0; })),
        latency_cell(median_over(runs, [](const Measurement& m) { return double(m.latency.p50_ns); })),
        latency_cell(median_over(runs, [](const Measurement& m) { return double(m.latency.p99_ns); })),
    };
}

std::string runs_phrase(const Report& report) {
    std::set<std::size_t> counts;
    for (const RowResult& row : report.rows) {
        if (report_detail::has_figures(row)) counts.insert(row.runs.size());
    }
    if (counts.size() == 1 && *counts.begin() == 1) return "one run each";
    if (counts.size() == 1) return fmt::format("median of {} runs", *counts.begin());
    return "median over runs";
}

std::string row_label(const RowResult& row) {
    std::string label = row.config.backend;
    if (const std::string target = row.config.target_name(); target != "-") label += " " + target;
    if (has_named_design(row)) label += " (" + row.config.design_name() + ")";
    return label;
}

}  // namespace

void write_table(std::ostream& out, const Report& report) {
    out << heading(report) << '\n';
    if (const std::string environment = describe_environment(report.context); !environment.empty()) {
        out << environment << '\n';
    }
    out << '\n';
    if (report.rows.empty()) {
        out << "no results\n";
        return;
    }

    bool any_design = false;
    for (const RowResult& row : report.rows) any_design = any_design || has_named_design(row);
    const bool show_work = distinct(report, work_of).size() > 1;
    const bool show_inflight = distinct(report, inflight_of).size() > 1;
    const bool show_placement = distinct(report, placement_of).size() > 1 ||
                                report.rows.front().config.placement.name != "free";

    std::vector<Column> columns{{"Backend", false}, {"Target", false}};
    if (any_design) columns.push_back({"Design", false});
    if (show_work) columns.push_back({"Work", false});
    if (show_inflight) columns.push_back({"InFlight", true});
    if (show_placement) columns.push_back({"Placement", false});
    for (const char* title : {"Calls", "Wall", "CpuTotal", "CpuEvtLoop", "CpuWorker", "Other", "Wall/call",
                              "Loop/call", "Worker/call", "CS/call", "SameCPU", "Calls/s", "p50", "p99"}) {
        columns.push_back({title, true});
    }
    // Every row against the cheapest possible round trip of the same run.
    const RowResult* floor = nullptr;
    for (const RowResult& row : report.rows) {
        if (row.config.is_floor() && report_detail::has_figures(row)) floor = &row;
    }
    const auto wall_per_call = [](const RowResult& row) {
        return median_over(row.runs, [](const Measurement& m) { return m.calls ? m.wall_s / double(m.calls) : 0.0; });
    };
    if (floor != nullptr) columns.push_back({"xFloor", true});

    // Cells per row; a row without figures has only its identity cells and a status.
    std::vector<std::vector<std::string>> cells;
    for (const RowResult& row : report.rows) {
        std::vector<std::string> line{row.config.backend, row.config.target_name()};
        if (any_design) line.push_back(row.config.design_name());
        if (show_work) line.push_back(row.config.work.spec());
        if (show_inflight) line.push_back(fmt::format("{}", row.config.inflight));
        if (show_placement) line.push_back(row.config.placement.name);
        if (report_detail::has_figures(row)) {
            for (std::string& cell : figure_cells(row)) line.push_back(std::move(cell));
            if (floor != nullptr) {
                line.push_back(row.config.is_inline() ? "-"
                                                      : fmt::format("{:.1f}", wall_per_call(row) / wall_per_call(*floor)));
            }
        }
        cells.push_back(std::move(line));
    }

    std::vector<std::size_t> width(columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i) width[i] = columns[i].title.size();
    for (const auto& line : cells) {
        for (std::size_t i = 0; i < line.size(); ++i) width[i] = std::max(width[i], line[i].size());
    }

    const auto print = [&](const std::vector<std::string>& line, const std::string& tail) {
        std::string text;
        for (std::size_t i = 0; i < line.size(); ++i) {
            if (i != 0) text += "  ";
            text += columns[i].numeric ? fmt::format("{:>{}}", line[i], width[i])
                                       : fmt::format("{:<{}}", line[i], width[i]);
        }
        if (!tail.empty()) text += "  " + tail;
        text.erase(text.find_last_not_of(' ') + 1);
        out << text << '\n';
    };

    std::vector<std::string> titles;
    for (const Column& column : columns) titles.push_back(column.title);
    print(titles, "");
    for (std::size_t r = 0; r < report.rows.size(); ++r) {
        const RowResult& row = report.rows[r];
        print(cells[r], report_detail::has_figures(row) ? "" : status_text(row));
    }

    out << '\n'
        << "Wall, Cpu*: seconds in the measured interval (" << runs_phrase(report)
        << "); /call: per call; CS/call: loop + worker context switches per call.\n"
        << "Other = CpuTotal - CpuEvtLoop - CpuWorker: CPU no role explains (should be near 0).\n"
        << "SameCPU: share of calls whose worker ran on the CPU the loop sent from.\n"
        << "xFloor: Wall/call over the floor's (two threads spinning on one cache line, the cheapest trip).\n"
        << "p50, p99: round trip of one call, sent to delivered on the loop thread (log-linear histogram, <1.6% error).\n";

    std::set<std::pair<std::string, std::string>> seen;
    for (const RowResult& row : report.rows) {
        if (row.mechanism.empty()) continue;
        auto entry = std::make_pair(row_label(row), row.mechanism);
        if (seen.insert(entry).second) out << entry.first << ": " << entry.second << '\n';
    }
    for (const RowResult& row : report.rows) {
        if (row.status == RowStatus::ok && row.errors != 0) {
            out << fmt::format("warning: {}: {} calls had a wrong or missing result\n", row_label(row),
                               row.errors);
        }
    }
}

}  // namespace handoff
