// The command line: options in, a validated plan out; and the conventions
// every command's parser follows (handoff, handoff compare, handoff plot).
#pragma once

#include <functional>
#include <stdexcept>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "run/configuration.hpp"
#include "report/report.hpp"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace handoff {

struct Options {
    std::vector<Configuration> configurations;  // in table order, inline first
    std::optional<Format> format;               // nullopt: table, or from --output's extension
    std::string output;                         // "" = stdout; checked by check_output_option
    unsigned repeat = 5;                        // repetitions of each row; --count is split over them
    bool list = false;                          // --list: show backends and exit
    bool sort_by_wall = false;                  // --sweep: rows by wall per call, cheapest first
    ReportOptions report;                       // --wide, --columns: the table's columns
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

// --rate's value, in calls per second: a number from 0.1 to 1e9, with k or M
// for thousands or millions (2.5k). Throws std::invalid_argument with the
// message (what was given, what is allowed), for the caller to prefix.
double parse_rate(const std::string& text);

// ---- The conventions, shared by every command's parser.

// A usage error: one line naming the option and what it allows (exit 2).
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
    UsageError(std::string_view option, std::string_view message);  // "option: message"
};

// "--alpha: 'x' is not allowed: expected a number ...": the one shape of every
// rejected value, with what was typed shown on one line.
[[noreturn]] void reject(const std::string& option, const std::string& text, const std::string& expected);

// An option taking one value, shown with its kind in --help ("--count N").
// Given twice, the last value counts, as in hyperfine, perf and most Unix
// tools: a shell alias or script can be overridden by a later option.
CLI::Option* add_value(CLI::App& app, const std::string& names, std::string& value, const std::string& kind,
                       const std::string& description);
// An option that accumulates: each occurrence adds one value ("--design A
// --design B"); one value per occurrence, so what follows stays itself.
CLI::Option* add_values(CLI::App& app, const std::string& names, std::vector<std::string>& values,
                        const std::string& kind, const std::string& description);
// Replaces CLI11's generated usage line ("Usage: ...") with `usage`, which
// names the forms the command takes.
void set_usage(CLI::App& app, std::string usage);

// Parses with `app`. nullopt: go on. Otherwise the status to exit with, after
// --help (0) or one plain line naming the option (2). CLI11's own wording
// ("1 required TEXT missing") never reaches the user.
std::optional<int> parse_arguments(CLI::App& app, int argc, const char* const argv[], std::ostream& out,
                                   std::ostream& err);

// "" when -o/--output can take `path` (not empty; see check_output in
// atomic_file.hpp), else the one-line message, "--output: ...".
std::string check_output_option(const std::string& path);

// -o's rule in every command: `report` goes to `path`, and `table` to `out`
// unless `path` is standard output itself (-o /dev/stdout), which then gets
// the report alone. "" or the one-line message, "--output: cannot write ...".
std::string write_with_output(const std::string& path, std::ostream& out,
                              const std::function<void(std::ostream&)>& table,
                              const std::function<void(std::ostream&)>& report);

// The format a file name's extension asks for: "json", "csv", "markdown", or
// "" when it names none (any format goes there).
std::string_view format_of_extension(std::string_view path);
// "" unless --format `format` contradicts the extension of `path`
// (--format csv -o out.json): then the one-line message.
std::string check_format_matches_extension(std::string_view format, const std::string& path);

}  // namespace handoff
