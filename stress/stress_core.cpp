#include "stress/stress_core.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "handoff/clocks.hpp"
#include "handoff/design.hpp"
#include "handoff/loop.hpp"
#include "base/mix.hpp"
#include "base/placement.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"
#include "run/assembly.hpp"
#include "run/stop_switch.hpp"

namespace handoff::stress {
namespace {

constexpr std::uint32_t max_window = 64;

using Random = std::mt19937_64;

std::uint64_t uniform(Random& random, std::uint64_t low, std::uint64_t high) {
    return std::uniform_int_distribution<std::uint64_t>(low, high)(random);
}

// Log-uniform in [low, high]: as many short values as long ones per decade,
// so both "back to back" and "long enough to sleep" are common.
std::uint64_t log_uniform(Random& random, std::uint64_t low, std::uint64_t high) {
    const double x = std::uniform_real_distribution<double>(std::log(double(low)), std::log(double(high) + 1))(random);
    return std::clamp<std::uint64_t>(std::uint64_t(std::exp(x)), low, high);
}

// What the watchdog sees: per window slot, the seq in flight and when it was
// sent (0: free); whether the idle loop's wake is outstanding; the loop to
// stop. Written by the loop thread (and the pacer), read by the watchdog:
// relaxed atomics, since a stale read only delays an alarm by one scan.
class Monitor {
public:
    void sent(std::uint32_t slot, std::uint64_t seq, std::int64_t now) {
        seq_[slot].store(seq, std::memory_order_relaxed);
        sent_ns_[slot].store(now, std::memory_order_relaxed);
    }
    void settled(std::uint32_t slot) { sent_ns_[slot].store(0, std::memory_order_relaxed); }
    void wake_sent(std::int64_t now) { wake_ns_.store(now, std::memory_order_relaxed); }
    void wake_delivered() { wake_ns_.store(0, std::memory_order_relaxed); }

    // Loop thread, around each segment's run: lets the watchdog stop it.
    void attach(Loop* loop, std::string segment) {
        {
            std::lock_guard lock(mutex_);
            segment_ = std::move(segment);
        }
        stop_switch_.attach(loop);
    }
    void stop() { stop_switch_.pull(); }
    bool stop_pulled() const { return stop_switch_.pulled(); }
    std::string segment() const {
        std::lock_guard lock(mutex_);
        return segment_;
    }

    // Watchdog: what has waited longer than `limit` at `now`, or "".
    std::string overdue(std::int64_t now, std::int64_t limit) const {
        std::int64_t oldest = 0;
        std::uint64_t oldest_seq = 0;
        std::string others;
        unsigned outstanding = 0;
        for (std::uint32_t slot = 0; slot < max_window; ++slot) {
            const std::int64_t sent = sent_ns_[slot].load(std::memory_order_relaxed);
            if (sent == 0) continue;
            const std::uint64_t seq = seq_[slot].load(std::memory_order_relaxed);
            if (outstanding++ < 16) others += fmt::format("{}{}", others.empty() ? "" : ", ", seq);
            if (now - sent > oldest) {
                oldest = now - sent;
                oldest_seq = seq;
            }
        }
        if (outstanding > 16) others += fmt::format(" and {} more", outstanding - 16);
        const std::int64_t wake = wake_ns_.load(std::memory_order_relaxed);
        if (wake != 0 && now - wake > limit) {
            return fmt::format("the idle loop was woken through Loop::complete {:.1f} s ago and has not run "
                               "(a lost wake-up of the loop); calls outstanding: {}",
                               double(now - wake) / 1e9, others.empty() ? "none" : others);
        }
        if (oldest > limit) {
            return fmt::format("call seq {} has waited {:.1f} s for its result (a lost wake-up or call); "
                               "{} outstanding: seq {}",
                               oldest_seq, double(oldest) / 1e9, outstanding, others);
        }
        return {};
    }

private:
    std::atomic<std::uint64_t> seq_[max_window]{};
    std::atomic<std::int64_t> sent_ns_[max_window]{};
    std::atomic<std::int64_t> wake_ns_{0};
    StopSwitch stop_switch_;
    mutable std::mutex mutex_;  // guards segment_
    std::string segment_;
};

// Ends an idle gap from another thread: after the delay it hands a token call
// to the loop through Loop::complete, the loop's own cross-thread wake, and the
// sink starts the next burst when the token is delivered. The loop meanwhile
// sits in its wait with nothing outstanding: both sides asleep.
class Pacer {
public:
    explicit Pacer(Monitor& monitor) : monitor_(monitor), thread_([this] { pace(); }) {}
    ~Pacer() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        changed_.notify_one();
        thread_.join();
    }

    // Loop thread: complete `token` into `loop` after `delay`.
    void arm(Loop& loop, Call& token, std::chrono::nanoseconds delay) {
        {
            std::lock_guard lock(mutex_);
            loop_ = &loop;
            token_ = &token;
            delay_ = delay;
            armed_ = true;
            ++generation_;
        }
        changed_.notify_one();
    }

    // Loop thread, before its loop goes: no completion is in progress or due
    // after this returns (one is made under the lock).
    void disarm() {
        std::lock_guard lock(mutex_);
        armed_ = false;
        ++generation_;
    }

private:
    void pace() {
        std::unique_lock lock(mutex_);
        for (;;) {
            changed_.wait(lock, [this] { return stopping_ || armed_; });
            if (stopping_) return;
            const std::uint64_t generation = generation_;
            const auto delay = delay_;
            lock.unlock();
            std::this_thread::sleep_for(delay);
            lock.lock();
            // Re-armed or disarmed meanwhile: that arm's own delay applies.
            if (!armed_ || generation != generation_) continue;
            armed_ = false;
            monitor_.wake_sent(monotonic_ns());
            loop_->complete(*token_);
        }
    }

    Monitor& monitor_;
    std::mutex mutex_;
    std::condition_variable changed_;
    bool stopping_ = false;
    bool armed_ = false;
    std::uint64_t generation_ = 0;
    Loop* loop_ = nullptr;
    Call* token_ = nullptr;
    std::chrono::nanoseconds delay_{0};
    std::thread thread_;  // last: starts once the rest exists
};

// One segment: a fresh loop and target with its own window, placement and work.
struct Segment {
    std::uint32_t window = 1;
    std::uint64_t calls = 0;
    Placement placement;
    Work work;

    std::string describe() const {
        return fmt::format("in-flight {}, placement {}, work {}, {} calls", window, placement.name, work.spec(),
                           calls);
    }
};

// Cuts `calls` into segments, half at in-flight 1 and half at 64. Most calls
// go to cheap segments (no work, yield or a system call, on one CPU or where
// the scheduler puts them: microseconds per call); the costly mixes — a
// cross-CPU wake per call at in-flight 1 (~60 us here, far more while the
// machine is busy), sleep0's timer slack, short sleeps and spins — come in
// many short segments, so every mix recurs often and `make stress` stays
// within minutes.
// A design with a side that never sleeps (spin, inplace): on one CPU it
// would wait a time slice per call.
bool never_sleeps(const Combination& combination) {
    if (combination.target != TargetKind::dedicated) return false;
    const Design design = parse_design(combination.design);
    return design.wait == Design::Wait::spin || design.loop_spin == Design::LoopSpin::forever;
}

std::vector<Segment> plan_segments(const Combination& combination, std::uint64_t calls, Random& random,
                                   const std::vector<int>& online) {
    const bool spin = never_sleeps(combination);
    std::vector<std::string> placements = {"free", "same"};
    if (online.size() >= 2) placements.push_back("split");
    if (spin) placements = {"split"};

    std::vector<Segment> segments;
    for (const std::uint32_t window : {1u, max_window}) {
        const std::uint64_t half = window == 1 ? calls / 2 : calls - calls / 2;
        const std::uint64_t cheap_low = std::max<std::uint64_t>(200, half / 40);
        const std::uint64_t cheap_high = std::max<std::uint64_t>(cheap_low, half / 8);
        // Short runs (the test suite's) keep the costly share as small.
        const std::uint64_t costly_high = std::clamp<std::uint64_t>(half / 4, 100, 2000);
        std::uint64_t left = half;
        while (left > 0) {
            Segment s;
            s.window = window;
            const std::string& where = placements[uniform(random, 0, placements.size() - 1)];
            s.placement = parse_placement(where, online);
            // A sleeping design across CPUs pays a wake-up per call at in-flight 1.
            bool costly = window == 1 && where == "split" && !spin;
            const unsigned kind = unsigned(uniform(random, 0, 99));
            if (kind < 55) {
                s.work = Work::parse("none");
            } else if (kind < 67) {
                s.work = Work::parse("yield");
            } else if (kind < 75) {
                s.work = Work::parse("syscall");
            } else if (kind < 83) {
                s.work = Work::parse("sleep0");  // a timer's slack per call: ~80 us here
                costly = true;
            } else if (kind < 93) {
                // The worker side's gaps: a call that sleeps, so the loop
                // (and, at in-flight 1, its spin budget) runs out of patience.
                s.work = Work::parse(fmt::format("sleep:{}us", log_uniform(random, 1, 200)));
                costly = true;
            } else {
                s.work = Work::parse(fmt::format("spin:{}us", log_uniform(random, 1, 50)));
                costly = true;
            }
            s.calls = std::min(left, costly ? uniform(random, 100, costly_high) : uniform(random, cheap_low, cheap_high));
            left -= s.calls;
            segments.push_back(std::move(s));
        }
    }
    return segments;
}

// The awaiting side, on the loop thread: sends bursts, checks every result,
// makes the gaps.
class StressSink final : public CallSink {
public:
    StressSink(const Segment& segment, std::uint64_t first_seq, Random& random, Monitor& monitor, Pacer& pacer)
        : segment_(segment),
          first_seq_(first_seq),
          random_(random),
          monitor_(monitor),
          pacer_(pacer),
          calls_(segment.window),
          busy_(segment.window, false),
          seen_(segment.calls, 0),
          loop_thread_(std::this_thread::get_id()) {
        for (std::uint32_t slot = 0; slot < segment.window; ++slot) {
            calls_[slot].slot = slot;
            free_.push_back(segment.window - 1 - slot);
        }
    }

    void attach(Loop& loop, Target& target) {
        loop_ = &loop;
        target_ = &target;
    }

    void start() { start_burst(); }

    void deliver(Call& call) override {
        if (broken_) return;
        if (std::this_thread::get_id() != loop_thread_) {
            return fail(fmt::format("call seq {} was delivered on a thread other than the loop thread", call.seq));
        }
        if (&call == &token_) {
            monitor_.wake_delivered();
            ++idle_gaps_;
            return start_burst();
        }
        if (!check(call)) return;
        const std::int64_t now = monotonic_ns();
        max_round_trip_ns_ = std::max(max_round_trip_ns_, now - call.sent_ns);
        busy_[call.slot] = false;
        free_.push_back(call.slot);
        monitor_.settled(call.slot);
        ++delivered_;
        if (arrival_due_) {
            send_arrivals(now);
        } else if (burst_left_ > 0) {
            send(now);
        } else if (paced_left_ > 0) {
            // Paced: the next arrival is the timer's.
        } else if (free_.size() == segment_.window) {
            if (sent_ == segment_.calls) {
                loop_->stop();
            } else {
                gap();
            }
        }
    }

    // The paced gap's timer: the next arrival is due.
    void on_deadline() override {
        if (broken_) return;
        if (std::this_thread::get_id() != loop_thread_) return fail("a deadline fired on a thread other than the loop thread");
        monitor_.wake_delivered();
        const std::int64_t now = monotonic_ns();
        if (paced_left_ == 0) return fail("a deadline fired with no arrival due");
        if (now < next_arrival_ns_) return arm_arrival();  // early: wait for the rest
        arrival_due_ = true;
        send_arrivals(now);
    }

    // After run(): the first failure, or "" when every call came back once.
    std::string verdict() const {
        if (!failure_.empty()) return failure_;
        if (delivered_ != segment_.calls) {
            std::string seqs;
            unsigned shown = 0;
            for (std::uint32_t slot = 0; slot < segment_.window; ++slot) {
                if (busy_[slot] && shown++ < 16) seqs += fmt::format("{}{}", seqs.empty() ? "" : ", ", calls_[slot].seq);
            }
            return fmt::format("the loop stopped after {} of {} calls; outstanding: {}", delivered_, segment_.calls,
                               seqs.empty() ? "none" : seqs);
        }
        const auto missing = std::count(seen_.begin(), seen_.end(), 0);
        const auto repeated = std::count_if(seen_.begin(), seen_.end(), [](std::uint8_t n) { return n > 1; });
        if (missing != 0 || repeated != 0) {
            return fmt::format("{} calls never delivered, {} delivered more than once", missing, repeated);
        }
        return {};
    }

    std::uint64_t delivered() const { return delivered_; }
    std::int64_t max_round_trip_ns() const { return max_round_trip_ns_; }
    std::uint64_t bursts() const { return bursts_; }
    std::uint64_t idle_gaps() const { return idle_gaps_; }
    std::uint64_t paced_runs() const { return paced_runs_; }

private:
    bool check(Call& call) {
        if (call.slot >= segment_.window || &calls_[call.slot] != &call) {
            fail("a call this segment never sent was delivered");
            return false;
        }
        if (!busy_[call.slot]) {
            fail(fmt::format("call seq {} was delivered twice", call.seq));
            return false;
        }
        const std::uint64_t index = call.seq - first_seq_;
        if (call.seq < first_seq_ || index >= seen_.size() || call.arg != argument_for(call.seq)) {
            fail(fmt::format("a delivered call carries seq {} and argument {:#x}: not what was sent", call.seq,
                             call.arg));
            return false;
        }
        ++seen_[index];
        if (call.status != CallStatus::ok) {
            fail(fmt::format("call seq {} ended with status {} instead of ok", call.seq, int(call.status)));
            return false;
        }
        if (call.executions != 1) {
            fail(fmt::format("call seq {} ran {} times instead of once", call.seq, int(call.executions)));
            return false;
        }
        if (call.result != expected_result(call.arg)) {
            fail(fmt::format("call seq {} returned {:#x}, expected {:#x}", call.seq, call.result,
                             expected_result(call.arg)));
            return false;
        }
        return true;
    }

    void fail(std::string message) {
        if (failure_.empty()) failure_ = std::move(message);
        broken_ = true;
        loop_->stop();
    }

    void send(std::int64_t now) {
        const std::uint32_t slot = free_.back();
        free_.pop_back();
        Call& call = calls_[slot];
        call.seq = first_seq_ + sent_++;
        call.arg = argument_for(call.seq);
        call.result = 0;
        call.status = CallStatus::pending;
        call.executions = 0;
        call.error = nullptr;
        call.sent_ns = now;
        busy_[slot] = true;
        --burst_left_;
        monitor_.sent(slot, call.seq, now);
        target_->submit(call);
    }

    void start_burst() {
        ++bursts_;
        const std::uint64_t most = segment_.window == 1 ? 512 : 4096;
        burst_left_ = std::min(log_uniform(random_, 1, most), segment_.calls - sent_);
        const std::int64_t now = monotonic_ns();
        while (burst_left_ > 0 && !free_.empty()) send(now);
    }

    // Open loop, as --rate sends: the next calls arrive one at a time on the
    // loop's own deadline timer, whether or not the earlier ones are back;
    // one that finds every slot busy goes out when a slot frees.
    void start_paced() {
        ++paced_runs_;
        paced_left_ = std::min(log_uniform(random_, 1, 256), segment_.calls - sent_);
        paced_gap_ns_ = std::int64_t(log_uniform(random_, 2'000, 200'000));
        next_arrival_ns_ = monotonic_ns() + paced_gap_ns_;
        try {
            arm_arrival();
        } catch (const Unsupported&) {  // a test double without a timer: idle gaps instead
            no_timer_ = true;
            paced_left_ = 0;
            --paced_runs_;
            monitor_.wake_delivered();
            gap();
        }
    }

    void arm_arrival() {
        monitor_.wake_sent(next_arrival_ns_);  // the watchdog waits for the timer like for a wake
        loop_->set_deadline(next_arrival_ns_);
    }

    // Sends the arrivals that are due while a slot is free; arms the next.
    void send_arrivals(std::int64_t now) {
        while (arrival_due_ && !free_.empty()) {
            burst_left_ = 1;
            send(now);
            arrival_due_ = --paced_left_ > 0 && (next_arrival_ns_ += paced_gap_ns_) <= now;
            if (paced_left_ > 0 && !arrival_due_) arm_arrival();
        }
        if (paced_left_ == 0 && free_.size() == segment_.window) {
            if (sent_ == segment_.calls) {
                loop_->stop();
            } else {
                gap();
            }
        }
    }

    // Nothing outstanding: idle for a while, one way or another, then send
    // the next burst.
    void gap() {
        const unsigned kind = unsigned(uniform(random_, 0, 99));
        if (kind < 30) return start_burst();  // back to back
        if (kind < 45) {
            // A short busy wait: the worker is caught spinning or parking.
            const std::int64_t until = monotonic_ns() + std::int64_t(uniform(random_, 1'000, 20'000));
            while (monotonic_ns() < until) {
            }
            return start_burst();
        }
        if (kind < 57) {
            // The loop thread busy elsewhere: the worker goes to sleep, the
            // loop never gets to publish that it sleeps.
            std::this_thread::sleep_for(std::chrono::microseconds(log_uniform(random_, 50, 1000)));
            return start_burst();
        }
        if (kind < 75 && !no_timer_) return start_paced();
        // Idle: back into the loop's own wait until another thread wakes it.
        pacer_.arm(*loop_, token_, std::chrono::microseconds(log_uniform(random_, 10, 2000)));
    }

    const Segment& segment_;
    const std::uint64_t first_seq_;
    Random& random_;
    Monitor& monitor_;
    Pacer& pacer_;
    Loop* loop_ = nullptr;
    Target* target_ = nullptr;

    std::vector<Call> calls_;
    std::vector<bool> busy_;
    std::vector<std::uint32_t> free_;  // slots not in flight
    std::vector<std::uint8_t> seen_;   // deliveries per seq of this segment
    Call token_;                       // what the pacer completes to end an idle gap
    const std::thread::id loop_thread_;

    std::uint64_t sent_ = 0;
    std::uint64_t delivered_ = 0;
    std::uint64_t burst_left_ = 0;
    std::uint64_t bursts_ = 0;
    std::uint64_t idle_gaps_ = 0;
    std::uint64_t paced_runs_ = 0;
    std::uint64_t paced_left_ = 0;     // paced arrivals still to send
    std::int64_t paced_gap_ns_ = 0;
    std::int64_t next_arrival_ns_ = 0;
    bool arrival_due_ = false;         // its time came while every slot was busy
    bool no_timer_ = false;            // the loop has no deadline timer (a test double)
    std::int64_t max_round_trip_ns_ = 0;
    bool broken_ = false;
    std::string failure_;
};

struct SegmentOutcome {
    bool unsupported = false;
    std::string failure;
};

// On the loop thread: pin, build, run, check, tear down.
SegmentOutcome run_segment(const Combination& combination, const Design* design, const Segment& segment,
                           std::uint64_t first_seq, Random& random, Monitor& monitor, Pacer& pacer,
                           const std::vector<int>& process_mask, Result& result) {
    SegmentOutcome outcome;
    if (const auto error = Assembly::pin_loop_thread(segment.placement, process_mask)) {
        outcome.failure = "placement: " + *error;
        return outcome;
    }
    Assembly assembly({.backend = combination.backend,
                       .target = combination.target,
                       .design = design,
                       .window = segment.window,
                       .work = segment.work,
                       .placement = segment.placement},
                      process_mask);
    StressSink sink(segment, first_seq, random, monitor, pacer);
    // Declared after the loop and the target, so destroyed before them, even
    // when something throws: neither the pacer nor the watchdog reaches a
    // loop that is gone.
    struct Detach {
        Monitor& monitor;
        Pacer& pacer;
        ~Detach() {
            pacer.disarm();
            monitor.attach(nullptr, {});
        }
    };
    try {
        const Assembly::Built built = assembly.build(sink);
        const Detach detach{monitor, pacer};
        sink.attach(*built.loop, *built.target);
        monitor.attach(built.loop.get(), segment.describe());
        sink.start();
        built.loop->run();
    } catch (const Unsupported& e) {
        outcome.unsupported = true;
        outcome.failure = e.what();
        return outcome;
    } catch (const std::exception& e) {
        outcome.failure = e.what();
        return outcome;
    }
    result.calls += sink.delivered();
    result.max_round_trip_ns = std::max(result.max_round_trip_ns, sink.max_round_trip_ns());
    result.bursts += sink.bursts();
    result.idle_gaps += sink.idle_gaps();
    result.paced_runs += sink.paced_runs();
    outcome.failure = sink.verdict();
    if (outcome.failure.empty()) {
        if (const std::string pin_error = assembly.registry().pin_error(); !pin_error.empty()) {
            outcome.failure = "placement: " + pin_error;
        }
    }
    return outcome;
}

}  // namespace

std::string Combination::name() const {
    const std::string_view backend_name = backend != nullptr ? backend->name : "?";
    if (target == TargetKind::pool) return fmt::format("{} pool", backend_name);
    return fmt::format("{} dedicated {}", backend_name, design);
}

std::vector<Combination> main_combinations(const std::vector<const Backend*>& backends) {
    std::vector<Combination> all;
    for (const Backend* backend : backends) {
        for (const char* design : {"classic", "futex-gated", "spin-park:2us", "adaptive", "spin", "inplace"}) {
            all.push_back({backend, TargetKind::dedicated, design});
        }
        // Results that wait for the loop's timer and calls held for one
        // wake: the paced gaps (the loop's deadline) exercise both.
        if (backend->capabilities.sleep_hooks) {
            all.push_back({backend, TargetKind::dedicated, "futex-gated,defer=100us,hold=200us"});
        }
        all.push_back({backend, TargetKind::pool, ""});
    }
    return all;
}

std::uint64_t combination_seed(std::uint64_t seed, const Combination& combination) {
    std::uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a of the name
    for (const char c : combination.name()) hash = (hash ^ std::uint8_t(c)) * 0x100000001b3ULL;
    return mix64(seed ^ hash);
}

// Long by choice (about 90 lines): the loop thread's segments and the
// watchdog that watches them share the monitor, the result and the alarm,
// and read as the two halves of one picture here.
Result run_combination(const Combination& combination, const Options& options) {
    Result result;
    if (auto reason = backend_unavailable_reason(*combination.backend)) {
        result.skipped = true;
        result.message = *reason;
        return result;
    }
    const std::vector<int> online = online_cpus();
    if (never_sleeps(combination) && online.size() < 2) {
        result.skipped = true;
        result.message = combination.design + " needs two online CPUs (a side never sleeps)";
        return result;
    }
    std::optional<Design> design;
    if (combination.target == TargetKind::dedicated) design = parse_design(combination.design);

    Random random(combination_seed(options.seed, combination));
    const std::vector<Segment> segments = plan_segments(combination, options.calls, random, online);
    const std::vector<int> process_mask = current_thread_affinity();

    Monitor monitor;
    Pacer pacer(monitor);
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::string failure;
    const std::int64_t start_ns = monotonic_ns();

    std::thread loop_thread([&] {
        std::uint64_t first_seq = 0;
        for (const Segment& segment : segments) {
            ++result.segments;
            const std::int64_t segment_start = monotonic_ns();
            const SegmentOutcome outcome = run_segment(combination, design ? &*design : nullptr, segment, first_seq,
                                                       random, monitor, pacer, process_mask, result);
            first_seq += segment.calls;
            if (options.segments != nullptr) {
                *options.segments << fmt::format("  {} segment {}: {}: {:.2f} s\n", combination.name(), result.segments,
                                                 segment.describe(), double(monotonic_ns() - segment_start) / 1e9)
                                  << std::flush;
            }
            if (outcome.unsupported) {
                result.skipped = true;
                failure = outcome.failure;
                break;
            }
            if (!outcome.failure.empty()) {
                failure = fmt::format("segment {} ({}): {}", result.segments, segment.describe(), outcome.failure);
                break;
            }
        }
        std::lock_guard lock(done_mutex);
        done = true;
        done_cv.notify_one();
    });

    // The watchdog: any call (or idle loop's wake) waiting longer than the
    // limit stops the run and fails it with what was outstanding; a loop
    // that then does not stop either ends the process rather than hang.
    std::string alarm;
    std::int64_t fired_at = 0;
    const std::int64_t limit = std::chrono::nanoseconds(options.stall_limit).count();
    {
        std::unique_lock lock(done_mutex);
        while (!done_cv.wait_for(lock, std::chrono::milliseconds(50), [&] { return done; })) {
            const std::int64_t now = monotonic_ns();
            if (alarm.empty()) {
                const std::string overdue = monitor.overdue(now, limit);
                if (overdue.empty()) continue;
                alarm = fmt::format("{} (segment: {}; seed {}): {}", combination.name(), monitor.segment(),
                                    options.seed, overdue);
                if (options.alarm != nullptr) *options.alarm << "stress: WATCHDOG: " << alarm << std::endl;
                fired_at = now;
                monitor.stop();
            } else if (now - fired_at > limit) {
                std::ostream& out = options.alarm != nullptr ? *options.alarm : std::cerr;
                out << "stress: WATCHDOG: the loop did not stop within " << options.stall_limit.count()
                    << " ms of request_stop; giving up: " << alarm << std::endl;
                std::_Exit(3);
            }
        }
    }
    loop_thread.join();
    result.seconds = double(monotonic_ns() - start_ns) / 1e9;
    if (!alarm.empty()) {
        result.ok = false;
        result.message = "watchdog: " + alarm;
    } else if (result.skipped) {
        result.message = failure;
    } else {
        result.ok = failure.empty();
        result.message = failure;
    }
    return result;
}

}  // namespace handoff::stress
