// `handoff compare`: its command line, over the comparison in
// analysis/compare.hpp. Every rejection is one plain line naming the option
// (exit 2); --fail-above gates on the comparison (exit 1).
#include "cli/compare_command.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "analysis/compare.hpp"
#include "base/printable.hpp"
#include "base/text.hpp"
#include "cli/atomic_file.hpp"
#include "cli/cli.hpp"

namespace handoff {

// ---- The command line -------------------------------------------------------

namespace {

double parse_number(const std::string& option, const std::string& text, double above, double below,
                    const std::string& expected) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) ||
        !(value > above) || !(value < below)) {
        reject(option, text, expected);
    }
    return value;
}

CompareFormat parse_compare_format(const std::string& text) {
    if (text == "table") return CompareFormat::table;
    if (text == "json") return CompareFormat::json;
    if (text == "markdown") return CompareFormat::markdown;
    reject("--format", text, "table, json or markdown");
}

// What --fail-above gates on: a column's ratio B/A.
struct Metric {
    const char* name;   // as typed after --metric
    const char* words;  // as said in the gate's message
    FigureComparison RowComparison::*figure;
};
constexpr Metric metrics[] = {
    {"wall", "wall per call", &RowComparison::wall},
    {"loop-cpu", "loop CPU per call", &RowComparison::loop_cpu},
    {"worker-cpu", "worker CPU per call", &RowComparison::worker_cpu},
    {"p99", "the p99 round trip", &RowComparison::p99},
};

const Metric& parse_metric(const std::string& text) {
    for (const Metric& metric : metrics) {
        if (text == metric.name) return metric;
    }
    reject("--metric", text, "wall, loop-cpu, worker-cpu or p99");
}

constexpr const char* filter_expected =
    "KEY=VALUE[,KEY=VALUE...] with KEY one of backend, target, design, placement, like backend=epoll,target=dedicated";

// "backend=epoll,target=dedicated": the terms of one --filter; repeated
// options add terms. The same key twice allows either value.
void add_filter_terms(RowFilter& filter, const std::string& text) {
    static const std::set<std::string> keys{"backend", "target", "design", "placement"};
    if (text.empty()) reject("--filter", text, filter_expected);
    for (const std::string_view term : split(text, ',')) {
        const std::size_t equals = term.find('=');
        const std::string key(term.substr(0, equals));
        if (equals == std::string_view::npos || !keys.contains(key) || equals + 1 == term.size()) {
            reject("--filter", text, filter_expected);
        }
        filter.allowed[key].insert(std::string(term.substr(equals + 1)));
    }
}

RowFilter parse_filter(const std::vector<std::string>& texts) {
    RowFilter filter;
    for (const std::string& text : texts) add_filter_terms(filter, text);
    return filter;
}

// What was typed, as text: every value is checked by hand so that each
// rejection is one plain line naming the option.
struct Arguments {
    std::vector<std::string> files, a_files, b_files, filters;
    std::string alpha = "0.05", format = "table", fail_above, metric = "wall", a_design, b_design, output;
    bool include_reference = false;
    // Which options were given at all (an empty value is still given).
    bool gate = false, metric_given = false, a_design_given = false, b_design_given = false, format_given = false,
         output_given = false;
};

struct Gate {
    double above = 0;
    const Metric* metric = nullptr;
    bool include_reference = false;
};

struct Request {
    CompareSide a, b;
    CompareOptions options;
    CompareFormat format{};
    std::optional<Gate> gate;
};

// The runs of each side: A.json B.json; --a FILES --b FILES; or, with two
// designs chosen, FILES whose runs hold both.
std::pair<std::vector<std::string>, std::vector<std::string>> side_paths(const Arguments& args) {
    if (!args.a_files.empty() || !args.b_files.empty()) {
        if (!args.files.empty()) {
            throw UsageError("files: give the runs either as A.json B.json or with --a and --b, not both");
        }
        if (args.a_files.empty()) throw UsageError("--a: expected one or more result files, the baseline's runs");
        if (args.b_files.empty()) throw UsageError("--b: expected one or more result files, the candidate's runs");
        return {args.a_files, args.b_files};
    }
    if (args.a_design_given || args.b_design_given) {
        if (args.files.empty()) throw UsageError("files: expected one or more result files holding both designs");
        return {args.files, args.files};
    }
    if (args.files.size() != 2) {
        throw UsageError(fmt::format("files: expected two result files, A.json B.json (got {}); for several runs a "
                                     "side: --a A1.json A2.json ... --b B1.json B2.json ...",
                                     args.files.size()));
    }
    return {{args.files[0]}, {args.files[1]}};
}

std::vector<ResultFile> read_all(const std::vector<std::string>& paths) {
    std::vector<ResultFile> files;
    for (const std::string& path : paths) files.push_back(read_result_file(path));
    return files;
}

// Two designs are compared only together: side A's and side B's.
void check_designs(const Arguments& args, const RowFilter& filter) {
    if (!args.a_design_given && !args.b_design_given) return;
    if (args.a_design_given != args.b_design_given) {
        throw UsageError(args.a_design_given ? "--a-design: expected --b-design too: the design of each side"
                                             : "--b-design: expected --a-design too: the design of each side");
    }
    const char* expected = "a design as the files' design column spells it, like inplace";
    if (args.a_design.empty()) reject("--a-design", args.a_design, expected);
    if (args.b_design.empty()) reject("--b-design", args.b_design, expected);
    if (filter.allowed.contains("design")) {
        throw UsageError("--filter: design=... cannot be combined with --a-design and --b-design, which choose "
                         "the designs");
    }
}

std::optional<Gate> parse_gate(const Arguments& args) {
    if (!args.gate) {
        if (args.metric_given) throw UsageError("--metric: only applies with --fail-above");
        if (args.include_reference) throw UsageError("--include-reference: only applies with --fail-above");
        return std::nullopt;
    }
    Gate gate;
    gate.above = parse_number("--fail-above", args.fail_above, 0, std::numeric_limits<double>::infinity(),
                              "a ratio above 0, like 1.10");
    gate.metric = &parse_metric(args.metric);
    gate.include_reference = args.include_reference;
    return gate;
}

// A filter that keeps no row of any run is a typo, not a comparison.
void check_filter_matches(const RowFilter& filter, const Request& request, const Arguments& args) {
    if (filter.empty()) return;
    const auto passes = [&](const ResultRow& row) { return filter.matches(row); };
    for (const CompareSide* side : {&request.a, &request.b}) {
        for (const ResultFile& file : side->files) {
            if (std::any_of(file.rows.begin(), file.rows.end(), passes)) return;
        }
    }
    const std::string typed = fmt::format("{}", fmt::join(args.filters, ","));
    throw UsageError(fmt::format("--filter: '{}' matches no row of the files", printable(typed)));
}

// --format, else -o's extension (.json, .md), else the table; -o checked
// like the main command's, before any file is read.
CompareFormat choose_format(const Arguments& args) {
    const CompareFormat typed = parse_compare_format(args.format);
    if (!args.output_given) return typed;
    if (const std::string problem = check_output_option(args.output); !problem.empty()) throw UsageError(problem);
    const std::string_view asked = format_of_extension(args.output);
    if (asked == "csv") {
        throw UsageError(fmt::format("--output: {} asks for csv: expected a file name for table, json (.json) or "
                                     "markdown (.md)",
                                     quote(args.output)));
    }
    if (args.format_given) {
        if (const std::string problem = check_format_matches_extension(args.format, args.output); !problem.empty()) {
            throw UsageError(problem);
        }
        return typed;
    }
    return asked.empty() ? CompareFormat::table : parse_compare_format(std::string(asked));
}

// Checks every value, then reads the files; throws UsageError or ResultFileError.
Request make_request(const Arguments& args) {
    Request request;
    request.options.alpha = parse_number("--alpha", args.alpha, 0, 1, "a number between 0 and 1, like 0.05");
    request.options.filter = parse_filter(args.filters);
    request.format = choose_format(args);
    request.gate = parse_gate(args);
    check_designs(args, request.options.filter);
    const auto [a_paths, b_paths] = side_paths(args);
    request.a = {read_all(a_paths), args.a_design};
    request.b = {read_all(b_paths), args.b_design};
    check_filter_matches(request.options.filter, request, args);
    return request;
}

// The gate: 1 when a gated ratio is above the limit or nothing could be gated.
int apply_gate(const Comparison& c, const Gate& gate, std::ostream& err) {
    for (const std::vector<ComparedFile>* side : {&c.a_files, &c.b_files}) {
        for (const ComparedFile& file : *side) {
            if (file.partial) {
                err << fmt::format("handoff: compare: --fail-above: '{}' is from an interrupted run (partial): "
                                   "its rows may stand on fewer repetitions\n",
                                   printable(file.name));
            }
        }
    }
    int status = 0;
    std::size_t gated = 0;
    for (const RowComparison& row : c.rows) {
        const double ratio = (row.*(gate.metric->figure)).ratio;
        if ((row.a.is_reference() && !gate.include_reference) || !std::isfinite(ratio)) continue;
        ++gated;
        if (ratio > gate.above) {
            err << fmt::format("handoff: compare: --fail-above {}: {} (work {}, in-flight {}): {} is {:.2f}x A's\n",
                               gate.above, row.b.label(), row.b.work, row.b.inflight, gate.metric->words, ratio);
            status = 1;
        }
    }
    if (gated == 0) {
        err << fmt::format("handoff: compare: --fail-above: no configuration with {} is ok on both sides{}: "
                           "nothing to gate on\n",
                           gate.metric->words, gate.include_reference ? "" : " (floor and inline left out)");
        return 1;
    }
    return status;
}

constexpr const char* compare_usage =
    "Usage: handoff compare A.json B.json [OPTIONS]                          one run a side\n"
    "       handoff compare --a A1.json A2.json ... --b B1.json B2.json ...  several runs a side\n"
    "       handoff compare RUN.json... --a-design X --b-design Y            two designs of the same runs";

void define_compare_options(CLI::App& app, Arguments& args) {
    add_values(app, "files", args.files, "FILE", "A.json B.json: the baseline's run, then the candidate's")
        ->allow_extra_args(true);
    add_values(app, "--a", args.a_files, "FILE", "the baseline's runs: one result file per run")->allow_extra_args(true);
    add_values(app, "--b", args.b_files, "FILE", "the candidate's runs: one result file per run")->allow_extra_args(true);
    add_value(app, "--a-design", args.a_design, "DESIGN", "side A is the rows of this design (with --b-design)");
    add_value(app, "--b-design", args.b_design, "DESIGN", "side B is the rows of this design (with --a-design)");
    add_value(app, "--alpha", args.alpha, "P", "significance level of the U test (default 0.05)");
    add_values(app, "--filter", args.filters, "KEY=VALUE",
               "only rows with KEY=VALUE[,...]: backend, target, design, placement; repeatable (adds terms)");
    add_value(app, "--fail-above", args.fail_above, "RATIO", "exit 1 when a ratio B/A is above RATIO (e.g. 1.10)");
    add_value(app, "--metric", args.metric, "METRIC",
              "what --fail-above gates on: wall | loop-cpu | worker-cpu | p99 (default wall)");
    app.add_flag("--include-reference", args.include_reference, "--fail-above gates the floor and inline rows too");
    add_value(app, "--format", args.format, "FORMAT", "table | json | markdown (default table, or -o's extension)");
    add_value(app, "-o,--output", args.output, "FILE",
              "write the comparison to FILE, as the main command's -o does (stdout still shows the table)");
}

void note_given(const CLI::App& app, Arguments& args) {
    args.gate = app.count("--fail-above") > 0;
    args.metric_given = app.count("--metric") > 0;
    args.a_design_given = app.count("--a-design") > 0;
    args.b_design_given = app.count("--b-design") > 0;
    args.format_given = app.count("--format") > 0;
    args.output_given = app.count("--output") > 0;
}

// The comparison to stdout, or to -o (see write_with_output): 0, or 1 when
// -o cannot be written.
int write_compare_outputs(const Arguments& args, const Comparison& comparison, CompareFormat format,
                          std::ostream& out, std::ostream& err) {
    if (!args.output_given) {
        write_comparison(out, comparison, format);
        return 0;
    }
    const std::string problem = write_with_output(
        args.output, out, [&](std::ostream& table) { write_comparison(table, comparison, CompareFormat::table); },
        [&](std::ostream& file) { write_comparison(file, comparison, format); });
    if (problem.empty()) return 0;
    err << "handoff: compare: " << problem << '\n';
    return 1;
}

}  // namespace

int run_compare(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
    CLI::App app{"handoff compare: the configurations two sets of result files share, side by side: the ratio "
                 "B/A of the medians per call of each column, and a Mann-Whitney U test on wall per call, "
                 "across runs (the runs' medians) when each side has enough runs, else across repetitions; "
                 "p-values adjusted for the rows tested together (Holm).",
                 "handoff compare"};
    set_usage(app, compare_usage);
    app.footer(
        "\nAn option given twice takes its last value; files, --a, --b and --filter add to what came before.\n"
        "Exit status: 0; 1 when a gated ratio is above --fail-above (or --fail-above is given and no "
        "configuration could be gated on), or -o could not be written; 2 on bad input.\n"
        "Example: handoff compare --a before-*.json --b after-*.json --fail-above 1.10 --filter backend=epoll");
    Arguments args;
    define_compare_options(app, args);
    if (const std::optional<int> status = parse_arguments(app, argc, argv, out, err)) return *status;
    note_given(app, args);

    Request request;
    try {
        request = make_request(args);
    } catch (const UsageError& e) {
        err << "handoff: compare: " << e.what() << '\n';
        return 2;
    } catch (const ResultFileError& e) {
        err << "handoff: compare: " << e.what() << '\n';
        return 2;
    }
    const Comparison comparison = compare_results(request.a, request.b, request.options);
    const int written = write_compare_outputs(args, comparison, request.format, out, err);
    const int gated = request.gate ? apply_gate(comparison, *request.gate, err) : 0;
    return std::max(written, gated);
}

}  // namespace handoff
