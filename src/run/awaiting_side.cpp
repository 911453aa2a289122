#include "run/awaiting_side.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "handoff/clocks.hpp"

namespace handoff {

AwaitingSide::AwaitingSide(const Configuration& config, ThreadRegistry& registry, std::atomic<std::uint64_t>& progress)
    : config_(config),
      registry_(registry),
      progress_(progress),
      timeout_ns_(config.timeout.count()),
      window_(slots_for(config), config.work) {
    if (config.open_loop()) arrivals_.emplace(config.rate, config.arrival, config.seed);
}

void AwaitingSide::start() {
    if (config_.warmup == 0) {
        begin_measured();
    } else {
        phase_total_ = config_.warmup;
        warmup_half_ = config_.warmup / 2;
        const std::int64_t now = timeout_ns_ != 0 || arrivals_ ? warmup_started_ns_ : 0;
        if (arrivals_) arrivals_->restart(now);
        advance(now);
    }
}

void AwaitingSide::close() {
    if (closing_) return;
    closing_ = true;
    outstanding_at_close_ = window_.in_flight();
    outstanding_seqs_at_close_ = window_.describe_outstanding();
}

// The order is the point: the clock is read, the next call goes out, and
// only then is the call that came back checked and recorded, while the
// worker already runs the next one. The loop's bookkeeping is off the
// round trip the row measures.
void AwaitingSide::deliver(Call& call) {
    using Taken = CallWindow::Taken;
    using Outcome = CallWindow::Outcome;
    Call back;
    const Taken taken = window_.take(call, back);
    if (broken_ || closing_) {
        window_.judge(back, taken);  // taken back, never answered
        return;
    }
    // One clock read per call, after the next call went out: it ends this
    // call's round trip and (closed loop) stamps the next one's start.
    // Open loop reads it first: it says which arrivals are due.
    const bool timed = back.sent_ns >= 0;  // not an unsampled call
    std::int64_t now = arrivals_ ? monotonic_ns() : 0;
    if (taken == Taken::awaited) now = send_ready(now);
    if (now == 0 && timed && (measuring_ || timeout_ns_ != 0)) now = monotonic_ns();
    const Outcome outcome = window_.judge(back, taken);
    if (outcome == Outcome::error || outcome == Outcome::shut_down) {
        // A wrong, duplicated or stray result: the run can no longer be
        // trusted (resending its slot could hand one call to two threads),
        // so it ends here and the row reports the error, not figures. A
        // call already sent is handed back by the teardown.
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
        if (back.seq >= measured_from_) {
            calls_.late += outcome == Outcome::late;
            calls_.record(back, now);
        }
    } else if (measuring_ && timeout_ns_ != 0 && now - back.sent_ns > timeout_ns_) {
        // Back after its timeout, before the deadline fired (the loop was
        // off the CPU, or busy): timed out all the same, its result late.
        // Whether a call timed out never depends on when the loop looked.
        ++calls_.timed_out;
        ++calls_.late;
        calls_.record(back, now);
    } else if (measuring_) {
        if (timed) calls_.record(back, now);
        ++calls_.delivered;
        calls_.failed += outcome == Outcome::failed;
    }
    advance(now);
}

void AwaitingSide::on_deadline() {
    armed_ns_ = 0;
    if (broken_ || closing_) return;
    const std::int64_t now = monotonic_ns();
    if (timeout_ns_ != 0) window_.expire(now - timeout_ns_, measured_from_, calls_.timed_out, calls_.cancelled);
    advance(now);
}

// Whether another call of this phase may go out now: calls left, fewer than
// `inflight` awaited, and a free slot (with every spare held by a timed-out
// call, the next send waits for one to come back).
bool AwaitingSide::can_send() const {
    return sent_ < phase_total_ && window_.in_flight() < config_.inflight && window_.has_free_slot();
}

// Sends every call that may go out at `now`. Closed loop: as many as the
// window allows, stamped once they have gone with one clock read, which it
// returns (`now` when nothing was sent). Open loop: those whose intended
// time has come, each stamped with its intended time, so a call held back
// by the in-flight cap or by a late loop counts that wait in its latency.
std::int64_t AwaitingSide::send_ready(std::int64_t now) {
    bool unstamped = false;
    while (can_send()) {
        std::int64_t intended = 0;
        if (arrivals_) {
            intended = arrivals_->next_ns();
            if (intended > now) {
                now = monotonic_ns();  // the loop may have spent time since `now`
                if (intended > now) break;
            }
            arrivals_->advance();
        }
        const bool sampled = (next_seq_ & sample_mask_) == 0;
        Call* call = window_.prepare(next_seq_, intended, sampled);
        ++next_seq_;
        ++sent_;
        target_->submit(*call);
        // The warm-up's second half is timed (its first pays for threads
        // starting and caches filling): it decides the sampling.
        if (sent_ == warmup_half_ && !measuring_) warmup_started_ns_ = monotonic_ns();
        unstamped |= sampled && intended == 0;
    }
    if (unstamped) {
        if (measuring_ || timeout_ns_ != 0) now = monotonic_ns();
        window_.stamp_sent(now);
    }
    return now;
}

// Sends what may go out; moves on when the phase is over; keeps the
// earliest deadline armed (a timeout, or the next intended send).
void AwaitingSide::advance(std::int64_t now) {
    now = send_ready(now);
    if (sent_ == phase_total_ && window_.in_flight() == 0) {
        if (!measuring_) return begin_measured();
        if (!calls_.measurement()) finish();
        // Timed-out calls still out: wait for each to come back, so the
        // run ends with every call accounted for and no slot in use.
        if (window_.abandoned() == 0) {
            complete_measurement();
            loop_->stop();
            return;
        }
    }
    arm_deadline(now);
}

// One deadline at a time (Loop::set_deadline): the earliest of the oldest
// awaited call's timeout and, open loop, the next intended send. That one
// even while the cap holds its call back: a service's loop wakes for a
// request whether or not it can hand it over yet, and a design may count on
// that wake (defer=, hold=); one already past is not armed again, its call
// goes when the cap lets it. Armed again only when an earlier one is
// needed: a deadline that fires with nothing due is harmless (on_deadline
// re-arms).
void AwaitingSide::arm_deadline(std::int64_t now) {
    std::int64_t due = std::numeric_limits<std::int64_t>::max();
    if (timeout_ns_ != 0) {
        const std::int64_t oldest = window_.oldest_awaited_ns();
        if (oldest != std::numeric_limits<std::int64_t>::max()) due = oldest + timeout_ns_;
    }
    if (arrivals_ && sent_ < phase_total_) {
        const std::int64_t next = arrivals_->next_ns();
        if (can_send() || next > now) due = std::min(due, next);
    }
    if (due == std::numeric_limits<std::int64_t>::max()) return;
    if (armed_ns_ != 0 && armed_ns_ <= due) return;
    armed_ns_ = std::max<std::int64_t>(due, 1);
    loop_->set_deadline(armed_ns_);
}

// Closed loop without a timeout, calls that the warm-up shows take under
// 2 us: time and place only every 8th (see the header).
void AwaitingSide::choose_sampling() {
    constexpr std::uint64_t min_warmup = 64;
    constexpr std::int64_t short_call_ns = 2'000;
    if (arrivals_ || timeout_ns_ != 0 || config_.warmup < min_warmup) return;
    const std::int64_t per_call =
        (monotonic_ns() - warmup_started_ns_) / std::int64_t(config_.warmup - warmup_half_);
    if (per_call < short_call_ns) sample_mask_ = 7;
}

void AwaitingSide::begin_measured() {
    choose_sampling();
    measuring_ = true;
    measured_from_ = next_seq_;
    sent_ = 0;
    phase_total_ = config_.calls;
    calls_.open();
    const std::int64_t now = monotonic_ns();
    if (arrivals_) arrivals_->restart(now);
    advance(now);
}

// Every measured call has ended (delivered or timed out): the interval
// closes. Every timed-out call is back too (after the interval closed):
// their round trips and late results complete the figures.
void AwaitingSide::finish() { calls_.close(registry_, config_.rate); }

void AwaitingSide::complete_measurement() { calls_.complete(); }

}  // namespace handoff
