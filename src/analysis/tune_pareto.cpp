#include "analysis/tune_pareto.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/duration.hpp"

namespace handoff {

bool TunePoint::measured() const {
    return std::isfinite(p50_ns) && std::isfinite(p99_ns) && std::isfinite(cores);
}

bool dominates(const TunePoint& a, const TunePoint& b) {
    const bool no_worse = a.p50_ns <= b.p50_ns && a.p99_ns <= b.p99_ns && a.cores <= b.cores;
    const bool better = a.p50_ns < b.p50_ns || a.p99_ns < b.p99_ns || a.cores < b.cores;
    return no_worse && better;
}

std::vector<std::size_t> pareto_frontier(std::span<const TunePoint> points) {
    std::vector<std::size_t> frontier;
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (!points[i].measured()) continue;
        const bool dominated = std::any_of(points.begin(), points.end(), [&](const TunePoint& other) {
            return other.measured() && dominates(other, points[i]);
        });
        if (!dominated) frontier.push_back(i);
    }
    std::stable_sort(frontier.begin(), frontier.end(), [&](std::size_t a, std::size_t b) {
        if (points[a].cores != points[b].cores) return points[a].cores < points[b].cores;
        return points[a].p99_ns < points[b].p99_ns;
    });
    return frontier;
}

std::vector<Objective> objectives_for(const TuneLimits& limits) {
    std::vector<Objective> objectives{Objective::lowest_p99, Objective::lowest_cpu};
    if (limits.cpu_budget_cores) objectives.push_back(Objective::p99_within_cpu_budget);
    if (limits.p99_limit_ns) objectives.push_back(Objective::cpu_within_p99);
    return objectives;
}

std::string objective_label(Objective objective, const TuneLimits& limits) {
    switch (objective) {
        case Objective::lowest_p99: return "lowest p99";
        case Objective::lowest_cpu: return "lowest CPU";
        case Objective::p99_within_cpu_budget:
            return fmt::format("lowest p99 within --cpu-budget {:g}", limits.cpu_budget_cores.value_or(0));
        case Objective::cpu_within_p99:
            return fmt::format("lowest CPU within --p99 {}",
                               format_duration(std::chrono::nanoseconds(std::llround(limits.p99_limit_ns.value_or(0)))));
    }
    return "?";
}

std::string objective_key(Objective objective) {
    switch (objective) {
        case Objective::lowest_p99: return "lowest_p99";
        case Objective::lowest_cpu: return "lowest_cpu";
        case Objective::p99_within_cpu_budget: return "p99_within_cpu_budget";
        case Objective::cpu_within_p99: return "cpu_within_p99";
    }
    return "?";
}

namespace {

// What an objective minimises first, and what decides a tie.
struct Criteria {
    double TunePoint::*primary;
    double TunePoint::*secondary;
};

Criteria criteria_of(Objective objective) {
    switch (objective) {
        case Objective::lowest_p99:
        case Objective::p99_within_cpu_budget: return {&TunePoint::p99_ns, &TunePoint::cores};
        case Objective::lowest_cpu:
        case Objective::cpu_within_p99: return {&TunePoint::cores, &TunePoint::p99_ns};
    }
    return {&TunePoint::p99_ns, &TunePoint::cores};
}

bool meets_limit(const TunePoint& p, Objective objective, const TuneLimits& limits, double slack) {
    if (objective == Objective::p99_within_cpu_budget) {
        return limits.cpu_budget_cores && p.cores <= *limits.cpu_budget_cores * (1 + slack);
    }
    if (objective == Objective::cpu_within_p99) return limits.p99_limit_ns && p.p99_ns <= *limits.p99_limit_ns * (1 + slack);
    return true;
}

// Best first: the lowest primary, but any within tune_tie of it is a tie that
// the secondary figure, then p50, then the order given decide. Picked one at
// a time (a tolerance is not an ordering a sort may rely on).
std::vector<std::size_t> rank_by(std::span<const TunePoint> points, std::vector<std::size_t> left, Criteria c) {
    std::vector<std::size_t> ranked;
    while (!left.empty()) {
        double best = std::numeric_limits<double>::infinity();
        for (const std::size_t i : left) best = std::min(best, points[i].*c.primary);
        auto pick = left.end();
        for (auto it = left.begin(); it != left.end(); ++it) {
            const TunePoint& p = points[*it];
            if (p.*c.primary > best * (1 + tune_tie)) continue;
            if (pick == left.end()) {
                pick = it;
                continue;
            }
            const TunePoint& q = points[*pick];
            if (p.*c.secondary != q.*c.secondary ? p.*c.secondary < q.*c.secondary : p.p50_ns < q.p50_ns) pick = it;
        }
        ranked.push_back(*pick);
        left.erase(pick);
    }
    return ranked;
}

}  // namespace

std::vector<std::size_t> objective_ranking(std::span<const TunePoint> points, Objective objective,
                                           const TuneLimits& limits, double slack) {
    std::vector<std::size_t> left;
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (points[i].measured() && points[i].eligible && meets_limit(points[i], objective, limits, slack)) {
            left.push_back(i);
        }
    }
    return rank_by(points, std::move(left), criteria_of(objective));
}

std::optional<std::size_t> choose(std::span<const TunePoint> points, Objective objective, const TuneLimits& limits) {
    const std::vector<std::size_t> ranked = objective_ranking(points, objective, limits);
    if (ranked.empty()) return std::nullopt;
    return ranked.front();
}

std::vector<std::size_t> contenders(std::span<const TunePoint> points, const TuneLimits& limits, std::size_t keep,
                                    double slack) {
    std::vector<std::vector<std::size_t>> lists;
    for (const Objective objective : objectives_for(limits)) {
        lists.push_back(objective_ranking(points, objective, limits, slack));
    }
    std::vector<std::size_t> measured;
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (points[i].measured()) measured.push_back(i);
    }
    lists.push_back(rank_by(points, measured, {&TunePoint::p50_ns, &TunePoint::cores}));
    lists.push_back(pareto_frontier(points));

    std::vector<bool> taken(points.size(), false);
    std::vector<std::size_t> cursor(lists.size(), 0);
    std::size_t kept = 0;
    for (bool progress = true; progress && kept < keep;) {
        progress = false;
        for (std::size_t l = 0; l < lists.size() && kept < keep; ++l) {
            while (cursor[l] < lists[l].size() && taken[lists[l][cursor[l]]]) ++cursor[l];
            if (cursor[l] == lists[l].size()) continue;
            taken[lists[l][cursor[l]]] = true;
            ++kept;
            progress = true;
        }
    }
    std::vector<std::size_t> chosen;
    for (std::size_t i = 0; i < points.size(); ++i) {
        if (taken[i]) chosen.push_back(i);
    }
    return chosen;
}

}  // namespace handoff
