// How a dedicated worker is built: the queue, how each side waits and wakes.
//
// The core lab has one design, `classic`: a mutex-protected FIFO, the worker
// sleeping on a condition variable, every result waking the loop through its
// native cross-thread path. The axes below are the tuning knobs; a backend or
// target rejects a design it cannot honour with Unsupported.
#pragma once

#include <stdexcept>
#include <string>

namespace handoff {

struct Design {
    enum class Queue { mutex_fifo };                  // loop -> worker
    enum class WorkerWait { condvar };                // how an idle worker sleeps
    enum class LoopWake { native_always };            // worker -> loop

    std::string name = "classic";
    Queue queue = Queue::mutex_fifo;
    WorkerWait worker_wait = WorkerWait::condvar;
    LoopWake loop_wake = LoopWake::native_always;
    bool worker_drains_batch = false;  // take every queued call per wake
};

// A configuration that cannot be built (design x backend x target); its row
// reports the message instead of numbers.
struct Unsupported : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace handoff
