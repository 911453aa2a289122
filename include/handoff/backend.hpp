// A backend: one event loop implementation, registered by name.
//
// Adding a backend: write backends/NAME.cpp defining `const Backend NAME_backend`
// and add one line to the list in src/base/backends_registry.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "handoff/clocks.hpp"
#include "handoff/design.hpp"
#include "handoff/loop.hpp"
#include "handoff/target.hpp"
#include "handoff/work.hpp"

namespace handoff {

// A foreign backend runs its loop in another process (the Python ones,
// backends/python.cpp): instead of building a Loop here, the runner hands it
// one repetition of a row and gets the interval's figures back, measured
// there by the same rules (every thread's own CPU clock at both edges, every
// result checked on its loop thread). Plain types only: the runner turns the
// result into the row's Measurement.
struct ForeignRequest {
    // Where calls run: a dedicated worker (with `design`), a pool, or
    // `inline_calls`: on the loop thread, awaited with no thread at all.
    TargetKind target = TargetKind::dedicated;
    bool inline_calls = false;
    const Design* design = nullptr;
    const Work* work = nullptr;
    std::uint64_t calls = 0;   // measured
    std::uint64_t warmup = 0;  // before the interval
    std::uint32_t inflight = 1;
    unsigned threads = 4;      // pool size
    int loop_cpu = -1;         // -1: not pinned
    int worker_cpu = -1;
    std::vector<int> pool_cpus;  // empty: not pinned
    // Open loop (--rate): calls per second, 0 for closed loop; arrivals
    // Poisson or evenly spaced, and the seed; the first intended send times
    // (ns after a phase's start) as the lab's ArrivalSchedule draws them, for
    // the foreign side to check its own schedule against.
    double rate = 0;
    bool poisson = false;
    std::uint64_t seed = 1;
    std::vector<std::int64_t> arrival_check;
    std::chrono::milliseconds stall_timeout{10000};  // no result for this long: failed (a lost wake-up)
    const std::atomic<bool>* stop_requested = nullptr;    // set: stop now, the repetition is discarded
    std::function<void(std::uint64_t delivered)> on_progress;  // calls delivered, warm-up included
};

struct ForeignResult {
    enum class Status { ok, failed, unsupported, interrupted };
    Status status = Status::failed;
    std::string reason;     // why not ok
    std::string mechanism;  // how calls travel, for the legend
    std::uint64_t errors = 0;  // calls with a wrong, missing or duplicated result
    // The interval (Measurement's fields; see measurement/measurement.hpp).
    std::uint64_t calls = 0;
    std::int64_t wall_ns = 0, cpu_total_ns = 0, cpu_loop_ns = 0, cpu_worker_ns = 0;
    ContextSwitches loop_switches, worker_switches;
    std::uint64_t same_cpu_calls = 0, cpu_known_calls = 0, failed_calls = 0;
    unsigned worker_threads = 0;
    std::vector<std::int64_t> latencies_ns;  // every measured call's round trip
    std::string cpu_total_caveat;
};

struct Backend {
    std::string_view name;         // "epoll", the --backend spelling
    std::string_view description;  // one line for --list
    // Why the backend cannot run on this machine now, or nullopt when it can.
    std::optional<std::string> (*unavailable_reason)();
    // Library and version found at run time ("libuv 1.44.2"), or "" for none.
    std::string (*library_version)();
    // Builds a loop on the calling thread (the loop thread). May throw
    // std::runtime_error with the reason (a failed io_uring_queue_init, say).
    std::unique_ptr<Loop> (*make_loop)(const LoopOptions& options);

    // What the backend can build besides the lab's designs. The runner checks
    // a design against these once, before a row runs, and says plainly what
    // cannot be built (design_unsupported_reason): the backend need not.
    struct Capabilities {
        bool native_worker = false;  // impl=native: its own cross-thread machinery both ways
        bool ring_wakes = false;     // ring=: how a worker wakes an io_uring
        // defer= and hold=: the loop sleeps only through LoopGate, with its
        // timer as its next wake, and tells the target (CompletionPoller::
        // before_sleep) each time it goes to sleep.
        bool sleep_hooks = false;
    };
    Capabilities capabilities = {};

    // Foreign backends only (make_loop is null): the family `--backend` names
    // them by ("python"), and one repetition of a row, run elsewhere.
    std::string_view family = {};
    ForeignResult (*run_foreign)(const ForeignRequest& request) = nullptr;
};

// Every registered backend whose loop runs here (make_loop), in table
// order: what `--backend all` runs.
std::span<const Backend* const> all_backends();

// Every registered foreign backend (run_foreign), in table order: the Python
// ones, which `--backend python` runs.
std::span<const Backend* const> foreign_backends();

// The backend named `name`, of either list, or nullptr.
const Backend* find_backend(std::string_view name);

// Why `backend` cannot run: its own reason, or the test seam
// HANDOFF_DISABLE_BACKENDS=name[,name...] (reported as such).
std::optional<std::string> backend_unavailable_reason(const Backend& backend);

// Why `backend` cannot build a dedicated worker of `design` (an axis it lacks
// the capability for), naming the backends that can; nullopt when it can.
std::optional<std::string> design_unsupported_reason(const Backend& backend, const Design& design);

}  // namespace handoff
