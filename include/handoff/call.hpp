// One packaged call, the status it ends in, and the CallRunner that runs it
// on a worker: with the awaiting side (src/run/awaiting_side.cpp), a
// backend's loop (backends/) and a worker (src/workers/), one of the four
// places a call is read in from send to verified delivery.
//
// Calls live in the runner's fixed window (one per in-flight slot) and travel
// between threads by pointer, so nothing is allocated per call. A call is owned
// by exactly one side at a time: the loop thread until submit(), the target
// until it hands the call back through Loop::complete(), the loop thread again
// when the loop delivers it to its CallSink.
#pragma once

#include <sched.h>

#include <atomic>
#include <cstdint>
#include <exception>

#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"

namespace handoff {

enum class CallStatus : std::uint8_t {
    pending,    // sent, no result yet
    ok,         // the work returned; `result` holds its value
    failed,     // the work threw; `error` holds the exception
    timed_out,  // the awaiting side gave up waiting (an outcome the awaiting side
                // records: the Call itself still belongs to the target then)
    cancelled,  // handed back without running: cancelled while queued (a
                // timeout), or a target shut down with the call still queued
};

// Where a call is between the loop and the thread that runs it, for
// cancellation: queued -> running (the thread that runs it won), or
// queued -> cancelled (the loop won: the work never runs). One compare-and-
// swap on each side decides the race; the loser leaves the call alone.
enum class CallState : std::uint8_t { queued, running, cancelled };

// One cache line: a target that passes calls in place (queue=inplace) moves
// the request and the result in this line alone, as the floor moves its one.
struct alignas(64) Call {
    std::uint64_t seq = 0;     // sequence number, unique within a run
    std::uint64_t arg = 0;     // the argument the result is derived from
    std::uint64_t result = 0;  // written by the thread that ran the work
    std::int64_t sent_ns = 0;  // CLOCK_MONOTONIC when the loop sent it
    std::int32_t loop_cpu = -1;    // sched_getcpu() on the loop thread when sent; -1: not sampled
    std::int32_t worker_cpu = -1;  // sched_getcpu() on the thread that ran it (sampled calls)
    std::uint32_t slot = 0;    // index in the window: targets may keep per-slot state
    CallStatus status = CallStatus::pending;
    // A CallState, accessed through std::atomic_ref (so Call stays copyable):
    // the loop sets queued before submit; see try_start() and try_cancel().
    std::uint8_t state = static_cast<std::uint8_t>(CallState::queued);
    // queue=inplace only: a Mailbox, through std::atomic_ref (src/workers/inplace_slots.hpp).
    std::uint8_t mailbox = 0;
    // How many times the work ran, counted by the thread that ran it (the
    // CallRunner, which owns the call while it runs). The loop accepts a result
    // only with exactly one execution, and a cancelled call only with none:
    // a call run twice, or answered without running, fails the row.
    std::uint8_t executions = 0;
    std::exception_ptr error;  // set when the work threw (only then: no cost otherwise)
    Call* next = nullptr;      // intrusive link for the lab's queues (no allocation)

    // The thread about to run the call: queued -> running. False when the
    // loop cancelled it first: then the work must not run.
    bool try_start() noexcept { return swap_state(CallState::queued, CallState::running); }
    // The loop thread, giving up on the call: queued -> cancelled. False when
    // it already started (its result will come back, late).
    bool try_cancel() noexcept { return swap_state(CallState::queued, CallState::cancelled); }
    // The loop thread, once the call is back: did a cancel win?
    bool was_cancelled() noexcept {
        return std::atomic_ref<std::uint8_t>(state).load(std::memory_order_acquire) ==
               static_cast<std::uint8_t>(CallState::cancelled);
    }

private:
    bool swap_state(CallState from, CallState to) noexcept {
        auto expected = static_cast<std::uint8_t>(from);
        return std::atomic_ref<std::uint8_t>(state).compare_exchange_strong(
            expected, static_cast<std::uint8_t>(to), std::memory_order_acq_rel, std::memory_order_acquire);
    }
};

static_assert(sizeof(Call) == 64, "a Call is one cache line: keep new fields inside it");

// Where a loop delivers finished calls: implemented by the runner, called on
// the loop thread only.
class CallSink {
public:
    virtual void deliver(Call& call) = 0;
    // The deadline last given to Loop::set_deadline has passed (loop thread).
    // The loop forgets it before calling: a new one may be set from here.
    virtual void on_deadline() {}

protected:
    ~CallSink() = default;
};

// Runs a call on the current (worker) thread: notes the thread as a worker,
// records the CPU it ran on, performs the work and stores the result or the
// exception. Never throws. Every target runs calls through this.
//
// `cancellable` (runs with --timeout): each call first wins queued -> running
// (Call::try_start); a call the loop cancelled first is left untouched and
// not run — the target still hands it back as usual. Without it, no atomic
// read-modify-write is paid per call.
// Alone on its cache lines: every worker reads it on every call, and it
// lives on the loop thread's stack, beside what the loop writes on every call
// (a shared line would move between the CPUs on each call).
class alignas(64) CallRunner {
public:
    CallRunner(Work work, ThreadRegistry& registry, bool cancellable = false)
        : work_(work), registry_(&registry), cancellable_(cancellable) {}
    void run(Call& call) const noexcept {
        registry_->note_current_thread();
        // Lost to a cancel: the loop gave up on the call while it was queued.
        // Nothing of it is touched; it goes back as it came.
        if (cancellable_ && !call.try_start()) return;
        // The results are written together after the work: the loop may be
        // polling this call's line (queue=inplace), and a store that finds the
        // line taken back must fetch it again.
        // Where it ran, for the calls the loop samples (it noted its own CPU).
        const int cpu = call.loop_cpu >= 0 ? sched_getcpu() : -1;
        // Saturates rather than wraps: 255 runs must not read as 0 or 1.
        const std::uint8_t executions = std::uint8_t(call.executions + (call.executions != UINT8_MAX));
        try {
            const std::uint64_t result = work_.perform(call.arg);
            call.worker_cpu = cpu;
            call.result = result;
            call.executions = executions;
            call.status = CallStatus::ok;
        } catch (...) {
            call.worker_cpu = cpu;
            call.error = std::current_exception();
            call.executions = executions;
            call.status = CallStatus::failed;
        }
    }
    const Work& work() const { return work_; }
    ThreadRegistry& registry() const { return *registry_; }

private:
    Work work_;
    ThreadRegistry* registry_;
    bool cancellable_;
};

// A target shutting down hands back a call it never started: status
// cancelled, the work not run (loop-thread code sees it through deliver()).
inline void mark_cancelled_at_shutdown(Call& call) noexcept { call.status = CallStatus::cancelled; }

}  // namespace handoff
