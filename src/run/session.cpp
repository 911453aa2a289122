#include "run/session.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>


namespace handoff {

std::vector<std::uint64_t> split_calls(std::uint64_t calls, unsigned repeat) {
    if (repeat == 0 || calls < repeat) {
        throw std::invalid_argument(fmt::format("{} calls cannot be split over {} repetitions", calls, repeat));
    }
    std::vector<std::uint64_t> parts(repeat, calls / repeat);
    for (std::uint64_t i = 0; i < calls % repeat; ++i) ++parts[i];
    return parts;
}

std::vector<PlannedRun> plan_runs(const std::vector<Configuration>& configs, unsigned repeat) {
    std::vector<std::vector<std::uint64_t>> parts;
    for (const Configuration& config : configs) parts.push_back(split_calls(config.calls, repeat));
    std::vector<PlannedRun> plan;
    plan.reserve(configs.size() * repeat);
    for (unsigned rep = 0; rep < repeat; ++rep) {
        for (std::size_t row = 0; row < configs.size(); ++row) plan.push_back({row, rep, parts[row][rep]});
    }
    return plan;
}

namespace {

std::uint64_t measured_calls(const RowResult& row) {
    std::uint64_t measured = 0;
    for (const Measurement& m : row.runs) measured += m.calls;
    return measured;
}

// The floor is a reference, not a handoff: a repetition that found the
// machine too busy to spin on two CPUs is left out (and counted), and the
// row is unavailable only while no repetition could be measured. True when
// `result` was such a repetition.
bool left_out_of_floor(RowResult& row, const RowResult& result) {
    if (result.status == RowStatus::unavailable) {
        ++row.runs_left_out;
        row.left_out_reason = result.reason;
        if (row.runs.empty()) {
            row.status = result.status;
            row.reason = result.reason;
        }
        return true;
    }
    if (result.status == RowStatus::ok && row.runs.empty()) {
        row.status = RowStatus::ok;
        row.reason.clear();
    }
    return false;
}

// Folds one repetition's result into its row. False when the row has ended
// (failed or unavailable): its later repetitions are skipped.
bool fold_repetition(RowResult& row, RowResult result, const PlannedRun& run, unsigned repeat) {
    if (row.config.is_floor() && left_out_of_floor(row, result)) return true;
    if (row.runs.empty() && row.status == RowStatus::ok) {
        // The runner may describe the row better than the plan did (the
        // floor picks its CPUs); the calls stay the row's whole count.
        const std::uint64_t calls = row.config.calls;
        row.config = result.config;
        row.config.calls = calls;
        row.mechanism = result.mechanism;
    }
    row.errors += result.errors;
    if (result.status != RowStatus::ok) {
        // Unavailable is the configuration's (it cannot be built here), not a
        // repetition's: said once, plainly. A failure says which repetition.
        row.status = result.status;
        row.reason = repeat == 1 || result.status == RowStatus::unavailable
                         ? result.reason
                         : fmt::format("repetition {} of {}: {}", run.repetition + 1, repeat, result.reason);
        return false;
    }
    for (Measurement& m : result.runs) row.runs.push_back(std::move(m));
    return true;
}

// After the plan: rows with repetitions left out, or cut short by a signal,
// hold the calls their runs measured (figures scale to what was measured,
// never extrapolate); a row with none says it was interrupted.
void settle_rows(SessionOutcome& outcome) {
    for (RowResult& row : outcome.rows) {
        if (row.runs_left_out != 0 && !row.runs.empty()) row.config.calls = measured_calls(row);
        if (!outcome.interrupted || row.status != RowStatus::ok || row.runs.size() >= row.repeat) continue;
        if (row.runs.empty()) {
            row.status = RowStatus::interrupted;
            row.reason = "the run was interrupted before this row's first repetition ended";
        } else {
            row.config.calls = measured_calls(row);
        }
    }
}

}  // namespace

SessionOutcome run_session(const std::vector<Configuration>& configs, const SessionOptions& options) {
    const auto run_one = options.run_one
                             ? options.run_one
                             : [](const Configuration& c, const RunLimits& l) { return run_configuration(c, l); };
    const auto stopped = [&] { return options.stop_requested != nullptr && options.stop_requested->load(); };

    SessionOutcome outcome;
    std::vector<bool> ended(configs.size(), false);  // failed or unavailable: no more repetitions
    for (const Configuration& config : configs) {
        RowResult row;
        row.config = config;
        row.repeat = options.repeat;
        outcome.rows.push_back(std::move(row));
    }

    const std::vector<PlannedRun> plan = plan_runs(configs, options.repeat);
    SessionProgress progress;
    progress.repeat = options.repeat;
    for (const PlannedRun& run : plan) progress.total_calls += configs[run.row].warmup + run.calls;

    for (const PlannedRun& run : plan) {
        if (stopped()) break;
        if (ended[run.row]) continue;
        Configuration config = configs[run.row];
        config.calls = run.calls;

        const std::uint64_t done_before = progress.done_calls;
        progress.config = &configs[run.row];
        progress.repetition = run.repetition + 1;
        RunLimits limits = options.limits;
        limits.stop_requested = options.stop_requested;
        if (options.on_progress) {
            limits.on_progress = [&](std::uint64_t delivered) {
                progress.done_calls = done_before + std::min(delivered, config.warmup + config.calls);
                options.on_progress(progress);
            };
            options.on_progress(progress);
        }
        RowResult result = run_one(config, limits);
        progress.done_calls = done_before + config.warmup + config.calls;

        if (result.status != RowStatus::ok && stopped()) break;  // the unfinished repetition is discarded
        ended[run.row] = !fold_repetition(outcome.rows[run.row], std::move(result), run, options.repeat);
    }
    outcome.interrupted = stopped();
    settle_rows(outcome);
    return outcome;
}

}  // namespace handoff
