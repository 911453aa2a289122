// The awaiting side, on the loop thread: sends calls, checks each result,
// keeps `inflight` calls outstanding, and opens and closes the measured
// interval around the measured calls. One call from send to verified
// delivery reads here (send, deliver), in the backend's loop, in the worker
// that runs it, and in handoff/call.hpp.
//
// Closed loop (the default) sends the next call when one comes back. Open
// loop (--rate) sends each call at its intended time from the arrival
// schedule, at most `inflight` outstanding (a call that cannot go out yet
// waits, and the wait counts); either way a call's latency runs from the
// time it was meant to go out, so a stall is never hidden.
//
// Sampling: each call's round trip takes a clock read on the loop thread,
// 25-70 ns on these VMs, as much as the whole handoff of a spinning design.
// When the second half of the warm-up shows calls shorter than 2 us (closed loop, no timeout),
// only every 8th call (seq % 8 == 0) is timed and placed: the others cost
// no clock read and no sched_getcpu on either side. Their figures are
// still every call's; p50/p99 and SameCPU come from the sampled eighth
// (lat_samples says how many).
//
// With a timeout, a call not back within it is given up on (timed out): it
// stops counting as in flight, its slot stays held until the call comes back
// (cancelled unrun, or with a late result), and the next call goes out from
// a spare slot. Every measured seq ends exactly once: ok, failed or timed out.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "handoff/call.hpp"
#include "handoff/loop.hpp"
#include "handoff/thread_registry.hpp"
#include "measurement/latency_histogram.hpp"
#include "measurement/measurement.hpp"
#include "run/arrival.hpp"
#include "run/call_window.hpp"
#include "run/measured_calls.hpp"
#include "run/configuration.hpp"

namespace handoff {

class AwaitingSide final : public CallSink {
public:
    // The window's slots: the in-flight count, twice that with a timeout
    // (spares for timed-out calls still held by the target; the loop and the
    // target keep per-slot state for all of them).
    static std::uint32_t slots_for(const Configuration& config) {
        return config.timeout.count() != 0 ? 2 * config.inflight : config.inflight;
    }

    // `progress` counts delivered calls (warm-up included) for the watchdog.
    AwaitingSide(const Configuration& config, ThreadRegistry& registry, std::atomic<std::uint64_t>& progress);

    void attach(Loop& loop, Target& target) {
        loop_ = &loop;
        target_ = &target;
    }

    // Sends the first window: warm-up calls, or measured ones when there are none.
    void start();

    // The loop has stopped and the target and loop are about to go: what
    // they hand back from now on is only taken back, never answered.
    // What was outstanding then is kept for the message about a stopped run
    // (the teardown hands those calls back and empties the window).
    void close();
    std::uint32_t outstanding_at_close() const { return outstanding_at_close_; }
    const std::string& outstanding_seqs_at_close() const { return outstanding_seqs_at_close_; }

    // A call is back on the loop thread: check it, record it, send the next.
    void deliver(Call& call) override;
    // The earliest deadline passed: give up on every call past its timeout,
    // then arm the next one (only the earliest is ever armed).
    void on_deadline() override;

    CallWindow& window() { return window_; }
    // Set once every measured call has ended and every timed-out one is back.
    const std::optional<Measurement>& measurement() const { return calls_.measurement(); }

private:
    std::int64_t send_ready(std::int64_t now);
    void advance(std::int64_t now);
    bool can_send() const;
    void arm_deadline(std::int64_t now);
    void choose_sampling();
    void begin_measured();
    void finish();
    void complete_measurement();

    const Configuration& config_;
    ThreadRegistry& registry_;
    std::atomic<std::uint64_t>& progress_;
    const std::int64_t timeout_ns_;  // 0: calls never time out
    std::uint64_t sample_mask_ = 0;  // a call is sampled when (seq & mask) == 0
    std::int64_t warmup_started_ns_ = 0;  // when the warm-up's second half began
    std::uint64_t warmup_half_ = UINT64_MAX;
    std::optional<ArrivalSchedule> arrivals_;  // open loop only
    CallWindow window_;
    Loop* loop_ = nullptr;
    Target* target_ = nullptr;

    bool measuring_ = false;
    bool broken_ = false;
    bool closing_ = false;
    std::uint32_t outstanding_at_close_ = 0;
    std::string outstanding_seqs_at_close_;
    std::uint64_t next_seq_ = 0;
    std::uint64_t measured_from_ = UINT64_MAX;  // the first measured seq
    std::uint64_t phase_total_ = 0;
    std::uint64_t sent_ = 0;       // in the current phase
    std::int64_t armed_ns_ = 0;    // the deadline the loop holds, 0 for none
    MeasuredCalls calls_;  // the interval, the round trips, how the measured calls ended
};

}  // namespace handoff
