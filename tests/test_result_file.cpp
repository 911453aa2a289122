// The result-file reader: files the real writer produces read back whole;
// anything else (corrupt, truncated, foreign, wrong types) is refused with one
// line naming the file and the fault, and never with another exception.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>

#include "report/report.hpp"
#include "latency_levels.hpp"
#include "analysis/result_file.hpp"

namespace handoff {
namespace {

Measurement run_of(std::uint64_t calls, double wall_s) {
    Measurement m;
    m.calls = calls;
    m.wall_s = wall_s;
    m.cpu_total_s = 0.75;
    m.cpu_loop_s = 0.25;
    m.cpu_worker_s = 0.375;
    m.latency = testing_support::latency_levels(calls, 1000);
    return m;
}

Report written_report() {
    Report report;
    report.context.date = "2026-11-22T13:45:00Z";
    report.context.host = "lab";
    report.context.cpu_model = "Test CPU";
    report.context.online_cpus = 2;
    report.context.kernel = "6.18.0";
    RowResult ok;
    ok.config.backend = "epoll";
    ok.config.work = Work::parse("sleep0");
    ok.config.calls = 1000;
    ok.config.inflight = 4;
    ok.runs = {run_of(1000, 0.5), run_of(500, 0.5)};
    report.rows.push_back(ok);
    RowResult failed;
    failed.config.backend = "uring";
    failed.config.target = TargetKind::pool;
    failed.config.work = Work::parse("none");
    failed.status = RowStatus::failed;
    failed.reason = "lost wake-up";
    report.rows.push_back(failed);
    return report;
}

std::string json_of(const Report& report) {
    std::ostringstream out;
    write_json(out, report);
    return out.str();
}

// The message parse_result_text refuses `text` with ("" if it accepts it).
std::string refusal(const std::string& text) {
    try {
        parse_result_text(text, "x.json");
    } catch (const ResultFileError& e) {
        return e.what();
    }
    return "";
}

void expect_refused(const std::string& text, const std::string& part) {
    const std::string message = refusal(text);
    EXPECT_NE(message.find(part), std::string::npos) << "message: " << message << "\ninput: " << text;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_TRUE(message.starts_with("'x.json'")) << message;
}

TEST(ResultFile, ReadsBackWhatTheWriterWrote) {
    const ResultFile file = parse_result_text(json_of(written_report()), "a.json");
    EXPECT_EQ(file.name, "a.json");
    EXPECT_EQ(file.context.date, "2026-11-22T13:45:00Z");
    EXPECT_EQ(file.context.host, "lab");
    EXPECT_EQ(file.context.cpu_model, "Test CPU");
    EXPECT_EQ(file.context.online_cpus, "2");
    EXPECT_EQ(file.context.kernel, "6.18.0");
    ASSERT_EQ(file.rows.size(), 2u);

    const ResultRow& ok = file.rows[0];
    EXPECT_EQ(ok.backend, "epoll");
    EXPECT_EQ(ok.target, "dedicated");
    EXPECT_EQ(ok.design, "classic");
    EXPECT_EQ(ok.work, "sleep0");
    EXPECT_EQ(ok.placement, "free");
    EXPECT_EQ(ok.inflight, 4u);
    EXPECT_EQ(ok.calls, 1000u);
    EXPECT_EQ(ok.status, "ok");
    EXPECT_TRUE(ok.ok());
    EXPECT_EQ(ok.label(), "epoll dedicated classic free");
    ASSERT_EQ(ok.runs.size(), 2u);
    EXPECT_EQ(ok.runs[1].calls, 500u);
    EXPECT_EQ(ok.runs[1].wall_s, 0.5);
    EXPECT_EQ(ok.runs[1].per_call_ns(ok.runs[1].wall_s), 1e6);  // 0.5 s / 500 calls
    EXPECT_EQ(ok.runs[0].per_call_ns(ok.runs[0].cpu_loop_s), 250000);
    EXPECT_EQ(ok.runs[0].cpu_worker_s, 0.375);
    EXPECT_NEAR(ok.runs[0].lat_p99_ns, 4000, 4000 / 64.0);  // the histogram's bucket edge
    EXPECT_EQ(ok.runs[0].lat_max_ns, 16000);

    const ResultRow& failed = file.rows[1];
    EXPECT_EQ(failed.status, "failed");
    EXPECT_EQ(failed.reason, "lost wake-up");
    EXPECT_FALSE(failed.ok());
    EXPECT_TRUE(failed.runs.empty());
}

TEST(ResultFile, NullFiguresAreNaNAndExtraKeysAreIgnored) {
    const std::string text = R"({"schema": "handoff/1", "partial": true, "context": 7, "results": [
        {"backend": "inline", "target": "-", "design": "-", "work": "none", "inflight": 1,
         "placement": "free", "status": "ok", "calls": 10, "repeat": 1, "spread": 1.5, "warnings": [],
         "runs": [{"calls": 10, "wall_s": 1e-6, "lat_p99_ns": null, "future_key": "x"}]}]})";
    const ResultFile file = parse_result_text(text, "x.json");
    ASSERT_EQ(file.rows.size(), 1u);
    EXPECT_TRUE(std::isnan(file.rows[0].runs[0].lat_p99_ns));
    EXPECT_TRUE(std::isnan(file.rows[0].runs[0].cpu_loop_s));  // absent
    EXPECT_EQ(file.rows[0].reason, "");
    EXPECT_EQ(file.context.host, "");  // a context that is not an object is ignored
}

TEST(ResultFile, RefusesTextThatIsNotJsonWithLineAndColumn) {
    expect_refused("", "is not JSON");
    expect_refused("{\n  \"schema\": \"handoff/1\",\n  oops\n}", "line 3, column");
    expect_refused("not json at all", "is not JSON: parse error at line 1, column 2");
    expect_refused("{\"schema\": \"handoff\x01/1\"", "is not JSON");  // control character, no newline leak
}

TEST(ResultFile, RefusesATruncatedFile) {
    const std::string whole = json_of(written_report());
    for (const std::size_t keep : {whole.size() / 4, whole.size() / 2, whole.size() - 3}) {
        expect_refused(whole.substr(0, keep), "is not JSON");
    }
}

TEST(ResultFile, RefusesForeignJson) {
    // What Google Benchmark writes with --benchmark_format=json.
    const std::string google_benchmark = R"({
      "context": {"date": "2026-11-22T13:45:00+00:00", "host_name": "lab", "num_cpus": 2},
      "benchmarks": [{"name": "BM_Handoff", "iterations": 1000, "real_time": 512.0, "time_unit": "ns"}]
    })";
    expect_refused(google_benchmark, "is not a handoff result file (no schema, expected handoff/1)");
    expect_refused(R"({"schema": "foo/2", "results": []})",
                   "'x.json' is not a handoff result file (schema 'foo/2', expected handoff/1)");
    expect_refused(R"({"schema": 1})", "(schema is a number, expected handoff/1)");
    expect_refused("[1, 2, 3]", "is not a handoff result file (an array, expected an object)");
    expect_refused("\"handoff/1\"", "(a string, expected an object)");
    expect_refused("null", "(null, expected an object)");
}

TEST(ResultFile, RefusesKeysOfTheWrongType) {
    const std::string row_head = R"({"schema": "handoff/1", "results": [)";
    const std::string good_row =
        R"({"backend": "epoll", "target": "pool", "design": "-", "work": "none", "inflight": 1,
            "placement": "free", "status": "ok", "calls": 10, "runs": [{"calls": 10, "wall_s": 0.1}]})";
    EXPECT_EQ(refusal(row_head + good_row + "]}"), "");

    expect_refused(R"({"schema": "handoff/1"})", "results: missing");
    expect_refused(R"({"schema": "handoff/1", "results": {}})", "results: expected an array, found an object");
    expect_refused(row_head + "42]}", "results[0]: expected an object, found a number");

    const auto with = [&](const std::string& from, const std::string& to) {
        std::string row = good_row;
        row.replace(row.find(from), from.size(), to);
        return row_head + good_row + ", " + row + "]}";
    };
    expect_refused(with(R"("backend": "epoll", )", ""), "results[1]: missing 'backend'");
    expect_refused(with(R"("backend": "epoll")", R"("backend": 3)"), "results[1].backend: expected a string, found a number");
    expect_refused(with(R"("inflight": 1)", R"("inflight": -1)"), "results[1].inflight: expected a whole number >= 0");
    expect_refused(with(R"("inflight": 1)", R"("inflight": 1.5)"), "results[1].inflight: expected a whole number");
    expect_refused(with(R"("calls": 10, "runs")", R"("calls": "10", "runs")"), "results[1].calls: expected a whole number");
    expect_refused(with(R"(, "runs": [{"calls": 10, "wall_s": 0.1}])", ""),
                   "results[1] (epoll pool free): no runs");
    expect_refused(with(R"("runs": [{"calls": 10, "wall_s": 0.1}])", R"("runs": {})"),
                   "results[1] (epoll pool free).runs: expected an array, found an object");
    expect_refused(with(R"("runs": [{"calls": 10, "wall_s": 0.1}])", R"("runs": [])"), "status ok but no runs");
    expect_refused(with(R"("runs": [{"calls": 10, "wall_s": 0.1}])", R"("runs": [[]])"),
                   "results[1].runs[0]: expected an object, found an array");
    expect_refused(with(R"({"calls": 10, "wall_s": 0.1})", R"({"wall_s": 0.1})"), "results[1].runs[0]: missing 'calls'");
    expect_refused(with(R"("wall_s": 0.1)", R"("wall_s": "fast")"),
                   "results[1].runs[0].wall_s: expected a number or null, found a string");
}

TEST(ResultFile, RefusesDeepNestingWithoutRecursingIntoIt) {
    const std::string deep = std::string(100000, '[') + std::string(100000, ']');
    expect_refused(deep, "nested deeper than");
    expect_refused(R"({"schema": "handoff/1", "results": [{"runs": )" + deep + "}]}", "nested deeper than");
}

TEST(ResultFile, ControlCharactersNeverReachAMessage) {
    const std::string message = refusal(R"({"schema": "line\none"})");
    EXPECT_NE(message.find("schema 'line?one'"), std::string::npos) << message;
}

TEST(ResultFile, ReadsAFileAndNamesAMissingOneWithTheSystemsReason) {
    const std::string path = testing::TempDir() + "handoff_result_file_" + std::to_string(::getpid()) + ".json";
    {
        std::ofstream file(path);
        file << json_of(written_report());
    }
    EXPECT_EQ(read_result_file(path).rows.size(), 2u);
    std::remove(path.c_str());
    try {
        read_result_file(path);
        ADD_FAILURE() << "a missing file was read";
    } catch (const ResultFileError& e) {
        EXPECT_EQ(std::string(e.what()), "cannot read '" + path + "': No such file or directory");
    }
    try {
        read_result_file(testing::TempDir());
        ADD_FAILURE() << "a directory was read";
    } catch (const ResultFileError& e) {
        EXPECT_NE(std::string(e.what()).find("Is a directory"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace handoff

namespace handoff {
namespace {

// The first handoff/1 files (results/2026-11-22-*) predate the placement
// key; they still read, as placement "free", so old runs can be compared.
TEST(ResultFile, AFileFromBeforePlacementReadsAsFree) {
    const ResultFile file = read_result_file("results/2026-11-22-sleep0-250k.json");
    ASSERT_FALSE(file.rows.empty());
    for (const ResultRow& row : file.rows) EXPECT_EQ(row.placement, "free") << row.label();
}

}  // namespace
}  // namespace handoff
