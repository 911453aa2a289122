#include "run/coroutine_side.hpp"

#include <algorithm>
#include <limits>

#include <fmt/format.h>

#include "handoff/clocks.hpp"

namespace handoff {

CoroutineSide::CoroutineSide(const Configuration& config, ThreadRegistry& registry,
                             std::atomic<std::uint64_t>& progress)
    : AwaitingPhases(config, registry, progress),
      parkings_(config.inflight),
      awaiting_(config.inflight, nullptr),
      caller_of_(window_.slots(), 0) {
    tasks_.reserve(config.inflight);
    slot_waiters_.reserve(config.inflight);
    expiring_.reserve(config.inflight);
    // One exception object for every timeout of the run, made outside the interval.
    if (timeout_ns_ != 0) timed_out_error_ = std::make_exception_ptr(CallTimedOut());
}

void CoroutineSide::attach(Loop& loop, Target& target) {
    loop_ = &loop;
    target_ = &target;
    foreign_ = dynamic_cast<CoroutineLoop*>(&loop);
}

std::string CoroutineSide::await_mechanism() const {
    return foreign_ != nullptr ? foreign_->await_mechanism() : "lab awaitable, resumed from the loop's delivery";
}

// Every caller is made and started here, before the loop runs: the loop's
// own (Asio) start in its first turns, the lab's at once. A design whose
// loop never returns from a handler (loop-spin=forever) could not start one
// later. There are as many as calls may be in flight, for the whole run.
void CoroutineSide::start() {
    callers_ = std::uint32_t(std::min<std::uint64_t>(config_.inflight, config_.warmup + config_.calls));
    live_callers_ = callers_;
    if (foreign_ == nullptr) {
        const LabOps<CoroutineSide> ops{this, parkings_.data()};
        for (std::uint32_t caller = 0; caller < callers_; ++caller) {
            tasks_.push_back(run_caller<CallerTask>(*this, caller, ops));
        }
    }
    if (!begin_warmup()) open_measured();
    for (std::uint32_t caller = 0; caller < callers_; ++caller) {
        if (foreign_ != nullptr) {
            foreign_->spawn_caller(*this, caller);
        } else {
            tasks_[caller].start();
        }
    }
    now_ = 0;
}

// ---- The phases: the warm-up, then the measured calls, by the same callers.

// Just before the first measured call is sent: one clock reading stamps the
// first calls, as the callback side's.
void CoroutineSide::open_measured() { now_ = open_measured_phase(); }

// At the end of every turn the loop gives this side (a delivery, a deadline),
// when no caller runs: once the warm-up's calls are all back, the measured
// phase starts, and callers waiting for a call to send go on.
void CoroutineSide::after_event() {
    if (broken_ || closing_) return;
    if (!measuring_ && sent_ == phase_total_ && window_.in_flight() == 0) open_measured();
    if (first_waiter_ != slot_waiters_.size()) wake_slot_waiters();
}

// Timed-out calls still out: the run ends once each is back, every call
// accounted for, no slot in use and every caller returned.
void CoroutineSide::maybe_complete() {
    if (completed_ || !calls_.measurement() || live_callers_ != 0 || window_.abandoned() != 0) return;
    completed_ = true;
    calls_.complete();
    loop_->stop();
}

// ---- The callers' side (CallerDriver).

// The callback side's stamp: none in a warm-up without timeouts; otherwise
// this turn's reading, or a new one.
std::int64_t CoroutineSide::stamp() {
    if (!measuring_ && timeout_ns_ == 0) return 0;
    return now_ != 0 ? now_ : monotonic_ns();
}

Call* CoroutineSide::next_call(std::uint32_t) {
    if (broken_ || closing_ || sent_ == phase_total_) return nullptr;
    // Open loop: the next call is not due yet (nullptr: the caller waits for
    // the deadline armed at its intended time), or goes out stamped with it,
    // so a call held back by busy callers counts that wait.
    std::int64_t intended = 0;
    if (arrivals_) {
        intended = arrivals_->next_ns();
        if (intended > now_ && intended > (now_ = monotonic_ns())) {
            arm_deadline(now_, false);
            return nullptr;
        }
    }
    // nullptr: every free slot is held by a timed-out call still out.
    const bool is_sampled = sampled(next_seq_);
    Call* call = window_.prepare(next_seq_, arrivals_ ? intended : is_sampled ? stamp() : 0, is_sampled);
    if (call == nullptr) return nullptr;
    if (arrivals_) arrivals_->advance();
    note_sent();
    return call;
}

void CoroutineSide::submit(Call& call, std::uint32_t caller) {
    awaiting_[caller] = &call;
    caller_of_[call.slot] = caller;
    target_->submit(call);
    if (timeout_ns_ != 0 || arrivals_) arm_deadline(now_ != 0 ? now_ : monotonic_ns(), false);
}

void CoroutineSide::await_slot(std::uint32_t caller) {
    if (first_waiter_ == slot_waiters_.size()) {
        slot_waiters_.clear();  // reserved for every caller: no growth while it is emptied
        first_waiter_ = 0;
    }
    slot_waiters_.push_back(caller);
}

// One clock reading per call: it ends this call's round trip and stamps the
// caller's next send.
void CoroutineSide::account(const Call& call, bool failed) {
    if (measuring_) {
        if (sampled(call.seq)) now_ = monotonic_ns();
        answer(call, now_, failed);
    } else if (timeout_ns_ != 0) {
        now_ = monotonic_ns();
    }
}

void CoroutineSide::returned(Call& call, std::uint32_t, std::uint64_t value) {
    // The window has checked the call; this checks that the co_await gave it.
    if (call.status != CallStatus::ok || value != call.result) {
        return error(fmt::format("call {}: the co_await gave {:#x}, but the call {}", call.seq, value,
                                 call.status == CallStatus::ok ? fmt::format("returned {:#x}", call.result)
                                                               : std::string("did not return a value")));
    }
    account(call, false);
}

void CoroutineSide::threw(Call& call, std::uint32_t, std::exception_ptr error_thrown) {
    // Timed out: counted when the deadline gave up on it. The call still
    // belongs to the target: nothing in it is read here.
    if (timed_out_error_ && error_thrown == timed_out_error_) return;
    // The very exception the work threw on the worker (the window checked it
    // is the one fail:P picked), not a copy or another one.
    if (call.status != CallStatus::failed || error_thrown != call.error) {
        std::string what = "an exception that is not a std::exception";
        try {
            std::rethrow_exception(error_thrown);
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        return error(fmt::format("call {}: the co_await threw an exception that is not the call's own: {}", call.seq,
                                 what));
    }
    account(call, true);
}

// The interval closes once the last measured call has ended: the caller
// that had it back finds no call left and returns.
void CoroutineSide::finished(std::uint32_t) {
    --live_callers_;
    if (broken_ || closing_) return;
    if (!calls_.measurement() && window_.in_flight() == 0) calls_.close(registry_, config_.rate);
    maybe_complete();
}

// ---- The loop's side (CallSink).

void CoroutineSide::resume(std::uint32_t caller, std::exception_ptr error_given, std::uint64_t value) {
    if (foreign_ != nullptr) {
        foreign_->resume_caller(caller, std::move(error_given), value);
    } else {
        parkings_[caller].resume(std::move(error_given), value);
    }
}

void CoroutineSide::deliver(Call& call) {
    const CallWindow::Outcome outcome = window_.settle(call);
    // With a timeout, whether the call is back in time is decided now.
    now_ = timeout_ns_ != 0 && settling() ? monotonic_ns() : 0;
    const Back back = settle_back(call, outcome, now_);
    if (back == Back::dropped) {
        // Broken (as the callback side, the run ends here with its callers
        // suspended: destroyed, never resumed) or closing.
        now_ = 0;
        return;
    }
    if (back == Back::late) {
        // A timed-out call came back, awaited by no one; its slot is free again.
        after_event();
        maybe_complete();
        now_ = 0;
        return;
    }
    const std::uint32_t caller = caller_of_[call.slot];
    if (awaiting_[caller] != &call) return error(fmt::format("call {} came back to a caller not awaiting it", call.seq));
    awaiting_[caller] = nullptr;
    // The caller runs from here to its next co_await: checks, records, sends.
    // Back after its timeout (the deadline had not fired yet): its caller
    // hears that it timed out, as it would have a moment earlier.
    if (back == Back::timed_out) {
        resume(caller, timed_out_error_, 0);
    } else {
        resume(caller, call.status == CallStatus::failed ? call.error : nullptr, call.result);
    }
    after_event();
    now_ = 0;
}

void CoroutineSide::on_deadline() {
    deadline_fired();
    if (broken_ || closing_) return;
    now_ = monotonic_ns();
    // A timeout, or (open loop) the next arrival: callers waiting for it go on.
    if (timeout_ns_ != 0) expire_calls();
    after_event();
    arm_deadline(now_, false);
    now_ = 0;
}

// The callers whose calls the window gives up on: exactly the awaited calls
// sent by now minus the timeout.
void CoroutineSide::expire_calls() {
    const std::int64_t sent_by = now_ - timeout_ns_;
    expiring_.clear();
    for (std::uint32_t caller = 0; caller < awaiting_.size(); ++caller) {
        if (awaiting_[caller] != nullptr && awaiting_[caller]->sent_ns <= sent_by) {
            expiring_.push_back(caller);
            awaiting_[caller] = nullptr;
        }
    }
    window_.expire(sent_by, measured_from_, calls_.timed_out, calls_.cancelled);
    for (const std::uint32_t caller : expiring_) {
        if (broken_ || closing_) break;
        resume(caller, timed_out_error_, 0);
    }
}

// Whether a waiting caller has something to do: a call to send (open loop:
// due by now) and a slot free for it, or return.
bool CoroutineSide::may_send() const {
    if (done()) return true;
    if (sent_ == phase_total_ || window_.in_flight() + window_.abandoned() == window_.slots()) return false;
    return !arrivals_ || arrivals_->next_ns() <= (now_ != 0 ? now_ : monotonic_ns());
}

// Callers waiting for a call to send go on, oldest first, while one may.
void CoroutineSide::wake_slot_waiters() {
    while (first_waiter_ != slot_waiters_.size() && !broken_ && !closing_ && may_send()) {
        resume(slot_waiters_[first_waiter_++], nullptr, 0);
    }
    if (first_waiter_ == slot_waiters_.size()) {
        slot_waiters_.clear();
        first_waiter_ = 0;
    }
}

void CoroutineSide::error(std::string message) {
    if (errors_++ == 0) first_error_ = std::move(message);
    if (!broken_) break_run();
}

}  // namespace handoff
