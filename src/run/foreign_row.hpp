// A row of a foreign backend (Backend::run_foreign: the Python loops, in a
// process of their own): one repetition handed over whole, its figures
// turned into the row's Measurement, so it sits in the table, JSON, CSV,
// compare and plot like any other row.
#pragma once

#include "handoff/backend.hpp"
#include "run/configuration.hpp"
#include "run/runner.hpp"

namespace handoff {

// Runs one repetition of `config` through backend.run_foreign. Never throws
// for a run's problem: the row says failed, unavailable (a configuration
// the backend cannot build) or, with a stop requested, failed "interrupted".
RowResult run_foreign_row(const Configuration& config, const Backend& backend, const RunLimits& limits,
                          std::chrono::milliseconds stall_limit);

}  // namespace handoff
