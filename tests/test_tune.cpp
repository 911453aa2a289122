// handoff tune: the frontier and each objective's choice on points with
// known answers (ties, limits no point meets), successive halving on a
// synthetic measurement (it keeps each objective's contenders, stays in its
// budget, confirms each choice alone), and the real binary end to end.
#include <gtest/gtest.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "analysis/plot.hpp"
#include "analysis/result_file.hpp"
#include "analysis/tune_host_watch.hpp"
#include "analysis/tune_pareto.hpp"
#include "analysis/tune_report.hpp"
#include "analysis/tune_search.hpp"
#include "handoff/design.hpp"
#include "run_binary.hpp"

namespace handoff {
namespace {

TunePoint pt(double p50, double p99, double cores, bool eligible = true) {
    TunePoint p;
    p.p50_ns = p50;
    p.p99_ns = p99;
    p.cores = cores;
    p.p50 = {p50, p50};
    p.p99 = {p99 * 0.9, p99 * 1.1};
    p.cores_range = {cores, cores};
    p.eligible = eligible;
    return p;
}

std::vector<std::size_t> sorted(std::vector<std::size_t> v) {
    std::sort(v.begin(), v.end());
    return v;
}

// ---- The frontier and the objectives ----------------------------------------

TEST(TunePareto, TheFrontierHoldsWhatNothingDominatesOrderedByCores) {
    const std::vector<TunePoint> points{
        pt(400, 600, 2.0),     // 0: fastest, spins
        pt(20e3, 40e3, 0.1),   // 1: cheapest
        pt(20e3, 40e3, 0.5),   // 2: dominated by 1
        pt(5e3, 9e3, 1.0),     // 3: between
        TunePoint{},           // 4: not measured
        pt(400, 700, 2.0),     // 5: dominated by 0 (p99 worse, the rest equal)
        pt(300, 50e3, 1.5),    // 6: best p50: on the frontier
    };
    EXPECT_EQ(pareto_frontier(points), (std::vector<std::size_t>{1, 3, 6, 0}));
    EXPECT_TRUE(dominates(points[1], points[2]));
    EXPECT_FALSE(dominates(points[1], points[1]));
}

TEST(TunePareto, EqualPointsAreAllOnTheFrontier) {
    const std::vector<TunePoint> points{pt(1, 2, 1), pt(1, 2, 1), pt(1, 3, 1)};
    EXPECT_EQ(pareto_frontier(points), (std::vector<std::size_t>{0, 1}));
}

TEST(TunePareto, EachObjectiveChoosesItsOwnPoint) {
    const std::vector<TunePoint> points{pt(400, 600, 2.0), pt(20e3, 40e3, 0.1), pt(5e3, 9e3, 1.0)};
    TuneLimits limits;
    EXPECT_EQ(choose(points, Objective::lowest_p99, limits), 0u);
    EXPECT_EQ(choose(points, Objective::lowest_cpu, limits), 1u);
    limits.cpu_budget_cores = 1.2;
    EXPECT_EQ(choose(points, Objective::p99_within_cpu_budget, limits), 2u);
    limits.p99_limit_ns = 10e3;
    EXPECT_EQ(choose(points, Objective::cpu_within_p99, limits), 2u);
    limits.p99_limit_ns = 100e3;
    EXPECT_EQ(choose(points, Objective::cpu_within_p99, limits), 1u);
}

TEST(TunePareto, ALimitNoPointMeetsHasNoChoice) {
    const std::vector<TunePoint> points{pt(400, 600, 2.0), pt(20e3, 40e3, 0.1)};
    TuneLimits limits;
    limits.cpu_budget_cores = 0.05;
    limits.p99_limit_ns = 500;
    EXPECT_EQ(choose(points, Objective::p99_within_cpu_budget, limits), std::nullopt);
    EXPECT_EQ(choose(points, Objective::cpu_within_p99, limits), std::nullopt);
    EXPECT_EQ(choose(std::vector<TunePoint>{}, Objective::lowest_p99, limits), std::nullopt);
    // Exactly at the limit meets it.
    limits.cpu_budget_cores = 0.1;
    EXPECT_EQ(choose(points, Objective::p99_within_cpu_budget, limits), 1u);
}

TEST(TunePareto, TiesGoToTheOtherFigureThenP50ThenTheFirst) {
    TuneLimits limits;
    // p99 within 5% of the best: the cheaper one wins.
    const std::vector<TunePoint> near{pt(400, 600, 2.0), pt(400, 620, 1.0)};
    EXPECT_EQ(choose(near, Objective::lowest_p99, limits), 1u);
    // 10% apart is not a tie.
    const std::vector<TunePoint> apart{pt(400, 600, 2.0), pt(400, 660, 1.0)};
    EXPECT_EQ(choose(apart, Objective::lowest_p99, limits), 0u);
    // Equal Cores: the lower p99.
    const std::vector<TunePoint> cores{pt(1, 900, 0.2), pt(1, 800, 0.2)};
    EXPECT_EQ(choose(cores, Objective::lowest_cpu, limits), 1u);
    // Equal p99 and Cores: the lower p50; all equal: the first.
    const std::vector<TunePoint> p50{pt(5, 10, 1), pt(4, 10, 1)};
    EXPECT_EQ(choose(p50, Objective::lowest_p99, limits), 1u);
    const std::vector<TunePoint> same{pt(4, 10, 1), pt(4, 10, 1)};
    EXPECT_EQ(choose(same, Objective::lowest_p99, limits), 0u);
    EXPECT_EQ(choose(same, Objective::lowest_cpu, limits), 0u);
}

TEST(TunePareto, AReferenceIsOnTheFrontierButNeverChosen) {
    const std::vector<TunePoint> points{pt(100, 100, 0.01, false), pt(400, 600, 2.0)};
    TuneLimits limits;
    EXPECT_EQ(pareto_frontier(points), (std::vector<std::size_t>{0}));
    EXPECT_EQ(choose(points, Objective::lowest_p99, limits), 1u);
    EXPECT_EQ(choose(points, Objective::lowest_cpu, limits), 1u);
}

TEST(TunePareto, ContendersKeepEachObjectivesBestNotTheFastestAlone) {
    // Four fast spinners, one cheap sleeper, one within the CPU budget.
    const std::vector<TunePoint> points{
        pt(400, 600, 2.0), pt(410, 610, 2.0), pt(420, 620, 2.0), pt(430, 630, 2.0),
        pt(20e3, 40e3, 0.1),  // 4: cheapest
        pt(5e3, 9e3, 0.9),    // 5: best p99 within 1 core
    };
    TuneLimits limits;
    const auto two = contenders(points, limits, 2, 0);
    EXPECT_EQ(sorted(two), (std::vector<std::size_t>{0, 4}));
    limits.cpu_budget_cores = 1.0;
    const auto three = contenders(points, limits, 3, 0);
    EXPECT_EQ(sorted(three), (std::vector<std::size_t>{0, 4, 5}));
    // Slack keeps a point just over the budget in the running.
    limits.cpu_budget_cores = 0.8;
    EXPECT_EQ(contenders(points, limits, 3, 0.0), (std::vector<std::size_t>{0, 1, 4}));
    EXPECT_EQ(contenders(points, limits, 3, 0.25), (std::vector<std::size_t>{0, 4, 5}));
    // Never more than asked; never what was not measured.
    std::vector<TunePoint> with_gap = points;
    with_gap.push_back(TunePoint{});
    EXPECT_EQ(contenders(with_gap, limits, 100, 0).size(), points.size());
}

TEST(TunePareto, LabelsSayTheLimit) {
    TuneLimits limits;
    limits.cpu_budget_cores = 0.5;
    limits.p99_limit_ns = 50e3;
    EXPECT_EQ(objectives_for(TuneLimits{}).size(), 2u);
    EXPECT_EQ(objectives_for(limits).size(), 4u);
    EXPECT_EQ(objective_label(Objective::p99_within_cpu_budget, limits), "lowest p99 within --cpu-budget 0.5");
    EXPECT_EQ(objective_label(Objective::cpu_within_p99, limits), "lowest CPU within --p99 50us");
}

// ---- Successive halving on a synthetic measurement ---------------------------

// Candidates whose true figures are known; measuring one advances a fake
// clock by what it would cost: 10 ms a repetition plus its calls.
struct Synthetic {
    std::vector<TuneCandidate> candidates;
    std::vector<TunePoint> truth;
    std::vector<bool> unavailable;
    double clock_s = 0;
    std::vector<RoundRequest> requests;

    void add(const std::string& spec, TunePoint p, bool can_run = true) {
        TuneCandidate c;
        c.spec = spec;
        candidates.push_back(c);
        truth.push_back(p);
        unavailable.push_back(!can_run);
    }

    MeasureRound measure() {
        return [this](const RoundRequest& r) {
            requests.push_back(r);
            std::vector<CandidateMeasurement> out;
            for (std::size_t k = 0; k < r.candidates.size(); ++k) {
                const std::size_t i = r.candidates[k];
                CandidateMeasurement m;
                m.calls = r.calls[k];
                m.repeat = r.repeat;
                const double call_s = truth[i].wall_per_call_ns / 1e9;
                m.elapsed_s = r.repeat * 0.01 + double(m.calls) * call_s;
                m.measured_s = double(m.calls) * call_s;
                clock_s += m.elapsed_s;
                if (unavailable[i]) {
                    m.reason = "unavailable: cannot build it";
                    m.elapsed_s = 0;
                    m.measured_s = 0;
                } else {
                    m.ok = true;
                    m.point = truth[i];
                }
                out.push_back(std::move(m));
            }
            return out;
        };
    }

    SearchOptions options(double budget_s) {
        SearchOptions o;
        o.budget_s = budget_s;
        o.now_s = [this] { return clock_s; };
        return o;
    }
};

TunePoint costing(TunePoint p, double wall_ns) {
    p.wall_per_call_ns = wall_ns;
    return p;
}

// 30 candidates: 10 spinners, 19 sleepers, one cheapest of all, one
// unavailable; the best p99 and the lowest CPU are far apart in the list.
Synthetic thirty() {
    Synthetic s;
    for (int i = 0; i < 10; ++i) s.add(fmt::format("spin{}", i), costing(pt(400 + i, 600 + 10 * i, 2.0), 500));
    for (int i = 0; i < 18; ++i) {
        s.add(fmt::format("sleep{}", i), costing(pt(20e3, 40e3 + 1e3 * i, 0.5 + 0.01 * i), 25e3));
    }
    s.add("cheapest", costing(pt(30e3, 90e3, 0.05), 30e3));
    s.add("broken", costing(pt(1, 1, 0.001), 1), false);
    return s;
}

TEST(TuneSearch, HalvingKeepsEachObjectivesContendersAndConfirmsEachChoice) {
    Synthetic s = thirty();
    SearchOptions options = s.options(60);
    options.limits.cpu_budget_cores = 0.55;
    const SearchOutcome outcome = successive_halving(s.candidates, options, s.measure());

    ASSERT_GE(outcome.rounds.size(), 3u);
    for (std::size_t r = 1; r < outcome.rounds.size(); ++r) {
        EXPECT_LT(outcome.rounds[r].request.candidates.size(), outcome.rounds[r - 1].request.candidates.size());
        EXPECT_GE(outcome.rounds[r].request.repeat, outcome.rounds[r - 1].request.repeat);
    }
    // The broken one dropped out in round 1 and was never asked for again.
    EXPECT_EQ(outcome.reached[29], 1u);
    EXPECT_FALSE(outcome.last[29].ok);
    // Each objective's best reached the last round and was chosen.
    const auto final_has = [&](std::size_t i) {
        return std::find(outcome.final_candidates.begin(), outcome.final_candidates.end(), i) !=
               outcome.final_candidates.end();
    };
    EXPECT_TRUE(final_has(0));   // best p99
    EXPECT_TRUE(final_has(28));  // lowest CPU
    EXPECT_TRUE(final_has(10));  // best p99 within 0.55 cores
    ASSERT_EQ(outcome.recommendations.size(), 3u);
    EXPECT_EQ(outcome.recommendations[0].candidate, 0u);
    EXPECT_EQ(outcome.recommendations[1].candidate, 28u);
    EXPECT_EQ(outcome.recommendations[2].candidate, 10u);
    // Each distinct choice ran once more, alone.
    std::set<std::size_t> confirmed;
    for (const RoundRequest& r : s.requests) {
        if (r.round != 0) continue;
        ASSERT_EQ(r.candidates.size(), 1u);
        confirmed.insert(r.candidates[0]);
    }
    EXPECT_EQ(confirmed, (std::set<std::size_t>{0, 28, 10}));
    for (const Recommendation& rec : outcome.recommendations) EXPECT_TRUE(rec.confirmation.has_value());
    // Within the budget (a round is sized from the cost seen in the one before).
    EXPECT_LE(s.clock_s, 60 * 1.05);
    EXPECT_GT(s.clock_s, 60 * 0.5);
    EXPECT_FALSE(outcome.interrupted);
}

TEST(TuneSearch, LaterRoundsGiveTheSurvivorsMoreCalls) {
    Synthetic s = thirty();
    const SearchOutcome outcome = successive_halving(s.candidates, s.options(60), s.measure());
    ASSERT_GE(outcome.rounds.size(), 2u);
    const auto calls_of = [&](const RoundRecord& r, std::size_t candidate) {
        const auto at = std::find(r.request.candidates.begin(), r.request.candidates.end(), candidate);
        return r.request.calls[std::size_t(at - r.request.candidates.begin())];
    };
    EXPECT_GT(calls_of(outcome.rounds[1], 0), calls_of(outcome.rounds[0], 0));
    // The cheap-per-call spinner gets more calls than a sleeper in the same time.
    EXPECT_GT(calls_of(outcome.rounds[1], 0), calls_of(outcome.rounds[1], 28));
}

TEST(TuneSearch, ATinyBudgetStillAnswersFromRoundOne) {
    Synthetic s = thirty();
    const SearchOutcome outcome = successive_halving(s.candidates, s.options(0.1), s.measure());
    ASSERT_EQ(outcome.rounds.size(), 1u);
    EXPECT_EQ(outcome.rounds[0].request.calls[0], 200u);  // the fewest a round gives
    EXPECT_EQ(outcome.final_candidates.size(), 29u);
    EXPECT_EQ(outcome.recommendations[0].candidate, 0u);
    EXPECT_EQ(outcome.recommendations[1].candidate, 28u);
}

TEST(TuneSearch, AnInfeasibleLimitIsSaidPlainly) {
    Synthetic s = thirty();
    SearchOptions options = s.options(20);
    options.limits.cpu_budget_cores = 0.01;
    options.limits.p99_limit_ns = 100;
    const SearchOutcome outcome = successive_halving(s.candidates, options, s.measure());
    ASSERT_EQ(outcome.recommendations.size(), 4u);
    EXPECT_FALSE(outcome.recommendations[2].candidate.has_value());
    EXPECT_FALSE(outcome.recommendations[3].candidate.has_value());
    EXPECT_EQ(infeasible_note(Objective::p99_within_cpu_budget, options.limits, s.candidates, outcome),
              "no candidate within --cpu-budget 0.01 (the lowest Cores measured: 0.05, cheapest)");
    EXPECT_EQ(infeasible_note(Objective::cpu_within_p99, options.limits, s.candidates, outcome),
              "no candidate within --p99 100 ns (the lowest p99 measured: 600 ns, spin0)");
}

TEST(TuneSearch, AStopEndsTheSearchWithWhatWasMeasured) {
    Synthetic s = thirty();
    SearchOptions options = s.options(60);
    options.stopped = [&] { return !s.requests.empty(); };
    const SearchOutcome outcome = successive_halving(s.candidates, options, s.measure());
    EXPECT_TRUE(outcome.interrupted);
    EXPECT_EQ(outcome.rounds.size(), 1u);
    EXPECT_EQ(outcome.recommendations[0].candidate, 0u);
    EXPECT_FALSE(outcome.recommendations[0].confirmation.has_value());
}

TEST(TuneSearch, CandidatesAreValidDistinctDesigns) {
    Configuration base;
    base.backend = "epoll";
    const std::vector<TuneCandidate> candidates = tune_candidates(base, true);
    std::set<std::string> described;
    std::size_t presets = 0;
    for (const TuneCandidate& c : candidates) {
        if (c.reference) {
            EXPECT_EQ(c.config.target, TargetKind::pool);
            continue;
        }
        EXPECT_EQ(parse_design(c.spec), c.config.design) << c.spec;
        EXPECT_TRUE(described.insert(c.config.design.describe()).second) << c.spec;
        EXPECT_NE(c.config.design.impl, Design::Impl::native) << "epoll has no native worker";
        presets += std::any_of(design_presets().begin(), design_presets().end(),
                               [&](const DesignPreset& p) { return p.name == c.spec; });
    }
    EXPECT_EQ(presets, design_presets().size() - 1);  // all but native
    EXPECT_GE(candidates.size(), 25u);
    EXPECT_TRUE(candidates.back().reference);
}

// ---- The result file and the picture ------------------------------------------

std::string result_json_without_tune() { return R"({"schema": "handoff/1", "results": []})"; }

TEST(TuneReport, TheTuneObjectReadsBackAndDrawsEachRecommendation) {
    Synthetic s = thirty();
    s.candidates[0].spec = "inplace,\"quoted'";  // what a file could hold: drawn, never run
    SearchOptions options = s.options(60);
    options.limits.cpu_budget_cores = 0.01;  // none meets it
    Configuration base;
    base.backend = "epoll";
    base.work = Work::parse("none");
    const SearchOutcome outcome = successive_halving(s.candidates, options, s.measure());
    const TuneSummary summary = summarize_tune(s.candidates, outcome, base, options);

    std::ostringstream table;
    write_tune_table(table, summary);
    std::istringstream lines(table.str());
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 120u) << line;
    EXPECT_NE(table.str().find("lowest CPU:                            --design cheapest\n"), std::string::npos)
        << table.str();
    EXPECT_NE(table.str().find("lowest p99 within --cpu-budget 0.01:   none\n"), std::string::npos) << table.str();

    const std::string text = tune_result_json(Report{}, summary);
    EXPECT_EQ(parse_result_text(text, "tune.json").rows.size(), 0u);  // a result file like any other
    const auto back = parse_tune_summary(text, "tune.json");
    ASSERT_TRUE(back.has_value());
    ASSERT_EQ(back->candidates.size(), s.candidates.size());
    EXPECT_EQ(back->candidates[0].design, s.candidates[0].spec);
    EXPECT_EQ(back->candidates[28].point.cores, 0.05);
    ASSERT_EQ(back->recommendations.size(), 3u);
    EXPECT_EQ(back->recommendations[1].design, "cheapest");
    EXPECT_FALSE(back->recommendations[2].design.has_value());
    EXPECT_NE(back->recommendations[2].note.find("no candidate within --cpu-budget 0.01"), std::string::npos);
    EXPECT_EQ(parse_tune_summary(result_json_without_tune(), "run.json"), std::nullopt);
    EXPECT_THROW(parse_tune_summary(R"({"schema": "handoff/1", "tune": {"candidates": 3}})", "bad.json"),
                 ResultFileError);

    ResultFile file;
    file.name = "tune.json";
    const std::string script = tune_gnuplot_script(file, *back, "o.svg", PlotTerminal::svg);
    EXPECT_NE(script.find(R"('(1) inplace,"quoted''')"), std::string::npos) << script;
    EXPECT_NE(script.find("'(2) cheapest'"), std::string::npos) << script;
    EXPECT_NE(script.find("'lowest p99 within --cpu-budget 0.01: none'"), std::string::npos) << script;
    EXPECT_NE(script.find(R"("inplace,'quoted'")"), std::string::npos) << "a data label keeps no double quote";
}

// The floor after the search and after each confirmation: a confirmation
// taken after the host moved the two vCPUs apart (65 -> 330 ns) says so.
TEST(TuneReport, AFloorThatMovedBetweenSearchAndConfirmationIsSaid) {
    Configuration base;
    base.backend = "epoll";
    base.work = Work::parse("none");
    const auto tune_with_floors = [&](double after_search, double after_confirmation) {
        Synthetic s = thirty();
        const SearchOptions options = s.options(60);
        TuneHostWatch host([&] { return s.requests.back().round == 0 ? after_confirmation : after_search; });
        const SearchOutcome outcome = successive_halving(s.candidates, options, host.around(s.measure()));
        TuneSummary summary = summarize_tune(s.candidates, outcome, base, options);
        host.fill(summary, outcome);
        return summary;
    };
    const TuneSummary moved = tune_with_floors(65, 330);
    EXPECT_EQ(moved.floor_after_search_ns, 65);
    ASSERT_EQ(moved.recommendations.size(), 2u);
    for (const TuneSummary::Choice& c : moved.recommendations) {
        ASSERT_TRUE(c.confirm.has_value()) << c.label;
        EXPECT_EQ(c.confirm_floor_ns, 330) << c.label;
    }
    std::ostringstream table;
    write_tune_table(table, moved);
    const std::string said = "the floor moved from 65 ns (search) to 330 ns (this run): the host changed; compare "
                             "within one regime\n";
    std::size_t times = 0;
    for (std::size_t at = table.str().find(said); at != std::string::npos; at = table.str().find(said, at + 1)) ++times;
    EXPECT_EQ(times, 2u) << table.str();
    std::istringstream lines(table.str());
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 120u) << line;

    const std::string text = tune_result_json(Report{}, moved);
    const auto back = parse_tune_summary(text, "tune.json");
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->floor_after_search_ns, 65);
    EXPECT_EQ(back->recommendations[0].confirm_floor_ns, 330);
    EXPECT_TRUE(nlohmann::json::parse(text)["tune"]["recommendations"][0]["host_changed"].get<bool>());

    std::ostringstream steady;
    write_tune_table(steady, tune_with_floors(65, 70));
    EXPECT_EQ(steady.str().find("the floor moved"), std::string::npos) << steady.str();
    EXPECT_FALSE(host_changed(65, 110));  // a busy moment, not another regime
    EXPECT_TRUE(host_changed(65, 170));
    EXPECT_TRUE(host_changed(330, 65));
    EXPECT_FALSE(host_changed(65, std::nan("")));  // no floor (one CPU): nothing said
}

// ---- The real binary ------------------------------------------------------------

using test_support::Ran;
using test_support::run;

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void expect_refused(const std::string& args, const std::string& part) {
    const Ran ran = run("tune " + args);
    EXPECT_EQ(ran.status, 2) << args << "\n" << ran.err;
    EXPECT_EQ(std::count(ran.err.begin(), ran.err.end(), '\n'), 1) << args << "\n" << ran.err;
    EXPECT_TRUE(has(ran.err, "handoff: tune: " + part)) << args << "\n" << ran.err;
    EXPECT_TRUE(ran.out.empty()) << args << "\n" << ran.out;
}

TEST(TuneCommand, BadOptionsAreOneLineAndStatusTwo) {
    expect_refused("--budget 0s", "--budget: '0s' is not allowed");
    expect_refused("--budget soon", "--budget: 'soon' is not allowed");
    expect_refused("--rate -5", "--rate: '-5' is not allowed");
    expect_refused("--arrival poisson", "--arrival: only applies with --rate");
    expect_refused("--rate 1000 --arrival sometimes", "--arrival: 'sometimes' is not allowed: expected fixed or poisson");
    expect_refused("--placement nowhere", "--placement:");
    expect_refused("--backend nope", "--backend: 'nope' is not allowed");
    expect_refused("--cpu-budget lots", "--cpu-budget: 'lots' is not allowed");
    expect_refused("--p99 0us", "--p99: '0us' is not allowed");
    expect_refused("--inflight 0", "--inflight: '0' is not allowed");
    expect_refused("--work nothing", "--work:");
    expect_refused("--pin loop=0 --placement free", "--pin: cannot be combined with --placement");
    expect_refused("--format csv", "--format: 'csv' is not allowed: expected table or json");
    expect_refused("-o out.csv", "--output: 'out.csv' asks for csv");
    expect_refused("--nope", "'--nope' is not an option of tune");
    expect_refused("--budget", "--budget: expected a value after it");
}

// One real search on a tiny budget: it completes, its file reads as a result
// file (compare, plot) with a "tune" object, and every spec it recommends is
// one the main command's --design takes.
TEST(TuneCommand, ATinySearchEndToEnd) {
    const std::string file = testing::TempDir() + "handoff_tune_" + std::to_string(::getpid()) + ".json";
    const std::string placement = sysconf(_SC_NPROCESSORS_ONLN) >= 2 ? "split" : "free";
    const Ran ran = run("tune --budget 4s --work none --no-pool --cpu-budget 0.001 --placement " + placement +
                        " -o " + file);
    ASSERT_EQ(ran.status, 0) << ran.err << ran.out;
    EXPECT_TRUE(has(ran.out, "Pareto frontier")) << ran.out;
    EXPECT_TRUE(has(ran.out, "lowest p99:")) << ran.out;
    EXPECT_TRUE(has(ran.out, "lowest CPU:")) << ran.out;
    EXPECT_TRUE(has(ran.out, "lowest p99 within --cpu-budget 0.001:  none\n      no candidate within")) << ran.out;
    std::istringstream lines(ran.out);
    for (std::string line; std::getline(lines, line);) EXPECT_LE(line.size(), 120u) << line;

    const ResultFile read = read_result_file(file);
    EXPECT_FALSE(read.rows.empty());
    std::ifstream in(file);
    const nlohmann::json document = nlohmann::json::parse(in);
    ASSERT_TRUE(document.contains("tune"));
    const auto summary = parse_tune_summary(document.dump(), file);
    ASSERT_TRUE(summary.has_value());
    std::set<std::string> specs;
    for (const TuneSummary::Choice& c : summary->recommendations) {
        if (c.design) specs.insert(*c.design);
    }
    ASSERT_FALSE(specs.empty());
    for (const std::string& spec : specs) {
        const Ran again = run("--design '" + spec + "' --count 1000 --repeat 1 --backend epoll --target dedicated "
                              "--work none --no-floor --placement " + placement);
        EXPECT_EQ(again.status, 0) << spec << "\n" << again.err;
    }
    const Ran compared = run("compare " + file + " " + file);
    EXPECT_EQ(compared.status, 0) << compared.err;
    const std::string svg = file + ".svg";
    const Ran plotted = run("plot " + file + " -o " + svg);
    EXPECT_EQ(plotted.status, 0) << plotted.err;
    EXPECT_NE(test_support::slurp(svg).find("Recommended (--design)"), std::string::npos);
    std::remove(svg.c_str());
    std::remove(file.c_str());
}

}  // namespace
}  // namespace handoff
