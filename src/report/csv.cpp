// The flat result record as CSV: one context line, a header, one line per row.
//
// Where the context goes: a leading comment line, `# date=... host=...
// commit=... command=...`, rather than a companion `X.context.json` beside
// `X.csv`. A CSV written to stdout (--format csv) has no "beside"; a
// companion can be lost, copied without its data or paired with the wrong
// file, while a line inside the file travels with it; and the other writers
// see only a stream, so a second file would spread CSV over the output code.
// The price: a naive reader takes the line for the header. Readers skip it
// with `skiprows=1` (pandas), `skip = 1` (R read.csv, readr), or one
// next() on the file before csv.reader (Python); results/README.rst says so.
#include <fmt/format.h>

#include <optional>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "report/report.hpp"
#include "report/figures.hpp"

namespace handoff {
namespace {

// RFC 4180: quote a field holding a separator, quote or line break; double its quotes.
std::string csv_escape(std::string_view text) {
    if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
    std::string quoted = "\"";
    for (const char c : text) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    quoted += '"';
    return quoted;
}

// The decimals a real number of `key` means, by its unit: ns figures are
// whole ns (the clocks' resolution; the latency histogram is coarser still),
// seconds are to the ns (9 decimals), calls per second to the call, shares,
// ratios, cores, switches and allocations per call to 4 decimals (a tenth of
// a percent is below the noise of any row). nullopt: a key without a rule
// (the rate asked), printed exactly.
std::optional<int> decimals(std::string_view key) {
    for (const std::string_view suffix : {"_min", "_max"}) {
        if (key.ends_with(suffix)) key.remove_suffix(suffix.size());
    }
    if (key == "calls_per_s" || key == "rate_achieved" || key.ends_with("_ns")) return 0;
    if (key.ends_with("_s")) return 9;
    if (key == "same_cpu_share" || key == "spread" || key == "switches_per_call" || key == "cores" ||
        key == "allocs_per_call") {
        return 4;
    }
    return std::nullopt;
}

// `value` rounded to `places` decimals, without trailing zeros: 0.5, not
// 0.500000000; never "-0" (a figure rounded up from just below zero).
std::string rounded(double value, std::optional<int> places) {
    if (!places) return fmt::format("{}", value);
    std::string text = fmt::format("{:.{}f}", value, *places);
    if (text.find('.') != std::string::npos) {
        text.erase(text.find_last_not_of('0') + 1);
        if (text.back() == '.') text.pop_back();
    }
    return text == "-0" ? "0" : text;
}

std::string csv_cell(const report_detail::NamedField& field) {
    return std::visit(
        [&](const auto& value) -> std::string {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                return {};
            } else if constexpr (std::is_same_v<T, std::string>) {
                return csv_escape(value);
            } else if constexpr (std::is_same_v<T, report_detail::WordList>) {
                return csv_escape(value.joined);
            } else if constexpr (std::is_same_v<T, double>) {
                return rounded(value, decimals(field.key));
            } else {
                return fmt::format("{}", value);
            }
        },
        field.value);
}

void write_line(std::ostream& out, const std::vector<std::string>& cells) {
    out << fmt::format("{}\n", fmt::join(cells, ","));
}

// A context value on the one comment line: a line break would end it.
std::string one_line(std::string_view text) {
    std::string line(text);
    for (char& c : line) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    }
    return line;
}

// `# date=... host=... commit=... [partial=true] command=...`: the command
// last, since it holds spaces: it is the rest of the line.
void write_context_line(std::ostream& out, const Report& report) {
    const RunContext& c = report.context;
    out << fmt::format("# date={} host={} commit={}{} command={}\n", one_line(c.date), one_line(c.host),
                       one_line(c.git_commit), report.partial ? " partial=true" : "", one_line(c.command_line));
}

}  // namespace

void write_csv(std::ostream& out, const Report& report) {
    write_context_line(out, report);
    // The header comes from the same record as the rows, so it holds even with no rows.
    std::vector<std::string> header;
    for (const auto& field : report_detail::flat_fields(RowResult{})) header.emplace_back(field.key);
    write_line(out, header);
    for (const RowResult& row : report.rows) {
        std::vector<std::string> cells;
        const RowResult* baseline = report_detail::baseline_of(report.rows, row);
        for (const auto& field : report_detail::flat_fields(row, baseline)) cells.push_back(csv_cell(field));
        write_line(out, cells);
    }
}

}  // namespace handoff
