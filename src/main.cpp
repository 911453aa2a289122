// handoff: runs the chosen configurations and prints or writes the report.
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "analysis/compare.hpp"
#include "cli/compare_command.hpp"
#include "analysis/plot.hpp"
#include "base/printable.hpp"
#include "cli/cli.hpp"
#include "cli/interrupt.hpp"
#include "cli/progress_line.hpp"
#include "cli/tune_command.hpp"
#include "handoff/backend.hpp"
#include "measurement/context.hpp"
#include "report/report.hpp"
#include "run/session.hpp"

namespace {

using namespace handoff;

void print_backends(std::ostream& out) {
    const auto print = [&](const Backend* backend) {
        const auto reason = backend_unavailable_reason(*backend);
        const std::string library = backend->library_version();
        out << fmt::format("{:<13} {:<40} {}\n              {}\n", backend->name,
                           reason ? "unavailable: " + *reason : std::string("available"),
                           !library.empty()         ? library
                           : backend->run_foreign   ? "(no interpreter found)"
                                                    : "(no library: the lab's own loop)",
                           backend->description);
    };
    for (const Backend* backend : all_backends()) print(backend);
    for (const Backend* backend : foreign_backends()) print(backend);
}

// `handoff help [compare | plot | tune]`: exactly what the command's --help prints.
int run_help(int argc, char** argv) {
    using namespace std::string_view_literals;
    if (argc > 3) {
        std::cerr << fmt::format("handoff: help: {} is not allowed: expected at most one subcommand, compare, "
                                 "plot or tune\n",
                                 quote(argv[3]));
        return exit_usage;
    }
    const std::string_view topic = argc == 3 ? argv[2] : "";
    if (topic.empty()) {
        const char* const words[] = {"handoff", "--help"};
        return parse_command_line(2, words, std::cout, std::cerr).exit_status;
    }
    const char* const words[] = {argv[2], "--help"};
    if (topic == "compare"sv) return run_compare(2, words, std::cout, std::cerr);
    if (topic == "plot"sv) return run_plot(2, words, std::cout, std::cerr);
    if (topic == "tune"sv) return run_tune(2, words, std::cout, std::cerr);
    std::cerr << fmt::format("handoff: help: {} is not a subcommand: expected compare, plot or tune\n", quote(topic));
    return exit_usage;
}

// The report to stdout, or to --output (see write_with_output).
int write_outputs(const Options& options, const Report& report) {
    if (options.output.empty()) {
        write_report(std::cout, report, options.format.value_or(Format::table));
        return exit_ok;
    }
    const Format format = options.format.value_or(format_for_path(options.output));
    const std::string problem = write_with_output(
        options.output, std::cout, [&](std::ostream& out) { write_report(out, report, Format::table); },
        [&](std::ostream& file) { write_report(file, report, format); });
    if (problem.empty()) return exit_ok;
    std::cerr << "handoff: " << problem << '\n';
    return exit_failed_rows;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace std::string_view_literals;
    // Subcommands that read saved results instead of running anything.
    if (argc >= 2 && argv[1] == "compare"sv) return run_compare(argc - 1, argv + 1, std::cout, std::cerr);
    if (argc >= 2 && argv[1] == "plot"sv) return run_plot(argc - 1, argv + 1, std::cout, std::cerr);
    if (argc >= 2 && argv[1] == "help"sv) return run_help(argc, argv);
    // A search over the designs: runs many sessions of its own (it catches signals itself).
    if (argc >= 2 && argv[1] == "tune"sv) return run_tune(argc - 1, argv + 1, std::cout, std::cerr);
    // First, before any thread exists: every later thread inherits the block.
    catch_interrupts();
    const ParseResult parsed = parse_command_line(argc, argv, std::cout, std::cerr);
    if (!parsed.options) return parsed.exit_status;
    const Options& options = *parsed.options;

    if (options.list) {
        print_backends(std::cout);
        return exit_ok;
    }

    Report report;
    report.context = collect_context(argc, argv);
    ProgressLine progress(std::cerr, isatty(STDERR_FILENO) != 0);
    SessionOutcome outcome = run_session(options.configurations,
                                         {.repeat = options.repeat,
                                          .limits = {},
                                          .stop_requested = &interrupt_requested(),
                                          .on_progress = [&](const SessionProgress& p) { progress.update(p); },
                                          .run_one = {}});
    progress.clear();
    report.rows = std::move(outcome.rows);
    report.partial = outcome.interrupted;
    if (outcome.interrupted) report.interrupted_by = signal_name(interrupt_signal());
    report.options = options.report;
    if (options.sort_by_wall) sort_by_wall_per_call(report.rows);

    int status = write_outputs(options, report);
    for (const RowResult& row : report.rows) {
        if (row.status == RowStatus::failed) {
            std::cerr << fmt::format("handoff: {} {} failed: {}\n", row.config.backend, row.config.target_name(),
                                     row.reason);
            status = exit_failed_rows;
        }
    }
    // The shell's convention for a run ended by a signal: 128 + its number.
    if (outcome.interrupted) return 128 + interrupt_signal();
    // Every handoff row unavailable (a combination that cannot be built
    // here): the run answered nothing, whatever the reference rows did.
    const auto measured = [](const RowResult& row) {
        return row.config.kind == RowKind::handoff && row.status == RowStatus::ok && !row.runs.empty();
    };
    if (status == exit_ok && std::none_of(report.rows.begin(), report.rows.end(), measured)) {
        std::cerr << "handoff: no handoff row could be measured (see the reasons in the table)\n";
        status = exit_failed_rows;
    }
    return status;
}
