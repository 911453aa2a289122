#include <memory>

#include <fmt/format.h>

#include "condvar_workers.hpp"
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
    if (options.executor == nullptr) throw std::invalid_argument("target without an executor");
    if (options.kind == TargetKind::pool) {
        return std::make_unique<CondvarWorkers>(loop, *options.executor, options.threads, false,
                                                fmt::format("lab pool ({} threads)", options.threads));
    }
    const Design& design = options.design != nullptr ? *options.design : Design{};
    return std::make_unique<CondvarWorkers>(loop, *options.executor, 1, design.worker_drains_batch,
                                            "lab worker");
}

std::unique_ptr<Target> Loop::make_target(const TargetOptions& options) {
    return make_lab_target(*this, options);
}

}  // namespace handoff
