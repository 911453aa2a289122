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

// One figure of a run, by the key it is printed under.
struct FigureDef {
    std::string_view key;
    double (*of)(const Measurement&);
    bool integral;  // a count: printed as an integer when the median is whole
};

// Every figure in output order (wall_s ... wall_per_call_ns).
std::span<const FigureDef> figure_defs();

// A row has figures only when it is ok and was measured at least once.
bool has_figures(const RowResult& row);

// null, text, count, or real number.
using Field = std::variant<std::monostate, std::string, std::uint64_t, double>;

struct NamedField {
    std::string_view key;
    Field value;
};

// A figure value as a Field: an integer for a whole count, otherwise a double.
Field figure_field(const FigureDef& def, double value);

// The flat result record: identity, median figures (null when the row has
// none), errors, status and reason. The keys of JSON results and the CSV header.
std::vector<NamedField> flat_fields(const RowResult& row);

// The figures of one run under the same keys.
std::vector<NamedField> run_fields(const Measurement& run);

}  // namespace handoff::report_detail
