// The lab's dedicated worker for every design other than `classic`: the
// queue (mutex FIFO or SPSC ring), how the idle worker waits (condvar, futex,
// eventfd, spin, spin-then-park with a fixed or adaptive budget) and batching
// come from the Design. Every blocking wait is gated: the loop makes a wake
// system call only when the worker has published that it sleeps.
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
#include "intrusive_fifo.hpp"
#include "spin.hpp"
#include "spsc_ring.hpp"

namespace handoff {

class DesignedWorker final : public Target {
public:
    DesignedWorker(Loop& loop, const Executor& executor, const Design& design, std::uint32_t window);
    ~DesignedWorker() override;

    void submit(Call& call) override;
    std::string mechanism() const override;

private:
    void work();
    Call* take();             // worker: the next call (or batch), nullptr when empty
    bool has_work() const;    // worker: seq_cst check for the gate
    void wait_for_work(int peer_cpu);
    void park();              // worker: sleep until woken (gate already published)
    void unpark();            // loop: wake a parked worker
    std::int64_t spin_budget(int peer_cpu);

    Loop& loop_;
    const Executor& executor_;
    const Design design_;

    // Queue: one of the two, by design.
    SpscRing<Call> ring_;
    std::mutex queue_mutex_;
    IntrusiveFifo fifo_;  // guarded by queue_mutex_
    std::atomic<std::uint32_t> queued_{0};  // lets the gate test the mutex queue without the lock

    // Parking: the flag the gate is built on, then what the sleep blocks in.
    alignas(64) std::atomic<std::uint32_t> sleeping_{0};  // also the futex word
    std::atomic<bool> stopping_{false};
    std::mutex park_mutex_;             // wait=condvar
    std::condition_variable park_cv_;   // wait=condvar
    int eventfd_ = -1;                  // wait=eventfd
    AdaptiveSpin adaptive_;             // wait=adaptive (worker thread only)

    std::thread thread_;  // last: starts once everything above exists
};

}  // namespace handoff
