// handoff compare with several runs a side: the runs' medians as the samples,
// the caveat when repetitions are, Holm over the rows, the machine-changed
// check on floor and inline, the gate's filter, metric and reference rows,
// partial files, two designs of one run, and the rejected values (exit 2
// through the real binary).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "analysis/compare.hpp"
#include "run_binary.hpp"
#include "synthetic_runs.hpp"

namespace handoff {
namespace {

using testing_support::result_json;
using testing_support::synthetic_report;
using testing_support::synthetic_row;

ResultFile parsed(const Report& report, const std::string& name) {
    return parse_result_text(result_json(report), name);
}

// A run with one epoll dedicated row of five repetitions around `ns` (+0..4%).
Report epoll_run(double ns) {
    return synthetic_report("lab", {synthetic_row("epoll", TargetKind::dedicated,
                                                  {ns, ns * 1.01, ns * 1.02, ns * 1.03, ns * 1.04})});
}

std::vector<ResultFile> runs_at(const std::vector<double>& ns, const std::string& side) {
    std::vector<ResultFile> files;
    for (std::size_t i = 0; i < ns.size(); ++i) {
        files.push_back(parsed(epoll_run(ns[i]), side + std::to_string(i + 1) + ".json"));
    }
    return files;
}

std::string table_of(const Comparison& c) {
    std::ostringstream out;
    write_comparison(out, c, CompareFormat::table);
    return out.str();
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(CompareRuns, FourRunsASideTestTheRunsMedians) {
    const Comparison c = compare_results(CompareSide{runs_at({1000, 1100, 1200, 1300}, "a"), {}},
                                         CompareSide{runs_at({2000, 2100, 2200, 2300}, "b"), {}}, {});
    ASSERT_EQ(c.rows.size(), 1u);
    const RowComparison& row = c.rows[0];
    EXPECT_EQ(row.unit, SampleUnit::runs);
    EXPECT_EQ(row.runs_a, 4u);
    EXPECT_EQ(row.samples_a, 4u);  // one value a run, not 20 repetitions
    EXPECT_EQ(row.samples_b, 4u);
    // Each run's median is its third repetition (ns x 1.02); A's median of
    // 1020, 1122, 1224, 1326 is the mean of the middle two.
    EXPECT_DOUBLE_EQ(row.wall.a, (1122 + 1224) / 2.0);
    EXPECT_DOUBLE_EQ(row.wall.b, (2142 + 2244) / 2.0);
    // Fully separated 4 vs 4: 2 / C(8, 4). 20 vs 20 repetitions would give far less.
    EXPECT_NEAR(row.p, 2.0 / 70, 1e-12);
    EXPECT_TRUE(row.significant);
    const std::string text = table_of(c);
    EXPECT_TRUE(has(text, "4/4 runs")) << text;
    EXPECT_TRUE(has(text, "A: 4 runs:\n  a1.json (")) << text;
    EXPECT_FALSE(has(text, "covers only the noise inside one run")) << text;
}

TEST(CompareRuns, InterleavedRunMediansAreNotSignificantWhateverTheRepetitionsSay) {
    // Each run is tight (4% spread) but the runs move 30% between them.
    const Comparison c = compare_results(CompareSide{runs_at({1000, 1300, 1600, 1900}, "a"), {}},
                                         CompareSide{runs_at({1100, 1400, 1700, 2000}, "b"), {}}, {});
    EXPECT_EQ(c.rows[0].unit, SampleUnit::runs);
    EXPECT_FALSE(c.rows[0].significant);
    EXPECT_GT(c.rows[0].p, 0.3);
}

TEST(CompareRuns, OneRunASideTestsRepetitionsAndSaysWhatThatCovers) {
    const Comparison c = compare_results(parsed(epoll_run(1000), "a.json"), parsed(epoll_run(2000), "b.json"), 0.05);
    EXPECT_EQ(c.rows[0].unit, SampleUnit::repetitions);
    EXPECT_EQ(c.rows[0].samples_a, 5u);
    const std::string text = table_of(c);
    EXPECT_TRUE(has(text, "5/5 reps")) << text;
    EXPECT_TRUE(has(text, "warning: 1 of 1 configurations are tested on repetitions (one run a side): their p covers "
                          "only the noise inside one run, not how the machine changes between runs"))
        << text;
    EXPECT_TRUE(has(text, "needs 4 or more runs a side at alpha 0.05")) << text;
}

TEST(CompareRuns, TwoRunsASideAreTooFewForRunsAndFallBackToRepetitions) {
    const Comparison c = compare_results(CompareSide{runs_at({1000, 1100}, "a"), {}},
                                         CompareSide{runs_at({2000, 2100}, "b"), {}}, {});
    EXPECT_EQ(c.rows[0].unit, SampleUnit::repetitions);  // 2 vs 2 runs allow at best p = 0.33
    EXPECT_EQ(c.rows[0].samples_a, 10u);
    EXPECT_TRUE(has(table_of(c), "(too few runs in which they are ok)"));
}

TEST(CompareRuns, ARowMissingFromARunIsNotedAndTestedOnTheOthers) {
    std::vector<ResultFile> a = runs_at({1000, 1100, 1200, 1300}, "a");
    a.push_back(parsed(synthetic_report("lab", {synthetic_row("epoll", TargetKind::dedicated, {}, RowStatus::failed)}),
                       "a5.json"));
    const Comparison c = compare_results(CompareSide{a, {}}, CompareSide{runs_at({2000, 2100, 2200, 2300}, "b"), {}}, {});
    ASSERT_EQ(c.rows.size(), 1u);
    EXPECT_EQ(c.rows[0].runs_a, 4u);
    ASSERT_EQ(c.incomplete.size(), 1u);
    EXPECT_TRUE(has(table_of(c), "epoll dedicated classic free is ok in 4 of 5 runs of A and 4 of 4 of B"));
}

// Seven rows each fully separated 5 vs 5 (p = 2/252 = 0.0079 each): every one
// below 0.05 alone, none once adjusted (Holm: 7 x 0.0079 = 0.056 for the first).
TEST(CompareRuns, HolmAdjustsOverTheRowsTestedTogether) {
    std::vector<RowResult> slow, fast;
    for (const char* backend : {"epoll", "uring", "uv", "asio", "b5", "b6", "b7"}) {
        fast.push_back(synthetic_row(backend, TargetKind::pool, {100, 101, 102, 103, 104}));
        slow.push_back(synthetic_row(backend, TargetKind::pool, {200, 202, 204, 206, 208}));
    }
    const Comparison seven = compare_results(parsed(synthetic_report("lab", fast), "a.json"),
                                             parsed(synthetic_report("lab", slow), "b.json"), 0.05);
    for (const RowComparison& row : seven.rows) {
        EXPECT_NEAR(row.p, 2.0 / 252, 1e-12);
        EXPECT_EQ(row.family, 7u);
        EXPECT_NEAR(row.p_adjusted, 14.0 / 252, 1e-12);
        EXPECT_FALSE(row.significant);
    }
    EXPECT_EQ(verdict(seven.rows[0], 0.05), "2.00x slower, not significant (p=0.008; adjusted for 7 rows 0.06 >= 0.05)");
    EXPECT_TRUE(has(table_of(seven), "with 7 configurations tested together no row can be significant"));

    fast.resize(2);
    slow.resize(2);
    const Comparison two = compare_results(parsed(synthetic_report("lab", fast), "a.json"),
                                           parsed(synthetic_report("lab", slow), "b.json"), 0.05);
    EXPECT_NEAR(two.rows[1].p_adjusted, 4.0 / 252, 1e-12);
    EXPECT_TRUE(two.rows[1].significant);
    EXPECT_EQ(verdict(two.rows[1], 0.05), "2.00x slower (p=0.008; adjusted for 2 rows 0.02)");
}

// A report with a floor row at `floor_ns`, an inline row at `inline_ns` and
// an epoll row at `epoll_ns`, one run of five repetitions each.
Report machine(double floor_ns, double inline_ns, double epoll_ns) {
    const auto five = [](double ns) { return std::vector<double>{ns, ns, ns, ns, ns}; };
    RowResult floor = synthetic_row("floor", TargetKind::dedicated, five(floor_ns));
    RowResult in_line = synthetic_row("inline", TargetKind::dedicated, five(inline_ns));
    return synthetic_report("lab", {std::move(floor), std::move(in_line),
                                    synthetic_row("epoll", TargetKind::dedicated, five(epoll_ns))});
}

TEST(CompareRuns, TheFloorMovingBeyondTheFactorSaysTheMachineChanged) {
    const Comparison moved = compare_results(parsed(machine(60, 1000, 5000), "a.json"),
                                             parsed(machine(420, 1000, 9000), "b.json"), 0.05);
    ASSERT_EQ(moved.machine_changes.size(), 1u);
    EXPECT_EQ(moved.machine_changes[0].label, "floor free");
    EXPECT_DOUBLE_EQ(moved.machine_changes[0].ratio, 7.0);
    EXPECT_TRUE(has(table_of(moved), "warning: the machine changed, not the code: floor free takes "
                                     "60 ns a call in A and 420 ns in B (7.00x, more than 1.25x either way)"))
        << table_of(moved);

    // Inline faster by more than the factor counts too; within it nothing is said.
    EXPECT_EQ(compare_results(parsed(machine(60, 1000, 5000), "a.json"), parsed(machine(60, 700, 5000), "b.json"), 0.05)
                  .machine_changes.size(),
              1u);
    const Comparison steady = compare_results(parsed(machine(60, 1000, 5000), "a.json"),
                                              parsed(machine(70, 1200, 9000), "b.json"), 0.05);
    EXPECT_TRUE(steady.machine_changes.empty());
    EXPECT_FALSE(has(table_of(steady), "the machine changed"));
}

TEST(CompareRuns, TwoDesignsOfOneRunAreComparedWithEachOther) {
    RowResult inplace = synthetic_row("epoll", TargetKind::dedicated, {500, 505, 510, 515, 520});
    inplace.config.design = parse_design("futex-gated");
    RowResult adaptive = synthetic_row("epoll", TargetKind::dedicated, {1000, 1010, 1020, 1030, 1040});
    adaptive.config.design = parse_design("adaptive");
    const ResultFile run = parsed(synthetic_report("lab", {inplace, adaptive}), "run.json");
    const Comparison c = compare_results(CompareSide{{run}, "futex-gated"}, CompareSide{{run}, "adaptive"}, {});
    ASSERT_EQ(c.rows.size(), 1u);
    EXPECT_EQ(c.rows[0].a.design, "futex-gated");
    EXPECT_EQ(c.rows[0].b.design, "adaptive");
    EXPECT_DOUBLE_EQ(c.rows[0].wall.ratio, 2.0);
    EXPECT_TRUE(c.only_a.empty());
    EXPECT_TRUE(c.mechanism_differences.empty());  // two designs on purpose: not a surprise
    const std::string text = table_of(c);
    EXPECT_TRUE(has(text, "A: rows of design futex-gated in run.json")) << text;
    EXPECT_TRUE(has(text, "\nepoll dedicated free ")) << text;  // the design is in the header, not the label
}

TEST(CompareRuns, TheFilterKeepsOnlyMatchingRows) {
    RowFilter filter;
    filter.allowed["backend"] = {"uv", "asio"};
    filter.allowed["placement"] = {"free"};
    const ResultFile a = parsed(synthetic_report("lab", {synthetic_row("epoll", TargetKind::pool, {100}),
                                                         synthetic_row("uv", TargetKind::pool, {100}),
                                                         synthetic_row("asio", TargetKind::pool, {100})}),
                                "a.json");
    const Comparison c = compare_results(CompareSide{{a}, {}}, CompareSide{{a}, {}}, CompareOptions{0.05, filter});
    ASSERT_EQ(c.rows.size(), 2u);
    EXPECT_EQ(c.rows[0].a.backend, "uv");
    EXPECT_EQ(c.rows[1].a.backend, "asio");
    EXPECT_TRUE(c.only_a.empty());  // filtered out is not unmatched
}

TEST(CompareRuns, ResultRowsWithKeysAddedLaterStillRead) {
    nlohmann::json doc = nlohmann::json::parse(result_json(epoll_run(1000)));
    doc["results"][0]["runs_left_out"] = 1;
    doc["results"][0]["left_out_reason"] = "too busy";
    doc["results"][0]["runs"][0]["lat_samples"] = 1000;
    doc["partial"] = true;
    const ResultFile file = parse_result_text(doc.dump(), "new.json");
    EXPECT_TRUE(file.partial);
    EXPECT_EQ(file.rows[0].runs.size(), 5u);
    EXPECT_FALSE(parsed(epoll_run(1000), "old.json").partial);
}

// The command line, through the real binary.
class CompareCommand : public testing::Test {
protected:
    std::string dir = testing::TempDir() + "handoff_compare_runs_" + std::to_string(::getpid()) + "_";
    std::vector<std::string> written;

    std::string write(const std::string& name, const Report& report) {
        const std::string path = dir + name;
        std::ofstream(path) << result_json(report);
        written.push_back(path);
        return path;
    }
    void TearDown() override {
        for (const std::string& path : written) std::remove(path.c_str());
    }
    static std::size_t lines(const std::string& text) { return std::size_t(std::count(text.begin(), text.end(), '\n')); }
};

// A: floor 60 ns, epoll 5 us, uv 5 us. B: the floor 3x slower, epoll 2x
// slower in wall but its loop CPU the same, uv the same.
TEST_F(CompareCommand, TheGateSkipsReferenceRowsAndTakesAFilterAndAMetric) {
    Report a = machine(60, 1000, 5000), b = machine(180, 1000, 10000);
    a.rows.push_back(synthetic_row("uv", TargetKind::dedicated, {5000, 5000, 5000, 5000, 5000}));
    b.rows.push_back(synthetic_row("uv", TargetKind::dedicated, {5000, 5000, 5000, 5000, 5000}));
    for (Measurement& run : b.rows[2].runs) run.cpu_loop_s /= 2;  // epoll: twice the wall, the same loop CPU
    const std::string files = write("a.json", a) + " " + write("b.json", b);

    const auto gate = [&](const std::string& options) { return test_support::run("compare " + files + " " + options); };
    const test_support::Ran wall = gate("--fail-above 1.5");
    EXPECT_EQ(wall.status, 1);
    EXPECT_EQ(lines(wall.err), 1u) << wall.err;  // epoll only: the floor's 3x is not gated
    EXPECT_TRUE(has(wall.err, "epoll dedicated classic free (work none, in-flight 1): wall per call is 2.00x A's"))
        << wall.err;

    const test_support::Ran reference = gate("--fail-above 1.5 --include-reference");
    EXPECT_EQ(reference.status, 1);
    EXPECT_TRUE(has(reference.err, "floor free (work none, in-flight 1): wall per call is 3.00x A's")) << reference.err;

    EXPECT_EQ(gate("--fail-above 1.5 --filter backend=uv").status, 0);
    EXPECT_EQ(gate("--fail-above 1.5 --filter backend=uv --filter target=dedicated").status, 0);
    EXPECT_EQ(gate("--fail-above 1.5 --filter backend=uv,backend=epoll").status, 1);
    EXPECT_EQ(gate("--fail-above 1.5 --metric loop-cpu").status, 0);
    EXPECT_EQ(gate("--fail-above 1.5 --metric p99").status, 1);  // the p99 follows the wall here

    // Only the floor is left: nothing to gate on is a failure, not a pass.
    const test_support::Ran nothing = gate("--fail-above 1.5 --filter backend=floor");
    EXPECT_EQ(nothing.status, 1);
    EXPECT_TRUE(has(nothing.err, "nothing to gate on")) << nothing.err;
}

TEST_F(CompareCommand, SeveralRunsASideAndTwoDesignsFromTheCommandLine) {
    std::string a_files, b_files;
    for (int i = 0; i < 4; ++i) {
        a_files += " " + write(fmt::format("a{}.json", i), epoll_run(1000 + 10 * i));
        b_files += " " + write(fmt::format("b{}.json", i), epoll_run(2000 + 10 * i));
    }
    const test_support::Ran runs = test_support::run("compare --a" + a_files + " --b" + b_files + " --format json");
    ASSERT_EQ(runs.status, 0) << runs.err;
    const auto doc = nlohmann::json::parse(runs.out);
    EXPECT_EQ(doc["a"]["runs"].size(), 4u);
    EXPECT_EQ(doc["rows"][0]["sample_unit"], "runs");
    EXPECT_EQ(doc["rows"][0]["samples_b"], 4);
    EXPECT_EQ(doc["rows"][0]["significant"], true);
    EXPECT_EQ(doc["adjustment"], "holm");

    RowResult classic = synthetic_row("epoll", TargetKind::dedicated, {500, 505, 510, 515, 520});
    RowResult adaptive = synthetic_row("epoll", TargetKind::dedicated, {1000, 1010, 1020, 1030, 1040});
    adaptive.config.design = parse_design("adaptive");
    const std::string run = write("run.json", synthetic_report("lab", {classic, adaptive}));
    const test_support::Ran designs =
        test_support::run("compare " + run + " --a-design classic --b-design adaptive --format json");
    ASSERT_EQ(designs.status, 0) << designs.err;
    const auto both = nlohmann::json::parse(designs.out);
    EXPECT_EQ(both["a"]["design"], "classic");
    EXPECT_EQ(both["b"]["design"], "adaptive");
    EXPECT_DOUBLE_EQ(both["rows"][0]["wall_per_call_ns"]["ratio"].get<double>(), 2.0);
}

TEST_F(CompareCommand, APartialFileIsWarnedAbout) {
    Report partial = epoll_run(1000);
    partial.partial = true;
    const std::string files = write("a.json", epoll_run(1000)) + " " + write("partial.json", partial);
    const test_support::Ran table = test_support::run("compare " + files);
    EXPECT_EQ(table.status, 0);
    EXPECT_TRUE(has(table.out, "partial.json is from an interrupted run (partial)")) << table.out;
    const test_support::Ran gated = test_support::run("compare " + files + " --fail-above 1.1");
    EXPECT_EQ(gated.status, 0);
    EXPECT_TRUE(has(gated.err, "--fail-above: '" + dir + "partial.json' is from an interrupted run")) << gated.err;
}

TEST_F(CompareCommand, BadValuesExitTwoWithOneLineNamingTheOption) {
    const std::string a = write("a.json", epoll_run(1000)), b = write("b.json", epoll_run(1000));
    const std::string ab = a + " " + b;
    const std::vector<std::pair<std::string, std::string>> cases{
        {ab + " --fail-above ''", "--fail-above: '' is not allowed: expected a ratio above 0"},
        {ab + " --fail-above 1.1 --metric ''", "--metric: '' is not allowed: expected wall, loop-cpu, worker-cpu or p99"},
        {ab + " --fail-above 1.1 --metric cpu", "--metric: 'cpu' is not allowed"},
        {ab + " --metric wall", "--metric: only applies with --fail-above"},
        {ab + " --include-reference", "--include-reference: only applies with --fail-above"},
        {ab + " --filter ''", "--filter: '' is not allowed: expected KEY=VALUE"},
        {ab + " --filter backend", "--filter: 'backend' is not allowed"},
        {ab + " --filter colour=red", "--filter: 'colour=red' is not allowed"},
        {ab + " --filter backend=", "--filter: 'backend=' is not allowed"},
        {ab + " --filter backend=epoll,", "--filter: 'backend=epoll,' is not allowed"},
        {ab + " --filter backend=epol", "--filter: 'backend=epol' matches no row of the files"},
        {ab + " --filter", "--filter: expected a value after it"},
        {a, "files: expected two result files"},
        {"--a " + a, "--b: expected one or more result files"},
        {a + " --a " + a + " --b " + b, "not both"},
        {a + " --a-design classic", "--a-design: expected --b-design too"},
        {a + " --a-design '' --b-design classic", "--a-design: '' is not allowed"},
        {a + " --a-design classic --b-design adaptive --filter design=spin", "--filter: design=... cannot be combined"},
        {ab + " --frobnicate", "'--frobnicate' is not an option of compare"},
    };
    for (const auto& [args, part] : cases) {
        const test_support::Ran ran = test_support::run("compare " + args);
        EXPECT_EQ(ran.status, 2) << args;
        EXPECT_EQ(lines(ran.err), 1u) << ran.err;
        EXPECT_EQ(ran.err.find("handoff: compare: "), 0u) << ran.err;
        EXPECT_TRUE(has(ran.err, part)) << args << "\n" << ran.err;
        EXPECT_TRUE(ran.out.empty()) << ran.out;
    }
}

}  // namespace
}  // namespace handoff
