#include "run/awaiting_side.hpp"

#include <algorithm>
#include <limits>
#include <vector>

#include "handoff/clocks.hpp"

namespace handoff {

AwaitingSide::AwaitingSide(const Configuration& config, ThreadRegistry& registry, std::atomic<std::uint64_t>& progress)
    : AwaitingPhases(config, registry, progress) {}

void AwaitingSide::start() {
    if (!begin_warmup()) return begin_measured();
    advance(timeout_ns_ != 0 || arrivals_ ? monotonic_ns() : 0);
}

// The order is the point: the clock is read, the next call goes out, and
// only then is the call that came back checked and recorded, while the
// worker already runs the next one. The loop's bookkeeping is off the
// round trip the row measures.
void AwaitingSide::deliver(Call& call) {
    Call back;
    const CallWindow::Taken taken = window_.take(call, back);
    if (!settling()) {
        window_.judge(back, taken);  // taken back, never answered
        return;
    }
    // One clock read per call, after the next call went out: it ends this
    // call's round trip and (closed loop) stamps the next one's start.
    // Open loop reads it first: it says which arrivals are due.
    const bool timed = back.sent_ns >= 0;  // not an unsampled call
    std::int64_t now = arrivals_ ? monotonic_ns() : 0;
    if (taken == CallWindow::Taken::awaited) now = send_ready(now);
    if (now == 0 && timed && (measuring_ || timeout_ns_ != 0)) now = monotonic_ns();
    const CallWindow::Outcome outcome = window_.judge(back, taken);
    switch (settle_back(back, outcome, now)) {
        case Back::dropped: return;
        case Back::answered: answer(back, now, outcome == CallWindow::Outcome::failed); break;
        case Back::late:
        case Back::timed_out: break;  // counted; its slot is free for the next send
    }
    advance(now);
}

void AwaitingSide::on_deadline() {
    deadline_fired();
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
        const bool is_sampled = sampled(next_seq_);
        Call* call = window_.prepare(next_seq_, intended, is_sampled);
        target_->submit(*call);
        note_sent();
        unstamped |= is_sampled && intended == 0;
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
        if (!calls_.measurement()) calls_.close(registry_, config_.rate);
        // Timed-out calls still out: wait for each to come back, so the
        // run ends with every call accounted for and no slot in use.
        if (window_.abandoned() == 0) {
            calls_.complete();
            loop_->stop();
            return;
        }
    }
    arm_deadline(now, can_send());
}

void AwaitingSide::begin_measured() { advance(open_measured_phase()); }

}  // namespace handoff
