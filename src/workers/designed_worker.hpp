// The lab's dedicated worker for every design other than `classic`: the
// queue (mutex FIFO, SPSC ring, or in place in the call's own line), how the
// idle worker waits (condvar, futex, eventfd, spin, spin-then-park with a
// fixed or adaptive budget) and batching come from the Design. Every blocking
// wait is gated: the loop makes a wake system call only when the worker has
// published that it sleeps; with hold=, only once the calls held back
// would otherwise wait longer than the design allows.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "handoff/design.hpp"
#include "handoff/loop.hpp"
#include "handoff/work.hpp"
#include "handoff/completion_inbox.hpp"
#include "workers/inplace_slots.hpp"
#include "workers/intrusive_fifo.hpp"
#include "handoff/spin.hpp"
#include "workers/spsc_ring.hpp"

namespace handoff {

// queue=inplace: the worker is also the loop's CompletionPoller (results wait
// in the calls' own lines until the loop polls them).
class DesignedWorker final : public Target, public CompletionPoller {
public:
    DesignedWorker(Loop& loop, const CallRunner& runner, const Design& design, std::uint32_t window);
    ~DesignedWorker() override;

    void submit(Call& call) override;
    std::string mechanism() const override;

    // queue=inplace, loop thread (attached as the loop's poller also for
    // hold=, with no results in place: both then find nothing).
    bool has_completion() noexcept override { return slots_.any_done(); }
    Call* take_completions() noexcept override { return slots_.take_done(); }
    // hold=, loop thread: wakes the worker for the calls held back, unless
    // the loop's next wake comes soon enough for the oldest of them.
    void before_sleep(std::int64_t next_wake_ns) noexcept override;

private:
    void work();
    Call* take();             // worker: the next call (or batch), nullptr when empty
    bool has_work() const;    // worker: seq_cst check for the gate
    bool work_or_stop() const;  // worker: has_work(), or the destructor wants it gone
    void finish(Call& call);  // worker: hands the call back to the loop
    void wait_for_work(int peer_cpu);
    void sleep_until_work();  // worker: the gate, then park() unless work came
    void park();              // worker: sleep until woken (gate already published)
    void unpark();            // loop: wake a parked worker
    std::int64_t spin_budget(int peer_cpu);

    // Read on every call by both threads, written by neither during a run.
    Loop& loop_;
    const CallRunner& runner_;
    const Design design_;
    // In place: a flip of a call's mailbox is seq_cst where the other side
    // may sleep on it (a Dekker handshake with its gate), release otherwise.
    const std::memory_order post_order_;    // loop -> worker
    const std::memory_order finish_order_;  // worker -> loop
    const bool wake_loop_;                  // in place: the loop may sleep, so wake it
    const bool polled_;                     // attached as the loop's poller (inplace, or hold=)

    // Queue: one of the three, by design (each keeps its hot fields on lines
    // of their own).
    SpscRing<Call> ring_;
    InplaceSlots slots_;
    alignas(64) std::mutex queue_mutex_;
    IntrusiveFifo fifo_;  // guarded by queue_mutex_
    std::atomic<std::uint32_t> queued_{0};  // lets the gate test the mutex queue without the lock

    // Parking: the flag the gate is built on (read by the loop on every
    // submit, written only around a sleep), then what the sleep blocks in.
    alignas(64) std::atomic<std::uint32_t> sleeping_{0};  // also the futex word
    std::atomic<bool> stopping_{false};
    std::mutex park_mutex_;             // wait=condvar
    std::condition_variable park_cv_;   // wait=condvar
    int eventfd_ = -1;                  // wait=eventfd
    // Loop thread only (hold=): when the oldest call submitted to the
    // sleeping worker without waking it went out; 0: none held.
    alignas(64) std::int64_t held_since_ns_ = 0;
    // Worker thread only, written on every wait: a line of its own.
    alignas(64) AdaptiveSpin adaptive_;  // wait=adaptive

    alignas(64) std::thread thread_;  // last: starts once everything above exists
};

}  // namespace handoff
