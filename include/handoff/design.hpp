// How a dedicated worker is built: the queue, how each side waits and wakes.
//
// A design is data: a preset name optionally followed by key=value overrides,
// e.g. "spin-park:2us,wake=gated,queue=spsc" (parse_design). The axes:
//
//   queue=mutex|spsc|inplace  loop -> worker: mutex + FIFO, a lock-free
//                             single-producer single-consumer ring, or no
//                             queue: the call's own cache line carries the
//                             request and the result both ways (the worker
//                             polls the window's calls, the loop the calls
//                             it awaits; src/workers/inplace_slots.hpp)
//   wait=condvar|futex|eventfd|spin|spin-park:DUR|adaptive
//                             how an idle worker waits for work; futex is
//                             gated: the loop makes the wake syscall only when
//                             the worker has published that it sleeps
//   wake=always|gated         worker -> loop: the backend's native wake on
//                             every result, or only while the loop has
//                             published that it sleeps
//   loop-spin=0|DUR|adaptive|forever
//                             how long the loop polls for results before it
//                             blocks in its wait ("forever": it never blocks)
//   batch=on|off              the worker takes every queued call per wake
//   defer=0|DUR               worker -> loop, wake=gated: while the loop's own
//                             next wake (its timer: the next arrival, a
//                             timeout) is at most DUR away, it sleeps without
//                             publishing it, so results wait for that wake and
//                             no wake is spent on them (latency: up to DUR)
//   hold=0|DUR                loop -> worker: a sleeping worker is not woken
//                             at each submit; the loop wakes it as it goes to
//                             sleep itself, once the oldest call held would
//                             otherwise wait more than DUR (at once when the
//                             loop has no timer): one wake for several calls
//                             (defer and hold: epoll, uring and uv)
//   ring=eventfd|msg-ring|futex
//                             uring only: how a worker wakes the ring (an
//                             eventfd read kept in the ring, IORING_OP_MSG_RING
//                             from a ring the worker owns, IORING_OP_FUTEX_WAIT)
//   impl=lab|native           native: the backend's own cross-thread machinery
//                             both ways (asio: a second io_context as the
//                             worker; uv: a second loop, uv_async both ways)
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace handoff {

struct Design {
    enum class Queue { mutex, spsc, inplace };
    enum class Wait { condvar, futex, eventfd, spin, spin_park, adaptive };
    enum class Wake { always, gated };
    enum class LoopSpin { none, fixed, adaptive, forever };
    enum class Ring { eventfd, msg_ring, futex };
    enum class Impl { lab, native };

    std::string name = "classic";  // the spec as given, for the output
    Queue queue = Queue::mutex;
    Wait wait = Wait::condvar;
    std::chrono::nanoseconds worker_spin{0};  // spin-park's budget
    Wake wake = Wake::always;
    LoopSpin loop_spin = LoopSpin::none;
    std::chrono::nanoseconds loop_spin_budget{0};  // LoopSpin::fixed
    bool batch = false;
    std::chrono::nanoseconds defer{0};  // 0: results wake a sleeping loop at once
    std::chrono::nanoseconds hold{0};   // 0: a submit wakes a sleeping worker at once
    Ring ring = Ring::eventfd;
    Impl impl = Impl::lab;

    // The canonical spelling of every axis: "queue=spsc,wait=futex,...".
    std::string describe() const;
    // The classic worker (python-async-bench's shape): a mutex FIFO, a
    // condvar wait, a wake on every result, no spinning, the lab's worker.
    // Batching does not change the shape, nor does ring= (the uring loop's
    // side of the wake).
    bool is_classic() const {
        return queue == Queue::mutex && wait == Wait::condvar && wake == Wake::always &&
               loop_spin == LoopSpin::none && hold.count() == 0 && impl == Impl::lab;
    }
    bool operator==(const Design&) const = default;
};

struct DesignPreset {
    std::string_view name;
    std::string_view spec;     // what it expands to
    std::string_view summary;  // one line for `--design list`
};

// The presets, in the order `--design list` and `--sweep designs` use.
const std::vector<DesignPreset>& design_presets();

// Parses "PRESET[,key=value...]" or "key=value[,...]" (starting from classic).
// Throws std::invalid_argument naming what is allowed.
Design parse_design(std::string_view spec);

// A configuration that cannot be built (design x backend x target); its row
// reports the message instead of numbers.
struct Unsupported : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace handoff
