#include "analysis/compare.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "analysis/mann_whitney.hpp"
#include "base/printable.hpp"
#include "report/figures.hpp"

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

}  // namespace handoff
