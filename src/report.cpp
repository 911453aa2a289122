#include "handoff/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "report_figures.hpp"

namespace handoff {

namespace report_detail {
namespace {

// Counts per call would be meaningless for an empty run; NaN keeps that visible.
double per_call(double total, std::uint64_t calls) {
    return calls ? total / double(calls) : std::numeric_limits<double>::quiet_NaN();
}

double latency(const Measurement& m, std::int64_t ns) {
    return m.latency.samples ? double(ns) : std::numeric_limits<double>::quiet_NaN();
}

constexpr std::array<FigureDef, 25> figures{{
    {"wall_s", [](const Measurement& m) { return m.wall_s; }, false},
    {"cpu_total_s", [](const Measurement& m) { return m.cpu_total_s; }, false},
    {"cpu_loop_s", [](const Measurement& m) { return m.cpu_loop_s; }, false},
    {"cpu_worker_s", [](const Measurement& m) { return m.cpu_worker_s; }, false},
    {"cpu_other_s", [](const Measurement& m) { return m.cpu_other_s(); }, false},
    {"loop_vcsw", [](const Measurement& m) { return double(m.loop_switches.voluntary); }, true},
    {"loop_ivcsw", [](const Measurement& m) { return double(m.loop_switches.involuntary); }, true},
    {"worker_vcsw", [](const Measurement& m) { return double(m.worker_switches.voluntary); }, true},
    {"worker_ivcsw", [](const Measurement& m) { return double(m.worker_switches.involuntary); }, true},
    {"worker_threads", [](const Measurement& m) { return double(m.worker_threads); }, true},
    {"same_cpu_share", [](const Measurement& m) { return m.same_cpu_share(); }, false},
    // Multiply first: 0.5 s over 1000 calls is exactly 500000 ns this way.
    {"wall_per_call_ns", [](const Measurement& m) { return per_call(m.wall_s * 1e9, m.calls); }, false},
    {"loop_cpu_per_call_ns", [](const Measurement& m) { return per_call(m.cpu_loop_s * 1e9, m.calls); }, false},
    {"worker_cpu_per_call_ns", [](const Measurement& m) { return per_call(m.cpu_worker_s * 1e9, m.calls); }, false},
    {"switches_per_call", [](const Measurement& m) {
         return per_call(double(m.loop_switches.voluntary + m.loop_switches.involuntary +
                                m.worker_switches.voluntary + m.worker_switches.involuntary),
                         m.calls);
     }, false},
    {"calls_per_s", [](const Measurement& m) { return m.wall_s > 0 ? double(m.calls) / m.wall_s : 0.0; }, false},
    // Round trips, sent to delivered on the loop thread (null without samples: inline).
    {"lat_p50_ns", [](const Measurement& m) { return latency(m, m.latency.p50_ns); }, true},
    {"lat_p90_ns", [](const Measurement& m) { return latency(m, m.latency.p90_ns); }, true},
    {"lat_p99_ns", [](const Measurement& m) { return latency(m, m.latency.p99_ns); }, true},
    {"lat_p999_ns", [](const Measurement& m) { return latency(m, m.latency.p999_ns); }, true},
    {"lat_max_ns", [](const Measurement& m) { return latency(m, m.latency.max_ns); }, true},
    // How calls ended beside ok (README: failures, timeouts, cancellation).
    {"failed_calls", [](const Measurement& m) { return double(m.failed_calls); }, true},
    {"timed_out_calls", [](const Measurement& m) { return double(m.timed_out_calls); }, true},
    {"cancelled_calls", [](const Measurement& m) { return double(m.cancelled_calls); }, true},
    {"late_results", [](const Measurement& m) { return double(m.late_results); }, true},
}};

}  // namespace

double median(std::vector<double> values) {
    if (values.empty()) return std::numeric_limits<double>::quiet_NaN();
    const auto mid = values.begin() + std::ptrdiff_t(values.size() / 2);
    std::nth_element(values.begin(), mid, values.end());
    if (values.size() % 2 == 1) return *mid;
    const double below = *std::max_element(values.begin(), mid);
    return (below + *mid) / 2;
}

std::span<const FigureDef> figure_defs() { return figures; }

bool has_figures(const RowResult& row) { return row.status == RowStatus::ok && !row.runs.empty(); }

Field figure_field(const FigureDef& def, double value) {
    if (!std::isfinite(value)) return std::monostate{};
    if (def.integral && value >= 0 && value == std::floor(value)) return std::uint64_t(value);
    return value;
}

std::vector<NamedField> flat_fields(const RowResult& row) {
    const Configuration& c = row.config;
    std::vector<NamedField> fields{
        {"backend", c.backend},
        {"target", c.target_name()},
        {"design", c.design_name()},
        {"work", c.work.spec()},
        {"calls", std::uint64_t(c.calls)},
        {"inflight", std::uint64_t(c.inflight)},
        {"threads", std::uint64_t(c.threads)},
        {"placement", describe(c.placement)},
        {"pin", pin_spec(c.placement)},
        {"timeout_ns", std::uint64_t(c.timeout.count())},
        {"mechanism", row.mechanism},
    };
    const bool measured = has_figures(row);
    for (const FigureDef& def : figures) {
        fields.push_back({def.key, measured ? figure_field(def, median_over(row.runs, def.of))
                                            : Field{std::monostate{}}});
    }
    fields.push_back({"errors", std::uint64_t(row.errors)});
    fields.push_back({"status", std::string(to_string(row.status))});
    fields.push_back({"reason", row.reason});
    return fields;
}

std::vector<NamedField> run_fields(const Measurement& run) {
    std::vector<NamedField> fields{{"calls", std::uint64_t(run.calls)}};
    for (const FigureDef& def : figures) fields.push_back({def.key, figure_field(def, def.of(run))});
    return fields;
}

}  // namespace report_detail

Format parse_format(std::string_view text) {
    if (text == "table") return Format::table;
    if (text == "json") return Format::json;
    if (text == "csv") return Format::csv;
    throw std::invalid_argument(fmt::format("unknown format '{}': expected table, json or csv", text));
}

void write_report(std::ostream& out, const Report& report, Format format) {
    switch (format) {
        case Format::table: return write_table(out, report);
        case Format::json: return write_json(out, report);
        case Format::csv: return write_csv(out, report);
    }
    throw std::invalid_argument("unknown report format");
}

}  // namespace handoff
