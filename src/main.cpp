// handoff: runs the chosen configurations and prints or writes the report.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <iostream>
#include <limits>

#include <fmt/format.h>

#include "cli.hpp"
#include "compare.hpp"
#include "plot.hpp"
#include "handoff/backend.hpp"
#include "handoff/context.hpp"
#include "handoff/runner.hpp"

namespace {

using namespace handoff;

void print_backends(std::ostream& out) {
    for (const Backend* backend : all_backends()) {
        const auto reason = backend_unavailable_reason(*backend);
        const std::string library = backend->library_version();
        out << fmt::format("{:<6} {:<40} {}\n       {}\n", backend->name,
                           reason ? "unavailable: " + *reason : std::string("available"),
                           library.empty() ? "(no library: the lab's own loop)" : library,
                           backend->description);
    }
}

Format format_for_file(const std::string& path) {
    if (path.ends_with(".json")) return Format::json;
    if (path.ends_with(".csv")) return Format::csv;
    return Format::table;
}

// Writes beside the target and renames over it, so an interrupted run never
// leaves a truncated file where a good one was.
bool write_file_atomically(const std::string& path, const Report& report, Format format) {
    const std::string temporary = path + ".tmp";
    {
        std::ofstream file(temporary, std::ios::trunc);
        if (file) write_report(file, report, format);
        if (!file || !file.flush()) {
            std::remove(temporary.c_str());
            return false;
        }
    }
    return std::rename(temporary.c_str(), path.c_str()) == 0;
}

// A sweep reads best cheapest first; rows without figures go last.
void sort_by_wall_per_call(std::vector<RowResult>& rows) {
    const auto key = [](const RowResult& row) {
        if (row.status != RowStatus::ok || row.runs.empty() || row.runs[0].calls == 0) {
            return std::numeric_limits<double>::infinity();
        }
        return row.runs[0].wall_s / double(row.runs[0].calls);
    };
    std::stable_sort(rows.begin(), rows.end(), [&](const RowResult& a, const RowResult& b) { return key(a) < key(b); });
}

void show_progress(std::size_t index, std::size_t total, const Configuration& config) {
    if (!isatty(STDERR_FILENO)) return;
    std::cerr << fmt::format("\r\033[K[{}/{}] {} {} {} {} ...", index + 1, total, config.backend,
                             config.target_name(), config.design_name(), config.placement.name)
              << std::flush;
}

void clear_progress() {
    if (isatty(STDERR_FILENO)) std::cerr << "\r\033[K" << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace std::string_view_literals;
    // Subcommands that read saved results instead of running anything.
    if (argc >= 2 && argv[1] == "compare"sv) return run_compare(argc - 1, argv + 1, std::cout, std::cerr);
    if (argc >= 2 && argv[1] == "plot"sv) return run_plot(argc - 1, argv + 1, std::cout, std::cerr);
    const ParseResult parsed = parse_command_line(argc, argv, std::cout, std::cerr);
    if (!parsed.options) return parsed.exit_status;
    const Options& options = *parsed.options;

    if (options.list) {
        print_backends(std::cout);
        return exit_ok;
    }

    Report report;
    report.context = collect_context(argc, argv);
    bool any_failed = false;
    for (std::size_t i = 0; i < options.configurations.size(); ++i) {
        show_progress(i, options.configurations.size(), options.configurations[i]);
        report.rows.push_back(run_configuration(options.configurations[i]));
        any_failed |= report.rows.back().status == RowStatus::failed;
    }
    clear_progress();
    if (options.sort_by_wall) sort_by_wall_per_call(report.rows);

    if (options.output.empty()) {
        write_report(std::cout, report, options.format.value_or(Format::table));
    } else {
        write_report(std::cout, report, Format::table);
        const Format format = options.format.value_or(format_for_file(options.output));
        if (!write_file_atomically(options.output, report, format)) {
            std::cerr << fmt::format("handoff: --output: cannot write '{}': {}\n", options.output,
                                     std::strerror(errno));
            return exit_failed_rows;
        }
    }
    for (const RowResult& row : report.rows) {
        if (row.status == RowStatus::failed) {
            std::cerr << fmt::format("handoff: {} {} failed: {}\n", row.config.backend,
                                     row.config.target_name(), row.reason);
        }
    }
    return any_failed ? exit_failed_rows : exit_ok;
}
