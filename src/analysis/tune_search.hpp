// `handoff tune`'s search: the candidate designs, successive halving over
// them within a time budget, and a confirmation run of each recommendation.
//
// The search never runs a loop itself: a MeasureRound callback measures a
// round's candidates (session_measure does it with run_session, interleaved
// repetitions; the tests give synthetic figures), and a clock says how much
// of the budget is spent. So the algorithm is tested without a loop.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "analysis/tune_pareto.hpp"
#include "run/configuration.hpp"
#include "run/session.hpp"

namespace handoff {

// One design to try (or the pool, a reference: measured, never recommended).
struct TuneCandidate {
    std::string spec;  // what --design takes ("futex-gated,loop-spin=4us"); "pool" for the reference
    Configuration config;
    bool reference = false;
};

// Every preset the backend can build, then generated designs varying one
// axis at a time from a preset: spin budgets over 250ns..50us (both sides,
// the loop alone, the worker alone), the queue, wake gating, batching; and
// the pool as a reference when `with_pool`. Each parsed with parse_design,
// duplicates (same describe()) and what the backend cannot build left out.
// `base` gives the work, in-flight, rate, placement, backend.
std::vector<TuneCandidate> tune_candidates(const Configuration& base, bool with_pool);

// Cores of a row: (CpuEvtLoop + CpuWorker) / Wall of its representative run
// (report_detail::representative_run); NaN without one. To become the
// report's own `cores` figure once it has one.
double cores_of(const RowResult& row);

// A candidate as one round (or its confirmation) measured it.
struct CandidateMeasurement {
    bool ok = false;
    std::string reason;  // when not ok: unavailable, failed, interrupted
    TunePoint point;
    std::uint64_t calls = 0;
    unsigned repeat = 0;
    double elapsed_s = 0;  // time spent running it, set-up and warm-up included
    double measured_s = 0;  // of which inside the measured intervals (the runs' Wall); 0: unknown
    RowResult row;         // the row, for the result file (empty in tests)
};

// What TunePoint a row gives (the report's rules: representative run,
// pooled latency).
TunePoint point_of(const RowResult& row);

// One round for the measure callback: these candidates, each with its own
// call count (sized to its cost), `repeat` repetitions interleaved.
struct RoundRequest {
    unsigned round = 0;   // 1-based; 0: a confirmation run, one candidate alone
    unsigned rounds = 0;  // planned
    std::vector<std::size_t> candidates;
    std::vector<std::uint64_t> calls;  // per candidate, a multiple of repeat
    unsigned repeat = 1;
    // Past this many seconds from its start, the round ends once every
    // candidate has one repetition (the later ones are cut): the budget
    // holds even when a call costs far more than estimated.
    double time_limit_s = std::numeric_limits<double>::infinity();
};
// Returns one measurement per requested candidate, in order.
using MeasureRound = std::function<std::vector<CandidateMeasurement>(const RoundRequest&)>;

struct SearchOptions {
    double budget_s = 180;
    TuneLimits limits;
    double confirm_share = 0.15;  // of the budget, kept for the confirmation runs
    std::size_t final_keep = 6;   // halving stops at this many
    std::uint64_t min_calls = 200;
    std::uint64_t first_round_max_calls = 20000;
    std::uint64_t max_calls = 5'000'000;
    // What a candidate is assumed to cost before round 1: per call, and per
    // repetition (building the loop and worker, the warm-up).
    double prior_call_s = 30e-6;
    double prior_repetition_s = 0.02;
    // Seconds since the search began (a steady clock; tests give their own).
    std::function<double()> now_s;
    std::function<bool()> stopped;  // a signal: stop after the running round
    // Before each round: round k of n, how many candidates.
    std::function<void(const RoundRequest&)> on_round;
};

struct RoundRecord {
    RoundRequest request;
    std::vector<CandidateMeasurement> results;  // one per request candidate
    double elapsed_s = 0;
};

struct Recommendation {
    Objective objective;
    std::optional<std::size_t> candidate;  // nullopt: no candidate meets the limit
    CandidateMeasurement search;           // its final round's measurement
    std::optional<CandidateMeasurement> confirmation;
};

struct SearchOutcome {
    std::vector<RoundRecord> rounds;
    unsigned planned_rounds = 0;
    // Per candidate: its last measurement (ok false when it never measured
    // ok) and the last round it ran in (0: never).
    std::vector<CandidateMeasurement> last;
    std::vector<unsigned> reached;
    std::vector<std::size_t> final_candidates;  // the last round's, the frontier's ground
    std::vector<std::size_t> frontier;          // candidate indices, by Cores
    std::vector<Recommendation> recommendations;
    bool interrupted = false;
    double elapsed_s = 0;
};

// Successive halving: round 1 runs every candidate briefly (min_calls and up,
// 2 repetitions); each later round keeps the contenders of every objective
// (tune_pareto's contenders(): half of them, not fewer than final_keep), and
// gives them more calls and repetitions, each round an equal share of the
// budget left, each candidate's calls sized by its cost in the round before
// (a cost per repetition plus one per call), at most 4x its calls before. A
// round that cannot run even at min_calls is not run; one that overruns its
// share twice over is cut once every candidate has a repetition.
// Then each objective's choice over the last round, and a confirmation run
// of each distinct choice alone. `candidates` says which are references.
SearchOutcome successive_halving(const std::vector<TuneCandidate>& candidates, const SearchOptions& options,
                                 const MeasureRound& measure);

// The measure callback that runs the round's candidates with run_session
// (interleaved repetitions), timing each. `session` supplies the stop flag
// and progress; its repeat and run_one are the round's.
MeasureRound session_measure(const std::vector<TuneCandidate>& candidates, SessionOptions session);

}  // namespace handoff
