// `handoff tune`'s arithmetic on measured candidates, free of any running:
// the Pareto frontier of latency (p50, p99) against CPU (Cores), the choice
// each objective makes, and the contenders successive halving keeps.
//
// Small pure functions over TunePoint, so the tests can give known answers
// (ties, infeasible limits) without running a loop.
#pragma once

#include <cstddef>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace handoff {

// The smallest and largest of a figure over a candidate's repetitions.
struct FigureRange {
    double min = std::numeric_limits<double>::quiet_NaN();
    double max = std::numeric_limits<double>::quiet_NaN();
};

// One candidate as a round measured it. NaN: not measured (unavailable,
// failed, eliminated before the round).
struct TunePoint {
    double p50_ns = std::numeric_limits<double>::quiet_NaN();  // pooled over every call of every repetition
    double p99_ns = std::numeric_limits<double>::quiet_NaN();
    // (CpuEvtLoop + CpuWorker) / Wall of the representative repetition: how
    // many CPUs the design keeps busy, idle time between calls included.
    double cores = std::numeric_limits<double>::quiet_NaN();
    double cpu_per_call_ns = std::numeric_limits<double>::quiet_NaN();   // loop + worker, representative run
    double wall_per_call_ns = std::numeric_limits<double>::quiet_NaN();  // representative run
    FigureRange p50, p99, cores_range;  // over the repetitions
    // False for a reference (the pool): a point of the frontier, never a
    // recommendation.
    bool eligible = true;

    bool measured() const;
};

// a dominates b: no worse in p50, p99 and Cores, better in at least one.
bool dominates(const TunePoint& a, const TunePoint& b);

// The measured points no other measured point dominates, ordered by Cores
// (then p99, then index). Equal points are all on the frontier.
std::vector<std::size_t> pareto_frontier(std::span<const TunePoint> points);

enum class Objective {
    lowest_p99,
    lowest_cpu,
    p99_within_cpu_budget,  // lowest p99 among Cores <= --cpu-budget
    cpu_within_p99,         // lowest Cores among p99 <= --p99
};

// The user's limits; an objective whose limit is absent does not apply.
struct TuneLimits {
    std::optional<double> cpu_budget_cores;
    std::optional<double> p99_limit_ns;
};

// The objectives that apply, in the order they are printed.
std::vector<Objective> objectives_for(const TuneLimits& limits);

// "lowest p99", "lowest CPU", "lowest p99 within --cpu-budget 0.5",
// "lowest CPU within --p99 50us".
std::string objective_label(Objective objective, const TuneLimits& limits);
// "lowest_p99", "lowest_cpu", "p99_within_cpu_budget", "cpu_within_p99": JSON's key.
std::string objective_key(Objective objective);

// Two figures this close (relative) are a tie: the objective's other figure
// decides (p99 for Cores, Cores for p99), then p50, then the order given.
// Measurements on a shared machine differ by more than this from run to run,
// so a 2% better p99 bought with twice the CPU is not worth recommending.
constexpr double tune_tie = 0.05;

// The points that meet the objective's limit (inflated by `slack`, relative:
// a contender within 25% of the budget may meet it once measured longer),
// best first by the rule above. Only eligible measured points.
std::vector<std::size_t> objective_ranking(std::span<const TunePoint> points, Objective objective,
                                           const TuneLimits& limits, double slack = 0);

// The objective's choice, or nullopt when no eligible point is measured or
// none meets the limit.
std::optional<std::size_t> choose(std::span<const TunePoint> points, Objective objective, const TuneLimits& limits);

// Successive halving's cut: at most `keep` points, taken in turn from the
// ranking of each objective (with `slack`), of p50, and from the frontier,
// so each objective keeps its own contenders rather than the fastest alone.
// Returned in the order of `points`.
std::vector<std::size_t> contenders(std::span<const TunePoint> points, const TuneLimits& limits, std::size_t keep,
                                    double slack);

}  // namespace handoff
