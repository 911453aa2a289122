// What every run builds on its loop thread — the runner's rows and the stress
// tool's segments alike — in one place: the loop thread pinned, the registry
// that notes and pins the workers, the runner that runs calls on them, the
// backend's loop and its target.
//
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/placement.hpp"
#include "handoff/backend.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"

namespace handoff {

class Assembly {
public:
    struct Spec {
        const Backend* backend = nullptr;
        TargetKind target = TargetKind::dedicated;
        const Design* design = nullptr;  // dedicated only; nullptr: classic
        unsigned threads = 4;            // pool size
        std::uint32_t window = 1;        // slots the loop and target keep state for
        Work work;
        bool cancellable = false;  // calls can time out: one compare-and-swap per call
        Placement placement;
    };

    // Pins the calling thread (the loop thread) to the placement's loop CPU,
    // or to the process's own mask when it has none (a thread inherits the
    // mask of the thread that made it). The reason on failure, else nullopt.
    static std::optional<std::string> pin_loop_thread(const Placement& placement,
                                                      const std::vector<int>& process_mask);

    // The registry and the runner; where workers run: the placement's
    // worker or pool CPUs, else the process's mask (libuv's pool outlives a
    // run, so "free" must be set too).
    Assembly(const Spec& spec, const std::vector<int>& process_mask);
    Assembly(const Assembly&) = delete;
    Assembly& operator=(const Assembly&) = delete;

    // The loop and its target, torn down in that reverse order: the target
    // first (it hands back what it holds and joins its threads), then the
    // loop (it delivers what is still waiting, to a sink that must still be
    // there). Outlived by the Assembly, whose runner the workers use.
    struct Built {
        std::unique_ptr<Loop> loop;
        std::unique_ptr<Target> target;  // declared last: destroyed first
        // "lab worker: ...; wake: eventfd": how calls travel, for the output.
        std::string mechanism() const;
    };

    // Builds the loop, delivering to `sink`, then the target. Throws what
    // the backend throws (Unsupported for a combination it cannot build).
    Built build(CallSink& sink) const;

    ThreadRegistry& registry() { return registry_; }

private:
    Spec spec_;
    ThreadRegistry registry_;
    CallRunner runner_;
};

}  // namespace handoff
