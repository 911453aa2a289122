// One packaged call and the status it ends in.
//
// Calls live in the runner's fixed window (one per in-flight slot) and travel
// between threads by pointer, so nothing is allocated per call. A call is owned
// by exactly one side at a time: the loop thread until submit(), the target
// until it hands the call back through Loop::complete(), the loop thread again
// when the loop delivers it to its CallSink.
#pragma once

#include <cstdint>
#include <exception>

namespace handoff {

enum class CallStatus : std::uint8_t {
    pending,    // sent, no result yet
    ok,         // the work returned; `result` holds its value
    failed,     // the work threw; `error` holds the exception
    timed_out,  // reserved: the awaiting side gave up waiting
    cancelled,  // reserved: removed from a queue before it ran
};

struct Call {
    std::uint64_t seq = 0;     // sequence number, unique within a run
    std::uint64_t arg = 0;     // the argument the result is derived from
    std::uint64_t result = 0;  // written by the thread that ran the work
    std::int64_t sent_ns = 0;  // CLOCK_MONOTONIC when the loop sent it
    std::int32_t loop_cpu = -1;    // sched_getcpu() on the loop thread when sent
    std::int32_t worker_cpu = -1;  // sched_getcpu() on the thread that ran it
    std::uint32_t slot = 0;    // index in the window: targets may keep per-slot state
    CallStatus status = CallStatus::pending;
    std::exception_ptr error;  // set when the work threw (only then: no cost otherwise)
    Call* next = nullptr;      // intrusive link for the lab's queues (no allocation)
};

// Where a loop delivers finished calls: implemented by the runner, called on
// the loop thread only.
class CallSink {
public:
    virtual void deliver(Call& call) = 0;

protected:
    ~CallSink() = default;
};

}  // namespace handoff
