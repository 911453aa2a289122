#include "run/call_window.hpp"

#include <sched.h>

#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>

namespace handoff {

CallWindow::CallWindow(std::uint32_t slots, const Work& work)
    : work_(work), calls_(slots), phase_(slots, Phase::free), sent_ns_(slots, 0) {
    free_.reserve(slots);
    unstamped_.reserve(slots);
    for (std::uint32_t i = slots; i-- > 0;) {
        calls_[i].slot = i;
        free_.push_back(i);  // slot 0 on top
    }
}

Call* CallWindow::prepare(std::uint64_t seq, std::int64_t sent_ns, bool sampled) {
    if (free_.empty()) return nullptr;
    const std::uint32_t slot = free_.back();
    free_.pop_back();
    phase_[slot] = Phase::awaited;
    ++awaited_;
    sent_ns_[slot] = sampled ? sent_ns : -1;
    if (sampled && sent_ns == 0) unstamped_.push_back(slot);
    // Everything computed first, then written in one burst: the call's line
    // may be polled by a worker on another CPU (queue=inplace), and each
    // store that finds the line taken back must fetch it again.
    const std::uint64_t arg = argument_for(seq);
    const int loop_cpu = sampled ? sched_getcpu() : -1;
    Call& call = calls_[slot];
    if (call.error) call.error = nullptr;  // a store only when it held one
    call.seq = seq;
    call.sent_ns = sent_ns;  // 0 until stamped: the window's copy is the one that counts
    call.arg = arg;
    call.result = 0;
    call.status = CallStatus::pending;
    call.executions = 0;
    call.state = static_cast<std::uint8_t>(CallState::queued);  // published by the submit
    call.worker_cpu = -1;
    call.loop_cpu = loop_cpu;
    return &call;
}

bool CallWindow::check_result(const Call& call) {
    const bool must_fail = work_.must_fail(call.arg);
    if ((call.status == CallStatus::ok || call.status == CallStatus::failed) && call.executions != 1) {
        error(call.executions == 0
                  ? fmt::format("call {} came back with a result, but its work never ran", call.seq)
                  : fmt::format("call {} ran {} times", call.seq,
                                call.executions == UINT8_MAX ? std::string("255 or more") : std::to_string(call.executions)));
        return false;
    }
    switch (call.status) {
        case CallStatus::ok:
            if (must_fail) {
                error(fmt::format("call {} returned a value, but fail:P picked it to throw", call.seq));
                return false;
            }
            if (call.result == expected_result(call.arg)) return true;
            error(fmt::format("call {} returned {:#x}, expected {:#x}", call.seq, call.result,
                              expected_result(call.arg)));
            return false;
        case CallStatus::failed: {
            // Delivered to the awaiting side: rethrown here, on the loop thread.
            std::string what = "an exception that is not a std::exception";
            try {
                std::rethrow_exception(call.error);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
            if (must_fail && what == failure_message(call.arg)) return true;
            error(fmt::format("call {} threw: {}", call.seq, what));
            return false;
        }
        case CallStatus::pending:
            error(fmt::format("call {} was delivered before it ran (a duplicated delivery?)", call.seq));
            return false;
        case CallStatus::timed_out:
        case CallStatus::cancelled:
            error(fmt::format("call {} did not run", call.seq));
            return false;
    }
    return false;
}

CallWindow::Taken CallWindow::take(Call& call, Call& back) {
    if (call.slot >= calls_.size() || &calls_[call.slot] != &call) {
        error("a call that this run never sent was delivered");
        return Taken::error;
    }
    const std::uint32_t slot = call.slot;
    const Phase phase = phase_[slot];
    if (phase == Phase::free) {
        error(fmt::format("call {} was delivered twice", call.seq));
        return Taken::error;
    }
    back = call;  // one line, already in this CPU's cache; the call keeps its fields until its slot is reused
    back.sent_ns = sent_ns_[slot];
    phase_[slot] = Phase::free;
    (phase == Phase::awaited ? awaited_ : abandoned_) -= 1;
    free_.push_back(slot);
    return phase == Phase::awaited ? Taken::awaited : Taken::abandoned;
}

CallWindow::Outcome CallWindow::judge(Call& back, Taken taken) {
    switch (taken) {
        case Taken::error: return Outcome::error;
        case Taken::abandoned:
            if (back.was_cancelled() || back.status == CallStatus::cancelled) {
                if ((back.status != CallStatus::pending && back.status != CallStatus::cancelled) || back.executions != 0) {
                    error(fmt::format("call {} ran although it was cancelled", back.seq));
                    return Outcome::error;
                }
                return Outcome::reclaimed;
            }
            return check_result(back) ? Outcome::late : Outcome::error;
        case Taken::awaited: break;
    }
    if (back.status == CallStatus::cancelled) {
        if (back.executions == 0) return Outcome::shut_down;
        error(fmt::format("call {} was handed back as cancelled, but its work ran", back.seq));
        return Outcome::error;
    }
    if (!check_result(back)) return Outcome::error;
    return back.status == CallStatus::failed ? Outcome::failed : Outcome::ok;
}

void CallWindow::expire(std::int64_t sent_by_ns, std::uint64_t measured_from, std::uint64_t& timed_out,
                        std::uint64_t& cancelled) {
    for (std::uint32_t slot = 0; slot < calls_.size(); ++slot) {
        if (phase_[slot] != Phase::awaited || sent_ns_[slot] > sent_by_ns) continue;
        phase_[slot] = Phase::abandoned;
        --awaited_;
        ++abandoned_;
        const bool measured = calls_[slot].seq >= measured_from;
        timed_out += measured;
        // Won: the call never runs, and comes back untouched (reclaimed).
        // Lost: it is running or done, and its result comes back late.
        if (calls_[slot].try_cancel()) cancelled += measured;
    }
}

std::int64_t CallWindow::oldest_awaited_ns() const {
    std::int64_t oldest = std::numeric_limits<std::int64_t>::max();
    for (std::uint32_t slot = 0; slot < calls_.size(); ++slot) {
        if (phase_[slot] == Phase::awaited && sent_ns_[slot] < oldest) oldest = sent_ns_[slot];
    }
    return oldest;
}

std::string CallWindow::describe_outstanding(std::size_t at_most) const {
    std::string seqs;
    std::size_t shown = 0;
    for (std::size_t i = 0; i < calls_.size() && shown < at_most; ++i) {
        if (phase_[i] == Phase::free) continue;
        seqs += fmt::format("{}{}{}", shown ? ", " : "", calls_[i].seq, phase_[i] == Phase::abandoned ? " (timed out)" : "");
        ++shown;
    }
    const std::uint32_t outstanding = awaited_ + abandoned_;
    if (outstanding > shown) seqs += fmt::format(" and {} more", outstanding - shown);
    return seqs;
}

void CallWindow::error(std::string message) {
    if (errors_++ == 0) first_error_ = std::move(message);
}

}  // namespace handoff
