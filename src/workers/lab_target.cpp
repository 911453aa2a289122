#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "workers/condvar_workers.hpp"
#include "workers/designed_worker.hpp"
#include "handoff/loop.hpp"

namespace handoff {

std::string_view to_string(TargetKind kind) {
    switch (kind) {
        case TargetKind::dedicated: return "dedicated";
        case TargetKind::pool: return "pool";
    }
    return "?";
}

std::unique_ptr<Target> make_lab_target(Loop& loop, const TargetOptions& options) {
    if (options.runner == nullptr) throw std::invalid_argument("target without a call runner");
    if (options.kind == TargetKind::pool) {
        return std::make_unique<CondvarWorkers>(loop, *options.runner, options.threads, false,
                                                fmt::format("lab pool ({} threads)", options.threads));
    }
    const Design design = options.design != nullptr ? *options.design : Design{};
    if (design.impl == Design::Impl::native) {
        // The runner refuses this before it builds anything (design_unsupported_reason).
        throw std::logic_error("the lab's target was asked for a native worker");
    }
    // `classic` keeps the plain condvar worker: the baseline the designs are
    // measured against, with python-async-bench's always-notify shape.
    if (design.is_classic()) return std::make_unique<CondvarWorkers>(loop, *options.runner, 1, design.batch, "lab worker");
    return std::make_unique<DesignedWorker>(loop, *options.runner, design, options.window);
}

void Loop::set_deadline(std::int64_t /*deadline_ns*/) { throw Unsupported("this loop has no timer"); }

void Loop::set_poller(CompletionPoller* /*poller*/) {
    throw Unsupported("this loop cannot poll a target for results (queue=inplace)");
}

std::unique_ptr<Target> Loop::make_target(const TargetOptions& options) {
    return make_lab_target(*this, options);
}

}  // namespace handoff
