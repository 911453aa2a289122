// Spinning with a budget in time, and a budget that adapts to what it sees.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

#include "handoff/cpu_relax.hpp"
#include "handoff/clocks.hpp"

namespace handoff {

// Polls `ready` until it returns true or `budget_ns` has passed (negative
// budget: no limit). Reads the clock only every few polls: it costs more than
// a poll. Returns whether `ready` became true. `waited_ns` (optional): how
// long the spin lasted, to within those few polls — from the clock readings
// the budget takes anyway, so that no clock read is added after `ready`,
// where it would lengthen the very round trip it measures.
template <class Ready>
bool spin_until(Ready&& ready, std::int64_t budget_ns, std::int64_t* waited_ns = nullptr) {
    if (waited_ns != nullptr) *waited_ns = 0;
    if (ready()) return true;
    if (budget_ns == 0) return false;
    const bool timed = budget_ns > 0 || waited_ns != nullptr;
    const std::int64_t start = timed ? monotonic_ns() : 0;
    std::int64_t now = start;
    for (;;) {
        for (int i = 0; i < 16; ++i) {
            cpu_relax();
            if (ready()) {
                if (waited_ns != nullptr) *waited_ns = now - start;
                return true;
            }
        }
        if (!timed) continue;
        now = monotonic_ns();
        if (budget_ns > 0 && now - start >= budget_ns) return false;
    }
}

// A spin budget that follows the waits it observes, in the spirit of folly's
// TurnSequencer: spinning that succeeds keeps (and may grow) the budget;
// spinning that ends in a sleep anyway halves it, down to zero. Where spinning
// cannot help — the other side last ran on this very CPU, so it cannot make
// progress while we spin — the budget is not used at all. A zero budget is
// probed again now and then, so a placement that changes is noticed.
class AdaptiveSpin {
public:
    // The ski-rental rule: spin about as long as a sleep and its wake-up
    // would cost, and the spin never costs more than twice the best choice
    // made in hindsight. A cross-CPU wake-up costs ~11 us on this VM; with
    // 4 us, the short hiccups of a shared machine (5-10 us) made about 1% of
    // calls sleep at split, each then paying that wake-up (+10% per call).
    static constexpr std::int64_t initial_ns = 10'000;
    static constexpr std::int64_t max_ns = 64'000;
    static constexpr std::int64_t min_ns = 250;
    static constexpr unsigned probe_every = 32;

    // The budget for the next wait.
    std::int64_t budget(bool peer_on_this_cpu) noexcept {
        if (peer_on_this_cpu) return 0;
        if (budget_ns_ == 0 && ++idle_waits_ % probe_every == 0) return initial_ns;
        return budget_ns_;
    }

    // The wait ended while spinning, after `waited_ns`: spinning works here,
    // so the budget is back to at least its initial size (one preemption
    // must not leave it too small to ride out the next bit of jitter), and
    // covers twice the wait just seen.
    void won(std::int64_t waited_ns) noexcept {
        budget_ns_ = std::clamp<std::int64_t>(std::max({budget_ns_, 2 * waited_ns, initial_ns}), min_ns, max_ns);
    }

    // The spin (of `spun_budget_ns`) ran out and the side slept; the whole
    // wait, spin and sleep, took `waited_ns`. A wait that the largest budget
    // would have covered — the other side preempted for a moment, a busy
    // host — says spin longer, as won() does: its sleep cost a wake-up, far
    // more than the spin would have. A longer one says the other side was
    // really idle: halve, down to zero.
    void lost(std::int64_t spun_budget_ns, std::int64_t waited_ns) noexcept {
        if (spun_budget_ns == 0) return;
        if (waited_ns <= max_ns) return won(waited_ns);
        budget_ns_ = budget_ns_ / 2 < min_ns ? 0 : budget_ns_ / 2;
    }

    std::int64_t current_ns() const noexcept { return budget_ns_; }

private:
    std::int64_t budget_ns_ = initial_ns;
    unsigned idle_waits_ = 0;
};

}  // namespace handoff
