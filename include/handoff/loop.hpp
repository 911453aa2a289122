// The async side: an event loop that owns the loop thread.
#pragma once

#include <memory>
#include <string>

#include "handoff/call.hpp"
#include "handoff/target.hpp"

namespace handoff {

class CompletionPoller;  // handoff/completion_inbox.hpp

struct LoopOptions {
    CallSink* sink = nullptr;        // where finished calls are delivered, on the loop thread
    std::uint32_t window = 1;        // most calls in flight at once
    const Design* design = nullptr;  // the loop's side of a dedicated design (wake, loop-spin,
                                     // ring); null or classic for pools and the classic worker
};

// Constructed, run and destroyed on one thread, the loop thread.
//
// Shutdown: a loop destroyed with finished calls still waiting for the loop
// thread delivers each of them to the sink from its destructor, so a call
// handed to complete() reaches the sink exactly once, whether or not run()
// got to it. (Destroy the targets first: they hand back what they hold.)
//
// run() blocks in the loop's own wait primitive (epoll_wait, io_uring wait,
// uv_run, io_context::run) and returns after stop() or request_stop(). A
// finished call reaches the loop through complete(), from any thread; the
// loop wakes through its native cross-thread path and, on the loop thread,
// passes the call to the sink. Calls may be submitted to targets before run()
// starts: their completions wait in the loop until it runs.
class Loop {
public:
    virtual ~Loop() = default;

    virtual void run() = 0;
    virtual void stop() = 0;          // loop thread (from a sink callback)
    virtual void request_stop() = 0;  // any thread: the watchdog, signals

    // Any thread: hand a finished call back to the loop thread.
    virtual void complete(Call& call) = 0;

    // Loop thread: call the sink's on_deadline() on the loop thread once
    // CLOCK_MONOTONIC reaches `deadline_ns` (0: no deadline). One deadline at
    // a time: a later call replaces it. Loops that spin honour it too. Costs
    // nothing while no deadline is set. Loops without a timer (test doubles)
    // throw Unsupported.
    virtual void set_deadline(std::int64_t deadline_ns);

    // Loop thread: from now on also collect the results `poller` holds, by
    // polling it wherever the loop looks for results (nullptr: stop). For
    // targets that leave results in place (queue=inplace) instead of calling
    // complete(). Loops that cannot throw Unsupported.
    virtual void set_poller(CompletionPoller* poller);

    // Any thread: the attached poller has a result in place. Wakes the loop
    // as complete() would after its push (on every result, or only while the
    // loop has published that it sleeps: the design's wake=), pushing nothing.
    virtual void wake_for_poller() {}

    // Builds a target that sends its results back to this loop. The lab's own
    // dedicated worker and pool serve every loop (make_lab_target); a loop with
    // a native pool (uv_queue_work, asio::thread_pool) overrides the pool case.
    // Throws Unsupported for a combination it cannot build.
    virtual std::unique_ptr<Target> make_target(const TargetOptions& options);

    // The loop's cross-thread wake path, for the output ("eventfd", "uv_async").
    virtual std::string wake_mechanism() const = 0;
};

// The lab's dedicated worker (per options.design) or the lab's pool, completing
// into `loop`.
std::unique_ptr<Target> make_lab_target(Loop& loop, const TargetOptions& options);

}  // namespace handoff
