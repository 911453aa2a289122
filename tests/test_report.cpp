#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "report/report.hpp"
#include "report/figures.hpp"

#include <fmt/format.h>

namespace handoff {
namespace {

// Binary-exact figures, so every printed number is predictable.
Measurement known_run(double wall_s = 0.5) {
    Measurement m;
    m.calls = 1000;
    m.wall_s = wall_s;
    m.cpu_total_s = 0.75;
    m.cpu_loop_s = 0.25;
    m.cpu_worker_s = 0.375;
    m.loop_switches = {1000, 3};
    m.worker_switches = {1001, 2};
    m.same_cpu_calls = 250;
    m.cpu_known_calls = 1000;
    m.worker_threads = 1;
    return m;
}

RowResult row(std::string backend, TargetKind target, RowStatus status, std::string reason) {
    RowResult r;
    r.config.backend = std::move(backend);
    r.config.target = target;
    r.config.work = Work::parse("sleep0");
    r.config.calls = 1000;
    r.status = status;
    r.reason = std::move(reason);
    return r;
}

const std::string failed_reason = "lost wake-up, 1 call \"outstanding\"";
const std::string unavailable_reason = "disabled by HANDOFF_DISABLE_BACKENDS";

Report sample_report() {
    Report report;
    report.context.command_line = "handoff --format json";
    report.context.date = "2026-11-22T13:45:00Z";
    report.context.host = "lab";
    report.context.cpu_model = "Test CPU";
    report.context.online_cpus = 2;
    report.context.kernel = "6.18.0 #1 SMP";
    report.context.lab_version = "0.1.0";
    report.context.libraries = {{"fmt", "9.1.0"}};

    RowResult ok = row("epoll", TargetKind::dedicated, RowStatus::ok, "");
    ok.mechanism = "mutex fifo + condvar -> eventfd";
    ok.runs = {known_run()};
    report.rows.push_back(ok);
    report.rows.push_back(row("uring", TargetKind::pool, RowStatus::failed, failed_reason));
    report.rows.push_back(row("uv", TargetKind::dedicated, RowStatus::unavailable, unavailable_reason));
    return report;
}

template <class Writer>
std::string render(Writer writer, const Report& report) {
    std::ostringstream out;
    writer(out, report);
    return out.str();
}

TEST(Report, MedianIsTheMiddleValue) {
    EXPECT_EQ(report_detail::median({0.3, 0.1, 0.2}), 0.2);
    EXPECT_EQ(report_detail::median({4, 1, 3, 2}), 2.5);
    EXPECT_TRUE(std::isnan(report_detail::median({})));
}

TEST(Report, ParsesFormatNames) {
    EXPECT_EQ(parse_format("table"), Format::table);
    EXPECT_EQ(parse_format("json"), Format::json);
    EXPECT_EQ(parse_format("csv"), Format::csv);
    EXPECT_EQ(parse_format("markdown"), Format::markdown);
    EXPECT_THROW(parse_format("xml"), std::invalid_argument);
    EXPECT_EQ(format_for_path("a/b.json"), Format::json);
    EXPECT_EQ(format_for_path("b.csv"), Format::csv);
    EXPECT_EQ(format_for_path("b.md"), Format::markdown);
    EXPECT_EQ(format_for_path("b.txt"), Format::table);
    EXPECT_EQ(format_for_path("json"), Format::table);
}

// "v,v,v": a figure's median, min and max, equal for a single run.
std::string thrice(const std::string& value) { return value + "," + value + "," + value; }

TEST(Report, CsvHasOneFlatLinePerRow) {
    std::string figures_header;
    for (const char* key : {"wall_s", "cpu_total_s", "cpu_loop_s", "cpu_worker_s", "cpu_other_s", "loop_vcsw",
                            "loop_ivcsw", "worker_vcsw", "worker_ivcsw", "worker_threads", "same_cpu_share",
                            "wall_per_call_ns", "loop_cpu_per_call_ns", "worker_cpu_per_call_ns",
                            "switches_per_call", "calls_per_s", "lat_p50_ns", "lat_p90_ns", "lat_p99_ns",
                            "lat_p999_ns", "lat_max_ns", "lat_samples", "failed_calls", "timed_out_calls",
                            "cancelled_calls", "late_results", "total_cpu_per_call_ns", "cores", "allocs_per_call",
                            "rate_asked", "rate_achieved"}) {
        figures_header += fmt::format("{0},{0}_min,{0}_max,", key);
    }
    const std::string header =
        "backend,target,design,work,calls,repeat,inflight,threads,placement,pin,timeout_ns,rate,arrival,await,"
        "mechanism," +
        figures_header +
        "overhead_wall_per_call_ns,overhead_loop_cpu_per_call_ns,spread,warnings,cpu_total_caveat,runs_left_out,"
        "left_out_reason,errors,status,reason\n";
    std::string ok_figures;
    for (const char* value : {"0.5", "0.75", "0.25", "0.375", "0.125", "1000", "3", "1001", "2", "1", "0.25",
                              "500000", "250000", "375000", "2.006", "2000", "", "", "", "", "", "0", "0", "0", "0",
                              "0", "750000", "1.25", "", "0", "2000"}) {
        ok_figures += thrice(value) + ",";
    }
    const std::string no_figures(31 * 3 + 2, ',');  // every figure, and the overhead (no inline row)
    const std::string context = "# date=2026-11-22T13:45:00Z host=lab commit= command=handoff --format json\n";
    const std::string expected =
        context + header +
        "epoll,dedicated,classic,sleep0,1000,1,1,4,free,,0,0,fixed,callback,mutex fifo + condvar -> eventfd," +
        ok_figures + ",,,,,0,,0,ok,\n"
        "uring,pool,-,sleep0,1000,1,1,4,free,,0,0,fixed,callback,," + no_figures +
        ",,,0,,0,failed,\"lost wake-up, 1 call \"\"outstanding\"\"\"\n"
        "uv,dedicated,classic,sleep0,1000,1,1,4,free,,0,0,fixed,callback,," + no_figures +
        ",,,0,,0,unavailable,disabled by HANDOFF_DISABLE_BACKENDS\n";
    EXPECT_EQ(render(write_csv, sample_report()), expected);
    EXPECT_EQ(render(write_csv, Report{}), "# date= host= commit= command=\n" + header);
}

// The cells of `key` in every data line of a CSV text (the context line and
// the header skipped), for quick-and-simple rows without quoted commas.
std::vector<std::string> csv_column(const std::string& text, const std::string& key) {
    std::vector<std::vector<std::string>> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.starts_with("#")) continue;
        std::vector<std::string> cells;
        std::istringstream fields(line);
        for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
        lines.push_back(cells);
    }
    const auto at = std::find(lines.front().begin(), lines.front().end(), key) - lines.front().begin();
    std::vector<std::string> column;
    for (std::size_t i = 1; i < lines.size(); ++i) column.push_back(lines[i].at(std::size_t(at)));
    return column;
}

TEST(Report, CsvNumbersAreRoundedToWhatTheyMean) {
    Report report = sample_report();
    report.rows.resize(1);
    Measurement m = known_run();
    m.wall_s = 0.1234567891234;        // ns clock: 9 decimals
    m.cpu_loop_s = 0.0000000004;       // below a ns: 0
    m.same_cpu_calls = 333;            // 0.333 of 1000
    m.cpu_known_calls = 999;           // 1/3
    report.rows[0].runs = {m};
    const std::string text = render(write_csv, report);
    EXPECT_EQ(csv_column(text, "wall_s"), std::vector<std::string>{"0.123456789"});
    EXPECT_EQ(csv_column(text, "wall_s_max"), std::vector<std::string>{"0.123456789"});
    EXPECT_EQ(csv_column(text, "cpu_loop_s"), std::vector<std::string>{"0"});
    EXPECT_EQ(csv_column(text, "wall_per_call_ns"), std::vector<std::string>{"123457"});  // 123456.789...
    EXPECT_EQ(csv_column(text, "loop_cpu_per_call_ns"), std::vector<std::string>{"0"});
    EXPECT_EQ(csv_column(text, "same_cpu_share"), std::vector<std::string>{"0.3333"});
    EXPECT_EQ(csv_column(text, "calls_per_s"), std::vector<std::string>{"8100"});  // 8100.00007...
    EXPECT_EQ(csv_column(text, "loop_vcsw"), std::vector<std::string>{"1000"});  // counts stay counts
    // JSON keeps every digit: CSV rounds for reading, JSON is the record.
    EXPECT_EQ(nlohmann::json::parse(render(write_json, report))["results"][0]["runs"][0]["wall_s"], 0.1234567891234);
}

TEST(Report, CsvContextLineCarriesDateHostCommitAndCommandOnOneLine) {
    Report report = sample_report();
    report.context.git_commit = "0284f357f0f8+dirty";
    report.context.command_line = "handoff --work 'sleep0'\n--count 10";  // a line break must not end the line
    report.partial = true;
    const std::string text = render(write_csv, report);
    const std::string first = text.substr(0, text.find('\n'));
    EXPECT_EQ(first, "# date=2026-11-22T13:45:00Z host=lab commit=0284f357f0f8+dirty partial=true "
                     "command=handoff --work 'sleep0'?--count 10");
    EXPECT_TRUE(text.substr(first.size() + 1).starts_with("backend,target,"));
}

TEST(Report, CsvJoinsWarningsAndGivesTheSpread) {
    Report report = sample_report();
    report.rows.resize(1);
    report.rows[0].repeat = 2;
    report.rows[0].runs = {known_run(0.5), known_run(1.0)};  // 2x apart: wide
    const std::string text = render(write_csv, report);
    EXPECT_NE(text.find(",2,wide,,0,,0,ok,\n"), std::string::npos) << text;
    report.rows[0].runs[1].same_cpu_calls = 1000;  // 25% then 100%: bimodal too
    EXPECT_NE(render(write_csv, report).find(",2,wide;bimodal,,0,,0,ok,\n"), std::string::npos);
}

TEST(Report, JsonParsesBackWithNullFiguresForRowsThatAreNotOk) {
    const std::string text = render(write_json, sample_report());
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    const auto doc = nlohmann::json::parse(text);

    EXPECT_EQ(doc["schema"], "handoff/1");
    const auto& context = doc["context"];
    EXPECT_EQ(context["command_line"], "handoff --format json");
    EXPECT_EQ(context["date"], "2026-11-22T13:45:00Z");
    EXPECT_EQ(context["host"], "lab");
    EXPECT_EQ(context["cpu_model"], "Test CPU");
    EXPECT_EQ(context["online_cpus"], 2);
    EXPECT_EQ(context["kernel"], "6.18.0 #1 SMP");
    EXPECT_EQ(context["lab_version"], "0.1.0");
    EXPECT_EQ(context["libraries"]["fmt"], "9.1.0");

    const auto& results = doc["results"];
    ASSERT_EQ(results.size(), 3u);
    const auto& ok = results[0];
    EXPECT_EQ(ok["backend"], "epoll");
    EXPECT_EQ(ok["target"], "dedicated");
    EXPECT_EQ(ok["design"], "classic");
    EXPECT_EQ(ok["work"], "sleep0");
    EXPECT_EQ(ok["calls"], 1000);
    EXPECT_EQ(ok["inflight"], 1);
    EXPECT_EQ(ok["threads"], 4);
    EXPECT_EQ(ok["mechanism"], "mutex fifo + condvar -> eventfd");
    EXPECT_EQ(ok["wall_s"], 0.5);
    EXPECT_EQ(ok["cpu_total_s"], 0.75);
    EXPECT_EQ(ok["cpu_loop_s"], 0.25);
    EXPECT_EQ(ok["cpu_worker_s"], 0.375);
    EXPECT_EQ(ok["cpu_other_s"], 0.125);
    EXPECT_EQ(ok["loop_vcsw"], 1000);
    EXPECT_EQ(ok["loop_ivcsw"], 3);
    EXPECT_EQ(ok["worker_vcsw"], 1001);
    EXPECT_EQ(ok["worker_ivcsw"], 2);
    EXPECT_EQ(ok["worker_threads"], 1);
    EXPECT_EQ(ok["same_cpu_share"], 0.25);
    EXPECT_EQ(ok["wall_per_call_ns"], 500000.0);
    EXPECT_EQ(ok["errors"], 0);
    EXPECT_EQ(ok["status"], "ok");
    EXPECT_EQ(ok["reason"], "");
    ASSERT_EQ(ok["runs"].size(), 1u);
    EXPECT_EQ(ok["runs"][0]["wall_s"], 0.5);
    EXPECT_EQ(ok["runs"][0]["worker_vcsw"], 1001);

    const auto& failed = results[1];
    EXPECT_EQ(failed["backend"], "uring");
    EXPECT_EQ(failed["target"], "pool");
    EXPECT_EQ(failed["status"], "failed");
    EXPECT_EQ(failed["reason"], failed_reason);
    for (const char* key : {"wall_s", "cpu_total_s", "cpu_loop_s", "cpu_worker_s", "cpu_other_s", "loop_vcsw",
                            "loop_ivcsw", "worker_vcsw", "worker_ivcsw", "worker_threads", "same_cpu_share",
                            "wall_per_call_ns"}) {
        ASSERT_TRUE(failed.contains(key)) << key;
        EXPECT_TRUE(failed[key].is_null()) << key;
        EXPECT_TRUE(ok[key].is_number()) << key;
    }
    EXPECT_TRUE(failed["runs"].empty());
    EXPECT_EQ(results[2]["status"], "unavailable");
    EXPECT_EQ(results[2]["reason"], unavailable_reason);
}

TEST(Report, JsonFiguresAreTheMedianRunsOverRuns) {
    Report report = sample_report();
    report.rows[0].runs = {known_run(0.3), known_run(0.1), known_run(0.2)};
    const auto doc = nlohmann::json::parse(render(write_json, report));
    EXPECT_EQ(doc["results"][0]["wall_s"], 0.2);
    ASSERT_EQ(doc["results"][0]["runs"].size(), 3u);
    EXPECT_EQ(doc["results"][0]["runs"][1]["wall_s"], 0.1);
}

TEST(Report, TableShowsEveryRowAndWhyRowsHaveNoFigures) {
    const std::string text = render(write_table, sample_report());
    for (const char* name : {"epoll", "uring", "uv"}) EXPECT_NE(text.find(name), std::string::npos) << name;
    EXPECT_NE(text.find("failed: " + failed_reason), std::string::npos) << text;
    EXPECT_NE(text.find("unavailable: " + unavailable_reason), std::string::npos) << text;
    EXPECT_NE(text.find("500.00 us"), std::string::npos) << text;  // Wall/call
    EXPECT_NE(text.find("750.00 us"), std::string::npos) << text;  // CPU/call
    EXPECT_NE(text.find("1.25"), std::string::npos) << text;       // Cores
    EXPECT_NE(text.find("25%"), std::string::npos) << text;        // SameCPU
    EXPECT_EQ(text.find("0.500"), std::string::npos) << text;      // Wall: only with --wide
    Report wide = sample_report();
    wide.options.wide = true;
    EXPECT_NE(render(write_table, wide).find("0.500"), std::string::npos) << render(write_table, wide);
    EXPECT_NE(text.find("epoll dedicated: mutex fifo + condvar -> eventfd"), std::string::npos) << text;
    EXPECT_NE(text.find("work sleep0, 1000 calls"), std::string::npos) << text;
}

TEST(Report, WriteReportDispatchesOnFormat) {
    const Report report = sample_report();
    std::ostringstream csv;
    write_report(csv, report, Format::csv);
    EXPECT_EQ(csv.str(), render(write_csv, report));
    std::ostringstream json;
    write_report(json, report, Format::json);
    EXPECT_EQ(json.str(), render(write_json, report));
}

TEST(Report, TotalsAreTheMedianPerCallTimesTheRowsCalls) {
    // Three repetitions of 1001, 1000 and 999 calls at 1, 2 and 4 us a call:
    // the row's 3000 calls cost the median 2 us each, its min 1 us, max 4 us.
    RowResult row = sample_report().rows[0];
    row.config.calls = 3000;
    row.repeat = 3;
    const std::uint64_t calls[] = {1001, 1000, 999};
    const double us[] = {1, 2, 4};
    row.runs.clear();
    for (int i = 0; i < 3; ++i) {
        Measurement m = known_run();
        m.calls = calls[i];
        m.wall_s = us[i] * 1e-6 * double(calls[i]);
        m.loop_switches = {calls[i] * 2, 0};  // two per call
        row.runs.push_back(m);
    }
    const auto summary = report_detail::summarize(row, report_detail::figure_def("wall_s"));
    EXPECT_DOUBLE_EQ(summary.median, 0.006);
    EXPECT_DOUBLE_EQ(summary.min, 0.003);
    EXPECT_DOUBLE_EQ(summary.max, 0.012);
    EXPECT_DOUBLE_EQ(report_detail::row_figure(row, "loop_vcsw"), 6000);
    // Per-call figures and rates are plain medians.
    EXPECT_DOUBLE_EQ(report_detail::row_figure(row, "wall_per_call_ns"), 2000);
    EXPECT_DOUBLE_EQ(report_detail::row_figure(row, "calls_per_s"), 500000);

    Report report = sample_report();
    report.rows = {row};
    const auto doc = nlohmann::json::parse(render(write_json, report));
    const auto& result = doc["results"][0];
    EXPECT_DOUBLE_EQ(result["wall_s"].get<double>(), 0.006);
    EXPECT_DOUBLE_EQ(result["wall_s_min"].get<double>(), 0.003);
    EXPECT_DOUBLE_EQ(result["wall_s_max"].get<double>(), 0.012);
    EXPECT_EQ(result["loop_vcsw"], 6000);
    EXPECT_EQ(result["repeat"], 3);
    EXPECT_DOUBLE_EQ(result["spread"].get<double>(), 4.0);
    EXPECT_EQ(result["warnings"], nlohmann::json::array({"wide"}));
    ASSERT_EQ(result["runs"].size(), 3u);
    EXPECT_EQ(result["runs"][0]["calls"], 1001);
    EXPECT_EQ(result["runs"][2]["calls"], 999);
}

TEST(Report, OneRunIsExactlyItsMeasuredInterval) {
    Report report = sample_report();
    report.rows.resize(1);
    report.rows[0].runs[0].wall_s = 0.1;  // 0.1 / 1000 * 1000 is not 0.1 in binary
    const auto doc = nlohmann::json::parse(render(write_json, report));
    EXPECT_EQ(doc["results"][0]["wall_s"], 0.1);
    EXPECT_EQ(doc["results"][0]["wall_s_min"], 0.1);
    EXPECT_TRUE(doc["results"][0]["spread"].is_null());
    EXPECT_EQ(doc["results"][0]["warnings"], nlohmann::json::array());
}

TEST(Report, MarkdownIsAGithubTableWithTheLegend) {
    Report report = sample_report();
    report.rows[1].reason = "a | b";  // a bar in a reason must not split the row
    const std::string expected =
        "work sleep0, 1000 calls, in-flight 1; 2026-11-22T13:45:00Z on lab; Test CPU, 2 online CPUs; kernel 6.18.0 "
        "#1 SMP\n\n"
        "handoff 0.1.0, fmt 9.1.0\n\n"
        "| Backend | Target | Wall/call | +Wall/call | CPU/call | +Loop/call | Cores | SameCPU | p50 | p99 |\n"
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        "| epoll | dedicated | 500.00 us | - | 750.00 us | - | 1.25 | 25% | - | - |\n"
        "| uring | pool | failed: a \\| b |  |  |  |  |  |  |  |\n"
        "| uv | dedicated | unavailable: disabled by HANDOFF_DISABLE_BACKENDS |  |  |  |  |  |  |  |\n"
        "\n"
        "- Figures: one run each.\n"
        "- Wall/call: wall time per call, what one call costs end to end.\n"
        "- +Wall/call: Wall/call minus the inline row's (same work, placement, rate; - without one): the wall time "
        "the handoff adds.\n"
        "- CPU/call: CpuTotal per call: the CPU a call costs, every thread.\n"
        "- +Loop/call: Loop/call minus the inline row's: the loop thread's CPU the handoff adds (negative: the loop "
        "no longer runs the work).\n"
        "- Cores: (CpuEvtLoop + CpuWorker) / Wall: CPUs kept busy, idle time between calls included.\n"
        "- SameCPU: share of the calls whose worker ran on the CPU the loop sent from.\n"
        "- p50, p99: round trip of one call, sent to back on the loop thread, from every call of every repetition "
        "(a timed-out call counts until it came back); log-linear histogram, <1.6% error.\n"
        "- epoll dedicated: mutex fifo + condvar -> eventfd\n";
    EXPECT_EQ(render(write_markdown, report), expected);
    std::ostringstream dispatched;
    write_report(dispatched, report, Format::markdown);
    EXPECT_EQ(dispatched.str(), expected);
    // --wide: the same columns as the wide text table, the legend with them.
    report.options.wide = true;
    const std::string wide = render(write_markdown, report);
    EXPECT_NE(wide.find("| Backend | Target | Placement | Calls | Wall | CpuTotal | CpuEvtLoop | CpuWorker | Other | "
                        "Wall/call | +Wall/call | CPU/call | Loop/call | +Loop/call | Worker/call | Cores | CS/call | "
                        "SameCPU | Calls/s | Allocs/call | p50 | p99 |"),
              std::string::npos)
        << wide;
    EXPECT_NE(wide.find("| epoll | dedicated | free | 1000 | 0.500 | 0.750 | 0.250 | 0.375 | 0.125 | 500.00 us | - | "
                        "750.00 us | 250.00 us | - | 375.00 us | 1.25 | 2.01 | 25% | 2k | n/a | - | - |"),
              std::string::npos)
        << wide;
    EXPECT_NE(wide.find("- Other: CpuTotal - CpuEvtLoop - CpuWorker as printed (the parts are rounded to add up)"),
              std::string::npos)
        << wide;
}

TEST(Report, RepeatedRowsShowTheirSpreadAndMarks) {
    Report report = sample_report();
    report.rows.resize(1);
    report.rows[0].repeat = 3;
    report.rows[0].config.calls = 3000;
    report.rows[0].runs = {known_run(0.5), known_run(0.52), known_run(1.0)};
    report.rows[0].runs[2].same_cpu_calls = 1000;
    const std::string text = render(write_table, report);
    EXPECT_NE(text.find("Spread"), std::string::npos) << text;
    EXPECT_NE(text.find("2.00x!~"), std::string::npos) << text;
    EXPECT_NE(text.find("all from the median run of 3 by Wall/call"), std::string::npos) << text;
    EXPECT_NE(text.find("! wide (above 1.5x), ~ bimodal"), std::string::npos) << text;
    // Free and bimodal: told to pin, on the row's own line.
    EXPECT_NE(text.find("epoll dedicated: Spread 2.00x!~: SameCPU ranged 25% to 100% over the repetitions"),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("pin with --placement same or split"), std::string::npos) << text;
    EXPECT_NE(text.find("520.00 us"), std::string::npos) << text;  // Wall/call: the median run's
    report.options.wide = true;
    EXPECT_NE(render(write_table, report).find("1.560"), std::string::npos) << text;  // Wall: 0.52 s / 1000 calls x 3000
}

TEST(Report, APinnedRowWithOneDisturbedRepetitionIsNotToldToPin) {
    Report report = sample_report();
    report.rows.resize(1);
    RowResult& row = report.rows[0];
    row.config.placement = {"split", 0, 1, {1}};
    row.repeat = 5;
    row.config.calls = 5000;
    row.runs.clear();
    for (const double ns : {208, 208, 213, 211, 1651}) row.runs.push_back(known_run(ns * 1e-6));
    const std::string text = render(write_table, report);
    EXPECT_NE(text.find("epoll dedicated split: Spread 7.94x!: one repetition of 5 is 7.8x the others: a "
                        "disturbance; the row's figure is the median repetition's"),
              std::string::npos)
        << text;
    EXPECT_EQ(text.find("pin with"), std::string::npos) << text;
    const auto doc = nlohmann::json::parse(render(write_json, report));
    EXPECT_EQ(doc["results"][0]["warnings"], nlohmann::json::array({"wide", "outlier"}));
}

TEST(Report, APartialReportSaysSoAndNamesItsIncompleteRows) {
    Report report = sample_report();
    report.partial = true;
    report.interrupted_by = "SIGINT";
    report.rows[0].repeat = 5;
    report.rows[0].runs = {known_run(), known_run()};
    report.rows[2].status = RowStatus::interrupted;
    report.rows[2].reason = "the run was interrupted before this row's first repetition ended";
    const std::string text = render(write_table, report);
    EXPECT_NE(text.find("INTERRUPTED by SIGINT: partial results"), std::string::npos) << text;
    EXPECT_NE(text.find("Incomplete rows: epoll dedicated (2 of 5 repetitions), uv dedicated (not run)."),
              std::string::npos)
        << text;
    const auto doc = nlohmann::json::parse(render(write_json, report));
    EXPECT_EQ(doc["partial"], true);
    EXPECT_EQ(doc["results"][2]["status"], "interrupted");
    EXPECT_EQ(nlohmann::json::parse(render(write_json, sample_report()))["partial"], false);
}

}  // namespace
}  // namespace handoff
