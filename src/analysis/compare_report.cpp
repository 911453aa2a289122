// The three renderings of a Comparison: a terminal table, JSON, Markdown.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>

#include "analysis/compare.hpp"
#include "base/duration.hpp"
#include "analysis/mann_whitney.hpp"

namespace handoff {
namespace {

using Json = nlohmann::ordered_json;

// Work and in-flight join the label only when some rows differ in them, so a
// plain run reads "epoll dedicated classic free".
struct Labeller {
    bool work = false;
    bool inflight = false;
    bool design = true;  // not when the sides are two designs: the header names them

    explicit Labeller(const Comparison& c) {
        std::set<std::string> works;
        std::set<std::uint64_t> inflights;
        const auto note = [&](const ResultRow& row) {
            works.insert(row.work);
            inflights.insert(row.inflight);
        };
        for (const RowComparison& row : c.rows) note(row.a);
        for (const NotCompared& row : c.not_ok) note(row.a);
        for (const ResultRow& row : c.only_a) note(row);
        for (const ResultRow& row : c.only_b) note(row);
        work = works.size() > 1;
        inflight = inflights.size() > 1;
        design = c.a_design.empty() && c.b_design.empty();
    }

    std::string operator()(const ResultRow& row) const {
        std::string label = row.label(design);
        if (work) label += " work=" + row.work;
        if (inflight) label += fmt::format(" inflight={}", row.inflight);
        return label;
    }
};

// "0.008", "0.31", "1e-05": a p-value with the digits that matter.
std::string format_p(double p) {
    if (!std::isfinite(p)) return "-";
    if (p < 0.001) return fmt::format("{:.0e}", p);
    if (p < 0.01) return fmt::format("{:.3f}", p);
    return fmt::format("{:.2f}", p);
}

std::string ratio_text(double ratio) { return std::isfinite(ratio) ? fmt::format("{:.2f}", ratio) : "-"; }
std::string time_text(double ns) { return std::isfinite(ns) ? format_per_call(ns / 1e9) : "-"; }

// "old.json (2026-11-22T13:45:00Z, host lab, handoff 0.1.0, commit abc)"
std::string describe_file(const ComparedFile& file) {
    const ResultContext& c = file.context;
    std::vector<std::string> parts;
    if (!c.date.empty()) parts.push_back(c.date);
    if (!c.host.empty()) parts.push_back("host " + c.host);
    if (!c.lab_version.empty()) parts.push_back("handoff " + c.lab_version);
    if (!c.commit.empty()) parts.push_back("commit " + c.commit);
    if (file.partial) parts.push_back("partial");
    return parts.empty() ? file.name : fmt::format("{} ({})", file.name, fmt::join(parts, ", "));
}

// "old.json (...)" for one run; "3 runs:" over one line per run for several.
struct SideHeader {
    const char* side;               // "A", "B"
    std::string text;
    std::vector<std::string> runs;  // empty with one run
};

SideHeader side_header(const char* side, const std::vector<ComparedFile>& files, const std::string& design) {
    const std::string rows = design.empty() ? "" : fmt::format("rows of design {} in ", design);
    if (files.size() == 1) return {side, rows + describe_file(files.front()), {}};
    SideHeader h{side, fmt::format("{}{} runs:", rows, files.size()), {}};
    for (const ComparedFile& file : files) h.runs.push_back(describe_file(file));
    return h;
}

std::vector<SideHeader> headers(const Comparison& c) {
    return {side_header("A", c.a_files, c.a_design), side_header("B", c.b_files, c.b_design)};
}

std::string status_text(const ResultRow& row) {
    std::string text = row.ok() ? std::string("ok") : row.status;
    if (!row.reason.empty()) text += ": " + row.reason;
    return text;
}

std::vector<std::string> machine_notes(const Comparison& c) {
    std::vector<std::string> notes;
    for (const MachineChange& change : c.machine_changes) {
        notes.push_back(fmt::format("the machine changed, not the code: {} takes {} a call in A and {} in B "
                                    "({:.2f}x, more than {}x either way); every ratio here mixes the machine "
                                    "with the code",
                                    change.label, time_text(change.a_ns), time_text(change.b_ns),
                                    change.ratio, machine_change_factor));
    }
    return notes;
}

std::vector<std::string> partial_notes(const Comparison& c) {
    std::vector<std::string> notes;
    for (const std::vector<ComparedFile>* side : {&c.a_files, &c.b_files}) {
        for (const ComparedFile& file : *side) {
            if (file.partial) {
                notes.push_back(fmt::format("{} is from an interrupted run (partial): its rows may hold fewer "
                                            "repetitions than asked",
                                            file.name));
            }
        }
    }
    return notes;
}

// Rows whose p compares repetitions: what such a p can and cannot say.
std::optional<std::string> repetitions_note(const Comparison& c) {
    const auto on_repetitions = std::count_if(c.rows.begin(), c.rows.end(),
                                              [](const RowComparison& r) { return r.unit == SampleUnit::repetitions; });
    if (on_repetitions == 0) return std::nullopt;
    const bool one_run_each = c.a_files.size() == 1 && c.b_files.size() == 1;
    return fmt::format(
        "{} of {} configurations are tested on repetitions ({}): their p covers only the noise inside one run, "
        "not how the machine changes between runs (here the floor moves between about 50 and 400 ns from one "
        "minute to the next); a test across runs needs {} or more runs a side at alpha {} (one result file per "
        "run: --a A1.json A2.json ... --b B1.json B2.json ...)",
        on_repetitions, c.rows.size(), one_run_each ? "one run a side" : "too few runs in which they are ok",
        mann_whitney_runs_needed(c.alpha), c.alpha);
}

std::vector<std::string> incomplete_notes(const Comparison& c) {
    std::vector<std::string> notes;
    for (const Incomplete& row : c.incomplete) {
        notes.push_back(fmt::format("{} is ok in {} of {} runs of A and {} of {} of B: its figures and test stand "
                                    "on those",
                                    row.label, row.ok_a, row.runs_a, row.ok_b, row.runs_b));
    }
    return notes;
}

std::optional<std::string> too_few_note(const Comparison& c) {
    std::size_t too_few = 0;
    double worst_min_p = 0;
    for (const RowComparison& row : c.rows) {
        if (!row.too_few) continue;
        ++too_few;
        worst_min_p = std::max(worst_min_p, row.min_p);
    }
    if (too_few == 0) return std::nullopt;
    return fmt::format("{} of {} configurations have too few samples for the U test to say anything at alpha {} "
                       "(the smallest p they allow is {:.3g}); give each side more runs or repetitions (5 vs 5 "
                       "allow p = {:.3g})",
                       too_few, c.rows.size(), c.alpha, worst_min_p, mann_whitney_min_p(5, 5));
}

// Holm asks the first row for p < alpha / m: with few samples and many rows
// no outcome can reach it, which the too-few note alone would not reveal.
std::optional<std::string> family_note(const Comparison& c) {
    std::size_t family = 0;
    double best_min_p = 1;
    for (const RowComparison& row : c.rows) {
        if (row.family == 0) continue;
        family = row.family;
        best_min_p = std::min(best_min_p, row.min_p);
    }
    if (family < 2 || best_min_p * double(family) < c.alpha) return std::nullopt;
    return fmt::format("with {} configurations tested together no row can be significant: the first needs "
                       "p < {:.3g} (alpha / {}), and their samples allow at best {:.3g}; give each side more runs, "
                       "or compare fewer rows (--filter)",
                       family, c.alpha / double(family), family, best_min_p);
}

// The notes every rendering carries under the rows, one sentence each.
std::vector<std::string> warnings(const Comparison& c) {
    std::vector<std::string> notes = machine_notes(c);
    if (!c.context_differences.empty()) {
        notes.push_back(fmt::format("A and B ran in different environments ({}): the ratios mix the machine "
                                    "with the code",
                                    fmt::join(c.context_differences, "; ")));
    }
    for (const std::string& difference : c.mechanism_differences) {
        notes.push_back("the same name, another mechanism (the ratio compares two designs): " + difference);
    }
    for (std::string& note : partial_notes(c)) notes.push_back(std::move(note));
    for (std::string& note : incomplete_notes(c)) notes.push_back(std::move(note));
    for (const auto& note : {repetitions_note(c), too_few_note(c), family_note(c)}) {
        if (note) notes.push_back(*note);
    }
    if (c.rows.empty()) notes.push_back("no configuration is ok on both sides: nothing was compared");
    return notes;
}

const char* const legend =
    "ratio = B / A of the figure per call, each side's the median over its runs of the figure each run printed (its "
    "median repetition's; p99 pooled over its calls); above 1: B takes longer or uses more. samples: what the "
    "two-sided Mann-Whitney U test on wall per call compares, each run's own figure (runs) or every repetition "
    "(reps). A row is significant when its p, adjusted (Holm) for the rows tested together, is below alpha.";

struct TableRow {
    std::vector<std::string> cells;
};

std::vector<std::string> headings() {
    return {"configuration", "A wall/call", "B wall/call", "wall B/A", "loop CPU", "worker CPU",
            "total CPU",     "p99",         "samples",     "verdict"};
}

// "5/5 reps", "4/4 runs": how many values the test compared, and of what.
std::string samples_text(const RowComparison& row) {
    return fmt::format("{}/{} {}", row.samples_a, row.samples_b, row.unit == SampleUnit::runs ? "runs" : "reps");
}

std::vector<std::vector<std::string>> body(const Comparison& c, const Labeller& label) {
    std::vector<std::vector<std::string>> rows;
    for (const RowComparison& row : c.rows) {
        rows.push_back({label(row.a), time_text(row.wall.a), time_text(row.wall.b), ratio_text(row.wall.ratio),
                        ratio_text(row.loop_cpu.ratio), ratio_text(row.worker_cpu.ratio),
                        ratio_text(row.total_cpu.ratio), ratio_text(row.p99.ratio),
                        samples_text(row), verdict(row, c.alpha)});
    }
    return rows;
}

// The rows that were not compared, one line each.
std::vector<std::string> left_out(const Comparison& c, const Labeller& label) {
    std::vector<std::string> lines;
    for (const NotCompared& row : c.not_ok) {
        lines.push_back(fmt::format("not compared, not ok: {}: A {}; B {}", label(row.a), status_text(row.a),
                                    status_text(row.b)));
    }
    for (const ResultRow& row : c.only_a) lines.push_back(fmt::format("only in A: {} ({})", label(row), status_text(row)));
    for (const ResultRow& row : c.only_b) lines.push_back(fmt::format("only in B: {} ({})", label(row), status_text(row)));
    return lines;
}

void write_table(std::ostream& out, const Comparison& c) {
    const Labeller label(c);
    for (const SideHeader& h : headers(c)) {
        out << h.side << ": " << h.text << '\n';
        for (const std::string& run : h.runs) out << "  " << run << '\n';
    }
    out << '\n';
    const std::vector<std::string> head = headings();
    const auto rows = body(c, label);
    std::vector<std::size_t> width(head.size());
    for (std::size_t i = 0; i < head.size(); ++i) width[i] = head[i].size();
    for (const auto& row : rows) {
        for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
    }
    const auto print = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            const bool last = i + 1 == cells.size();
            // Text columns (the first and the verdict) left, figures right.
            if (i == 0 || last) {
                line += last ? cells[i] : fmt::format("{:<{}}", cells[i], width[i]);
            } else {
                line += fmt::format("{:>{}}", cells[i], width[i]);
            }
            if (!last) line += "  ";
        }
        out << line << '\n';
    };
    if (!rows.empty()) {
        print(head);
        for (const auto& row : rows) print(row);
        out << '\n' << legend << '\n';
    }
    for (const std::string& line : left_out(c, label)) out << line << '\n';
    for (const std::string& note : warnings(c)) out << "warning: " << note << '\n';
}

std::string markdown_cell(std::string text) {
    std::string escaped;
    for (const char ch : text) {
        if (ch == '|') escaped += '\\';
        escaped += ch;
    }
    return escaped;
}

void write_markdown(std::ostream& out, const Comparison& c) {
    const Labeller label(c);
    for (const SideHeader& h : headers(c)) {
        out << "- **" << h.side << "**: " << markdown_cell(h.text) << '\n';
        for (const std::string& run : h.runs) out << "  - " << markdown_cell(run) << '\n';
    }
    out << '\n';
    const auto rows = body(c, label);
    if (!rows.empty()) {
        const std::vector<std::string> head = headings();
        std::string rule = "|";
        for (std::size_t i = 0; i < head.size(); ++i) rule += (i == 0 || i + 1 == head.size()) ? " --- |" : " ---: |";
        out << "| " << fmt::format("{}", fmt::join(head, " | ")) << " |\n" << rule << '\n';
        for (const auto& row : rows) {
            std::vector<std::string> cells;
            for (const std::string& cell : row) cells.push_back(markdown_cell(cell));
            out << "| " << fmt::format("{}", fmt::join(cells, " | ")) << " |\n";
        }
        out << '\n' << legend << '\n';
    }
    const auto lines = left_out(c, label);
    if (!lines.empty()) out << '\n';
    for (const std::string& line : lines) out << "- " << markdown_cell(line) << '\n';
    const auto notes = warnings(c);
    if (!notes.empty()) out << '\n';
    for (const std::string& note : notes) out << "> **warning**: " << markdown_cell(note) << '\n';
}

// The JSON types here are those of the result files compare reads, so one
// reader serves both: numbers that do not exist are null, per-call ns are
// reals (as `wall_per_call_ns`), latencies and counts are integers (as
// `lat_p99_ns`, `online_cpus`), and a context entry a file lacks is null.
Json number(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

// A latency in whole ns, as result files carry it (a side's median over an
// even number of runs may fall between two; the histogram is coarser than 1 ns).
Json whole_ns(double value) {
    return std::isfinite(value) && value >= 0 ? Json(std::uint64_t(std::llround(value))) : Json(nullptr);
}

Json text_or_null(const std::string& text) { return text.empty() ? Json(nullptr) : Json(text); }

// The reader keeps context entries as text; a count goes back out as one.
Json count_or_null(const std::string& text) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc{} && end == text.data() + text.size() && !text.empty() ? Json(value) : Json(nullptr);
}

Json identity(const ResultRow& row) {
    return Json{{"backend", row.backend}, {"target", row.target},      {"design", row.design},
                {"work", row.work},       {"inflight", row.inflight},  {"placement", row.placement}};
}

// `side` makes A's and B's values: number for per-call ns, whole_ns for latency.
Json figure(const FigureComparison& f, Json (*side)(double) = number) {
    return Json{{"a", side(f.a)}, {"b", side(f.b)}, {"ratio", number(f.ratio)}};
}

Json file(const ComparedFile& f) {
    const ResultContext& c = f.context;
    return Json{{"file", f.name},
                {"date", text_or_null(c.date)},
                {"host", text_or_null(c.host)},
                {"cpu_model", text_or_null(c.cpu_model)},
                {"kernel", text_or_null(c.kernel)},
                {"online_cpus", count_or_null(c.online_cpus)},
                {"lab_version", text_or_null(c.lab_version)},
                {"commit", text_or_null(c.commit)},
                {"partial", f.partial}};
}

// A side: the design chosen (null for every row) and its runs.
Json side(const std::vector<ComparedFile>& files, const std::string& design) {
    Json runs = Json::array();
    for (const ComparedFile& f : files) runs.push_back(file(f));
    return Json{{"design", design.empty() ? Json(nullptr) : Json(design)}, {"runs", std::move(runs)}};
}

Json compared_row(const RowComparison& row, double alpha) {
    Json r = identity(row.a);
    r["runs_a"] = row.runs_a;
    r["runs_b"] = row.runs_b;
    r["sample_unit"] = row.unit == SampleUnit::runs ? "runs" : "repetitions";
    r["samples_a"] = row.samples_a;
    r["samples_b"] = row.samples_b;
    r["wall_per_call_ns"] = figure(row.wall);
    r["loop_cpu_per_call_ns"] = figure(row.loop_cpu);
    r["worker_cpu_per_call_ns"] = figure(row.worker_cpu);
    r["total_cpu_per_call_ns"] = figure(row.total_cpu);
    r["lat_p99_ns"] = figure(row.p99, whole_ns);
    r["p"] = number(row.p);
    r["p_adjusted"] = number(row.p_adjusted);
    r["adjusted_over"] = row.family;
    r["p_exact"] = row.exact;
    r["min_p"] = number(row.min_p);
    r["too_few_samples"] = row.too_few;
    r["significant"] = row.significant;
    r["verdict"] = verdict(row, alpha);
    return r;
}

Json machine_change(const MachineChange& m) {
    return Json{{"label", m.label},
                {"a_wall_per_call_ns", number(m.a_ns)},
                {"b_wall_per_call_ns", number(m.b_ns)},
                {"ratio", number(m.ratio)}};
}

Json incomplete(const Incomplete& row) {
    return Json{{"label", row.label}, {"ok_runs_a", row.ok_a}, {"runs_a", row.runs_a},
                {"ok_runs_b", row.ok_b}, {"runs_b", row.runs_b}};
}

void write_json(std::ostream& out, const Comparison& c) {
    Json rows = Json::array();
    for (const RowComparison& row : c.rows) rows.push_back(compared_row(row, c.alpha));
    Json changes = Json::array();
    for (const MachineChange& m : c.machine_changes) changes.push_back(machine_change(m));
    Json partly = Json::array();
    for (const Incomplete& row : c.incomplete) partly.push_back(incomplete(row));
    Json not_ok = Json::array();
    for (const NotCompared& row : c.not_ok) {
        Json r = identity(row.a);
        r["a_status"] = row.a.status;
        r["a_reason"] = row.a.reason;
        r["b_status"] = row.b.status;
        r["b_reason"] = row.b.reason;
        not_ok.push_back(std::move(r));
    }
    const auto unmatched = [](const std::vector<ResultRow>& list) {
        Json rows_of = Json::array();
        for (const ResultRow& row : list) {
            Json r = identity(row);
            r["status"] = row.status;
            rows_of.push_back(std::move(r));
        }
        return rows_of;
    };
    const Json document{
        {"schema", "handoff-compare/2"},
        {"alpha", c.alpha},
        {"adjustment", "holm"},
        {"machine_change_factor", machine_change_factor},
        {"a", side(c.a_files, c.a_design)},
        {"b", side(c.b_files, c.b_design)},
        {"context_differences", c.context_differences},
        {"mechanism_differences", c.mechanism_differences},
        {"machine_changes", std::move(changes)},
        {"rows", std::move(rows)},
        {"not_compared", std::move(not_ok)},
        {"incomplete", std::move(partly)},
        {"only_in_a", unmatched(c.only_a)},
        {"only_in_b", unmatched(c.only_b)},
        {"warnings", warnings(c)},
    };
    out << document.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace

std::string verdict(const RowComparison& row, double alpha) {
    const double r = row.wall.ratio;
    if (!std::isfinite(r)) return "no wall time to compare";
    // Within half a percent either way the two-decimal ratio reads 1.00: say so.
    std::string text = std::abs(r - 1) < 0.005 ? std::string("1.00x, same")
                       : r > 1                 ? fmt::format("{:.2f}x slower", r)
                                               : fmt::format("{:.2f}x faster", 1 / r);
    if (row.too_few) {
        return text + fmt::format(", too few {} ({} vs {}: p >= {:.3g})",
                                  row.unit == SampleUnit::runs ? "runs" : "repetitions", row.samples_a,
                                  row.samples_b, row.min_p);
    }
    // Both p-values once others were tested with it; the decision is the adjusted one's.
    const std::string p = row.family > 1 ? fmt::format("p={}; adjusted for {} rows {}", format_p(row.p), row.family,
                                                       format_p(row.p_adjusted))
                                         : fmt::format("p={}", format_p(row.p));
    if (row.significant) return text + " (" + p + ")";
    return text + fmt::format(", not significant ({} >= {})", p, alpha);
}

void write_comparison(std::ostream& out, const Comparison& comparison, CompareFormat format) {
    switch (format) {
        case CompareFormat::table: return write_table(out, comparison);
        case CompareFormat::json: return write_json(out, comparison);
        case CompareFormat::markdown: return write_markdown(out, comparison);
    }
}

}  // namespace handoff
