// The three renderings of a Comparison: a terminal table, JSON, Markdown.
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <set>

#include "compare.hpp"
#include "handoff/duration.hpp"
#include "mann_whitney.hpp"

namespace handoff {
namespace {

using Json = nlohmann::ordered_json;

// Work and in-flight join the label only when some rows differ in them, so a
// plain run reads "epoll dedicated classic free".
struct Labeller {
    bool work = false;
    bool inflight = false;

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
    }

    std::string operator()(const ResultRow& row) const {
        std::string label = row.label();
        if (work) label += " work=" + row.work;
        if (inflight) label += fmt::format(" inflight={}", row.inflight);
        return label;
    }
};

std::string ratio_text(double ratio) { return std::isfinite(ratio) ? fmt::format("{:.2f}", ratio) : "-"; }
std::string time_text(double ns) { return std::isfinite(ns) ? format_per_call(ns / 1e9) : "-"; }

// "A: old.json (2026-11-22T13:45:00Z, host lab, lab 0.1.0, commit abc)"
std::string describe_file(const std::string& name, const ResultContext& c) {
    std::vector<std::string> parts;
    if (!c.date.empty()) parts.push_back(c.date);
    if (!c.host.empty()) parts.push_back("host " + c.host);
    if (!c.lab_version.empty()) parts.push_back("handoff " + c.lab_version);
    if (!c.commit.empty()) parts.push_back("commit " + c.commit);
    return parts.empty() ? name : fmt::format("{} ({})", name, fmt::join(parts, ", "));
}

std::string status_text(const ResultRow& row) {
    std::string text = row.ok() ? std::string("ok") : row.status;
    if (!row.reason.empty()) text += ": " + row.reason;
    return text;
}

// The notes every rendering carries under the rows, one sentence each.
std::vector<std::string> warnings(const Comparison& c) {
    std::vector<std::string> notes;
    if (!c.context_differences.empty()) {
        notes.push_back(fmt::format("A and B ran in different environments ({}): the ratios mix the machine "
                                    "with the code",
                                    fmt::join(c.context_differences, "; ")));
    }
    for (const std::string& difference : c.mechanism_differences) {
        notes.push_back("the same name, another mechanism (the ratio compares two designs): " + difference);
    }
    std::size_t too_few = 0;
    double worst_min_p = 0;
    for (const RowComparison& row : c.rows) {
        if (!row.too_few) continue;
        ++too_few;
        worst_min_p = std::max(worst_min_p, row.min_p);
    }
    if (too_few > 0) {
        notes.push_back(fmt::format(
            "{} of {} configurations have too few runs for the U test to say anything at alpha {} "
            "(the smallest p they allow is {:.3g}); repeat both runs more (5 vs 5 runs allow p = {:.3g})",
            too_few, c.rows.size(), c.alpha, worst_min_p, mann_whitney_min_p(5, 5)));
    }
    if (c.rows.empty()) notes.push_back("no configuration is ok in both files: nothing was compared");
    return notes;
}

const char* const legend =
    "ratio = median of B / median of A of the figure per call (each run's figure / its calls); above 1: B takes "
    "longer or uses more. p: two-sided Mann-Whitney U test on wall per call across runs.";

struct TableRow {
    std::vector<std::string> cells;
};

std::vector<std::string> headings() {
    return {"configuration", "A wall/call", "B wall/call", "wall B/A", "loop CPU", "worker CPU",
            "total CPU",     "p99",         "runs",        "verdict"};
}

std::vector<std::vector<std::string>> body(const Comparison& c, const Labeller& label) {
    std::vector<std::vector<std::string>> rows;
    for (const RowComparison& row : c.rows) {
        rows.push_back({label(row.a), time_text(row.wall.a), time_text(row.wall.b), ratio_text(row.wall.ratio),
                        ratio_text(row.loop_cpu.ratio), ratio_text(row.worker_cpu.ratio),
                        ratio_text(row.total_cpu.ratio), ratio_text(row.p99.ratio),
                        fmt::format("{}/{}", row.runs_a, row.runs_b), verdict(row, c.alpha)});
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
    out << "A: " << describe_file(c.a_name, c.a_context) << '\n';
    out << "B: " << describe_file(c.b_name, c.b_context) << "\n\n";
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
    out << "- **A**: " << markdown_cell(describe_file(c.a_name, c.a_context)) << '\n';
    out << "- **B**: " << markdown_cell(describe_file(c.b_name, c.b_context)) << "\n\n";
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

Json number(double value) { return std::isfinite(value) ? Json(value) : Json(nullptr); }

Json identity(const ResultRow& row) {
    return Json{{"backend", row.backend}, {"target", row.target},      {"design", row.design},
                {"work", row.work},       {"inflight", row.inflight},  {"placement", row.placement}};
}

Json figure(const FigureComparison& f) {
    return Json{{"a", number(f.a)}, {"b", number(f.b)}, {"ratio", number(f.ratio)}};
}

Json file(const std::string& name, const ResultContext& c) {
    return Json{{"file", name},       {"date", c.date},         {"host", c.host},
                {"cpu_model", c.cpu_model}, {"kernel", c.kernel}, {"online_cpus", c.online_cpus},
                {"lab_version", c.lab_version}, {"commit", c.commit}};
}

void write_json(std::ostream& out, const Comparison& c) {
    Json rows = Json::array();
    for (const RowComparison& row : c.rows) {
        Json r = identity(row.a);
        r["runs_a"] = row.runs_a;
        r["runs_b"] = row.runs_b;
        r["wall_per_call_ns"] = figure(row.wall);
        r["loop_cpu_per_call_ns"] = figure(row.loop_cpu);
        r["worker_cpu_per_call_ns"] = figure(row.worker_cpu);
        r["total_cpu_per_call_ns"] = figure(row.total_cpu);
        r["lat_p99_ns"] = figure(row.p99);
        r["p"] = number(row.p);
        r["p_exact"] = row.exact;
        r["min_p"] = number(row.min_p);
        r["too_few_runs"] = row.too_few;
        r["significant"] = row.significant;
        r["verdict"] = verdict(row, c.alpha);
        rows.push_back(std::move(r));
    }
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
        {"schema", "handoff-compare/1"},
        {"alpha", c.alpha},
        {"a", file(c.a_name, c.a_context)},
        {"b", file(c.b_name, c.b_context)},
        {"context_differences", c.context_differences},
        {"mechanism_differences", c.mechanism_differences},
        {"rows", std::move(rows)},
        {"not_compared", std::move(not_ok)},
        {"only_in_a", unmatched(c.only_a)},
        {"only_in_b", unmatched(c.only_b)},
        {"warnings", warnings(c)},
    };
    out << document.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

}  // namespace

void write_comparison(std::ostream& out, const Comparison& comparison, CompareFormat format) {
    switch (format) {
        case CompareFormat::table: return write_table(out, comparison);
        case CompareFormat::json: return write_json(out, comparison);
        case CompareFormat::markdown: return write_markdown(out, comparison);
    }
}

}  // namespace handoff
