#include "call_window.hpp"

#include <sched.h>

#include <fmt/format.h>

#include "handoff/work.hpp"

namespace handoff {

CallWindow::CallWindow(std::uint32_t slots) : calls_(slots), busy_(slots, false) {
    for (std::uint32_t i = 0; i < slots; ++i) calls_[i].slot = i;
}

Call& CallWindow::prepare(std::uint32_t slot, std::uint64_t seq, std::int64_t now_ns) {
    Call& call = calls_[slot];
    call.seq = seq;
    call.sent_ns = now_ns;
    call.arg = argument_for(seq);
    call.result = 0;
    call.status = CallStatus::pending;
    call.error = nullptr;
    call.worker_cpu = -1;
    call.loop_cpu = sched_getcpu();
    busy_[slot] = true;
    ++in_flight_;
    return call;
}

bool CallWindow::settle(Call& call) {
    if (call.slot >= calls_.size() || &calls_[call.slot] != &call) {
        error("a call that this run never sent was delivered");
        return false;
    }
    if (!busy_[call.slot]) {
        error(fmt::format("call {} was delivered twice", call.seq));
        return false;
    }
    busy_[call.slot] = false;
    --in_flight_;
    switch (call.status) {
        case CallStatus::ok:
            if (call.result == expected_result(call.arg)) return true;
            error(fmt::format("call {} returned {:#x}, expected {:#x}", call.seq, call.result,
                              expected_result(call.arg)));
            return false;
        case CallStatus::failed: {
            std::string what = "unknown exception";
            try {
                std::rethrow_exception(call.error);
            } catch (const std::exception& e) {
                what = e.what();
            } catch (...) {
            }
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

std::string CallWindow::describe_outstanding(std::size_t at_most) const {
    std::string seqs;
    std::size_t shown = 0;
    for (std::size_t i = 0; i < calls_.size() && shown < at_most; ++i) {
        if (!busy_[i]) continue;
        seqs += fmt::format("{}{}", shown ? ", " : "", calls_[i].seq);
        ++shown;
    }
    if (in_flight_ > shown) seqs += fmt::format(" and {} more", in_flight_ - shown);
    return seqs;
}

void CallWindow::error(std::string message) {
    if (errors_++ == 0) first_error_ = std::move(message);
}

}  // namespace handoff
