#include "run/awaiting_side.hpp"

#include <limits>
#include <vector>

#include "handoff/clocks.hpp"

namespace handoff {

AwaitingSide::AwaitingSide(const Configuration& config, ThreadRegistry& registry, std::atomic<std::uint64_t>& progress)
    : config_(config),
      registry_(registry),
      progress_(progress),
      timeout_ns_(config.timeout.count()),
      window_(slots_for(config), config.work) {}

void AwaitingSide::start() {
    if (config_.warmup == 0) {
        begin_measured();
    } else {
        phase_total_ = config_.warmup;
        advance(timeout_ns_ != 0 ? monotonic_ns() : 0);
    }
}

void AwaitingSide::close() {
    if (closing_) return;
    closing_ = true;
    outstanding_at_close_ = window_.in_flight();
    outstanding_seqs_at_close_ = window_.describe_outstanding();
}

void AwaitingSide::deliver(Call& call) {
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

void AwaitingSide::on_deadline() {
    armed_ns_ = 0;
    if (broken_ || closing_) return;
    const std::int64_t now = monotonic_ns();
    window_.expire(now - timeout_ns_, measured_from_, timed_out_, cancelled_);
    advance(now);
}

// A measured call is back at `now`: its round trip, and where it ran
// (unknown for a call handed back unrun).
void AwaitingSide::record(const Call& call, std::int64_t now) {
    latency_.record(now - call.sent_ns);
    if (call.worker_cpu >= 0) {
        ++cpu_known_;
        same_cpu_ += call.worker_cpu == call.loop_cpu;
    }
}

void AwaitingSide::send(std::int64_t now) {
    Call* call = window_.prepare(next_seq_, now);
    ++next_seq_;
    ++sent_;
    target_->submit(*call);
}

// Sends while fewer than `inflight` calls are awaited (and a slot is
// free: with every spare held by a timed-out call, the next send waits
// for one to come back); moves on when the phase is over; keeps the
// earliest deadline armed.
void AwaitingSide::advance(std::int64_t now) {
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

void AwaitingSide::arm_deadline() {
    if (timeout_ns_ == 0 || armed_ns_ != 0) return;
    const std::int64_t oldest = window_.oldest_awaited_ns();
    if (oldest == std::numeric_limits<std::int64_t>::max()) return;
    armed_ns_ = oldest + timeout_ns_;
    loop_->set_deadline(armed_ns_);
}

void AwaitingSide::begin_measured() {
    measuring_ = true;
    measured_from_ = next_seq_;
    sent_ = 0;
    phase_total_ = config_.calls;
    start_ = open_interval();
    advance(monotonic_ns());
}

// Every measured call has ended (delivered or timed out): the interval closes.
void AwaitingSide::finish() {
    const std::vector<pid_t> workers = registry_.threads();
    const IntervalEdge end = close_interval(start_, workers);
    measurement_ = measure_interval(start_, end, workers, delivered_ + timed_out_);
    measurement_->failed_calls = failed_;
    measurement_->timed_out_calls = timed_out_;
    measurement_->cancelled_calls = cancelled_;
}

// Every timed-out call is back too (after the interval closed): their
// round trips and late results complete the figures.
void AwaitingSide::complete_measurement() {
    measurement_->latency = latency_;
    measurement_->same_cpu_calls = same_cpu_;
    measurement_->cpu_known_calls = cpu_known_;
    measurement_->late_results = late_;
}

}  // namespace handoff
