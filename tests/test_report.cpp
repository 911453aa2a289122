#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "handoff/report.hpp"
#include "report_figures.hpp"

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

TEST(Report, MedianIsTheMiddleOfThreeRuns) {
    const std::vector<Measurement> runs{known_run(0.3), known_run(0.1), known_run(0.2)};
    EXPECT_EQ(report_detail::median_over(runs, &Measurement::wall_s), 0.2);
    EXPECT_EQ(report_detail::median_over(runs, &Measurement::cpu_other_s), 0.125);
    EXPECT_EQ(report_detail::median({4, 1, 3, 2}), 2.5);
    EXPECT_TRUE(std::isnan(report_detail::median({})));
}

TEST(Report, ParsesFormatNames) {
    EXPECT_EQ(parse_format("table"), Format::table);
    EXPECT_EQ(parse_format("json"), Format::json);
    EXPECT_EQ(parse_format("csv"), Format::csv);
    EXPECT_THROW(parse_format("xml"), std::invalid_argument);
}

TEST(Report, CsvHasOneFlatLinePerRow) {
    const std::string header =
        "backend,target,design,work,calls,inflight,threads,placement,pin,timeout_ns,mechanism,wall_s,cpu_total_s,"
        "cpu_loop_s,cpu_worker_s,cpu_other_s,loop_vcsw,loop_ivcsw,worker_vcsw,worker_ivcsw,worker_threads,"
        "same_cpu_share,wall_per_call_ns,loop_cpu_per_call_ns,worker_cpu_per_call_ns,switches_per_call,"
        "calls_per_s,lat_p50_ns,lat_p90_ns,lat_p99_ns,lat_p999_ns,lat_max_ns,"
        "failed_calls,timed_out_calls,cancelled_calls,late_results,errors,status,reason\n";
    const std::string expected =
        header +
        "epoll,dedicated,classic,sleep0,1000,1,4,free,,0,mutex fifo + condvar -> eventfd,"
        "0.5,0.75,0.25,0.375,0.125,1000,3,1001,2,1,0.25,500000,250000,375000,2.006,2000,,,,,,0,0,0,0,0,ok,\n"
        "uring,pool,-,sleep0,1000,1,4,free,,0,,,,,,,,,,,,,,,,,,,,,,,,,,,0,failed,\"lost wake-up, 1 call \"\"outstanding\"\"\"\n"
        "uv,dedicated,classic,sleep0,1000,1,4,free,,0,,,,,,,,,,,,,,,,,,,,,,,,,,,0,unavailable,disabled by HANDOFF_DISABLE_BACKENDS\n";
    EXPECT_EQ(render(write_csv, sample_report()), expected);
    EXPECT_EQ(render(write_csv, Report{}), header);
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

TEST(Report, JsonFiguresAreMediansOverRuns) {
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
    EXPECT_NE(text.find("0.500"), std::string::npos) << text;      // Wall
    EXPECT_NE(text.find("500.00 us"), std::string::npos) << text;  // Wall/call
    EXPECT_NE(text.find("25%"), std::string::npos) << text;        // SameCPU
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

}  // namespace
}  // namespace handoff
