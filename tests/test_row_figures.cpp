// How a row's figures are made from its repetitions: every interval figure
// from the median run (so the legend's identities hold in what is printed),
// counts summed, latency and SameCPU from every call of every repetition.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "report/report.hpp"
#include "latency_levels.hpp"
#include "report/figures.hpp"

namespace handoff {
namespace {

Measurement run(double wall_s, double total_s, double loop_s, double worker_s) {
    Measurement m;
    m.calls = 1000;
    m.wall_s = wall_s;
    m.cpu_total_s = total_s;
    m.cpu_loop_s = loop_s;
    m.cpu_worker_s = worker_s;
    m.worker_threads = 1;
    return m;
}

RowResult row_of(std::vector<Measurement> runs) {
    RowResult row;
    row.config.backend = "epoll";
    row.config.work = Work::parse("none");
    row.repeat = unsigned(runs.size());
    row.config.calls = 0;
    for (const Measurement& m : runs) row.config.calls += m.calls;
    row.runs = std::move(runs);
    return row;
}

nlohmann::json json_row(const RowResult& row) {
    Report report;
    report.rows = {row};
    std::ostringstream out;
    write_json(out, report);
    return nlohmann::json::parse(out.str())["results"][0];
}

std::string table_of(const RowResult& row, bool wide = false) {
    Report report;
    report.rows = {row};
    report.options.wide = wide;
    std::ostringstream out;
    write_table(out, report);
    return out.str();
}

double figure(const RowResult& row, std::string_view key) { return report_detail::row_figure(row, key); }

// Per-column medians of these runs would print CpuTotal 3, CpuEvtLoop 2,
// CpuWorker 2: Other -1, an identity broken and a negative CPU. The median
// run (by wall per call) is the second: 3 = 2 + 1, Other 0.
TEST(RowFigures, EveryIntervalFigureComesFromTheMedianRun) {
    const RowResult row = row_of({run(0.1, 3, 1, 2), run(0.2, 3, 2, 1), run(0.3, 5, 2, 3)});
    EXPECT_DOUBLE_EQ(figure(row, "wall_s"), 3 * 0.2);  // its per call times the row's 3000 calls
    EXPECT_DOUBLE_EQ(figure(row, "cpu_total_s"), 9);
    EXPECT_DOUBLE_EQ(figure(row, "cpu_loop_s"), 6);
    EXPECT_DOUBLE_EQ(figure(row, "cpu_worker_s"), 3);
    EXPECT_DOUBLE_EQ(figure(row, "cpu_other_s"), 0);
    EXPECT_DOUBLE_EQ(figure(row, "wall_per_call_ns"), 200'000);
    EXPECT_DOUBLE_EQ(figure(row, "loop_cpu_per_call_ns"), 2e6);
    const auto doc = json_row(row);
    EXPECT_DOUBLE_EQ(doc["cpu_other_s"].get<double>(),
                     doc["cpu_total_s"].get<double>() - doc["cpu_loop_s"].get<double>() - doc["cpu_worker_s"].get<double>());
    // The range still covers every run: Other's own values were 0, 0 and 0.
    EXPECT_DOUBLE_EQ(doc["cpu_total_s_min"].get<double>(), 9);
    EXPECT_DOUBLE_EQ(doc["cpu_total_s_max"].get<double>(), 15);
}

TEST(RowFigures, AnEvenCountTakesTheFasterOfTheMiddleTwo) {
    const RowResult row = row_of({run(0.4, 4, 1, 1), run(0.1, 1, 1, 0), run(0.3, 3, 1, 1), run(0.2, 2, 1, 1)});
    EXPECT_EQ(report_detail::representative_run(row), &row.runs[3]);
    EXPECT_DOUBLE_EQ(figure(row, "wall_per_call_ns"), 200'000);
}

// At a rate the arrivals set the wall time: the repetitions differ in the
// CPU they spent, and the median is by Cores (0.3, 0.5, 0.9: the second).
// Ranked by wall, the first would be the median: picked by the jitter of its
// last call.
TEST(RowFigures, AtARateTheMedianRunIsByCores) {
    RowResult row = row_of({run(0.100, 0.03, 0.02, 0.01), run(0.101, 0.05, 0.03, 0.02), run(0.099, 0.09, 0.05, 0.04)});
    row.config.rate = 10'000;
    for (Measurement& m : row.runs) m.rate_asked = 10'000;
    EXPECT_EQ(report_detail::representative_run(row), &row.runs[1]);
    EXPECT_DOUBLE_EQ(figure(row, "cpu_loop_s"), 0.03 * 3);  // its per call times the row's 3000 calls
    EXPECT_NE(table_of(row).find("at a rate, where the arrivals set the wall time: by Cores"), std::string::npos);
    // Repetitions that were not paced (the floor of a run at a rate, or back
    // to back): by wall per call.
    for (Measurement& m : row.runs) m.rate_asked = 0;
    EXPECT_EQ(report_detail::representative_run(row), &row.runs[0]);
    row.runs[1].wall_s = 0.0995;
    EXPECT_EQ(report_detail::representative_run(row), &row.runs[1]);
}

// The table's CpuTotal, CpuEvtLoop, CpuWorker and Other add up to the last
// digit and none is more than a millisecond off. Rounded each alone, these
// (83.4, 35.5, 47.5 ms; Other 0.4 ms) would print 0.083 - 0.036 - 0.048 =
// -0.001: a negative CPU from rounding.
TEST(RowFigures, TheTablesCpuColumnsAddUpAndOtherIsNeverNegative) {
    const RowResult row = row_of({run(0.5, 0.0834, 0.0355, 0.0475)});
    const std::string text = table_of(row, true);  // --wide: the CPU columns in seconds
    const std::string line = text.substr(text.find("\nepoll"));
    std::istringstream cells(line);
    std::string backend, target, placement, calls;
    double wall = 0, total = 0, loop = 0, worker = 0, other = 0;
    cells >> backend >> target >> placement >> calls >> wall >> total >> loop >> worker >> other;
    EXPECT_EQ(std::llround(total * 1e3), 83) << line;
    EXPECT_EQ(std::llround(total * 1e3), std::llround(loop * 1e3) + std::llround(worker * 1e3) + std::llround(other * 1e3))
        << line;
    EXPECT_GE(other, 0.0) << line;
    EXPECT_NEAR(loop, 0.0355, 0.001) << line;
    EXPECT_NEAR(worker, 0.0475, 0.001) << line;
}

// Timeouts in one repetition of five are counted, not lost in a median of
// zeros, and the identity timed out = cancelled + late holds in the row.
TEST(RowFigures, CountsAreSummedOverRepetitions) {
    std::vector<Measurement> runs(5, run(0.1, 0.2, 0.1, 0.1));
    runs[3].timed_out_calls = 3;
    runs[3].cancelled_calls = 1;
    runs[3].late_results = 2;
    runs[1].failed_calls = 7;
    const RowResult row = row_of(runs);
    EXPECT_EQ(figure(row, "timed_out_calls"), 3);
    EXPECT_EQ(figure(row, "cancelled_calls"), 1);
    EXPECT_EQ(figure(row, "late_results"), 2);
    EXPECT_EQ(figure(row, "failed_calls"), 7);
    const auto doc = json_row(row);
    EXPECT_EQ(doc["timed_out_calls"], 3);
    EXPECT_EQ(doc["timed_out_calls"].get<int>(),
              doc["cancelled_calls"].get<int>() + doc["late_results"].get<int>());
}

// One slow repetition's tail must show: its 10 calls at 236 us are above
// p99.9 of the 3000 pooled calls, and the maximum is the true maximum, not
// the median of the runs' maxima (which would say 1 us).
TEST(RowFigures, LatencyComesFromEveryCallOfEveryRepetition) {
    std::vector<Measurement> runs(3, run(0.1, 0.2, 0.1, 0.1));
    for (Measurement& m : runs) {
        for (int i = 0; i < 1000; ++i) m.latency.record(100);
    }
    LatencyHistogram slow;
    for (int i = 0; i < 990; ++i) slow.record(100);
    for (int i = 0; i < 10; ++i) slow.record(236'000);
    runs[2].latency = slow;
    const RowResult row = row_of(runs);
    EXPECT_EQ(figure(row, "lat_samples"), 3000);
    EXPECT_EQ(figure(row, "lat_p99_ns"), 100);
    EXPECT_EQ(figure(row, "lat_max_ns"), 236'000);
    EXPECT_NEAR(figure(row, "lat_p999_ns"), 236'000, 236'000 / 64.0);
    const auto doc = json_row(row);
    EXPECT_EQ(doc["lat_samples"], 3000);
    EXPECT_EQ(doc["lat_max_ns"], 236'000);
    EXPECT_EQ(doc["runs"][2]["lat_samples"], 1000);
}

// SameCPU is a share of the calls it was measured on, pooled: 100 of 100
// and 0 of 300 make 25%, not the 50% a median of shares would say, and a
// run whose calls all timed out unrun does not count as 0%.
TEST(RowFigures, SameCpuIsAShareOfTheCallsItWasMeasuredOn) {
    std::vector<Measurement> runs(3, run(0.1, 0.2, 0.1, 0.1));
    runs[0].same_cpu_calls = 100;
    runs[0].cpu_known_calls = 100;
    runs[1].cpu_known_calls = 300;
    runs[2].cpu_known_calls = 0;  // nothing ran
    const RowResult row = row_of(runs);
    EXPECT_DOUBLE_EQ(figure(row, "same_cpu_share"), 0.25);
    EXPECT_TRUE(json_row(row)["runs"][2]["same_cpu_share"].is_null());
}

TEST(RowFigures, ARepetitionLeftOutOfTheFloorIsShown) {
    RowResult row = row_of(std::vector<Measurement>(4, run(0.001, 0.002, 0.001, 0.001)));
    row.config = Configuration::reference(RowKind::floor, row.config);
    row.repeat = 5;
    row.runs_left_out = 1;
    row.left_out_reason = "machine busy: warm-up round trips averaged 40.0 us";
    const auto doc = json_row(row);
    EXPECT_EQ(doc["runs_left_out"], 1);
    EXPECT_EQ(doc["runs"].size(), 4u);
    EXPECT_NE(table_of(row).find("floor: measured in 4 of 5 repetitions, 1 left out (machine busy"),
              std::string::npos)
        << table_of(row);
}

TEST(RowFigures, AnInexactCpuTotalIsFlagged) {
    std::vector<Measurement> runs(2, run(0.1, 0.2, 0.1, 0.1));
    runs[1].cpu_total_caveat = "1 thread(s) ended inside the interval";
    const RowResult row = row_of(runs);
    const auto doc = json_row(row);
    EXPECT_EQ(doc["warnings"], nlohmann::json::array({"cpu-total-inexact"}));
    EXPECT_EQ(doc["cpu_total_caveat"], "1 thread(s) ended inside the interval");
    EXPECT_NE(table_of(row).find("warning: epoll dedicated: CpuTotal is not exact: 1 thread(s) ended"),
              std::string::npos);
}

}  // namespace
}  // namespace handoff
