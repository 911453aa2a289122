#include "compare.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "atomic_file.hpp"
#include "cli.hpp"
#include "mann_whitney.hpp"
#include "printable.hpp"
#include "report_figures.hpp"
#include "text.hpp"

namespace handoff {
namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

// One repetition's value of a column, per call where the figure is a total.
using PerRepetition = double (*)(const ResultRun&);
double wall_of(const ResultRun& r) { return r.per_call_ns(r.wall_s); }
double loop_of(const ResultRun& r) { return r.per_call_ns(r.cpu_loop_s); }
double worker_of(const ResultRun& r) { return r.per_call_ns(r.cpu_worker_s); }
double total_of(const ResultRun& r) { return r.per_call_ns(r.cpu_total_s); }
double p99_of(const ResultRun& r) { return r.lat_p99_ns; }  // already per call

// The finite values of a column over one run's repetitions of a row.
std::vector<double> repetitions(const ResultRow& row, PerRepetition of) {
    std::vector<double> values;
    for (const ResultRun& run : row.runs) {
        if (const double v = of(run); std::isfinite(v)) values.push_back(v);
    }
    return values;
}

// The values a side contributes to a column's test: each run's own figure
// (the one its table printed), or every repetition of every run. `rows` are
// the configuration's ok rows, one per run.
std::vector<double> side_sample(const std::vector<const ResultRow*>& rows, PerRepetition of, SampleUnit unit) {
    std::vector<double> values;
    for (const ResultRow* row : rows) {
        if (unit == SampleUnit::repetitions) {
            const std::vector<double> own = repetitions(*row, of);
            values.insert(values.end(), own.begin(), own.end());
        } else if (const double v = of(row->figures); std::isfinite(v)) {
            values.push_back(v);
        }
    }
    return values;
}

// What a side shows for a column: the median over its runs of the figure
// each run printed (with one run: exactly that run's figure, latency pooled
// over its repetitions as its table showed it).
FigureComparison compare_figure(const std::vector<const ResultRow*>& a, const std::vector<const ResultRow*>& b,
                                PerRepetition of) {
    FigureComparison f;
    f.a = report_detail::median(side_sample(a, of, SampleUnit::runs));  // NaN when no run has the figure
    f.b = report_detail::median(side_sample(b, of, SampleUnit::runs));
    // A ratio to zero says nothing (a worker that used no CPU): no ratio then.
    f.ratio = f.a > 0 && std::isfinite(f.b) ? f.b / f.a : nan;
    return f;
}

// Runs' medians are the samples when the runs alone can make a difference
// significant; otherwise the repetitions, which can, but only within a run.
SampleUnit sample_unit(std::size_t runs_a, std::size_t runs_b, double alpha) {
    return mann_whitney_min_p(runs_a, runs_b) < alpha ? SampleUnit::runs : SampleUnit::repetitions;
}

// Everything but the multiple-testing adjustment, which needs every row.
RowComparison compare_rows(const std::vector<const ResultRow*>& a, const std::vector<const ResultRow*>& b,
                           double alpha) {
    RowComparison row;
    row.a = *a.front();
    row.b = *b.front();
    row.runs_a = a.size();
    row.runs_b = b.size();
    row.unit = sample_unit(a.size(), b.size(), alpha);
    row.wall = compare_figure(a, b, wall_of);
    row.loop_cpu = compare_figure(a, b, loop_of);
    row.worker_cpu = compare_figure(a, b, worker_of);
    row.total_cpu = compare_figure(a, b, total_of);
    row.p99 = compare_figure(a, b, p99_of);
    const std::vector<double> wall_a = side_sample(a, wall_of, row.unit), wall_b = side_sample(b, wall_of, row.unit);
    const MannWhitney test = mann_whitney_u(wall_a, wall_b);
    row.samples_a = wall_a.size();
    row.samples_b = wall_b.size();
    row.p = test.p;
    row.exact = test.exact;
    row.min_p = mann_whitney_min_p(wall_a.size(), wall_b.size());
    row.too_few = row.min_p >= alpha;
    row.p_adjusted = nan;
    return row;
}

// Holm over the rows that can be significant at all. A row whose smallest
// attainable p is not below alpha can never be called significant, so it
// cannot be a false positive either: leaving it out of the family keeps the
// guarantee and does not make the other rows pay for it (Tarone's argument).
void adjust_for_multiple_rows(std::vector<RowComparison>& rows, double alpha) {
    std::vector<RowComparison*> family;
    std::vector<double> p;
    for (RowComparison& row : rows) {
        if (row.too_few || !std::isfinite(row.p)) continue;
        family.push_back(&row);
        p.push_back(row.p);
    }
    const std::vector<double> adjusted = holm_adjust(p);
    for (std::size_t i = 0; i < family.size(); ++i) {
        family[i]->p_adjusted = adjusted[i];
        family[i]->family = family.size();
        family[i]->significant = adjusted[i] < alpha;
    }
}

// One configuration on one side: its row in each run that has it.
struct SideRow {
    const ResultRow* first = nullptr;    // identity and labels
    std::vector<const ResultRow*> rows;  // in run order, one per run

    std::vector<const ResultRow*> ok_rows() const {
        std::vector<const ResultRow*> ok;
        std::copy_if(rows.begin(), rows.end(), std::back_inserter(ok), [](const ResultRow* r) { return r->ok(); });
        return ok;
    }
    // The row that speaks for the side: an ok one when there is one.
    const ResultRow& representative() const {
        const auto ok = std::find_if(rows.begin(), rows.end(), [](const ResultRow* r) { return r->ok(); });
        return ok == rows.end() ? *first : **ok;
    }
};

// Index of the first entry not taken yet whose configuration is `row`'s.
std::size_t first_free_match(const std::vector<SideRow>& candidates, const std::vector<bool>& taken,
                             const ResultRow& row, bool ignore_design) {
    for (std::size_t i = 0; i < candidates.size(); ++i) {
        if (!taken[i] && candidates[i].first->same_configuration(row, ignore_design)) return i;
    }
    return candidates.size();
}

using RowPredicate = std::function<bool(const ResultRow&)>;

// A side's configurations in order of first appearance. Within one run a
// configuration that appears twice stays two entries, the k-th occurrence
// joining the k-th entry, so repeated rows line up across runs.
std::vector<SideRow> side_rows(const std::vector<ResultFile>& files, const RowPredicate& keep, bool ignore_design) {
    std::vector<SideRow> side;
    for (const ResultFile& file : files) {
        std::vector<bool> taken(side.size(), false);
        for (const ResultRow& row : file.rows) {
            if (!keep(row)) continue;
            std::size_t at = first_free_match(side, taken, row, ignore_design);
            if (at == side.size()) {
                side.push_back({&row, {}});
                taken.push_back(false);
            }
            taken[at] = true;
            side[at].rows.push_back(&row);
        }
    }
    return side;
}

struct Matched {
    std::vector<std::pair<SideRow, SideRow>> pairs;  // in A's order
    std::vector<SideRow> only_a, only_b;
};

Matched match_sides(const std::vector<SideRow>& a, const std::vector<SideRow>& b, bool ignore_design) {
    Matched m;
    std::vector<bool> b_used(b.size(), false);
    for (const SideRow& row_a : a) {
        const std::size_t at = first_free_match(b, b_used, *row_a.first, ignore_design);
        if (at == b.size()) {
            m.only_a.push_back(row_a);
            continue;
        }
        b_used[at] = true;
        m.pairs.emplace_back(row_a, b[at]);
    }
    for (std::size_t i = 0; i < b.size(); ++i) {
        if (!b_used[i]) m.only_b.push_back(b[i]);
    }
    return m;
}

// The values a context field takes over a side's runs, "a/b" when they differ.
std::string side_values(const std::vector<ResultFile>& files, std::string ResultContext::*field) {
    std::set<std::string> values;
    for (const ResultFile& file : files) {
        if (!(file.context.*field).empty()) values.insert(file.context.*field);
    }
    return fmt::format("{}", fmt::join(values, "/"));
}

// Differences between the two sides' contexts that make a ratio about the
// machine rather than the code; a side that does not say is not a difference.
std::vector<std::string> context_differences(const CompareSide& a, const CompareSide& b) {
    std::vector<std::string> found;
    const auto check = [&](const char* what, std::string ResultContext::*field) {
        const std::string x = side_values(a.files, field), y = side_values(b.files, field);
        if (!x.empty() && !y.empty() && x != y) found.push_back(fmt::format("{} '{}' vs '{}'", what, x, y));
    };
    check("host", &ResultContext::host);
    check("CPU model", &ResultContext::cpu_model);
    check("kernel", &ResultContext::kernel);
    check("online CPUs", &ResultContext::online_cpus);
    return found;
}

// The floor and inline rows of both sides, matched on their whole identity,
// that moved more than machine_change_factor: always each run's own figure
// (its median repetition), so one odd repetition does not raise the alarm. Independent of --filter and of
// the designs chosen, because the machine is the same for every row.
std::vector<MachineChange> machine_changes(const CompareSide& a, const CompareSide& b) {
    const RowPredicate reference = [](const ResultRow& row) { return row.is_reference(); };
    const Matched m = match_sides(side_rows(a.files, reference, false), side_rows(b.files, reference, false), false);
    std::vector<MachineChange> changes;
    for (const auto& [row_a, row_b] : m.pairs) {
        const auto ok_a = row_a.ok_rows(), ok_b = row_b.ok_rows();
        if (ok_a.empty() || ok_b.empty()) continue;
        const FigureComparison wall = compare_figure(ok_a, ok_b, wall_of);
        if (!std::isfinite(wall.ratio)) continue;
        if (wall.ratio > machine_change_factor || wall.ratio < 1 / machine_change_factor) {
            changes.push_back({row_a.first->label(), wall.a, wall.b, wall.ratio});
        }
    }
    return changes;
}

std::vector<ComparedFile> described(const std::vector<ResultFile>& files) {
    std::vector<ComparedFile> out;
    for (const ResultFile& file : files) out.push_back({file.name, file.context, file.partial});
    return out;
}

// Both sides name a mechanism and they differ: the same name, another design.
void note_mechanism(Comparison& c, const ResultRow& a, const ResultRow& b) {
    if (!a.mechanism.empty() && !b.mechanism.empty() && a.mechanism != b.mechanism) {
        c.mechanism_differences.push_back(fmt::format("{}: A {}; B {}", a.label(), a.mechanism, b.mechanism));
    }
}

// One matched configuration: compared, listed as not ok, or noted as missing
// from some runs.
void add_pair(Comparison& c, const SideRow& a, const SideRow& b, std::size_t runs_a, std::size_t runs_b,
              bool designs_chosen) {
    // Two designs compared on purpose travel differently by definition.
    if (!designs_chosen) note_mechanism(c, a.representative(), b.representative());
    const auto ok_a = a.ok_rows(), ok_b = b.ok_rows();
    if (ok_a.empty() || ok_b.empty()) {
        c.not_ok.push_back({a.representative(), b.representative()});
        return;
    }
    c.rows.push_back(compare_rows(ok_a, ok_b, c.alpha));
    if (ok_a.size() < runs_a || ok_b.size() < runs_b) {
        c.incomplete.push_back({a.first->label(!designs_chosen), ok_a.size(), runs_a, ok_b.size(), runs_b});
    }
}

// The rows a side takes part with: those passing the filter, and with a
// design chosen only that design's rows (which leaves out floor and inline).
RowPredicate side_predicate(const CompareSide& side, const RowFilter& filter) {
    return [&side, &filter](const ResultRow& row) {
        return filter.matches(row) && (side.design.empty() || row.design == side.design);
    };
}

std::vector<ResultRow> first_rows(const std::vector<SideRow>& rows) {
    std::vector<ResultRow> out;
    for (const SideRow& row : rows) out.push_back(*row.first);
    return out;
}

std::string first_word(const std::string& text) { return text.substr(0, text.find(' ')); }

}  // namespace

bool RowFilter::matches(const ResultRow& row) const {
    const auto passes = [&](const std::string& key, const std::string& value) {
        const auto it = allowed.find(key);
        return it == allowed.end() || it->second.contains(value) ||
               (key == "placement" && it->second.contains(first_word(value)));
    };
    return passes("backend", row.backend) && passes("target", row.target) && passes("design", row.design) &&
           passes("placement", row.placement);
}

Comparison compare_results(const CompareSide& a, const CompareSide& b, const CompareOptions& options) {
    Comparison c;
    c.a_files = described(a.files);
    c.b_files = described(b.files);
    c.a_design = a.design;
    c.b_design = b.design;
    c.alpha = options.alpha;
    c.context_differences = context_differences(a, b);
    c.machine_changes = machine_changes(a, b);
    const bool designs_chosen = !a.design.empty() || !b.design.empty();
    const Matched m = match_sides(side_rows(a.files, side_predicate(a, options.filter), designs_chosen),
                                  side_rows(b.files, side_predicate(b, options.filter), designs_chosen),
                                  designs_chosen);
    for (const auto& [row_a, row_b] : m.pairs) {
        add_pair(c, row_a, row_b, a.files.size(), b.files.size(), designs_chosen);
    }
    adjust_for_multiple_rows(c.rows, c.alpha);
    c.only_a = first_rows(m.only_a);
    c.only_b = first_rows(m.only_b);
    return c;
}

Comparison compare_results(const ResultFile& a, const ResultFile& b, double alpha) {
    return compare_results(CompareSide{{a}, {}}, CompareSide{{b}, {}}, CompareOptions{alpha, {}});
}


// ---- The command line -------------------------------------------------------

namespace {

// A usage error: one line naming the option and what it allows.
struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// "--alpha: 'x' is not allowed: expected a number ...": the one shape of every
// rejected value, with what was typed shown on one line.
[[noreturn]] void reject(const std::string& option, const std::string& text, const std::string& expected) {
    throw UsageError(fmt::format("{}: {} is not allowed: expected {}", option, quote(text), expected));
}

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
