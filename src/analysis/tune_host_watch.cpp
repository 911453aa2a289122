#include "analysis/tune_host_watch.hpp"

#include <limits>
#include <utility>

#include "run/floor.hpp"

namespace handoff {
namespace {

// The fastest of three short floors (each after the floor's own warm-up):
// other work on the machine only ever slows a floor down, so the minimum is
// the host's figure, not the moment's. 3 x 50k trips, 10-60 ms here.
constexpr int probes = 3;
constexpr std::uint64_t probe_trips = 50'000;

double lab_floor_ns() {
    double fastest = std::numeric_limits<double>::quiet_NaN();
    const auto cpus = default_floor_cpus();
    if (!cpus) return fastest;
    for (int i = 0; i < probes; ++i) {
        const FloorOutcome floor = measure_floor(probe_trips, cpus->first, cpus->second);
        if (!floor) continue;
        const double ns = floor.result->wall_ns_per_trip();
        if (!(ns >= fastest)) fastest = ns;  // also replaces the NaN
    }
    return fastest;
}

}  // namespace

TuneHostWatch::TuneHostWatch(std::function<double()> floor_ns)
    : floor_ns_(floor_ns ? std::move(floor_ns) : std::function<double()>(lab_floor_ns)) {}

MeasureRound TuneHostWatch::around(MeasureRound measure) {
    return [this, measure = std::move(measure)](const RoundRequest& request) {
        std::vector<CandidateMeasurement> results = measure(request);
        const double floor = floor_ns_();
        if (request.round == 0) {
            if (!request.candidates.empty()) after_confirmation_[request.candidates.front()] = floor;
        } else {
            after_round_[request.round] = floor;
        }
        return results;
    };
}

void TuneHostWatch::fill(TuneSummary& summary, const SearchOutcome& outcome) const {
    if (!outcome.rounds.empty()) {
        if (const auto it = after_round_.find(outcome.rounds.back().request.round); it != after_round_.end()) {
            summary.floor_after_search_ns = it->second;
        }
    }
    for (std::size_t i = 0; i < outcome.recommendations.size() && i < summary.recommendations.size(); ++i) {
        const auto& candidate = outcome.recommendations[i].candidate;
        if (!candidate) continue;
        if (const auto it = after_confirmation_.find(*candidate); it != after_confirmation_.end()) {
            summary.recommendations[i].confirm_floor_ns = it->second;
        }
    }
}

}  // namespace handoff
