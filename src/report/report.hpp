// Renders results. Reports know results and nothing about loops.
#pragma once

#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "run/configuration.hpp"
#include "measurement/context.hpp"

namespace handoff {

// Which columns the table and Markdown show (JSON and CSV always keep every
// figure): the default, every one (--wide), or those named (--columns).
struct ReportOptions {
    bool wide = false;
    // Column names as table_columns() spells them, in the order to show
    // them; empty: the default. The columns that tell rows apart come first
    // whatever is chosen.
    std::vector<std::string> columns;
};

struct Report {
    RunContext context;
    std::vector<RowResult> rows;
    // A signal ended the run early: rows may have fewer runs than they asked
    // for, or none (status interrupted). `interrupted_by` names the signal.
    bool partial = false;
    std::string interrupted_by;
    ReportOptions options;  // how the table and Markdown show it
};

// A column --columns can name, with what it means in one line.
struct TableColumn {
    std::string_view name;
    std::string_view meaning;
};
// Every such column, in the order --wide shows them.
std::span<const TableColumn> table_columns();
// --columns LIST: a comma list of those names (any case; the names of the
// columns that tell rows apart, which always come first, are accepted and
// left out), as table_columns() spells them, without repeats. Throws
// std::invalid_argument naming what is allowed.
std::vector<std::string> parse_columns(std::string_view list);
// `--columns list`: each name with its meaning, one a line.
void print_columns(std::ostream& out);

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

// A sweep reads best cheapest first (by Wall/call) within each in-flight
// level, levels ascending; rows without figures go last in their level.
void sort_by_wall_per_call(std::vector<RowResult>& rows);

}  // namespace handoff
