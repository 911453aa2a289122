// handoff compare: files written by the real report writer, read back and
// compared; the ratios, the U test's verdicts, matching, --fail-above, and bad
// input (corrupt, foreign, missing files, bad options) refused with status 2.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/compare.hpp"
#include "cli/compare_command.hpp"
#include "report/report.hpp"
#include "synthetic_runs.hpp"

namespace handoff {
namespace {

using testing_support::result_json;
using testing_support::synthetic_report;
using testing_support::synthetic_row;

Report report_a() {
    return synthetic_report("lab", {synthetic_row("epoll", TargetKind::dedicated, {1000, 1010, 1020, 1030, 1040}),
                                    synthetic_row("uv", TargetKind::pool, {5000, 5100, 4900}),
                                    synthetic_row("epoll", TargetKind::pool, {3000, 3100, 3200}),
                                    synthetic_row("asio", TargetKind::dedicated, {700})});
}

Report report_b(const std::string& host = "lab") {
    return synthetic_report(host, {synthetic_row("uring", TargetKind::pool, {900}),
                                   synthetic_row("epoll", TargetKind::pool, {}, RowStatus::failed),
                                   synthetic_row("uv", TargetKind::pool, {5050, 4950, 5000}),
                                   synthetic_row("epoll", TargetKind::dedicated, {2000, 2020, 2040, 2060, 2080})});
}

Comparison compared(const Report& a, const Report& b, double alpha = 0.05) {
    return compare_results(parse_result_text(result_json(a), "a.json"), parse_result_text(result_json(b), "b.json"),
                           alpha);
}

TEST(Compare, RatiosOfPerCallMediansAndASignificantSlowdown) {
    const Comparison c = compared(report_a(), report_b());
    ASSERT_EQ(c.rows.size(), 2u);
    const RowComparison& epoll = c.rows[0];  // in A's order
    EXPECT_EQ(epoll.a.backend, "epoll");
    EXPECT_EQ(epoll.a.target, "dedicated");
    EXPECT_DOUBLE_EQ(epoll.wall.a, 1020);
    EXPECT_DOUBLE_EQ(epoll.wall.b, 2040);
    EXPECT_DOUBLE_EQ(epoll.wall.ratio, 2.0);
    EXPECT_DOUBLE_EQ(epoll.loop_cpu.ratio, 2.0);
    EXPECT_DOUBLE_EQ(epoll.worker_cpu.ratio, 2.0);
    EXPECT_DOUBLE_EQ(epoll.total_cpu.ratio, 2.0);
    EXPECT_NEAR(epoll.p99.ratio, 2.0, 2.0 / 32);  // percentiles are histogram bucket edges
    EXPECT_DOUBLE_EQ(epoll.wall.a * 1e-9 * 1000, 1020e-6);
    EXPECT_EQ(epoll.runs_a, 1u);  // one file a side: the repetitions are the samples
    EXPECT_EQ(epoll.runs_b, 1u);
    EXPECT_EQ(epoll.unit, SampleUnit::repetitions);
    EXPECT_EQ(epoll.samples_a, 5u);
    EXPECT_EQ(epoll.samples_b, 5u);
    EXPECT_TRUE(epoll.exact);
    EXPECT_NEAR(epoll.p, 2.0 / 252, 1e-12);
    EXPECT_TRUE(epoll.significant);
    EXPECT_FALSE(epoll.too_few);
    EXPECT_EQ(epoll.family, 1u);  // uv's 3 vs 3 cannot be significant: not in the family
    EXPECT_NEAR(epoll.p_adjusted, epoll.p, 1e-15);
    EXPECT_EQ(verdict(epoll, c.alpha), "2.00x slower (p=0.008)");
}

TEST(Compare, ThreeRunsEachAreTooFewToSayAnything) {
    const Comparison c = compared(report_a(), report_b());
    const RowComparison& uv = c.rows[1];
    EXPECT_EQ(uv.a.backend, "uv");
    EXPECT_DOUBLE_EQ(uv.wall.ratio, 1.0 * 5000 / 5000);
    EXPECT_TRUE(uv.too_few);
    EXPECT_FALSE(uv.significant);
    EXPECT_NEAR(uv.min_p, 0.1, 1e-12);
    EXPECT_EQ(verdict(uv, c.alpha), "1.00x, same, too few repetitions (3 vs 3: p >= 0.1)");
    // At alpha 0.2, 3 vs 3 can speak: identical medians are not significant.
    const Comparison loose = compared(report_a(), report_b(), 0.2);
    EXPECT_FALSE(loose.rows[1].too_few);
    EXPECT_FALSE(loose.rows[1].significant);
    EXPECT_EQ(verdict(loose.rows[1], 0.2).find("1.00x, same, not significant (p="), 0u)
        << verdict(loose.rows[1], 0.2);
}

TEST(Compare, AFasterRowSaysFaster) {
    const Comparison c = compared(report_b(), report_a());  // swapped: A is the slow one
    EXPECT_EQ(c.rows[1].a.backend, "epoll");
    EXPECT_EQ(verdict(c.rows[1], c.alpha), "2.00x faster (p=0.008)");
}

TEST(Compare, UnmatchedAndNotOkRowsAreListedNotDropped) {
    const Comparison c = compared(report_a(), report_b());
    ASSERT_EQ(c.only_a.size(), 1u);
    EXPECT_EQ(c.only_a[0].backend, "asio");
    ASSERT_EQ(c.only_b.size(), 1u);
    EXPECT_EQ(c.only_b[0].backend, "uring");
    ASSERT_EQ(c.not_ok.size(), 1u);
    EXPECT_EQ(c.not_ok[0].a.status, "ok");
    EXPECT_EQ(c.not_ok[0].b.status, "failed");

    std::ostringstream out;
    write_comparison(out, c, CompareFormat::table);
    const std::string text = out.str();
    EXPECT_NE(text.find("only in A: asio dedicated classic free (ok)"), std::string::npos) << text;
    EXPECT_NE(text.find("only in B: uring pool free (ok)"), std::string::npos) << text;
    EXPECT_NE(text.find("not compared, not ok: epoll pool free: A ok; B failed: lost wake-up"), std::string::npos)
        << text;
    EXPECT_NE(text.find("2.00x slower (p=0.008)"), std::string::npos) << text;
    EXPECT_NE(text.find("A: a.json (2026-11-29T12:00:00Z, host lab, handoff 0.1.0)"), std::string::npos) << text;
    EXPECT_NE(text.find("warning: 1 of 2 configurations have too few samples"), std::string::npos) << text;
    EXPECT_EQ(text.find("different environments"), std::string::npos) << text;
}

TEST(Compare, ARepeatedConfigurationMatchesInOrder) {
    const Report a = synthetic_report(
        "lab", {synthetic_row("epoll", TargetKind::pool, {100}), synthetic_row("epoll", TargetKind::pool, {200})});
    const Report b = synthetic_report("lab", {synthetic_row("epoll", TargetKind::pool, {300}),
                                              synthetic_row("epoll", TargetKind::pool, {400}),
                                              synthetic_row("epoll", TargetKind::pool, {500})});
    const Comparison c = compared(a, b);
    ASSERT_EQ(c.rows.size(), 2u);
    EXPECT_DOUBLE_EQ(c.rows[0].wall.ratio, 3.0);
    EXPECT_DOUBLE_EQ(c.rows[1].wall.ratio, 2.0);
    ASSERT_EQ(c.only_b.size(), 1u);
}

TEST(Compare, WarnsWhenTheContextsDiffer) {
    const Comparison c = compared(report_a(), report_b("elsewhere"));
    ASSERT_EQ(c.context_differences.size(), 1u);
    EXPECT_EQ(c.context_differences[0], "host 'lab' vs 'elsewhere'");
    std::ostringstream out;
    write_comparison(out, c, CompareFormat::table);
    EXPECT_NE(out.str().find("warning: A and B ran in different environments (host 'lab' vs 'elsewhere')"),
              std::string::npos)
        << out.str();
}

// A preset redefined between versions (futex-gated moved from the ring to
// in place): the names match, the designs do not, and the report says so.
TEST(Compare, WarnsWhenAMatchedRowTravelledByAnotherMechanism) {
    Report a = report_a();
    Report b = report_b();
    a.rows[0].mechanism = "lab worker: queue=spsc,wait=futex";
    b.rows[3].mechanism = "lab worker: queue=inplace,wait=futex";
    a.rows[1].mechanism = b.rows[2].mechanism = "uv_queue_work";  // the same: no warning
    const Comparison c = compared(a, b);
    ASSERT_EQ(c.mechanism_differences.size(), 1u);
    EXPECT_EQ(c.mechanism_differences[0],
              "epoll dedicated classic free: A lab worker: queue=spsc,wait=futex; B lab worker: queue=inplace,wait=futex");
    std::ostringstream out;
    write_comparison(out, c, CompareFormat::table);
    EXPECT_NE(out.str().find("warning: the same name, another mechanism"), std::string::npos) << out.str();
    // Files from before the key was written compare without the warning.
    a.rows[0].mechanism.clear();
    EXPECT_TRUE(compared(a, b).mechanism_differences.empty());
}

TEST(Compare, JsonAndMarkdownCarryTheSameFindings) {
    const Comparison c = compared(report_a(), report_b());
    std::ostringstream json_out, markdown_out;
    write_comparison(json_out, c, CompareFormat::json);
    write_comparison(markdown_out, c, CompareFormat::markdown);
    const auto doc = nlohmann::json::parse(json_out.str());
    EXPECT_EQ(doc.at("schema"), "handoff-compare/2");
    ASSERT_EQ(doc.at("rows").size(), 2u);
    EXPECT_EQ(doc["rows"][0]["backend"], "epoll");
    EXPECT_DOUBLE_EQ(doc["rows"][0]["wall_per_call_ns"]["ratio"].get<double>(), 2.0);
    EXPECT_EQ(doc["rows"][0]["significant"], true);
    EXPECT_EQ(doc["rows"][1]["too_few_samples"], true);
    EXPECT_EQ(doc["rows"][0]["sample_unit"], "repetitions");
    EXPECT_EQ(doc["rows"][0]["samples_a"], 5);
    EXPECT_EQ(doc["a"]["runs"][0]["file"], "a.json");
    EXPECT_EQ(doc["a"]["design"], nullptr);
    EXPECT_EQ(doc["rows"][1]["worker_cpu_per_call_ns"]["ratio"].get<double>(), 1.0);
    EXPECT_EQ(doc.at("only_in_a").size(), 1u);
    EXPECT_EQ(doc.at("only_in_b").size(), 1u);
    EXPECT_EQ(doc["not_compared"][0]["b_status"], "failed");

    const std::string md = markdown_out.str();
    EXPECT_NE(md.find("| configuration | A wall/call | B wall/call | wall B/A |"), std::string::npos) << md;
    EXPECT_NE(md.find("| epoll dedicated classic free | 1.02 us | 2.04 us | 2.00 |"), std::string::npos) << md;
    EXPECT_NE(md.find("- only in A: asio dedicated classic free (ok)"), std::string::npos) << md;
}

// One reader serves result files and compare's output: a key that both
// carry has one JSON type in both, and a number that does not exist is null.
TEST(Compare, JsonTypesAgreeWithTheResultFiles) {
    Report a = report_a();
    a.rows.push_back(synthetic_row("inline", TargetKind::dedicated, {5, 5, 5}));
    for (Measurement& run : a.rows.back().runs) run.latency = LatencyHistogram{};  // inline has no round trips
    a.context.lab_version.clear();  // a context entry the file lacks
    const auto file = nlohmann::json::parse(result_json(a));
    std::ostringstream out;
    write_comparison(out, compared(a, a), CompareFormat::json);
    const auto doc = nlohmann::json::parse(out.str());

    const auto& result = file["results"][0];
    const auto& row = doc["rows"][0];
    ASSERT_EQ(row["backend"], result["backend"]);
    EXPECT_TRUE(result["wall_per_call_ns"].is_number_float());
    EXPECT_TRUE(row["wall_per_call_ns"]["a"].is_number_float());
    EXPECT_TRUE(result["lat_p99_ns"].is_number_integer());
    EXPECT_TRUE(row["lat_p99_ns"]["a"].is_number_integer());
    EXPECT_TRUE(result["calls"].is_number_integer());
    for (const char* count : {"runs_a", "samples_a", "adjusted_over"}) EXPECT_TRUE(row[count].is_number_integer());
    EXPECT_TRUE(file["context"]["online_cpus"].is_number_integer());
    EXPECT_EQ(doc["a"]["runs"][0]["online_cpus"], file["context"]["online_cpus"]);
    EXPECT_TRUE(doc["a"]["runs"][0]["lab_version"].is_null());

    const auto& inline_result = file["results"][4];
    ASSERT_EQ(inline_result["backend"], "inline");
    EXPECT_TRUE(inline_result["lat_p99_ns"].is_null());
    const auto inline_row = std::find_if(doc["rows"].begin(), doc["rows"].end(),
                                         [](const auto& r) { return r["backend"] == "inline"; });
    ASSERT_NE(inline_row, doc["rows"].end());
    EXPECT_TRUE((*inline_row)["lat_p99_ns"]["a"].is_null());
    EXPECT_TRUE((*inline_row)["lat_p99_ns"]["ratio"].is_null());
}

// run_compare end to end on files, as the command line does it.
struct Ran {
    int status = -1;
    std::string out, err;
};

class CompareFiles : public testing::Test {
protected:
    std::string dir = testing::TempDir() + "handoff_compare_" + std::to_string(::getpid()) + "_";
    std::string a = dir + "a.json", b = dir + "b.json";

    void SetUp() override {
        write(a, result_json(report_a()));
        write(b, result_json(report_b()));
    }
    void TearDown() override {
        for (const char* name : {"a.json", "b.json", "bad.json", "gbench.json"}) std::remove((dir + name).c_str());
    }
    static void write(const std::string& path, const std::string& text) {
        std::ofstream file(path);
        file << text;
    }
    static Ran compare(std::vector<std::string> args) {
        args.insert(args.begin(), "compare");
        std::vector<const char*> argv;
        for (const std::string& arg : args) argv.push_back(arg.c_str());
        std::ostringstream out, err;
        Ran ran;
        ran.status = run_compare(int(argv.size()), argv.data(), out, err);
        ran.out = out.str();
        ran.err = err.str();
        return ran;
    }
    static std::size_t lines(const std::string& text) { return std::size_t(std::count(text.begin(), text.end(), '\n')); }
};

TEST_F(CompareFiles, ExitsZeroWithTheTable) {
    const Ran ran = compare({a, b});
    EXPECT_EQ(ran.status, 0) << ran.err;
    EXPECT_NE(ran.out.find("2.00x slower (p=0.008)"), std::string::npos) << ran.out;
    EXPECT_TRUE(ran.err.empty()) << ran.err;
}

TEST_F(CompareFiles, FailAboveExitsOneNamingTheRow) {
    const Ran over = compare({a, b, "--fail-above", "1.5"});
    EXPECT_EQ(over.status, 1);
    EXPECT_EQ(lines(over.err), 1u) << over.err;
    EXPECT_NE(over.err.find("handoff: compare: --fail-above 1.5: epoll dedicated classic free (work none, "
                            "in-flight 1): wall per call is 2.00x A's"),
              std::string::npos)
        << over.err;
    EXPECT_FALSE(over.out.empty());  // the comparison is still printed

    EXPECT_EQ(compare({a, b, "--fail-above", "2.5"}).status, 0);
    EXPECT_EQ(compare({b, a, "--fail-above", "1.05"}).status, 0);  // faster is never a failure
}

TEST_F(CompareFiles, FailAboveWithNothingComparedIsAFailure) {
    write(dir + "bad.json", result_json(synthetic_report("lab", {synthetic_row("asio", TargetKind::pool, {100})})));
    const Ran ran = compare({a, dir + "bad.json", "--fail-above", "1.1"});
    EXPECT_EQ(ran.status, 1);
    EXPECT_NE(ran.err.find("nothing to gate on"), std::string::npos) << ran.err;
    EXPECT_EQ(compare({a, dir + "bad.json"}).status, 0);  // without a gate it is only a warning
}

TEST_F(CompareFiles, BadInputExitsTwoWithOneLine) {
    write(dir + "bad.json", "{\"schema\": \"handoff/1\", \"results\": [");
    write(dir + "gbench.json", R"({"context": {"num_cpus": 2}, "benchmarks": []})");
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases{
        {{a, dir + "bad.json"}, "is not JSON: parse error at line 1"},
        {{dir + "gbench.json", b}, "is not a handoff result file (no schema, expected handoff/1)"},
        {{a, dir + "missing.json"}, "No such file or directory"},
        {{a}, "files: expected two result files, A.json B.json (got 1)"},
        {{a, b, "--alpha", "1.5"}, "--alpha: '1.5' is not allowed"},
        {{a, b, "--alpha", "x"}, "--alpha"},
        {{a, b, "--fail-above", "0"}, "--fail-above: '0' is not allowed"},
        {{a, b, "--fail-above", "inf"}, "--fail-above"},
        {{a, b, "--format", "xml"}, "--format: 'xml' is not allowed: expected table, json or markdown"},
        {{a, b, "--frobnicate"}, "'--frobnicate' is not an option of compare"},
        {{a, b, "--alpha"}, "--alpha: expected a value after it"},
    };
    for (const auto& [args, part] : cases) {
        const Ran ran = compare(args);
        EXPECT_EQ(ran.status, 2) << part;
        EXPECT_EQ(lines(ran.err), 1u) << ran.err;
        EXPECT_EQ(ran.err.find("handoff: compare: "), 0u) << ran.err;
        EXPECT_NE(ran.err.find(part), std::string::npos) << ran.err;
        EXPECT_TRUE(ran.out.empty()) << ran.out;
    }
}

TEST_F(CompareFiles, TheBinaryDispatchesTheSubcommand) {
    const char* bin = std::getenv("HANDOFF_BIN");
    const std::string command = std::string(bin ? bin : "./handoff") + " compare " + a + " " + b +
                                " --format json --fail-above 1.5 >" + dir + "bad.json 2>/dev/null";
    const int raw = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(raw));
    EXPECT_EQ(WEXITSTATUS(raw), 1);
    std::ifstream file(dir + "bad.json");
    const auto doc = nlohmann::json::parse(file);
    EXPECT_EQ(doc.at("rows").size(), 2u);
}

}  // namespace
}  // namespace handoff
