#include "run/awaiting_phases.hpp"

#include <algorithm>
#include <limits>

#include "handoff/clocks.hpp"

namespace handoff {

AwaitingPhases::AwaitingPhases(const Configuration& config, ThreadRegistry& registry,
                               std::atomic<std::uint64_t>& progress)
    : config_(config),
      registry_(registry),
      progress_(progress),
      timeout_ns_(config.timeout.count()),
      window_(slots_for(config), config.work) {
    if (config.open_loop()) arrivals_.emplace(config.rate, config.arrival, config.seed);
}

void AwaitingPhases::close() {
    if (closing_) return;
    closing_ = true;
    outstanding_at_close_ = window_.in_flight();
    outstanding_seqs_at_close_ = window_.describe_outstanding();
}

void AwaitingPhases::break_run() {
    // A call already sent is handed back by the teardown.
    broken_ = true;
    loop_->stop();
}

AwaitingPhases::Back AwaitingPhases::settle_back(const Call& back, CallWindow::Outcome outcome, std::int64_t now) {
    using Outcome = CallWindow::Outcome;
    if (!settling()) return Back::dropped;
    if (outcome == Outcome::error || outcome == Outcome::shut_down) {
        // A wrong, duplicated or stray result: the run can no longer be
        // trusted (resending its slot could hand one call to two threads),
        // so it ends here and the row reports the error, not figures.
        break_run();
        return Back::dropped;
    }
    // Only this thread writes it: a plain store, not a locked add per call.
    progress_.store(progress_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    if (outcome == Outcome::late || outcome == Outcome::reclaimed) {
        // Its round trip is known now, and is at least the timeout: it goes
        // into the latency like any call, so a stall is not hidden.
        if (back.seq >= measured_from_) {
            calls_.late += outcome == Outcome::late;
            calls_.record(back, now != 0 ? now : monotonic_ns());
        }
        return Back::late;
    }
    if (measuring_ && timeout_ns_ != 0 && now - back.sent_ns > timeout_ns_) {
        ++calls_.timed_out;
        ++calls_.late;
        calls_.record(back, now);
        return Back::timed_out;
    }
    return Back::answered;
}

void AwaitingPhases::answer(const Call& back, std::int64_t now, bool failed) {
    if (!measuring_) return;
    if (sampled(back.seq)) calls_.record(back, now);
    ++calls_.delivered;
    calls_.failed += failed;
}

bool AwaitingPhases::begin_warmup() {
    if (config_.warmup == 0) return false;
    phase_total_ = config_.warmup;
    warmup_half_ = config_.warmup / 2;
    if (arrivals_) arrivals_->restart(monotonic_ns());  // the warm-up runs at the rate too
    return true;
}

void AwaitingPhases::note_sent() {
    ++next_seq_;
    ++sent_;
    // The warm-up's second half is timed (its first pays for threads
    // starting and caches filling): it decides the sampling.
    if (sent_ == warmup_half_ && !measuring_) warmup_started_ns_ = monotonic_ns();
}

// Closed loop without a timeout, calls that the warm-up shows take under
// 2 us: time and place only every 8th (see awaiting_side.hpp).
void AwaitingPhases::choose_sampling() {
    constexpr std::uint64_t min_warmup = 64;
    constexpr std::int64_t short_call_ns = 2'000;
    if (config_.open_loop() || timeout_ns_ != 0 || config_.warmup < min_warmup) return;
    const std::int64_t per_call =
        (monotonic_ns() - warmup_started_ns_) / std::int64_t(config_.warmup - warmup_half_);
    if (per_call < short_call_ns) sample_mask_ = 7;
}

std::int64_t AwaitingPhases::open_measured_phase() {
    choose_sampling();
    measuring_ = true;
    measured_from_ = next_seq_;
    sent_ = 0;
    phase_total_ = config_.calls;
    calls_.open();
    const std::int64_t now = monotonic_ns();
    if (arrivals_) arrivals_->restart(now);
    return now;
}

void AwaitingPhases::arm_deadline(std::int64_t now, bool send_due_now) {
    std::int64_t due = std::numeric_limits<std::int64_t>::max();
    if (timeout_ns_ != 0) {
        const std::int64_t oldest = window_.oldest_awaited_ns();
        if (oldest != std::numeric_limits<std::int64_t>::max()) due = oldest + timeout_ns_;
    }
    if (arrivals_ && sent_ < phase_total_) {
        const std::int64_t next = arrivals_->next_ns();
        if (send_due_now || next > now) due = std::min(due, next);
    }
    if (due == std::numeric_limits<std::int64_t>::max()) return;
    if (armed_ns_ != 0 && armed_ns_ <= due) return;
    armed_ns_ = std::max<std::int64_t>(due, 1);
    loop_->set_deadline(armed_ns_);
}

}  // namespace handoff
