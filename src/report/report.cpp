#include "report/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>

#include "report/figures.hpp"
#include "report/row_warnings.hpp"

namespace handoff {

namespace report_detail {
namespace {

// Counts per call would be meaningless for an empty run; NaN keeps that visible.
double per_call(double total, std::uint64_t calls) {
    return calls ? total / double(calls) : std::numeric_limits<double>::quiet_NaN();
}

// A run's percentile; NaN without samples (inline has no round trips).
double percentile(const LatencyHistogram& latency, double q) {
    return latency.count() ? double(latency.percentile_ns(q)) : std::numeric_limits<double>::quiet_NaN();
}

// Every measured call of every repetition in one histogram.
LatencyHistogram pooled_latency(const RowResult& row) {
    LatencyHistogram pooled;
    for (const Measurement& run : row.runs) pooled.merge(run.latency);
    return pooled;
}

template <int Q10>  // the percentile times ten (p99.9 is 999): a plain function pointer per figure
double run_percentile(const Measurement& m) {
    return percentile(m.latency, Q10 / 10.0);
}
template <int Q10>
double row_percentile(const RowResult& row) {
    return percentile(pooled_latency(row), Q10 / 10.0);
}

double row_same_cpu_share(const RowResult& row) {
    std::uint64_t same = 0, known = 0;
    for (const Measurement& run : row.runs) {
        same += run.same_cpu_calls;
        known += run.cpu_known_calls;
    }
    return known ? double(same) / double(known) : std::numeric_limits<double>::quiet_NaN();
}

using Agg = Aggregate;
constexpr bool total = true;  // a total of the interval: scaled to the row's calls
// (CpuEvtLoop + CpuWorker) / Wall: the CPUs the design keeps busy; NaN without wall time.
double cores(const Measurement& m) {
    return m.wall_s > 0 ? (m.cpu_loop_s + m.cpu_worker_s) / m.wall_s : std::numeric_limits<double>::quiet_NaN();
}

// NaN (null) when the allocation hook could not see them.
double allocs_per_call(const Measurement& m) {
    return m.allocations_known ? per_call(double(m.allocations), m.calls) : std::numeric_limits<double>::quiet_NaN();
}

constexpr std::array<FigureDef, 31> figures{{
    {"wall_s", [](const Measurement& m) { return m.wall_s; }, false, Agg::representative, total},
    {"cpu_total_s", [](const Measurement& m) { return m.cpu_total_s; }, false, Agg::representative, total},
    {"cpu_loop_s", [](const Measurement& m) { return m.cpu_loop_s; }, false, Agg::representative, total},
    {"cpu_worker_s", [](const Measurement& m) { return m.cpu_worker_s; }, false, Agg::representative, total},
    {"cpu_other_s", [](const Measurement& m) { return m.cpu_other_s(); }, false, Agg::representative, total},
    {"loop_vcsw", [](const Measurement& m) { return double(m.loop_switches.voluntary); }, true, Agg::representative, total},
    {"loop_ivcsw", [](const Measurement& m) { return double(m.loop_switches.involuntary); }, true, Agg::representative, total},
    {"worker_vcsw", [](const Measurement& m) { return double(m.worker_switches.voluntary); }, true, Agg::representative, total},
    {"worker_ivcsw", [](const Measurement& m) { return double(m.worker_switches.involuntary); }, true,
     Agg::representative, total},
    {"worker_threads", [](const Measurement& m) { return double(m.worker_threads); }, true, Agg::representative},
    {"same_cpu_share",
     [](const Measurement& m) {
         return m.cpu_known_calls ? m.same_cpu_share() : std::numeric_limits<double>::quiet_NaN();
     },
     false, Agg::pooled, false, row_same_cpu_share},
    // Multiply first: 0.5 s over 1000 calls is exactly 500000 ns this way.
    {"wall_per_call_ns", [](const Measurement& m) { return per_call(m.wall_s * 1e9, m.calls); }, false, Agg::representative},
    {"loop_cpu_per_call_ns", [](const Measurement& m) { return per_call(m.cpu_loop_s * 1e9, m.calls); }, false,
     Agg::representative},
    {"worker_cpu_per_call_ns", [](const Measurement& m) { return per_call(m.cpu_worker_s * 1e9, m.calls); }, false,
     Agg::representative},
    {"switches_per_call", [](const Measurement& m) {
         return per_call(double(m.loop_switches.voluntary + m.loop_switches.involuntary +
                                m.worker_switches.voluntary + m.worker_switches.involuntary),
                         m.calls);
     }, false, Agg::representative},
    {"calls_per_s", [](const Measurement& m) { return m.wall_s > 0 ? double(m.calls) / m.wall_s : 0.0; }, false,
     Agg::representative},
    // Round trips, sent to back on the loop thread, from every call of every
    // repetition (null without samples: inline).
    {"lat_p50_ns", run_percentile<500>, true, Agg::pooled, false, row_percentile<500>},
    {"lat_p90_ns", run_percentile<900>, true, Agg::pooled, false, row_percentile<900>},
    {"lat_p99_ns", run_percentile<990>, true, Agg::pooled, false, row_percentile<990>},
    {"lat_p999_ns", run_percentile<999>, true, Agg::pooled, false, row_percentile<999>},
    {"lat_max_ns", run_percentile<1000>, true, Agg::pooled, false, row_percentile<1000>},
    {"lat_samples", [](const Measurement& m) { return double(m.latency.count()); }, true, Agg::sum},
    // How calls ended beside ok (README: failures, timeouts, cancellation).
    {"failed_calls", [](const Measurement& m) { return double(m.failed_calls); }, true, Agg::sum},
    {"timed_out_calls", [](const Measurement& m) { return double(m.timed_out_calls); }, true, Agg::sum},
    {"cancelled_calls", [](const Measurement& m) { return double(m.cancelled_calls); }, true, Agg::sum},
    {"late_results", [](const Measurement& m) { return double(m.late_results); }, true, Agg::sum},
    // Added with issue 11, after the others so that older readers' columns stay put.
    {"total_cpu_per_call_ns", [](const Measurement& m) { return per_call(m.cpu_total_s * 1e9, m.calls); }, false,
     Agg::representative},
    {"cores", cores, false, Agg::representative},
    {"allocs_per_call", allocs_per_call, false, Agg::representative},
    // Open-loop rows (--rate): the rate asked (0: closed loop) and the one
    // achieved, the calls over the wall time (so the same as calls_per_s).
    {"rate_asked", [](const Measurement& m) { return m.rate_asked; }, false, Agg::representative},
    {"rate_achieved", [](const Measurement& m) { return m.wall_s > 0 ? double(m.calls) / m.wall_s : 0.0; }, false,
     Agg::representative},
}};

// "<key>_min" and "<key>_max" for every figure, made once: NamedField holds
// string_views, so the spelled-out keys must outlive every record.
struct MinMaxKeys {
    std::string min;
    std::string max;
};
const std::map<std::string_view, MinMaxKeys> key_names = [] {
    std::map<std::string_view, MinMaxKeys> names;
    for (const FigureDef& def : figures) {
        names[def.key] = {std::string(def.key) + "_min", std::string(def.key) + "_max"};
    }
    return names;
}();

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

WordList WordList::of(const std::vector<std::string>& words) { return {fmt::format("{}", fmt::join(words, ";"))}; }

std::vector<std::string> WordList::words() const {
    std::vector<std::string> list;
    for (std::size_t start = 0; start < joined.size();) {
        const std::size_t end = std::min(joined.find(';', start), joined.size());
        list.push_back(joined.substr(start, end - start));
        start = end + 1;
    }
    return list;
}

const FigureDef& figure_def(std::string_view key) {
    for (const FigureDef& def : figures) {
        if (def.key == key) return def;
    }
    throw std::out_of_range(fmt::format("no figure named '{}'", key));
}

bool paced(const RowResult& row) {
    return !row.runs.empty() &&
           std::all_of(row.runs.begin(), row.runs.end(), [](const Measurement& m) { return m.rate_asked > 0; });
}

const Measurement* representative_run(const RowResult& row) {
    std::vector<const Measurement*> ranked;
    for (const Measurement& run : row.runs) {
        if (run.calls != 0 && run.wall_s > 0) ranked.push_back(&run);
    }
    if (ranked.empty()) return nullptr;
    // Back to back, what varies between repetitions is the time a call
    // takes. At a rate the arrivals set the wall time (every repetition
    // lasts its calls over the rate), and what varies is the CPU spent in
    // it: ranked by wall, the median would be picked by the jitter of the
    // last call. So at a rate the median is by Cores (then by wall per
    // call: equal keys must not leave the choice to nth_element).
    const bool open_loop = paced(row);
    const auto key = [open_loop](const Measurement* m) {
        const double per_call = m->wall_s / double(m->calls);
        return std::pair(open_loop ? (m->cpu_loop_s + m->cpu_worker_s) / m->wall_s : per_call, per_call);
    };
    const auto rank = ranked.begin() + std::ptrdiff_t((ranked.size() - 1) / 2);
    std::nth_element(ranked.begin(), rank, ranked.end(),
                     [&key](const Measurement* a, const Measurement* b) { return key(a) < key(b); });
    return *rank;
}

FigureSummary summarize(const RowResult& row, const FigureDef& def) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    // A run's total becomes the row's: that run's per call times the row's
    // calls (repetitions differ by a call when --count is split over --repeat).
    const auto value_of = [&](const Measurement& run) {
        if (!def.total) return def.of(run);
        return run.calls != 0 ? def.of(run) / double(run.calls) * double(row.config.calls) : nan;
    };
    std::vector<double> values;
    values.reserve(row.runs.size());
    for (const Measurement& run : row.runs) values.push_back(value_of(run));
    // NaN is "no value" (a run without latency samples): not a value to rank.
    std::erase_if(values, [](double v) { return std::isnan(v); });
    if (values.empty()) return {nan, nan, nan};
    const auto [low, high] = std::minmax_element(values.begin(), values.end());
    FigureSummary summary{nan, *low, *high};
    switch (def.aggregate) {
        case Aggregate::representative:
            if (const Measurement* run = representative_run(row)) summary.median = value_of(*run);
            break;
        case Aggregate::sum:
            summary.median = 0;
            for (const double v : values) summary.median += v;
            break;
        case Aggregate::pooled: summary.median = def.row_value(row); break;
    }
    if (def.integral && def.total) {  // a switch count for the row's calls: keep it a whole count
        summary = {std::round(summary.median), std::round(summary.min), std::round(summary.max)};
    }
    return summary;
}

double row_figure(const RowResult& row, std::string_view key) { return summarize(row, figure_def(key)).median; }

bool has_figures(const RowResult& row) { return row.status == RowStatus::ok && !row.runs.empty(); }

const RowResult* baseline_of(std::span<const RowResult> rows, const RowResult& row) {
    const Configuration& c = row.config;
    if (c.kind != RowKind::handoff || !has_figures(row)) return nullptr;
    for (const RowResult& candidate : rows) {
        const Configuration& b = candidate.config;
        if (b.is_inline() && has_figures(candidate) && b.work.spec() == c.work.spec() &&
            b.placement == c.placement && b.rate == c.rate) {
            return &candidate;
        }
    }
    return nullptr;
}

Overhead overhead(const RowResult& row, const RowResult* baseline) {
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    if (baseline == nullptr) return {nan, nan};
    const auto minus = [&](std::string_view key) { return row_figure(row, key) - row_figure(*baseline, key); };
    return {minus("wall_per_call_ns"), minus("loop_cpu_per_call_ns")};
}

Field figure_field(const FigureDef& def, double value) {
    if (!std::isfinite(value)) return std::monostate{};
    if (def.integral && value >= 0 && value == std::floor(value)) return std::uint64_t(value);
    return value;
}

std::vector<NamedField> flat_fields(const RowResult& row, const RowResult* baseline) {
    const Configuration& c = row.config;
    std::vector<NamedField> fields{
        {"backend", c.backend},
        {"target", c.target_name()},
        {"design", c.design_name()},
        {"work", c.work.spec()},
        {"calls", std::uint64_t(c.calls)},
        {"repeat", std::uint64_t(row.repeat)},
        {"inflight", std::uint64_t(c.inflight)},
        {"threads", std::uint64_t(c.threads)},
        {"placement", describe(c.placement)},
        {"pin", pin_spec(c.placement)},
        {"timeout_ns", std::uint64_t(c.timeout.count())},
        {"rate", c.rate},  // calls per second asked (--rate); 0: closed loop
        {"arrival", std::string(to_string(c.arrival))},
        {"await", std::string(to_string(c.await_mode))},
        {"mechanism", row.mechanism},
    };
    const bool measured = has_figures(row);
    constexpr double nan = std::numeric_limits<double>::quiet_NaN();
    constexpr FigureSummary no_figure{nan, nan, nan};
    for (const FigureDef& def : figures) {
        const FigureSummary summary = measured ? summarize(row, def) : no_figure;
        fields.push_back({def.key, figure_field(def, summary.median)});
        fields.push_back({key_names.at(def.key).min, figure_field(def, summary.min)});
        fields.push_back({key_names.at(def.key).max, figure_field(def, summary.max)});
    }
    // Row-level: they need the inline row beside this one.
    const Overhead added = measured ? overhead(row, baseline) : overhead(row, nullptr);
    const auto real = [](double value) { return std::isfinite(value) ? Field{value} : Field{std::monostate{}}; };
    fields.push_back({"overhead_wall_per_call_ns", real(added.wall_ns)});
    fields.push_back({"overhead_loop_cpu_per_call_ns", real(added.loop_cpu_ns)});
    const RowWarnings warnings = measured ? assess_runs(row.runs) : RowWarnings{};
    fields.push_back({"spread", warnings.spread ? Field{*warnings.spread} : Field{std::monostate{}}});
    fields.push_back({"warnings", WordList::of(warnings.codes())});
    fields.push_back({"cpu_total_caveat", warnings.cpu_total_caveat});
    fields.push_back({"runs_left_out", std::uint64_t(row.runs_left_out)});
    fields.push_back({"left_out_reason", row.left_out_reason});
    fields.push_back({"errors", std::uint64_t(row.errors)});
    fields.push_back({"status", std::string(to_string(row.status))});
    fields.push_back({"reason", row.reason});
    return fields;
}

std::vector<NamedField> run_fields(const Measurement& run) {
    std::vector<NamedField> fields{{"calls", std::uint64_t(run.calls)}};
    for (const FigureDef& def : figures) fields.push_back({def.key, figure_field(def, def.of(run))});
    fields.push_back({"same_cpu_calls", std::uint64_t(run.same_cpu_calls)});
    fields.push_back({"cpu_known_calls", std::uint64_t(run.cpu_known_calls)});
    fields.push_back({"cpu_total_caveat", run.cpu_total_caveat});
    return fields;
}

}  // namespace report_detail

Format parse_format(std::string_view text) {
    if (text == "table") return Format::table;
    if (text == "json") return Format::json;
    if (text == "csv") return Format::csv;
    if (text == "markdown") return Format::markdown;
    throw std::invalid_argument(fmt::format("unknown format '{}': expected table, json, csv or markdown", text));
}

Format format_for_path(std::string_view path) {
    if (path.ends_with(".json")) return Format::json;
    if (path.ends_with(".csv")) return Format::csv;
    if (path.ends_with(".md")) return Format::markdown;
    return Format::table;
}

void sort_by_wall_per_call(std::vector<RowResult>& rows) {
    const auto key = [](const RowResult& row) {
        const double value =
            report_detail::has_figures(row) ? report_detail::row_figure(row, "wall_per_call_ns")
                                          : std::numeric_limits<double>::quiet_NaN();
        return std::make_pair(row.config.inflight,
                              std::isfinite(value) ? value : std::numeric_limits<double>::infinity());
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const RowResult& a, const RowResult& b) { return key(a) < key(b); });
}

void write_report(std::ostream& out, const Report& report, Format format) {
    switch (format) {
        case Format::table: return write_table(out, report);
        case Format::json: return write_json(out, report);
        case Format::csv: return write_csv(out, report);
        case Format::markdown: return write_markdown(out, report);
    }
    throw std::invalid_argument("unknown report format");
}

}  // namespace handoff
