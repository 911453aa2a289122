#include "run/runner.hpp"

#include <atomic>
#include <limits>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>

#include <fmt/format.h>

#include "run/call_window.hpp"
#include "run/stop_switch.hpp"
#include "handoff/backend.hpp"
#include "run/floor.hpp"
#include "handoff/loop.hpp"
#include "base/placement.hpp"
#include "handoff/thread_registry.hpp"

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

// The awaiting side, on the loop thread: sends calls, checks each result,
// keeps `inflight` calls outstanding, and opens and closes the measured
// interval around the measured calls.
//
// With a timeout, a call not back within it is given up on (timed out): it
// stops counting as in flight, its slot stays held until the call comes back
// (cancelled unrun, or with a late result), and the next call goes out from
// a spare slot. Every measured seq ends exactly once: ok, failed or timed out.
class Driver final : public CallSink {
public:
    Driver(const Configuration& config, ThreadRegistry& registry, std::atomic<std::uint64_t>& progress)
        : config_(config),
          registry_(registry),
          progress_(progress),
          timeout_ns_(config.timeout.count()),
          window_(timeout_ns_ != 0 ? 2 * config.inflight : config.inflight, config.work) {}

    void attach(Loop& loop, Target& target) {
        loop_ = &loop;
        target_ = &target;
    }

    // Sends the first window: warm-up calls, or measured ones when there are none.
    void start() {
        if (config_.warmup == 0) {
            begin_measured();
        } else {
            phase_total_ = config_.warmup;
            advance(timeout_ns_ != 0 ? monotonic_ns() : 0);
        }
    }

    // The loop has stopped and the target and loop are about to go: what
    // they hand back from now on is only taken back, never answered.
    // What was outstanding then is kept for the message about a stopped run
    // (the teardown hands those calls back and empties the window).
    void close() {
        if (closing_) return;
        closing_ = true;
        outstanding_at_close_ = window_.in_flight();
        outstanding_seqs_at_close_ = window_.describe_outstanding();
    }
    std::uint32_t outstanding_at_close() const { return outstanding_at_close_; }
    const std::string& outstanding_seqs_at_close() const { return outstanding_seqs_at_close_; }

    void deliver(Call& call) override {
        const CallWindow::Outcome outcome = window_.settle(call);
        if (broken_ || closing_) return;
        using Outcome = CallWindow::Outcome;
        if (outcome == Outcome::error || outcome == Outcome::shut_down) {
            // A wrong, duplicated or stray result: the run can no longer be
            // trusted (resending its slot could hand one call to two threads),
            // so it ends here and the row reports the error, not figures.
            broken_ = true;
            loop_->stop();
            return;
        }
        // Only this thread writes it: a plain store, not a locked add per call.
        progress_.store(progress_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        if (outcome == Outcome::late || outcome == Outcome::reclaimed) {
            // A timed-out call came back: its slot is free for the next send.
            // Its round trip is known now, and is at least the timeout: it
            // goes into the latency like any call, so a stall is not hidden.
            const std::int64_t now = monotonic_ns();
            if (call.seq >= measured_from_) {
                late_ += outcome == Outcome::late;
                record(call, now);
            }
            advance(now);
            return;
        }
        // One clock read per call: it ends this call's round trip and starts
        // the next one sent from the same slot.
        std::int64_t now = 0;
        if (measuring_) {
            now = monotonic_ns();
            record(call, now);
            ++delivered_;
            failed_ += outcome == Outcome::failed;
        } else if (timeout_ns_ != 0) {
            now = monotonic_ns();
        }
        advance(now);
    }

    // The earliest deadline passed: give up on every call past its timeout,
    // then arm the next one (only the earliest is ever armed).
    void on_deadline() override {
        armed_ns_ = 0;
        if (broken_ || closing_) return;
        const std::int64_t now = monotonic_ns();
        window_.expire(now - timeout_ns_, measured_from_, timed_out_, cancelled_);
        advance(now);
    }

    CallWindow& window() { return window_; }
    const std::optional<Measurement>& measurement() const { return measurement_; }

private:
    // A measured call is back at `now`: its round trip, and where it ran
    // (unknown for a call handed back unrun).
    void record(const Call& call, std::int64_t now) {
        latency_.record(now - call.sent_ns);
        if (call.worker_cpu >= 0) {
            ++cpu_known_;
            same_cpu_ += call.worker_cpu == call.loop_cpu;
        }
    }

    void send(std::int64_t now) {
        Call* call = window_.prepare(next_seq_, now);
        ++next_seq_;
        ++sent_;
        target_->submit(*call);
    }

    // Sends while fewer than `inflight` calls are awaited (and a slot is
    // free: with every spare held by a timed-out call, the next send waits
    // for one to come back); moves on when the phase is over; keeps the
    // earliest deadline armed.
    void advance(std::int64_t now) {
        const std::uint64_t phase_total = phase_total_;
        while (sent_ < phase_total && window_.in_flight() < config_.inflight && window_.abandoned() + window_.in_flight() < window_.slots()) {
            send(measuring_ || timeout_ns_ != 0 ? (now != 0 ? now : monotonic_ns()) : 0);
        }
        if (sent_ == phase_total && window_.in_flight() == 0) {
            if (!measuring_) return begin_measured();
            if (!measurement_) finish();
            // Timed-out calls still out: wait for each to come back, so the
            // run ends with every call accounted for and no slot in use.
            if (window_.abandoned() == 0) {
                complete_measurement();
                loop_->stop();
                return;
            }
        }
        arm_deadline();
    }

    void arm_deadline() {
        if (timeout_ns_ == 0 || armed_ns_ != 0) return;
        const std::int64_t oldest = window_.oldest_awaited_ns();
        if (oldest == std::numeric_limits<std::int64_t>::max()) return;
        armed_ns_ = oldest + timeout_ns_;
        loop_->set_deadline(armed_ns_);
    }

    void begin_measured() {
        measuring_ = true;
        measured_from_ = next_seq_;
        sent_ = 0;
        phase_total_ = config_.calls;
        start_ = open_interval();
        advance(monotonic_ns());
    }

    // Every measured call has ended (delivered or timed out): the interval closes.
    void finish() {
        const std::vector<pid_t> workers = registry_.threads();
        const IntervalEdge end = close_interval(workers);
        measurement_ = measure_interval(start_, end, workers, delivered_ + timed_out_);
        measurement_->failed_calls = failed_;
        measurement_->timed_out_calls = timed_out_;
        measurement_->cancelled_calls = cancelled_;
    }

    // Every timed-out call is back too (after the interval closed): their
    // round trips and late results complete the figures.
    void complete_measurement() {
        measurement_->latency = latency_;
        measurement_->same_cpu_calls = same_cpu_;
        measurement_->cpu_known_calls = cpu_known_;
        measurement_->late_results = late_;
    }

    const Configuration& config_;
    ThreadRegistry& registry_;
    std::atomic<std::uint64_t>& progress_;
    const std::int64_t timeout_ns_;  // 0: calls never time out
    CallWindow window_;
    Loop* loop_ = nullptr;
    Target* target_ = nullptr;

    bool measuring_ = false;
    bool broken_ = false;
    bool closing_ = false;
    std::uint32_t outstanding_at_close_ = 0;
    std::string outstanding_seqs_at_close_;
    std::uint64_t next_seq_ = 0;
    std::uint64_t measured_from_ = UINT64_MAX;  // the first measured seq
    std::uint64_t phase_total_ = 0;
    std::uint64_t sent_ = 0;       // in the current phase
    std::uint64_t delivered_ = 0;  // measured calls that came back in time (ok or failed)
    std::uint64_t failed_ = 0;
    std::uint64_t timed_out_ = 0;
    std::uint64_t cancelled_ = 0;
    std::uint64_t late_ = 0;
    std::uint64_t same_cpu_ = 0;   // measured calls that ran on the loop's CPU
    std::uint64_t cpu_known_ = 0;  // measured calls whose worker CPU is known
    std::int64_t armed_ns_ = 0;    // the deadline the loop holds, 0 for none
    IntervalEdge start_;
    LatencyHistogram latency_;
    std::optional<Measurement> measurement_;
};

struct CloseOnExit {
    Driver& driver;
    ~CloseOnExit() { driver.close(); }
};

// Everything that happens on the loop thread: build, warm up, measure, tear down.
// Where the run's workers go: the placement's worker or pool CPUs, else the
// process's own mask (threads inherit the pinned loop thread's mask, and
// libuv's pool outlives a run, so "free" must be set too).
std::vector<int> worker_cpus(const Configuration& config, const std::vector<int>& process_mask) {
    const Placement& p = config.placement;
    if (config.target == TargetKind::dedicated && p.worker_cpu >= 0) return {p.worker_cpu};
    if (config.target == TargetKind::pool && !p.pool_cpus.empty()) return p.pool_cpus;
    return process_mask;
}

LoopOutcome run_on_loop_thread(const Configuration& config, const Backend& backend,
                               StopSwitch& stop_switch, std::atomic<std::uint64_t>& progress,
                               const std::vector<int>& process_mask) {
    LoopOutcome outcome;
    if (std::string error; !pin_current_thread(config.placement.loop_cpu, &error)) {
        outcome.error = "placement: " + error;
        return outcome;
    }
    ThreadRegistry registry(worker_cpus(config, process_mask));
    // Cancellation (one compare-and-swap per call) only when calls can time out.
    const Executor executor(config.work, registry, config.timeout.count() != 0);
    Driver driver(config, registry, progress);
    // Spare slots for timed-out calls still held by the target: loop and
    // target keep per-slot state for all of them.
    const std::uint32_t slots = driver.window().slots();
    // The design shapes both sides of a dedicated worker; pools are classic.
    const Design* design = config.target == TargetKind::dedicated ? &config.design : nullptr;
    try {
        const std::unique_ptr<Loop> loop =
            backend.make_loop({.sink = &driver, .window = slots, .design = design});
        std::unique_ptr<Target> target = loop->make_target({.kind = config.target,
                                                            .design = design,
                                                            .threads = config.threads,
                                                            .window = slots,
                                                            .executor = &executor});
        outcome.mechanism = fmt::format("{}; wake: {}", target->mechanism(), loop->wake_mechanism());
        driver.attach(*loop, *target);
        stop_switch.attach(loop.get());
        // Declared after the loop and target, so destroyed first: the watchdog
        // never reaches a loop that is gone, even when run() throws.
        const DetachOnExit detach{stop_switch};
        // Destroyed before the target and the loop, which then hand back
        // whatever is still out: the driver only takes it back.
        const CloseOnExit close_driver{driver};
        driver.start();
        loop->run();
    } catch (const Unsupported& e) {
        outcome.unsupported = true;
        outcome.error = e.what();
        return outcome;
    } catch (const std::exception& e) {
        outcome.error = e.what();
        return outcome;
    }
    outcome.measurement = driver.measurement();
    outcome.errors = driver.window().errors();
    if (const std::string pin_error = registry.pin_error(); !pin_error.empty()) {
        outcome.error = "placement: " + pin_error;
    } else if (outcome.errors != 0) {
        outcome.error = driver.window().first_error();
    } else if (!outcome.measurement) {
        driver.close();  // a no-op unless run() threw before the guard
        outcome.error = fmt::format("stopped with {} calls outstanding (seq {})", driver.outstanding_at_close(),
                                    driver.outstanding_seqs_at_close());
    } else if (driver.window().in_flight() + driver.window().abandoned() != 0) {
        outcome.error = fmt::format("shutdown lost calls: seq {} never came back",
                                    driver.window().describe_outstanding());
    }
    return outcome;
}

// Inline has no loop to stop: its thread looks at the stop flag and
// publishes its progress every 64 calls of short work (a relaxed load and
// store, far below the cost of 64 calls even of `none`), every call of
// timed work (sleep:DUR, spin:DUR), and the calling thread reports progress.
std::uint64_t inline_check_every(const Configuration& config) {
    return config.work.duration.count() > 0 ? 1 : 64;
}

RowResult run_inline(const Configuration& config, const RunLimits& limits) {
    RowResult row;
    row.config = config;
    std::string pin_error;
    std::atomic<std::uint64_t> progress{0};
    bool interrupted = false;
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::thread worker([&] {
        [&] {
            // Local to this thread, so the counter stays in a register.
            const std::uint64_t check_every = inline_check_every(config);
            std::uint64_t countdown = 1;  // a decrement per call, not a division
            const auto should_stop = [&](std::uint64_t calls_done) {
                if (--countdown != 0) return false;
                countdown = check_every;
                progress.store(calls_done, std::memory_order_relaxed);
                return limits.stop_requested != nullptr && limits.stop_requested->load(std::memory_order_relaxed);
            };
            if (!pin_current_thread(config.placement.loop_cpu, &pin_error)) return;
            // fail:P throws here too: caught and checked, as the loop thread does.
            std::uint64_t errors = 0, failed = 0;
            const auto call = [&](std::uint64_t seq) {
                const std::uint64_t arg = argument_for(seq);
                try {
                    errors += config.work.perform(arg) != expected_result(arg) || config.work.must_fail(arg);
                } catch (const WorkFailure& e) {
                    ++failed;
                    errors += !config.work.must_fail(arg) || e.what() != failure_message(arg);
                }
            };
            for (std::uint64_t seq = 0; seq < config.warmup; ++seq) {
                if (should_stop(seq)) {
                    interrupted = true;
                    return;
                }
                call(seq);
            }
            errors = failed = 0;
            const IntervalEdge start = open_interval();
            for (std::uint64_t seq = 0; seq < config.calls; ++seq) {
                if (should_stop(config.warmup + seq)) {
                    interrupted = true;
                    return;
                }
                call(seq);
            }
            const IntervalEdge end = close_interval({});
            row.runs.push_back(measure_interval(start, end, {}, config.calls));
            row.runs.back().failed_calls = failed;
            row.errors = errors;
        }();
        std::lock_guard lock(done_mutex);
        done = true;
        done_cv.notify_one();
    });
    {
        std::unique_lock lock(done_mutex);
        while (!done_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return done; })) {
            if (limits.on_progress) limits.on_progress(progress.load(std::memory_order_relaxed));
        }
    }
    worker.join();
    row.mechanism = "called on the loop thread, no handoff";
    if (!pin_error.empty()) {
        row.status = RowStatus::failed;
        row.reason = "placement: " + pin_error;
    } else if (interrupted) {
        row.status = RowStatus::failed;
        row.reason = "interrupted";
        row.runs.clear();
    } else if (row.errors != 0) {
        row.status = RowStatus::failed;
        row.reason = fmt::format("{} calls returned a wrong result", row.errors);
        row.runs.clear();
    }
    return row;
}

// The floor: two threads spinning on one cache line, the cheapest round trip
// between two CPUs. It runs no work and has no loop; thread A plays the loop.
RowResult run_floor(const Configuration& config) {
    RowResult row;
    row.config = config;
    row.mechanism = "two threads spinning on one cache line (no queue, no system call)";
    int cpu_a = config.placement.loop_cpu;
    int cpu_b = config.placement.worker_cpu;
    if (cpu_a < 0 || cpu_b < 0 || cpu_a == cpu_b) {
        const auto pair = default_floor_cpus();
        if (!pair) {
            row.status = RowStatus::unavailable;
            row.reason = "the floor needs two CPUs this process may run on";
            return row;
        }
        std::tie(cpu_a, cpu_b) = *pair;
    }
    const FloorOutcome outcome = measure_floor(config.calls, cpu_a, cpu_b);
    if (!outcome) {
        // A busy machine leaves the reference unmeasured, not the run broken.
        row.status = outcome.busy ? RowStatus::unavailable : RowStatus::failed;
        row.reason = outcome.busy ? "machine busy: " + outcome.error : outcome.error;
        return row;
    }
    Measurement m = outcome.result->measurement;
    row.config.placement.name = "split";
    row.config.placement.loop_cpu = cpu_a;
    row.config.placement.worker_cpu = cpu_b;
    row.runs.push_back(std::move(m));
    return row;
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
    return limits.stall_timeout + 2 * work * config.inflight;
}

}  // namespace

RowResult run_configuration(const Configuration& config, const RunLimits& limits) {
    if (config.is_inline()) return run_inline(config, limits);
    if (config.is_floor()) return run_floor(config);

    RowResult row;
    row.config = config;
    const Backend* backend = find_backend(config.backend);
    if (backend == nullptr) {
        row.status = RowStatus::failed;
        row.reason = fmt::format("no backend named '{}'", config.backend);
        return row;
    }
    return run_configuration(config, *backend, limits);
}

RowResult run_configuration(const Configuration& config, const Backend& backend, const RunLimits& limits) {
    RowResult row;
    row.config = config;
    if (auto reason = backend_unavailable_reason(backend)) {
        row.status = RowStatus::unavailable;
        row.reason = *reason;
        return row;
    }
    if (auto reason = config.target == TargetKind::dedicated ? design_unsupported_reason(backend, config.design)
                                                             : std::nullopt) {
        row.status = RowStatus::unavailable;
        row.reason = *reason;
        return row;
    }
    if (auto reason = placement_conflict(config)) {
        row.status = RowStatus::unavailable;
        row.reason = *reason;
        return row;
    }

    // Read here, on the unpinned main thread: the mask an unpinned run restores.
    static const std::vector<int> process_mask = current_thread_affinity();
    StopSwitch stop_switch;
    std::atomic<std::uint64_t> progress{0};
    LoopOutcome outcome;
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::thread loop_thread([&] {
        outcome = run_on_loop_thread(config, backend, stop_switch, progress, process_mask);
        std::lock_guard lock(done_mutex);
        done = true;
        done_cv.notify_one();
    });

    // The watchdog: a run that delivers nothing for the stall limit has lost
    // a wake-up (or a call); stop it and report what was outstanding.
    const auto limit = stall_limit(config, limits);
    const auto tick = std::min<std::chrono::milliseconds>(limit, std::chrono::milliseconds(100));
    bool interrupted = false;  // stopped by limits.stop_requested, not by the watchdog
    {
        std::unique_lock lock(done_mutex);
        std::uint64_t seen = progress.load();
        auto last_progress = std::chrono::steady_clock::now();
        while (!done_cv.wait_for(lock, tick, [&] { return done; })) {
            const std::uint64_t now_seen = progress.load();
            const auto now = std::chrono::steady_clock::now();
            if (limits.on_progress) limits.on_progress(now_seen);
            if (limits.stop_requested != nullptr && limits.stop_requested->load() && !stop_switch.pulled()) {
                interrupted = true;
                stop_switch.pull();
            }
            if (now_seen != seen) {
                seen = now_seen;
                last_progress = now;
            } else if (now - last_progress >= limit && !stop_switch.pulled()) {
                stop_switch.pull();
            }
        }
    }
    loop_thread.join();

    row.mechanism = outcome.mechanism;
    row.errors = outcome.errors;
    if (outcome.unsupported) {
        row.status = RowStatus::unavailable;
        row.reason = outcome.error;
    } else if (!outcome.error.empty()) {
        row.status = RowStatus::failed;
        row.reason = interrupted            ? std::string("interrupted")
                     : stop_switch.pulled() ? fmt::format("no result for {} ms, a lost wake-up or call: {}",
                                                          limit.count(), outcome.error)
                                            : outcome.error;
    } else {
        row.runs.push_back(*outcome.measurement);
    }
    return row;
}

}  // namespace handoff
