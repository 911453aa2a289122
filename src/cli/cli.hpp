// The command line: options in, a validated plan out.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "run/configuration.hpp"
#include "report/report.hpp"

namespace handoff {

struct Options {
    std::vector<Configuration> configurations;  // in table order, inline first
    std::optional<Format> format;               // nullopt: table, or from --output's extension
    std::string output;                         // "" = stdout; checked writable by the parser
    unsigned repeat = 5;                        // repetitions of each row; --count is split over them
    bool list = false;                          // --list: show backends and exit
    bool sort_by_wall = false;                  // --sweep: rows by wall per call, cheapest first
};

// Exit statuses.
constexpr int exit_ok = 0;
constexpr int exit_failed_rows = 1;
constexpr int exit_usage = 2;

// Parses argv. Returns the options, or the exit status to leave with after
// printing help, the version, or a one-line error naming the option (status 2).
struct ParseResult {
    std::optional<Options> options;
    int exit_status = exit_ok;
};
ParseResult parse_command_line(int argc, const char* const argv[], std::ostream& out, std::ostream& err);

}  // namespace handoff
