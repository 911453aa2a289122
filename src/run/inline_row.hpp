// The inline row: the same work called directly on a thread that stands for
// the loop thread, with no handoff. The baseline every row is compared with.
#pragma once

#include "run/configuration.hpp"
#include "run/runner.hpp"

namespace handoff {

// Runs config.warmup calls, then config.calls measured ones, each checked as
// the loop thread checks a delivered result. Never throws for a run's
// problem: the row says failed (a placement, a wrong result, interrupted).
RowResult run_inline_row(const Configuration& config, const RunLimits& limits);

}  // namespace handoff
