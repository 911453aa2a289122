// The loop's side of a design, shared by the lab's loops: how long the loop
// polls for results before it blocks in its wait, and whether a worker that
// delivers a result makes the wake syscall always or only while the loop has
// published that it sleeps (the gate).
//
// The gate is Dekker's: the loop stores `sleeping` and then checks the inbox;
// a worker pushes to the inbox and then checks `sleeping`. Both with seq_cst,
// so at least one of them sees the other: either the loop finds the result
// and does not block, or the worker sees the sleeper and wakes it. Never
// both missing: no lost wake-up.
#pragma once

#include <atomic>
#include <sched.h>

#include "handoff/completion_inbox.hpp"
#include "handoff/design.hpp"
#include "handoff/spin.hpp"

namespace handoff {

class LoopGate {
public:
    explicit LoopGate(const Design* design)
        : gated_(design != nullptr && design->wake == Design::Wake::gated),
          spin_(design != nullptr ? design->loop_spin : Design::LoopSpin::none),
          fixed_ns_(design != nullptr ? design->loop_spin_budget.count() : 0),
          defer_ns_(design != nullptr && gated_ ? design->defer.count() : 0) {}

    // Any thread, after pushing a result: must this completer wake the loop?
    bool should_wake() noexcept {
        if (!gated_) return true;
        // Cheap test first: while the loop is awake this is a plain load.
        return sleeping_.load(std::memory_order_seq_cst) &&
               sleeping_.exchange(false, std::memory_order_seq_cst);
    }

    // Loop thread, with nothing to deliver: spins for the design's budget
    // while `ready` (results, or a stop request) stays false, then publishes
    // that it sleeps. Returns true when the loop may block now, false when
    // something arrived (deliver it and come back).
    //
    // `deadline_ns` (CLOCK_MONOTONIC, 0: none): the loop's timer. No spin
    // runs past it, not even loop-spin=forever: the loop then "blocks" with
    // a wait that expires at once and fires the deadline.
    template <class Ready>
    bool before_block(Ready&& ready, int peer_cpu, std::int64_t deadline_ns = 0) {
        settle_lost_spin();  // a lost spin whose wait ended without a block
        std::int64_t budget = spin_budget(peer_cpu);
        bool cut = false;  // the deadline, not the design, ends this spin
        if (budget != 0 && deadline_ns != 0) {
            const std::int64_t left = deadline_ns - monotonic_ns();
            if (budget < 0 || budget > left) {
                budget = left > 0 ? left : 0;
                cut = true;
            }
        }
        if (budget != 0) {
            std::int64_t waited = 0;
            if (spin_until(ready, budget, adaptive() ? &waited : nullptr)) {
                if (adaptive()) adaptive_.won(waited);
                return false;
            }
            if (adaptive() && !cut) {
                // How long the whole wait lasts decides the next budget:
                // known when the loop wakes (after_block).
                lost_budget_ns_ = budget;
                lost_at_ns_ = monotonic_ns();
            }
        }
        if (!gated_) return !ready();
        // defer=: the loop's own timer wakes it within the design's bound
        // anyway, so it sleeps unpublished: results wait for that wake, and no
        // completer spends a wake (nor the loop a wake-up) on them.
        if (defer_ns_ != 0 && deadline_ns != 0 && deadline_ns - monotonic_ns() <= defer_ns_) return !ready();
        sleeping_.store(true, std::memory_order_seq_cst);
        if (ready()) {
            // Take the flag back; if a worker took it first, its wake is on
            // the way and costs one empty turn of the loop.
            sleeping_.store(false, std::memory_order_relaxed);
            return false;
        }
        return true;
    }

    // Loop thread, on waking: completers need not wake it while it runs.
    void after_block() noexcept {
        if (gated_) sleeping_.store(false, std::memory_order_relaxed);
        settle_lost_spin();
    }

    bool gated() const noexcept { return gated_; }
    bool spins_forever() const noexcept { return spin_ == Design::LoopSpin::forever; }

private:
    bool adaptive() const noexcept { return spin_ == Design::LoopSpin::adaptive; }

    void settle_lost_spin() noexcept {
        if (lost_budget_ns_ == 0) return;
        adaptive_.lost(lost_budget_ns_, lost_budget_ns_ + (monotonic_ns() - lost_at_ns_));
        lost_budget_ns_ = 0;
    }

    std::int64_t spin_budget(int peer_cpu) noexcept {
        switch (spin_) {
            case Design::LoopSpin::none: return 0;
            case Design::LoopSpin::fixed: return fixed_ns_;
            case Design::LoopSpin::forever: return -1;
            case Design::LoopSpin::adaptive: return adaptive_.budget(peer_cpu >= 0 && peer_cpu == sched_getcpu());
        }
        return 0;
    }

    // Completers read these two on every result: a line the loop writes only
    // around a sleep. (Beside adaptive_, which the loop writes on every wait,
    // that line moved between the CPUs on every call: +240 ns per call here.)
    alignas(64) std::atomic<bool> sleeping_{false};
    const bool gated_;
    // The loop thread's alone.
    alignas(64) const Design::LoopSpin spin_;
    const std::int64_t fixed_ns_;
    const std::int64_t defer_ns_;  // defer=, 0: none
    AdaptiveSpin adaptive_;
    std::int64_t lost_budget_ns_ = 0;  // a lost spin's budget, until its wait ends
    std::int64_t lost_at_ns_ = 0;      // when it was lost
};

}  // namespace handoff
