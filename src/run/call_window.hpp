// The awaiting side's bookkeeping: the fixed window of calls and the check of
// every result. Runs on the loop thread only.
//
// A slot is free, awaited (its call is outstanding and the loop waits for
// it), or abandoned (its call timed out: the awaiting side has its answer,
// but the call still belongs to the target until it comes back, cancelled or
// with a late result). An abandoned slot is never reused before then, so a
// late result only ever writes to its own slot: no use after free, no result
// delivered to the wrong call. The window has spare slots for that (twice
// the in-flight count when timeouts are on).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "handoff/call.hpp"
#include "handoff/work.hpp"

namespace handoff {

class CallWindow {
public:
    // `slots` >= 1; `work` says which calls must fail (fail:P).
    CallWindow(std::uint32_t slots, const Work& work);

    // Takes a free slot for call number `seq`, sent at `sent_ns`
    // (CLOCK_MONOTONIC): nullptr when every slot is awaited or abandoned.
    // The send time is the window's, not written into the call's line: with
    // `sent_ns` 0 it is stamped after the call has gone (stamp_sent), so the
    // clock read is not between a result and the next send.
    // An unsampled call (`sampled` false) gets no send time and no loop CPU:
    // its round trip and where it ran are not recorded (see AwaitingSide).
    Call* prepare(std::uint64_t seq, std::int64_t sent_ns, bool sampled = true);
    // Stamps the calls prepared with no send time since the last stamp.
    void stamp_sent(std::int64_t now_ns) {
        for (const std::uint32_t slot : unstamped_) sent_ns_[slot] = now_ns;
        unstamped_.clear();
    }

    // How a delivered call ended.
    enum class Outcome {
        ok,         // the right value
        failed,     // it had to fail and its own exception came back
        late,       // an abandoned call that ran: its (right) result is dropped
        reclaimed,  // an abandoned call that never ran (cancelled): its slot is free again
        shut_down,  // an awaited call a target handed back unrun while shutting down
        error,      // wrong, duplicated or stray: first_error() says what
    };
    Outcome settle(Call& call) {
        Call back;
        return judge(back, take(call, back));
    }

    // settle() in two steps, so the loop can send the next call between
    // them and check this one while the worker runs that one (the harness
    // off the critical path). take() moves the call out of its slot into
    // `back` (with its send time in back.sent_ns) and frees the slot (an
    // awaited or abandoned one); judge() says how it ended. Nothing in between may touch `back`'s slot but a send.
    enum class Taken { awaited, abandoned, error };
    Taken take(Call& call, Call& back);
    Outcome judge(Call& back, Taken taken);
    bool has_free_slot() const { return !free_.empty(); }

    // Gives up on every awaited call sent at or before `sent_by_ns`: each
    // becomes abandoned and the loop tries to cancel it. Counts in `timed_out`
    // and, for those whose cancel won, `cancelled`; `measured_from` is the
    // first seq that counts (warm-up calls time out uncounted).
    void expire(std::int64_t sent_by_ns, std::uint64_t measured_from, std::uint64_t& timed_out,
                std::uint64_t& cancelled);
    // The oldest send time among awaited calls, or INT64_MAX when none.
    std::int64_t oldest_awaited_ns() const;

    std::uint32_t slots() const { return std::uint32_t(calls_.size()); }
    std::uint32_t in_flight() const { return awaited_; }  // awaited calls
    std::uint32_t abandoned() const { return abandoned_; }
    std::uint64_t errors() const { return errors_; }
    const std::string& first_error() const { return first_error_; }

    // Sequence numbers still outstanding, for a message about lost calls.
    std::string describe_outstanding(std::size_t at_most = 8) const;

private:
    enum class Phase : std::uint8_t { free, awaited, abandoned };
    bool check_result(const Call& call);  // the value, or the failure it had to raise
    void error(std::string message);

    const Work& work_;
    std::vector<Call> calls_;
    std::vector<Phase> phase_;
    std::vector<std::int64_t> sent_ns_;     // per slot: when its call was sent
    std::vector<std::uint32_t> unstamped_;  // prepared, not stamped yet
    std::vector<std::uint32_t> free_;  // a stack: the slot just freed is reused first
    std::uint32_t awaited_ = 0;
    std::uint32_t abandoned_ = 0;
    std::uint64_t errors_ = 0;
    std::string first_error_;
};

}  // namespace handoff
