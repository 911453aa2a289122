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

#include "handoff/call.hpp"
#include "handoff/loop.hpp"
#include "handoff/thread_registry.hpp"
#include "run/arrival.hpp"
#include "run/awaiting_phases.hpp"
#include "run/configuration.hpp"

namespace handoff {

class AwaitingSide final : public AwaitingPhases, public CallSink {
public:
    // `progress` counts delivered calls (warm-up included) for the watchdog.
    AwaitingSide(const Configuration& config, ThreadRegistry& registry, std::atomic<std::uint64_t>& progress);

    void attach(Loop& loop, Target& target) {
        loop_ = &loop;
        target_ = &target;
    }

    // Sends the first window: warm-up calls, or measured ones when there are none.
    void start();

    // A call is back on the loop thread: check it, record it, send the next.
    void deliver(Call& call) override;
    // The earliest deadline passed: give up on every call past its timeout,
    // then arm the next one (only the earliest is ever armed).
    void on_deadline() override;

private:
    std::int64_t send_ready(std::int64_t now);
    void advance(std::int64_t now);
    bool can_send() const;
    void begin_measured();
};

}  // namespace handoff
