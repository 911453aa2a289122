// What the handoff adds over the inline row (+Wall/call, +Loop/call), Cores,
// the table's default, --wide and --columns, the open-loop and allocation
// figures: on synthetic rows, so every number is known.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/result_file.hpp"
#include "handoff/design.hpp"
#include "report/figures.hpp"
#include "report/report.hpp"
#include "synthetic_runs.hpp"

namespace handoff {
namespace {

using testing_support::synthetic_report;
using testing_support::synthetic_row;

// One repetition of 1000 calls with these totals, in seconds.
Measurement run_of(double wall_s, double loop_s, double worker_s, std::int64_t latency_ns = 0) {
    Measurement m;
    m.calls = 1000;
    m.wall_s = wall_s;
    m.cpu_loop_s = loop_s;
    m.cpu_worker_s = worker_s;
    m.cpu_total_s = loop_s + worker_s;
    m.cpu_known_calls = 1000;
    m.same_cpu_calls = 500;
    if (latency_ns > 0) m.latency = testing_support::latency_levels(1000, latency_ns);
    return m;
}

RowResult row_of(RowKind kind, const std::string& backend, std::vector<Measurement> runs) {
    RowResult row;
    row.config.backend = backend;
    if (kind != RowKind::handoff) row.config = Configuration::reference(kind, row.config);
    row.config.work = Work::parse("sleep0");
    row.config.calls = 1000 * runs.size();
    row.repeat = unsigned(runs.size());
    row.runs = std::move(runs);
    return row;
}

// Inline: 100 us a call of wall, 40 us of loop CPU. The handoff row: 130 us
// of wall, 31.25 us of loop CPU, 67.5 us of worker CPU: it adds 30 us of wall
// and takes 8.75 us of CPU off the loop thread; (31.25 + 67.5) / 130 cores.
Report known_report() {
    Report report = synthetic_report("lab", {});
    report.rows.push_back(row_of(RowKind::inline_calls, "inline", {run_of(0.1, 0.04, 0)}));
    report.rows.push_back(row_of(RowKind::handoff, "epoll", {run_of(0.13, 0.03125, 0.0675, 90'000)}));
    return report;
}

std::string table_of(const Report& report) {
    std::ostringstream out;
    write_table(out, report);
    return out.str();
}

nlohmann::json json_of(const Report& report) {
    std::ostringstream out;
    write_json(out, report);
    return nlohmann::json::parse(out.str());
}

// The lines of the table itself: the title line and every row's, up to the blank line after it.
std::vector<std::string> table_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    bool inside = false;
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("Backend")) inside = true;
        if (inside && line.empty()) break;
        if (inside) lines.push_back(line);
    }
    return lines;
}

// The cells of a table line (split on runs of two spaces or more, as the columns are).
std::vector<std::string> cells_of(const std::string& line) {
    std::vector<std::string> cells;
    std::size_t start = line.find_first_not_of(' ');
    while (start != std::string::npos) {
        std::size_t end = line.find("  ", start);
        cells.push_back(line.substr(start, end == std::string::npos ? std::string::npos : end - start));
        start = end == std::string::npos ? end : line.find_first_not_of(' ', end);
    }
    return cells;
}

// The cell under `title` in the row whose line starts with `row` (cells are
// right-aligned under their titles, which never hold two spaces).
std::string cell(const std::string& text, const std::string& row, const std::string& title) {
    const std::vector<std::string> lines = table_lines(text);
    const std::vector<std::string> titles = cells_of(lines.at(0));
    const auto column = std::find(titles.begin(), titles.end(), title);
    if (column == titles.end()) return "(no column " + title + ")";
    for (const std::string& line : lines) {
        if (line.starts_with(row + " ")) return cells_of(line).at(std::size_t(column - titles.begin()));
    }
    return "(no row " + row + ")";
}

TEST(ReportOverhead, IsTheHandoffRowMinusItsInlineRow) {
    const Report report = known_report();
    const RowResult* baseline = report_detail::baseline_of(report.rows, report.rows[1]);
    ASSERT_EQ(baseline, &report.rows[0]);
    const report_detail::Overhead added = report_detail::overhead(report.rows[1], baseline);
    EXPECT_DOUBLE_EQ(added.wall_ns, 30'000);
    EXPECT_DOUBLE_EQ(added.loop_cpu_ns, -8'750);
    EXPECT_DOUBLE_EQ(report_detail::row_figure(report.rows[1], "cores"), (0.03125 + 0.0675) / 0.13);
    EXPECT_DOUBLE_EQ(report_detail::row_figure(report.rows[0], "cores"), 0.4);

    const auto doc = json_of(report);
    const auto& handoff_row = doc["results"][1];
    EXPECT_DOUBLE_EQ(handoff_row["overhead_wall_per_call_ns"].get<double>(), 30'000);
    EXPECT_DOUBLE_EQ(handoff_row["overhead_loop_cpu_per_call_ns"].get<double>(), -8'750);
    EXPECT_DOUBLE_EQ(handoff_row["cores"].get<double>(), (0.03125 + 0.0675) / 0.13);
    EXPECT_DOUBLE_EQ(handoff_row["cores_min"].get<double>(), (0.03125 + 0.0675) / 0.13);
    EXPECT_DOUBLE_EQ(handoff_row["total_cpu_per_call_ns"].get<double>(), 98'750);
    // The inline row is the baseline, not a handoff: no overhead of its own.
    EXPECT_TRUE(doc["results"][0]["overhead_wall_per_call_ns"].is_null());

    const std::string text = table_of(report);
    EXPECT_EQ(cell(text, "epoll", "+Wall/call"), "30.00 us") << text;
    EXPECT_EQ(cell(text, "epoll", "+Loop/call"), "-8.75 us") << text;
    EXPECT_EQ(cell(text, "epoll", "CPU/call"), "98.75 us") << text;
    EXPECT_EQ(cell(text, "epoll", "Cores"), "0.76") << text;
    EXPECT_EQ(cell(text, "inline", "+Wall/call"), "-") << text;
    EXPECT_EQ(cell(text, "inline", "Cores"), "0.40") << text;
}

TEST(ReportOverhead, TheFiguresAreTheRepresentativeRunsOfBothRows) {
    Report report = known_report();
    // Inline's median run (of three) is the 100 us one; the handoff row's the 130 us one.
    report.rows[0].runs = {run_of(0.3, 0.1, 0), run_of(0.1, 0.04, 0), run_of(0.09, 0.09, 0)};
    report.rows[0].repeat = 3;
    report.rows[1].runs = {run_of(0.13, 0.03125, 0.0675), run_of(0.5, 0.2, 0.2), run_of(0.12, 0.1, 0.1)};
    report.rows[1].repeat = 3;
    const auto doc = json_of(report);
    EXPECT_DOUBLE_EQ(doc["results"][1]["overhead_wall_per_call_ns"].get<double>(), 30'000);
    EXPECT_DOUBLE_EQ(doc["results"][1]["overhead_loop_cpu_per_call_ns"].get<double>(), -8'750);
    EXPECT_DOUBLE_EQ(doc["results"][1]["cores_max"].get<double>(), 0.2 / 0.12);
}

TEST(ReportOverhead, IsUnknownWithoutAnInlineRowOfTheSameWorkPlacementAndRate) {
    const auto unknown = [](const Report& report) {
        const std::string text = table_of(report);
        EXPECT_EQ(cell(text, "epoll", "+Wall/call"), "-") << text;
        EXPECT_EQ(cell(text, "epoll", "+Loop/call"), "-") << text;
        const auto doc = json_of(report);
        const auto& row = doc["results"].back();
        EXPECT_TRUE(row["overhead_wall_per_call_ns"].is_null()) << row.dump();
        EXPECT_TRUE(row["overhead_loop_cpu_per_call_ns"].is_null()) << row.dump();
        EXPECT_TRUE(row["cores"].is_number()) << row.dump();  // its own figure still stands
    };
    Report none = known_report();
    none.rows.erase(none.rows.begin());
    unknown(none);

    Report other_work = known_report();
    other_work.rows[0].config.work = Work::parse("none");
    unknown(other_work);

    Report other_placement = known_report();
    other_placement.rows[0].config.placement = {"same", 0, 0, {0}};
    unknown(other_placement);

    Report other_rate = known_report();
    other_rate.rows[1].config.rate = 1000;
    unknown(other_rate);

    Report failed_inline = known_report();
    failed_inline.rows[0].status = RowStatus::failed;
    failed_inline.rows[0].reason = "lost wake-up";
    unknown(failed_inline);

    // With an inline row per placement, each handoff row takes its own.
    Report two = known_report();
    RowResult split_inline = two.rows[0];
    split_inline.config.placement = {"split", 0, 1, {1}};
    split_inline.runs = {run_of(0.05, 0.04, 0)};
    RowResult split_row = two.rows[1];
    split_row.config.placement = split_inline.config.placement;
    two.rows.push_back(split_inline);
    two.rows.push_back(split_row);
    const auto doc = json_of(two);
    EXPECT_DOUBLE_EQ(doc["results"][1]["overhead_wall_per_call_ns"].get<double>(), 30'000);
    EXPECT_DOUBLE_EQ(doc["results"][3]["overhead_wall_per_call_ns"].get<double>(), 80'000);
}

// SameCPU known for every call of every run, all cross-CPU but run `index`'s:
// a bimodal row, marked ~.
void make_bimodal(RowResult& row, std::size_t index) {
    for (std::size_t i = 0; i < row.runs.size(); ++i) {
        row.runs[i].cpu_known_calls = row.runs[i].calls;
        row.runs[i].same_cpu_calls = i == index ? row.runs[i].calls : 0;
    }
}

// A sweep's worst realistic case: the longest preset names, two placements
// (two inline rows), a floor, five repetitions with wide marks, p99 in ms.
Report realistic_sweep() {
    Report report = synthetic_report("vm", {});
    std::vector<std::vector<double>> spreads{{101e3, 99e3, 104e3, 100e3, 180e3}, {30e3, 31e3, 29e3, 30e3, 30e3}};
    const Placement same{"same", 0, 0, {0}}, split{"split", 0, 1, {1}};
    for (const Placement& where : {same, split}) {
        RowResult inline_row = synthetic_row("inline", TargetKind::dedicated, {101e3, 99e3, 104e3, 100e3, 102e3});
        inline_row.config.placement = where;
        inline_row.config.work = Work::parse("sleep0");
        report.rows.push_back(inline_row);
    }
    RowResult floor = synthetic_row("floor", TargetKind::dedicated, {70, 72, 69, 71, 70});
    floor.config.placement = split;
    floor.config.work = Work::parse("sleep0");  // a reference row is like the others
    report.rows.push_back(floor);
    for (const char* design : {"spin-park:2us", "futex-gated", "adaptive", "classic", "eventfd", "inplace"}) {
        for (const Placement& where : {same, split}) {
            RowResult row = synthetic_row("epoll", TargetKind::dedicated, spreads[where.name == "split"]);
            row.config.design = parse_design(design);
            row.config.placement = where;
            row.config.work = Work::parse("sleep0");
            make_bimodal(row, 4);
            report.rows.push_back(row);
        }
    }
    return report;
}

// The main command's shape: four loops, two targets, free, with a floor;
// open loop (at 10k calls a second: the Rate column too) when `rate`.
Report realistic_main(bool rate = false) {
    Report report = synthetic_report("vm", {});
    report.rows.push_back(synthetic_row("inline", TargetKind::dedicated, {83.82e3, 84e3, 83e3, 85e3, 84e3}));
    RowResult floor = synthetic_row("floor", TargetKind::dedicated, {70, 72, 69, 71, 70});
    floor.config.placement = {"split", 0, 1, {1}};
    report.rows.push_back(floor);
    for (const char* backend : {"epoll", "uring", "uv", "asio"}) {
        for (const TargetKind target : {TargetKind::dedicated, TargetKind::pool}) {
            RowResult row = synthetic_row(backend, target, {101.07e3, 98e3, 250e3, 100e3, 99e3});
            make_bimodal(row, 2);
            report.rows.push_back(row);
        }
    }
    for (RowResult& row : report.rows) {
        row.config.work = Work::parse("sleep0");
        if (!rate) continue;
        row.config.rate = 10'000;
        // At a rate the repetitions differ in CPU (their median is by
        // Cores): the 100 us one is the median here, as by wall.
        const double cpu_scale[] = {0.8, 0.9, 1.2, 1.0, 1.1};
        for (std::size_t i = 0; i < row.runs.size(); ++i) {
            Measurement& run = row.runs[i];
            run.rate_asked = 10'000;
            run.cpu_loop_s *= cpu_scale[i % 5];
            run.cpu_worker_s *= cpu_scale[i % 5];
            run.cpu_total_s = run.cpu_loop_s + run.cpu_worker_s + run.wall_s / 4;
        }
    }
    return report;
}

TEST(TableColumns, TheDefaultTableFitsIn120Characters) {
    for (const Report& report : {realistic_sweep(), realistic_main(), realistic_main(true)}) {
        const std::string text = table_of(report);
        const std::vector<std::string> lines = table_lines(text);
        ASSERT_EQ(lines.size(), report.rows.size() + 1) << text;
        // An open-loop run's Rate column ("9.98k/10k") adds 11.
        const std::size_t limit = report.rows.back().config.open_loop() ? 131 : 120;
        for (const std::string& line : lines) EXPECT_LE(line.size(), limit) << line << "\n" << text;
        for (const char* title : {"Wall/call", "+Wall/call", "CPU/call", "+Loop/call", "Cores", "p50", "p99",
                                  "Spread"}) {  // and Rate in the main one, SameCPU in the main one
            EXPECT_NE(lines[0].find(title), std::string::npos) << title << "\n" << text;
        }
        EXPECT_EQ(lines[0].find("xFloor"), std::string::npos) << text;
        EXPECT_EQ(lines[0].find("CpuTotal"), std::string::npos) << text;
    }
    // The sweep's rows all run dedicated: the target is said once, above.
    const std::string sweep = table_of(realistic_sweep());
    EXPECT_EQ(table_lines(sweep)[0].find("Target"), std::string::npos) << sweep;
    EXPECT_NE(sweep.find("target dedicated"), std::string::npos) << sweep;
    EXPECT_NE(table_lines(sweep)[0].find("Design"), std::string::npos) << sweep;
    EXPECT_NE(table_lines(table_of(realistic_main(true)))[0].find("Rate"), std::string::npos);
    EXPECT_EQ(table_lines(table_of(realistic_main()))[0].find("Rate"), std::string::npos);
    // Free rows can change regime: SameCPU says which they ran in.
    EXPECT_NE(table_lines(table_of(realistic_main()))[0].find("SameCPU"), std::string::npos);
    EXPECT_EQ(table_lines(sweep)[0].find("SameCPU"), std::string::npos) << sweep;
}

TEST(TableColumns, TheLegendExplainsEveryColumnShown) {
    for (Report report : {realistic_sweep(), realistic_main(true)}) {
        for (const bool wide : {false, true}) {
            report.options.wide = wide;
            const std::string text = table_of(report);
            const std::string legend = text.substr(text.find("\n\n", text.find("Backend")));
            for (const std::string& title : cells_of(table_lines(text)[0])) {
                if (title == "Backend" || title == "Target" || title == "Design" || title == "Work" ||
                    title == "InFlight" || title == "Placement") {
                    continue;  // they tell rows apart: their values say what they are
                }
                const bool defined = legend.find(title + ":") != std::string::npos ||
                                     (title == "p50" && legend.find("p50, p99:") != std::string::npos);
                EXPECT_TRUE(defined) << title << "\n" << text;
            }
        }
    }
}

TEST(TableColumns, WideShowsEveryColumn) {
    Report report = realistic_main(true);
    report.options.wide = true;
    const std::string text = table_of(report);
    const std::vector<std::string> titles = cells_of(table_lines(text).at(0));
    for (const char* identity : {"Backend", "Target", "Placement"}) {
        EXPECT_NE(std::find(titles.begin(), titles.end(), identity), titles.end()) << identity << "\n" << text;
    }
    for (const TableColumn& column : table_columns()) {
        EXPECT_NE(std::find(titles.begin(), titles.end(), column.name), titles.end()) << column.name << "\n" << text;
    }
    EXPECT_EQ(titles.size(), table_columns().size() + 3) << text;
    EXPECT_EQ(cell(text, "epoll", "Allocs/call"), "n/a") << text;
    EXPECT_EQ(cell(text, "epoll", "Rate"), "10k/10k") << text;
}

TEST(TableColumns, ColumnsPicksThemInTheOrderGiven) {
    Report report = realistic_main();
    report.options.columns = {"p99", "Wall/call", "Cores"};
    const std::string text = table_of(report);
    EXPECT_EQ(cells_of(table_lines(text).at(0)), (std::vector<std::string>{"Backend", "Target", "p99", "Wall/call", "Cores"}))
        << text;
    EXPECT_EQ(text.find("SameCPU:"), std::string::npos) << text;  // the legend: only what is shown
    EXPECT_NE(text.find("Cores: (CpuEvtLoop + CpuWorker) / Wall"), std::string::npos) << text;
    // Markdown follows the table; JSON and CSV keep everything.
    std::ostringstream markdown;
    write_markdown(markdown, report);
    EXPECT_NE(markdown.str().find("| Backend | Target | p99 | Wall/call | Cores |"), std::string::npos) << markdown.str();
    const auto doc = json_of(report);
    EXPECT_TRUE(doc["results"][2].contains("cpu_total_s"));
    EXPECT_TRUE(doc["results"][2].contains("same_cpu_share"));
    std::ostringstream csv;
    write_csv(csv, report);
    EXPECT_NE(csv.str().find(",cores,cores_min,cores_max,"), std::string::npos);
}

TEST(TableColumns, ParseColumnsAcceptsTheListedNamesInAnyCase) {
    EXPECT_EQ(parse_columns("p99,wall/call,CORES,+loop/call"),
              (std::vector<std::string>{"p99", "Wall/call", "Cores", "+Loop/call"}));
    EXPECT_EQ(parse_columns("Backend,p50,p50,Target"), (std::vector<std::string>{"p50"}));  // identity: always there
    for (const char* bad : {"p98", "", "p50,", "Backend", "wall per call"}) {
        EXPECT_THROW(parse_columns(bad), std::invalid_argument) << bad;
    }
    try {
        parse_columns("nope");
        FAIL();
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        EXPECT_NE(what.find("'nope'"), std::string::npos) << what;
        EXPECT_NE(what.find("+Wall/call"), std::string::npos) << what;
        EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
}

TEST(TableColumns, RateShowsAchievedOverAskedForOpenLoopRows) {
    Report report = known_report();
    for (RowResult& row : report.rows) {
        row.config.rate = 10'000;
        row.runs[0].rate_asked = 10'000;
        row.runs[0].wall_s = 1000 / 9'980.0;  // 9980 calls/s achieved
    }
    report.rows[1].runs[0].allocations = 1500;
    report.rows[1].runs[0].allocations_known = true;
    const std::string text = table_of(report);
    EXPECT_EQ(cell(text, "epoll", "Rate"), "9.98k/10k") << text;
    const auto doc = json_of(report);
    EXPECT_DOUBLE_EQ(doc["results"][1]["rate_asked"].get<double>(), 10'000);
    EXPECT_NEAR(doc["results"][1]["rate_achieved"].get<double>(), 9'980, 1e-6);
    EXPECT_DOUBLE_EQ(doc["results"][1]["rate"].get<double>(), 10'000);
    EXPECT_EQ(doc["results"][1]["arrival"], "fixed");
    EXPECT_EQ(doc["results"][1]["await"], "callback");
    EXPECT_DOUBLE_EQ(doc["results"][1]["allocs_per_call"].get<double>(), 1.5);
    EXPECT_TRUE(doc["results"][0]["allocs_per_call"].is_null());
    report.options.wide = true;
    EXPECT_EQ(cell(table_of(report), "epoll", "Allocs/call"), "1.50");
    EXPECT_EQ(cell(table_of(report), "inline", "Allocs/call"), "n/a");
    // Closed loop: no Rate column by default.
    EXPECT_EQ(table_of(known_report()).find("Rate"), std::string::npos);
}

TEST(TableColumns, CompareTellsRowsOfAnotherRateApart) {
    Report report = known_report();
    RowResult open_loop = report.rows[1];
    open_loop.config.rate = 5'000;
    open_loop.config.arrival = ArrivalKind::poisson;
    report.rows.push_back(open_loop);
    const ResultFile file = parse_result_text(testing_support::result_json(report), "r.json");
    ASSERT_EQ(file.rows.size(), 3u);
    EXPECT_DOUBLE_EQ(file.rows[2].rate, 5'000);
    EXPECT_EQ(file.rows[2].arrival, "poisson");
    EXPECT_EQ(file.rows[2].await_mode, "callback");
    EXPECT_FALSE(file.rows[1].same_configuration(file.rows[2]));
    EXPECT_TRUE(file.rows[1].same_configuration(file.rows[1]));
}

TEST(TableColumns, ASweepSortsCheapestFirstWithinEachInflightLevel) {
    std::vector<RowResult> rows;
    for (const std::uint32_t level : {16u, 1u}) {
        for (const double ns : {300.0, 100.0, 200.0}) {
            rows.push_back(synthetic_row("epoll", TargetKind::dedicated, {ns * level}));
            rows.back().config.inflight = level;
        }
    }
    sort_by_wall_per_call(rows);
    std::vector<std::pair<std::uint32_t, double>> order;
    for (const RowResult& row : rows) {
        order.emplace_back(row.config.inflight, report_detail::row_figure(row, "wall_per_call_ns"));
    }
    EXPECT_EQ(order, (std::vector<std::pair<std::uint32_t, double>>{
                         {1, 100}, {1, 200}, {1, 300}, {16, 1600}, {16, 3200}, {16, 4800}}));
    Report report = synthetic_report("lab", rows);
    const std::string text = table_of(report);
    EXPECT_NE(table_lines(text).at(0).find("InFlight"), std::string::npos) << text;
}

}  // namespace
}  // namespace handoff
