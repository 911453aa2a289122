// Shared by the report writers (private to src/): the figures a row shows,
// each the median over its runs, and the flat key/value form of a row that
// JSON and CSV both print, so the two can never disagree on keys.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "handoff/configuration.hpp"
#include "handoff/measurement.hpp"

namespace handoff::report_detail {

// Median of `values` (the mean of the middle two for an even count); NaN when empty.
double median(std::vector<double> values);

// The median over runs of one figure: a data member (&Measurement::wall_s), a
// member function (&Measurement::cpu_other_s) or any callable on a Measurement.
template <class Figure>
double median_over(const std::vector<Measurement>& runs, Figure figure) {
    std::vector<double> values;
    values.reserve(runs.size());
    for (const Measurement& run : runs) values.push_back(static_cast<double>(std::invoke(figure, run)));
    return median(std::move(values));
}

// How a row's figure is made from its runs. Repetitions may differ by one
// call (--count split over --repeat), so a total of a run (seconds, switch
// counts) is first divided by that run's calls and the median of that is
// multiplied by the row's calls (config.calls); everything else (per-call
// figures, rates, shares, percentiles, thread counts) is a plain median.
enum class Scale { total, plain };

// One figure of a run, by the key it is printed under.
struct FigureDef {
    std::string_view key;
    double (*of)(const Measurement&);
    bool integral;  // a count: printed as an integer when the median is whole
    Scale scale = Scale::plain;
};

// A row's figure over its runs; NaN where there are no runs.
struct FigureSummary {
    double median;
    double min;
    double max;
};
FigureSummary summarize(const RowResult& row, const FigureDef& def);

// The definition printed under `key`; throws std::out_of_range for an unknown key.
const FigureDef& figure_def(std::string_view key);
// The row's figure under `key` (its median, normalised as above).
double row_figure(const RowResult& row, std::string_view key);

// Every figure in output order (wall_s ... wall_per_call_ns).
std::span<const FigureDef> figure_defs();

// A row has figures only when it is ok and was measured at least once.
bool has_figures(const RowResult& row);

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
// and _max beside it (null when the row has none), spread and warnings,
// errors, status and reason. The keys of JSON results and the CSV header.
std::vector<NamedField> flat_fields(const RowResult& row);

// The figures of one run under the same keys.
std::vector<NamedField> run_fields(const Measurement& run);

}  // namespace handoff::report_detail
