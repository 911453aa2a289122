// What `handoff tune` found, in the form its result file keeps it: the
// "tune" object beside the rows of a handoff/1 document (readers of the
// rows ignore it), and read back by `handoff plot` to draw the frontier.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "analysis/tune_pareto.hpp"
#include "analysis/tune_search.hpp"
#include "report/report.hpp"

namespace handoff {

struct TuneSummary {
    // What was tuned for.
    std::string backend, work, placement, arrival;
    std::uint64_t inflight = 1;
    double rate = 0;  // 0: closed loop
    double budget_s = 0, elapsed_s = 0;
    TuneLimits limits;
    bool interrupted = false;

    struct Round {
        unsigned round = 0;
        std::size_t candidates = 0;
        std::uint64_t calls_min = 0, calls_max = 0;
        unsigned repeat = 0;
        unsigned fewest_repeats = 0;  // below repeat: the round was cut at its time limit
        double elapsed_s = 0;
    };
    std::vector<Round> rounds;

    // The floor (ns per trip) measured right after the search's last round,
    // NaN when it could not be: with each confirmation's, it says whether the
    // host changed between them (on a VM the two vCPUs may move between
    // sharing a core and not, and every figure moves with them).
    double floor_after_search_ns = std::numeric_limits<double>::quiet_NaN();

    // Every candidate, with its last round's figures.
    struct Candidate {
        std::string design;  // the --design spec; "pool" for the reference
        bool reference = false;
        unsigned round_reached = 0;  // 0: never measured
        bool final_round = false;
        bool frontier = false;
        std::string status;  // "ok", or why not ("unavailable: ...")
        std::uint64_t calls = 0;
        unsigned repeat = 0;
        TunePoint point;
    };
    std::vector<Candidate> candidates;

    struct Choice {
        std::string key;    // objective_key
        std::string label;  // objective_label
        std::optional<std::string> design;  // nullopt: no candidate meets the limit
        std::string note;   // why none, in plain words
        TunePoint search;   // its final round's figures
        std::optional<TunePoint> confirm;
        std::uint64_t search_calls = 0, confirm_calls = 0;
        unsigned search_repeat = 0, confirm_repeat = 0;
        double confirm_floor_ns = std::numeric_limits<double>::quiet_NaN();  // right after the confirmation
    };
    std::vector<Choice> recommendations;
};

// The summary of a search over `candidates`; `base` is what was tuned for.
TuneSummary summarize_tune(const std::vector<TuneCandidate>& candidates, const SearchOutcome& outcome,
                           const Configuration& base, const SearchOptions& options);

// "no candidate within --cpu-budget 0.1 (the lowest Cores measured: 0.31, classic)", for an objective none meets.
std::string infeasible_note(Objective objective, const TuneLimits& limits, const std::vector<TuneCandidate>& candidates,
                            const SearchOutcome& outcome);

// True when the confirmation's p99 lies within the search's min-max of p99
// over its repetitions.
bool p99_within_spread(const TunePoint& search, const TunePoint& confirm);

// The floor moved by more than this factor (either way) between the search
// and a confirmation: the host changed under the run. The two regimes seen
// here are 4-8x apart (50-70 ns on one core, 300-490 on two); a floor taken
// while other work runs can read 1.7x slow, so the bar sits between.
constexpr double host_change_factor = 2.5;
bool host_changed(double floor_before_ns, double floor_after_ns);

// The text `handoff tune` prints: what was tuned for, the rounds, the
// frontier of the last round (at most 120 columns), and one recommendation
// per objective with its search and confirmation figures.
void write_tune_table(std::ostream& out, const TuneSummary& summary);

// The result file: `report` as write_json writes it, plus "tune".
std::string tune_result_json(const Report& report, const TuneSummary& summary);

// The "tune" object of a result file's text, or nullopt when it has none.
// Throws ResultFileError (one line) when it has one that cannot be read.
std::optional<TuneSummary> parse_tune_summary(std::string_view text, std::string_view name);

}  // namespace handoff
