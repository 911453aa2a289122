#include <fmt/format.h>

#include <string>
#include <vector>
#include <type_traits>
#include <variant>

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

// Numbers in their shortest exact spelling, nulls empty.
std::string csv_cell(const report_detail::Field& field) {
    return std::visit(
        [](const auto& value) -> std::string {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::monostate>) {
                return {};
            } else if constexpr (std::is_same_v<T, std::string>) {
                return csv_escape(value);
            } else if constexpr (std::is_same_v<T, report_detail::WordList>) {
                return csv_escape(value.joined);
            } else {
                return fmt::format("{}", value);
            }
        },
        field);
}

void write_line(std::ostream& out, const std::vector<std::string>& cells) {
    out << fmt::format("{}\n", fmt::join(cells, ","));
}

}  // namespace

void write_csv(std::ostream& out, const Report& report) {
    // The header comes from the same record as the rows, so it holds even with no rows.
    std::vector<std::string> header;
    for (const auto& field : report_detail::flat_fields(RowResult{})) header.emplace_back(field.key);
    write_line(out, header);
    for (const RowResult& row : report.rows) {
        std::vector<std::string> cells;
        for (const auto& field : report_detail::flat_fields(row)) cells.push_back(csv_cell(field.value));
        write_line(out, cells);
    }
}

}  // namespace handoff
