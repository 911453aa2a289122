// Whether the host changed under a tune. On a VM the two vCPUs may move
// between sharing a core and not within minutes, and every figure moves with
// them (the floor 5x, a wake-up's cost, a p99): a confirmation that lands
// outside its search's spread may say nothing about the design. So the floor
// is measured after every round (the last one's stands for the search) and
// after each confirmation, 10-60 ms each, and the report says when it moved.
#pragma once

#include <cstddef>
#include <functional>
#include <map>

#include "analysis/tune_report.hpp"
#include "analysis/tune_search.hpp"

namespace handoff {

class TuneHostWatch {
public:
    // `floor_ns`: one floor measurement, ns per trip, NaN when none (one
    // CPU, a busy machine). The default measures the lab's floor.
    explicit TuneHostWatch(std::function<double()> floor_ns = {});

    // `measure`, with the floor taken after every round and confirmation.
    MeasureRound around(MeasureRound measure);

    // The floors into the summary: after the outcome's last round, and after
    // each recommendation's confirmation.
    void fill(TuneSummary& summary, const SearchOutcome& outcome) const;

private:
    std::function<double()> floor_ns_;
    std::map<unsigned, double> after_round_;         // by round (1-based)
    std::map<std::size_t, double> after_confirmation_;  // by candidate
};

}  // namespace handoff
