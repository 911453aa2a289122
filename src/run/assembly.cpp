#include "run/assembly.hpp"

#include <fmt/format.h>

namespace handoff {
namespace {

std::vector<int> worker_cpus(const Assembly::Spec& spec, const std::vector<int>& process_mask) {
    const Placement& p = spec.placement;
    if (spec.target == TargetKind::dedicated && p.worker_cpu >= 0) return {p.worker_cpu};
    if (spec.target == TargetKind::pool && !p.pool_cpus.empty()) return p.pool_cpus;
    return process_mask;
}

}  // namespace

std::optional<std::string> Assembly::pin_loop_thread(const Placement& placement,
                                                     const std::vector<int>& process_mask) {
    std::string error;
    const bool pinned = placement.loop_cpu >= 0 ? pin_current_thread(placement.loop_cpu, &error)
                                                : pin_current_thread_to_set(process_mask, &error);
    if (pinned) return std::nullopt;
    return error;
}

Assembly::Assembly(const Spec& spec, const std::vector<int>& process_mask)
    : spec_(spec), registry_(worker_cpus(spec, process_mask)), runner_(spec_.work, registry_, spec.cancellable) {}

Assembly::Built Assembly::build(CallSink& sink) const {
    // The design shapes both sides of a dedicated worker; pools are classic.
    const Design* design = spec_.target == TargetKind::dedicated ? spec_.design : nullptr;
    std::unique_ptr<Loop> loop = spec_.backend->make_loop({.sink = &sink, .window = spec_.window, .design = design});
    std::unique_ptr<Target> target = loop->make_target({.kind = spec_.target,
                                                        .design = design,
                                                        .threads = spec_.threads,
                                                        .window = spec_.window,
                                                        .runner = &runner_});
    return {std::move(loop), std::move(target)};
}

std::string Assembly::Built::mechanism() const {
    return fmt::format("{}; wake: {}", target->mechanism(), loop->wake_mechanism());
}

}  // namespace handoff
