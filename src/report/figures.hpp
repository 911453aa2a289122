// Shared by the report writers (private to src/): the figures a row shows,
// each the median over its runs, and the flat key/value form of a row that
// JSON and CSV both print, so the two can never disagree on keys.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "run/configuration.hpp"
#include "measurement/measurement.hpp"

namespace handoff::report_detail {

// Median of `values` (the mean of the middle two for an even count); NaN when empty.
double median(std::vector<double> values);

// How a row's figure is made from its repetitions (the README's rule):
enum class Aggregate {
    // The representative repetition's: the median run by wall per call (at
    // a rate, where the arrivals set the wall, by Cores), the lower of the
    // middle two for an even count. Every such figure of a row
    // comes from that one run, so the identities between them hold in the
    // printed numbers (Other = CpuTotal - CpuEvtLoop - CpuWorker, never
    // below zero; Wall/call = Wall / Calls).
    representative,
    // A count of calls (failed, timed out, ...): the sum over runs.
    sum,
    // From every call of every run together: latency percentiles and the
    // maximum from the runs' histograms merged, SameCPU as a share of all
    // the calls it was measured on.
    pooled,
};

// One figure of a run, by the key it is printed under.
struct FigureDef {
    std::string_view key;
    double (*of)(const Measurement&);  // the figure of one run (NaN: none)
    bool integral;  // a count: printed as an integer when the value is whole
    Aggregate aggregate;
    // A total of the interval (seconds, switches): a run's value per call
    // times the row's calls, so runs of unequal size are alike.
    bool total = false;
    double (*row_value)(const RowResult&) = nullptr;  // pooled figures
};

// The row's representative repetition (see Aggregate), or nullptr when no
// run has calls and a wall time.
const Measurement* representative_run(const RowResult& row);

// Whether the row's repetitions were paced by an arrival schedule (--rate):
// their wall time is the schedule's, and their median is by Cores. The floor
// of a run at a rate is not paced: it spins back to back.
bool paced(const RowResult& row);

// A row's figure (its `median` field holds the row's value by the figure's
// rule: the representative run's, a sum or a pooled value) and the smallest
// and largest of its runs' own values; NaN where there are no runs.
struct FigureSummary {
    double median;
    double min;
    double max;
};
FigureSummary summarize(const RowResult& row, const FigureDef& def);

// The definition printed under `key`; throws std::out_of_range for an unknown key.
const FigureDef& figure_def(std::string_view key);
// The row's figure under `key`, by its rule above.
double row_figure(const RowResult& row, std::string_view key);

// Every figure in output order (wall_s ... rate_achieved).
std::span<const FigureDef> figure_defs();

// A row has figures only when it is ok and was measured at least once.
bool has_figures(const RowResult& row);

// The inline row a handoff row is compared with: the row of `rows` that
// calls the same work inline at the same placement and rate, with figures.
// nullptr for an inline or floor row, a row without figures, or when the
// run has no such inline row (then the overhead is unknown, never guessed).
const RowResult* baseline_of(std::span<const RowResult> rows, const RowResult& row);

// What the handoff adds over its baseline, per call, in ns, from the two
// rows' printed figures (each its representative run's): Wall/call minus
// the inline Wall/call, and Loop/call minus the inline Loop/call (negative
// when the loop thread no longer pays for the work). NaN without a baseline.
struct Overhead {
    double wall_ns;
    double loop_cpu_ns;
};
Overhead overhead(const RowResult& row, const RowResult* baseline);

// A list of words without ';' (warnings), kept ';'-joined: CSV prints it
// so, JSON as an array. (A vector in the variant trips a false
// maybe-uninitialized warning in g++ 12.)
struct WordList {
    std::string joined;
    static WordList of(const std::vector<std::string>& words);
    std::vector<std::string> words() const;
};

// null, text, count, real number, or a list of words.
using Field = std::variant<std::monostate, std::string, std::uint64_t, double, WordList>;

struct NamedField {
    std::string_view key;
    Field value;
};

// A figure value as a Field: an integer for a whole count, otherwise a double.
Field figure_field(const FigureDef& def, double value);

// The flat result record: identity, every figure as its median with _min
// and _max beside it (null when the row has none), the overhead over
// `baseline` (null without one: see baseline_of), spread and warnings,
// errors, status and reason. The keys of JSON results and the CSV header.
std::vector<NamedField> flat_fields(const RowResult& row, const RowResult* baseline = nullptr);

// The figures of one run under the same keys.
std::vector<NamedField> run_fields(const Measurement& run);

}  // namespace handoff::report_detail
