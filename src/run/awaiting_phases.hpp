// What the two awaiting sides share, on the loop thread. The callback side
// (run/awaiting_side.*) and the coroutine side (run/coroutine_side.*) send
// calls from one window in two phases — the warm-up, then the measured
// calls — and settle every call that comes back by the same rules, kept here
// once: a wrong result breaks the run; a timed-out call back late is counted
// and recorded; a call back after its timeout but before the deadline fired
// (the loop was off its CPU) is timed out all the same, so whether a call
// timed out never depends on when the loop looked; the progress count the
// watchdog reads; the sampling the warm-up decides (see awaiting_side.hpp);
// and what was outstanding when the run was closed.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "handoff/call.hpp"
#include "handoff/loop.hpp"
#include "handoff/thread_registry.hpp"
#include "measurement/measurement.hpp"
#include "run/arrival.hpp"
#include "run/call_window.hpp"
#include "run/configuration.hpp"
#include "run/measured_calls.hpp"

namespace handoff {

class AwaitingPhases {
public:
    // The window's slots: the in-flight count, twice that with a timeout
    // (spares for timed-out calls still held by the target; the loop and the
    // target keep per-slot state for all of them).
    static std::uint32_t slots_for(const Configuration& config) {
        return config.timeout.count() != 0 ? 2 * config.inflight : config.inflight;
    }

    // The loop has stopped and the target and loop are about to go: what
    // they hand back from now on is only taken back, never answered. What
    // was outstanding then is kept for the message about a stopped run (the
    // teardown hands those calls back and empties the window).
    void close();
    std::uint32_t outstanding_at_close() const { return outstanding_at_close_; }
    const std::string& outstanding_seqs_at_close() const { return outstanding_seqs_at_close_; }

    CallWindow& window() { return window_; }
    // Set once every measured call has ended and every timed-out one is back.
    const std::optional<Measurement>& measurement() const { return calls_.measurement(); }

protected:
    // `progress` counts delivered calls (warm-up included) for the watchdog.
    AwaitingPhases(const Configuration& config, ThreadRegistry& registry, std::atomic<std::uint64_t>& progress);
    ~AwaitingPhases() = default;

    // How a call that came back ends for the side, the window having judged it.
    enum class Back {
        dropped,    // the run is closing or broken (perhaps by this call): nothing more to do
        late,       // a timed-out call came back (late or cancelled): counted, recorded, its slot free
        timed_out,  // back after its timeout, before the deadline fired: counted timed out and late, recorded
        answered,   // back in time: the side hands it on and records it (answer())
    };
    // `now`: CLOCK_MONOTONIC, read since the call came back (0: not read;
    // it always is with a timeout).
    Back settle_back(const Call& back, CallWindow::Outcome outcome, std::int64_t now);
    // A measured call answered in time: its round trip (sampled calls, ended
    // at `now`) and how it ended.
    void answer(const Call& back, std::int64_t now, bool failed);

    // The warm-up first (true; open loop, its arrivals start now), or
    // straight to the measured calls (false: the caller opens them).
    bool begin_warmup();
    // Just before the first measured call goes out: decides the sampling
    // from the warm-up, opens the interval and (open loop) starts the
    // arrivals. Returns the clock reading they start from.
    std::int64_t open_measured_phase();
    // One deadline at a time (Loop::set_deadline): the earliest of the oldest
    // awaited call's timeout and, open loop, the next intended send. That one
    // even while the cap holds its call back: a service's loop wakes for a
    // request whether or not it can hand it over yet, and a design may count
    // on that wake (defer=, hold=). One already past `now` is armed only when
    // `send_due_now` (it goes out at once): otherwise its call goes when the
    // cap lets it, and a past deadline would fire again and again. Armed
    // again only when an earlier one is needed: a deadline that fires with
    // nothing due is harmless (the side re-arms).
    void arm_deadline(std::int64_t now, bool send_due_now);
    // The deadline the loop held has fired (the loop forgot it).
    void deadline_fired() { armed_ns_ = 0; }
    // Call number next_seq_ went out.
    void note_sent();
    bool sampled(std::uint64_t seq) const { return (seq & sample_mask_) == 0; }
    bool settling() const { return !broken_ && !closing_; }  // results are answered, not only taken back
    void break_run();  // the run can no longer be trusted: it ends here

    const Configuration& config_;
    ThreadRegistry& registry_;
    std::atomic<std::uint64_t>& progress_;
    const std::int64_t timeout_ns_;  // 0: calls never time out
    CallWindow window_;
    Loop* loop_ = nullptr;
    Target* target_ = nullptr;

    bool measuring_ = false;
    bool broken_ = false;
    bool closing_ = false;
    std::uint64_t next_seq_ = 0;
    std::uint64_t measured_from_ = UINT64_MAX;  // the first measured seq
    std::uint64_t phase_total_ = 0;
    std::uint64_t sent_ = 0;        // in the current phase
    std::uint64_t warmup_half_ = UINT64_MAX;
    std::optional<ArrivalSchedule> arrivals_;  // open loop only
    MeasuredCalls calls_;  // the interval, the round trips, how the measured calls ended

private:
    void choose_sampling();

    std::int64_t armed_ns_ = 0;           // the deadline the loop holds, 0 for none
    std::uint64_t sample_mask_ = 0;       // a call is sampled when (seq & mask) == 0
    std::int64_t warmup_started_ns_ = 0;  // when the warm-up's second half began
    std::uint32_t outstanding_at_close_ = 0;
    std::string outstanding_seqs_at_close_;
};

}  // namespace handoff
