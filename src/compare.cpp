#include "compare.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "mann_whitney.hpp"
#include "report_figures.hpp"

namespace handoff {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// One run's value of a column, per call where the figure is a total.
using PerRun = double (*)(const ResultRun&);
double wall_of(const ResultRun& r) { return r.per_call_ns(r.wall_s); }
double loop_of(const ResultRun& r) { return r.per_call_ns(r.cpu_loop_s); }
double worker_of(const ResultRun& r) { return r.per_call_ns(r.cpu_worker_s); }
double total_of(const ResultRun& r) { return r.per_call_ns(r.cpu_total_s); }
double p99_of(const ResultRun& r) { return r.lat_p99_ns; }  // already per call

// The finite values of a column over a row's runs.
std::vector<double> sample(const ResultRow& row, PerRun of) {
    std::vector<double> values;
    for (const ResultRun& run : row.runs) {
        if (const double v = of(run); std::isfinite(v)) values.push_back(v);
    }
    return values;
}

FigureComparison compare_figure(const ResultRow& a, const ResultRow& b, PerRun of) {
    FigureComparison f;
    f.a = report_detail::median(sample(a, of));  // NaN when no run has the figure
    f.b = report_detail::median(sample(b, of));
    // A ratio to zero says nothing (a worker that used no CPU): no ratio then.
    f.ratio = f.a > 0 && std::isfinite(f.b) ? f.b / f.a : nan;
    return f;
}

RowComparison compare_rows(const ResultRow& a, const ResultRow& b, double alpha) {
    RowComparison row;
    row.a = a;
    row.b = b;
    row.wall = compare_figure(a, b, wall_of);
    row.loop_cpu = compare_figure(a, b, loop_of);
    row.worker_cpu = compare_figure(a, b, worker_of);
    row.total_cpu = compare_figure(a, b, total_of);
    row.p99 = compare_figure(a, b, p99_of);
    const std::vector<double> wall_a = sample(a, wall_of), wall_b = sample(b, wall_of);
    const MannWhitney test = mann_whitney_u(wall_a, wall_b);
    row.runs_a = wall_a.size();
    row.runs_b = wall_b.size();
    row.p = test.p;
    row.exact = test.exact;
    row.min_p = mann_whitney_min_p(wall_a.size(), wall_b.size());
    row.too_few = row.min_p >= alpha;
    row.significant = !row.too_few && test.p < alpha;
    return row;
}

// Differences between the two contexts that make a ratio about the machine
// rather than the code; a side that does not say is not a difference.
std::vector<std::string> context_differences(const ResultContext& a, const ResultContext& b) {
    std::vector<std::string> found;
    const auto check = [&](const char* what, const std::string& x, const std::string& y) {
        if (!x.empty() && !y.empty() && x != y) found.push_back(fmt::format("{} '{}' vs '{}'", what, x, y));
    };
    check("host", a.host, b.host);
    check("CPU model", a.cpu_model, b.cpu_model);
    check("kernel", a.kernel, b.kernel);
    check("online CPUs", a.online_cpus, b.online_cpus);
    return found;
}

// "0.008", "0.31", "1e-05": a p-value with the digits that matter.
std::string format_p(double p) {
    if (!std::isfinite(p)) return "-";
    if (p < 0.001) return fmt::format("{:.0e}", p);
    if (p < 0.01) return fmt::format("{:.3f}", p);
    return fmt::format("{:.2f}", p);
}

// A usage error: one line naming the option and what it allows.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

double parse_number(const std::string& option, const std::string& text, double above, double below,
                    const std::string& expected) {
    double value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !std::isfinite(value) ||
        !(value > above) || !(value < below)) {
        throw UsageError(fmt::format("{}: '{}' is not allowed: expected {}", option, text, expected));
    }
    return value;
}

CompareFormat parse_compare_format(const std::string& text) {
    if (text == "table") return CompareFormat::table;
    if (text == "json") return CompareFormat::json;
    if (text == "markdown") return CompareFormat::markdown;
    throw UsageError(fmt::format("--format: '{}' is not allowed: expected table, json or markdown", text));
}

}  // namespace

Comparison compare_results(const ResultFile& a, const ResultFile& b, double alpha) {
    Comparison c;
    c.a_name = a.name;
    c.b_name = b.name;
    c.a_context = a.context;
    c.b_context = b.context;
    c.alpha = alpha;
    c.context_differences = context_differences(a.context, b.context);
    std::vector<bool> b_used(b.rows.size(), false);
    for (const ResultRow& row_a : a.rows) {
        std::size_t match = b.rows.size();
        for (std::size_t i = 0; i < b.rows.size(); ++i) {
            if (!b_used[i] && b.rows[i].same_configuration(row_a)) {
                match = i;
                break;
            }
        }
        if (match == b.rows.size()) {
            c.only_a.push_back(row_a);
            continue;
        }
        b_used[match] = true;
        const ResultRow& row_b = b.rows[match];
        if (!row_a.mechanism.empty() && !row_b.mechanism.empty() && row_a.mechanism != row_b.mechanism) {
            c.mechanism_differences.push_back(
                fmt::format("{}: A {}; B {}", row_a.label(), row_a.mechanism, row_b.mechanism));
        }
        if (row_a.ok() && row_b.ok()) {
            c.rows.push_back(compare_rows(row_a, row_b, alpha));
        } else {
            c.not_ok.push_back({row_a, row_b});
        }
    }
    for (std::size_t i = 0; i < b.rows.size(); ++i) {
        if (!b_used[i]) c.only_b.push_back(b.rows[i]);
    }
    return c;
}

std::string verdict(const RowComparison& row, double alpha) {
    const double r = row.wall.ratio;
    if (!std::isfinite(r)) return "no wall time to compare";
    // Within half a percent either way the two-decimal ratio reads 1.00: say so.
    std::string text = std::abs(r - 1) < 0.005 ? std::string("1.00x, same")
                       : r > 1                 ? fmt::format("{:.2f}x slower", r)
                                               : fmt::format("{:.2f}x faster", 1 / r);
    if (row.too_few) {
        return text + fmt::format(", too few runs ({} vs {}: p >= {:.3g})", row.runs_a, row.runs_b, row.min_p);
    }
    if (row.significant) return text + fmt::format(" (p={})", format_p(row.p));
    return text + fmt::format(", not significant (p={} >= {})", format_p(row.p), alpha);
}

int run_compare(int argc, const char* const argv[], std::ostream& out, std::ostream& err) {
    CLI::App app{"handoff compare: the configurations two result files share, side by side: the ratio B/A "
                 "of the medians per call of each column, and a Mann-Whitney U test across repetitions "
                 "on wall per call.",
                 "handoff compare"};
    app.footer(
        "\nExit status: 0; 1 when a wall ratio is above --fail-above (or --fail-above is given and no "
        "configuration is in both files); 2 on bad input.\n"
        "Example: handoff compare results/before.json results/after.json --fail-above 1.10");
    std::vector<std::string> files;
    std::string alpha_text = "0.05", fail_above_text, format_text = "table";
    app.add_option("files", files, "A.json B.json: the baseline, then the candidate")->expected(2)->required();
    app.add_option("--alpha", alpha_text, "significance level of the U test (default 0.05)");
    app.add_option("--fail-above", fail_above_text, "exit 1 when any wall ratio B/A is above RATIO (e.g. 1.10)");
    app.add_option("--format", format_text, "table | json | markdown (default table)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {  // --help
        app.exit(e, out, err);
        return 0;
    } catch (const CLI::ParseError& e) {
        err << "handoff: compare: " << e.what() << " (see handoff compare --help)\n";
        return 2;
    }

    double alpha = 0;
    std::optional<double> fail_above;
    CompareFormat format{};
    Comparison comparison;
    try {
        alpha = parse_number("--alpha", alpha_text, 0, 1, "a number between 0 and 1, like 0.05");
        if (!fail_above_text.empty()) {
            fail_above = parse_number("--fail-above", fail_above_text, 0, std::numeric_limits<double>::infinity(),
                                      "a ratio above 0, like 1.10");
        }
        format = parse_compare_format(format_text);
        comparison = compare_results(read_result_file(files[0]), read_result_file(files[1]), alpha);
    } catch (const UsageError& e) {
        err << "handoff: compare: " << e.what() << '\n';
        return 2;
    } catch (const ResultFileError& e) {
        err << "handoff: compare: " << e.what() << '\n';
        return 2;
    }

    write_comparison(out, comparison, format);
    if (!fail_above) return 0;
    if (comparison.rows.empty()) {
        err << "handoff: compare: --fail-above: no configuration is ok in both files, nothing to gate on\n";
        return 1;
    }
    int status = 0;
    for (const RowComparison& row : comparison.rows) {
        if (row.wall.ratio > *fail_above) {
            err << fmt::format("handoff: compare: --fail-above {}: {} (work {}, in-flight {}): wall per call is "
                               "{:.2f}x A's\n",
                               *fail_above, row.b.label(), row.b.work, row.b.inflight, row.wall.ratio);
            status = 1;
        }
    }
    return status;
}

}  // namespace handoff
