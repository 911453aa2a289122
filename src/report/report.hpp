// Renders results. Reports know results and nothing about loops.
#pragma once

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "run/configuration.hpp"
#include "measurement/context.hpp"

namespace handoff {

struct Report {
    RunContext context;
    std::vector<RowResult> rows;
    // A signal ended the run early: rows may have fewer runs than they asked
    // for, or none (status interrupted). `interrupted_by` names the signal.
    bool partial = false;
    std::string interrupted_by;
};

enum class Format { table, json, csv, markdown };

// Parses "table", "json", "csv", "markdown"; throws std::invalid_argument otherwise.
Format parse_format(std::string_view text);
// The format a file's extension asks for: .json, .csv, .md, else table.
Format format_for_path(std::string_view path);

void write_table(std::ostream& out, const Report& report);
void write_json(std::ostream& out, const Report& report);
void write_csv(std::ostream& out, const Report& report);
void write_markdown(std::ostream& out, const Report& report);  // a GitHub table
void write_report(std::ostream& out, const Report& report, Format format);

// A sweep reads best cheapest first (by Wall/call); rows without figures go last.
void sort_by_wall_per_call(std::vector<RowResult>& rows);

}  // namespace handoff
