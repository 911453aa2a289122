// Renders results. Reports know results and nothing about loops.
#pragma once

#include <ostream>
#include <string_view>
#include <vector>

#include "handoff/configuration.hpp"
#include "handoff/context.hpp"

namespace handoff {

struct Report {
    RunContext context;
    std::vector<RowResult> rows;
};

enum class Format { table, json, csv };

// Parses "table", "json", "csv"; throws std::invalid_argument otherwise.
Format parse_format(std::string_view text);

void write_table(std::ostream& out, const Report& report);
void write_json(std::ostream& out, const Report& report);
void write_csv(std::ostream& out, const Report& report);
void write_report(std::ostream& out, const Report& report, Format format);

}  // namespace handoff
