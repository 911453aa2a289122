// The text table as a GitHub table: same columns, same legend.
#include <algorithm>
#include <fmt/format.h>

#include <string>
#include <vector>

#include "report/report.hpp"
#include "report/grid.hpp"

namespace handoff {
namespace {

// A cell may hold any text (a failure reason): its bars must not split it.
std::string markdown_escape(std::string_view text) {
    std::string escaped;
    for (const char c : text) {
        if (c == '|' || c == '\\') escaped += '\\';
        escaped += c == '\n' ? ' ' : c;
    }
    return escaped;
}

void write_line(std::ostream& out, const std::vector<std::string>& cells) {
    out << "|";
    for (const std::string& cell : cells) out << ' ' << markdown_escape(cell) << " |";
    out << '\n';
}

}  // namespace

void write_markdown(std::ostream& out, const Report& report) {
    const report_detail::Grid grid = report_detail::table_grid(report);
    out << markdown_escape(grid.heading) << "\n\n";
    if (!grid.environment.empty()) {
        // Two trailing spaces: a line break inside one paragraph.
        std::size_t start = 0;
        while (start < grid.environment.size()) {
            const std::size_t end = std::min(grid.environment.find('\n', start), grid.environment.size());
            out << markdown_escape(grid.environment.substr(start, end - start)) << (end < grid.environment.size() ? "  \n" : "\n\n");
            start = end + 1;
        }
    }
    for (const std::string& line : grid.notices) out << "> " << markdown_escape(line) << '\n';
    if (!grid.notices.empty()) out << '\n';
    if (report.rows.empty()) {
        out << "no results\n";
        return;
    }
    write_line(out, grid.titles);
    out << "|";
    for (const bool numeric : grid.numeric) out << (numeric ? " ---: |" : " --- |");
    out << '\n';
    for (std::size_t r = 0; r < grid.cells.size(); ++r) {
        std::vector<std::string> cells = grid.cells[r];
        // A row without figures: its status in the first figure column, the rest empty.
        if (cells.size() < grid.titles.size()) cells.push_back(grid.status[r]);
        cells.resize(grid.titles.size());
        write_line(out, cells);
    }
    out << '\n';
    for (const std::string& line : grid.legend) out << "- " << markdown_escape(line) << '\n';
}

}  // namespace handoff
