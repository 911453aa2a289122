// Shared by the text and Markdown tables (private to src/): the cells of the
// table, already formatted, and the lines around it, so the two renderings
// can never disagree on columns, figures or legend.
#pragma once

#include <string>
#include <vector>

#include "report/report.hpp"

namespace handoff::report_detail {

struct Grid {
    std::string heading;               // work, calls, in-flight; date, host, CPU, kernel
    std::string environment;           // settings that move the numbers, and the build (lines)
    std::vector<std::string> notices;  // before the table: an interrupted run, its incomplete rows
    std::vector<std::string> titles;
    std::vector<bool> numeric;         // right-aligned columns
    // One per row: identity cells, then figure cells when the row has figures.
    std::vector<std::vector<std::string>> cells;
    std::vector<std::string> status;   // per row: "" or "failed: <reason>" in place of figures
    std::vector<std::string> legend;   // what the columns and marks mean, mechanisms, warnings
};

Grid table_grid(const Report& report);

}  // namespace handoff::report_detail
