#include "run/runner.hpp"

#include <sys/prctl.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "base/placement.hpp"
#include "handoff/backend.hpp"
#include "handoff/loop.hpp"
#include "handoff/thread_registry.hpp"
#include "run/assembly.hpp"
#include "run/awaiting_side.hpp"
#include "run/coroutine_side.hpp"
#include "run/floor.hpp"
#include "run/foreign_row.hpp"
#include "run/inline_row.hpp"
#include "run/stop_switch.hpp"

namespace handoff {
namespace {

// What the loop thread hands back to the runner.
struct LoopOutcome {
    std::optional<Measurement> measurement;
    std::string mechanism;
    std::uint64_t errors = 0;
    std::string error;          // why the row failed
    bool unsupported = false;   // the configuration cannot be built (not an error)
};

struct DetachOnExit {
    StopSwitch& stop_switch;
    ~DetachOnExit() { stop_switch.attach(nullptr); }
};

// Destroyed before the target and the loop, which then hand back whatever
// is still out: the awaiting only takes it back.
template <class Side>
struct CloseOnExit {
    Side& awaiting;
    ~CloseOnExit() { awaiting.close(); }
};

// The two awaiting sides' errors: the window's, and for coroutines also a
// co_await that gave its caller something other than the call's outcome.
std::uint64_t errors_of(AwaitingSide& awaiting) { return awaiting.window().errors(); }
std::string first_error_of(AwaitingSide& awaiting) { return awaiting.window().first_error(); }
std::uint64_t errors_of(CoroutineSide& awaiting) { return awaiting.errors(); }
std::string first_error_of(CoroutineSide& awaiting) { return awaiting.first_error(); }

// How calls travel, and with coroutines how they are awaited.
std::string mechanism_of(AwaitingSide&, const Assembly::Built& built) { return built.mechanism(); }
std::string mechanism_of(CoroutineSide& awaiting, const Assembly::Built& built) {
    return built.mechanism() + "; await: " + awaiting.await_mechanism();
}

// Why a finished run is not a result, or "" when it is.
template <class Side>
std::string verdict(Side& awaiting, ThreadRegistry& registry) {
    CallWindow& window = awaiting.window();
    if (const std::string pin_error = registry.pin_error(); !pin_error.empty()) return "placement: " + pin_error;
    if (errors_of(awaiting) != 0) return first_error_of(awaiting);
    if (!awaiting.measurement()) {
        awaiting.close();  // a no-op unless run() threw before the guard
        return fmt::format("stopped with {} calls outstanding (seq {})", awaiting.outstanding_at_close(),
                           awaiting.outstanding_seqs_at_close());
    }
    if (window.in_flight() + window.abandoned() != 0) {
        return fmt::format("shutdown lost calls: seq {} never came back", window.describe_outstanding());
    }
    return "";
}

// Everything that happens on the loop thread: build, warm up, measure, tear
// down, with the awaiting side `Side` (callback or coroutine).
template <class Side>
LoopOutcome run_on_loop_thread(const Configuration& config, const Backend& backend, StopSwitch& stop_switch,
                               std::atomic<std::uint64_t>& progress, const std::vector<int>& process_mask) {
    LoopOutcome outcome;
    if (const auto error = Assembly::pin_loop_thread(config.placement, process_mask)) {
        outcome.error = "placement: " + *error;
        return outcome;
    }
    // Open loop: the loop sleeps until the next intended send. Linux lets a
    // timed sleep run late by the thread's timer slack (50 us by default), a
    // whole gap at 10k calls per second: the loop thread asks for none.
    if (config.open_loop()) prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    Assembly assembly({.backend = &backend,
                       .target = config.target,
                       .design = &config.design,
                       .threads = config.threads,
                       .window = Side::slots_for(config),
                       .work = config.work,
                       .cancellable = config.timeout.count() != 0,
                       .placement = config.placement},
                      process_mask);
    Side awaiting(config, assembly.registry(), progress);
    try {
        const Assembly::Built built = assembly.build(awaiting);
        awaiting.attach(*built.loop, *built.target);
        outcome.mechanism = mechanism_of(awaiting, built);
        stop_switch.attach(built.loop.get());
        // Declared after the loop and target, so destroyed first: the watchdog
        // never reaches a loop that is gone, even when run() throws.
        const DetachOnExit detach{stop_switch};
        const CloseOnExit<Side> close_awaiting{awaiting};
        awaiting.start();
        built.loop->run();
    } catch (const Unsupported& e) {
        outcome.unsupported = true;
        outcome.error = e.what();
        return outcome;
    } catch (const std::exception& e) {
        outcome.error = e.what();
        return outcome;
    }
    outcome.measurement = awaiting.measurement();
    outcome.errors = errors_of(awaiting);
    outcome.error = verdict(awaiting, assembly.registry());
    return outcome;
}

// A design whose sides never sleep, pinned to one CPU, makes no progress
// until the spinner's time slice ends (milliseconds per call): refused
// rather than run for minutes.
std::optional<std::string> placement_conflict(const Configuration& config) {
    const Placement& p = config.placement;
    const bool one_cpu = p.loop_cpu >= 0 && p.loop_cpu == p.worker_cpu;
    const bool never_sleeps = config.target == TargetKind::dedicated &&
                              (config.design.wait == Design::Wait::spin ||
                               config.design.loop_spin == Design::LoopSpin::forever);
    if (one_cpu && never_sleeps) {
        return std::string("a side that never sleeps, pinned to the other side's CPU, waits a time slice per call: "
                           "use split or free placement");
    }
    return std::nullopt;
}

// Long work legitimately delivers nothing for a while: the watchdog waits
// for the slowest honest call (the whole window queued behind one worker).
std::chrono::milliseconds stall_limit(const Configuration& config, const RunLimits& limits) {
    const auto work = std::chrono::duration_cast<std::chrono::milliseconds>(config.work.longest());
    // Open loop: nothing is sent for a gap, and a Poisson gap can be many times the mean.
    const auto gap = std::chrono::milliseconds(config.open_loop() ? std::int64_t(20'000 / config.rate) : 0);
    return limits.stall_timeout + 2 * work * config.inflight + gap;
}

// Why a row cannot be built here (not an error: the row says unavailable).
std::optional<std::string> cannot_build(const Configuration& config, const Backend& backend) {
    if (auto reason = backend_unavailable_reason(backend)) return reason;
    if (config.target == TargetKind::dedicated) {
        if (auto reason = design_unsupported_reason(backend, config.design)) return reason;
    }
    // What the lab's C++ side has and a loop in another process does not.
    if (backend.run_foreign != nullptr && config.timeout.count() != 0) {
        return fmt::format("--timeout is not built for {}", backend.name);
    }
    return placement_conflict(config);
}

// How the watchdog ended a run, if it did.
struct Watch {
    bool interrupted = false;  // by limits.stop_requested (a signal)
    bool stalled = false;      // nothing delivered for the stall limit: a lost wake-up or call
};

// The watchdog, on the calling thread until the loop thread says it is done:
// reports progress, passes a stop request on, and stops a run that delivers
// nothing for `limit`.
Watch watch(const RunLimits& limits, std::chrono::milliseconds limit, const std::atomic<std::uint64_t>& progress,
            StopSwitch& stop_switch, std::mutex& done_mutex, std::condition_variable& done_cv, const bool& done) {
    Watch result;
    const auto tick = std::min<std::chrono::milliseconds>(limit, std::chrono::milliseconds(100));
    std::unique_lock lock(done_mutex);
    std::uint64_t seen = progress.load();
    auto last_progress = std::chrono::steady_clock::now();
    while (!done_cv.wait_for(lock, tick, [&] { return done; })) {
        const std::uint64_t now_seen = progress.load();
        const auto now = std::chrono::steady_clock::now();
        if (limits.on_progress) limits.on_progress(now_seen);
        if (limits.stop_requested != nullptr && limits.stop_requested->load() && !stop_switch.pulled()) {
            result.interrupted = true;
            stop_switch.pull();
        }
        if (now_seen != seen) {
            seen = now_seen;
            last_progress = now;
        } else if (now - last_progress >= limit && !stop_switch.pulled()) {
            result.stalled = true;
            stop_switch.pull();
        }
    }
    return result;
}

}  // namespace

RowResult run_configuration(const Configuration& config, const Backend& backend, const RunLimits& limits) {
    RowResult row;
    row.config = config;
    if (auto reason = cannot_build(config, backend)) {
        row.status = RowStatus::unavailable;
        row.reason = *reason;
        return row;
    }
    // A loop in another process (the Python ones): handed the repetition whole.
    if (backend.run_foreign != nullptr) return run_foreign_row(config, backend, limits, stall_limit(config, limits));

    // Read here, on the unpinned main thread: the mask an unpinned run restores.
    static const std::vector<int> process_mask = current_thread_affinity();
    StopSwitch stop_switch;
    std::atomic<std::uint64_t> progress{0};
    LoopOutcome outcome;
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::thread loop_thread([&] {
        outcome = config.await_mode == AwaitMode::coroutine
                      ? run_on_loop_thread<CoroutineSide>(config, backend, stop_switch, progress, process_mask)
                      : run_on_loop_thread<AwaitingSide>(config, backend, stop_switch, progress, process_mask);
        std::lock_guard lock(done_mutex);
        done = true;
        done_cv.notify_one();
    });
    const auto limit = stall_limit(config, limits);
    const Watch watched = watch(limits, limit, progress, stop_switch, done_mutex, done_cv, done);
    loop_thread.join();

    row.mechanism = outcome.mechanism;
    row.errors = outcome.errors;
    if (outcome.unsupported) {
        row.status = RowStatus::unavailable;
        row.reason = outcome.error;
    } else if (!outcome.error.empty()) {
        row.status = RowStatus::failed;
        row.reason = watched.interrupted ? std::string("interrupted")
                     : watched.stalled   ? fmt::format("no result for {} ms, a lost wake-up or call: {}",
                                                       limit.count(), outcome.error)
                                         : outcome.error;
    } else {
        row.runs.push_back(*outcome.measurement);
    }
    return row;
}

RowResult run_configuration(const Configuration& config, const RunLimits& limits) {
    const Backend* backend = find_backend(config.backend);
    // A foreign backend's inline row is its own (Python's await, no thread).
    if (config.is_inline() && (backend == nullptr || backend->run_foreign == nullptr)) {
        return run_inline_row(config, limits);
    }
    if (config.is_floor()) return run_floor_row(config);

    RowResult row;
    row.config = config;
    if (backend == nullptr) {
        row.status = RowStatus::failed;
        row.reason = fmt::format("no backend named '{}'", config.backend);
        return row;
    }
    return run_configuration(config, *backend, limits);
}

}  // namespace handoff
