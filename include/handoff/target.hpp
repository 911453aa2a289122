// Where calls run: a dedicated worker thread, or a thread pool.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "handoff/call.hpp"
#include "handoff/design.hpp"

namespace handoff {

class CallRunner;
class Loop;

enum class TargetKind { dedicated, pool };

std::string_view to_string(TargetKind kind);

struct TargetOptions {
    TargetKind kind = TargetKind::dedicated;
    const Design* design = nullptr;   // dedicated only
    unsigned threads = 4;             // pool only
    std::uint32_t window = 1;         // most calls in flight at once (slots 0..window-1)
    const CallRunner* runner = nullptr;
};

// Created and destroyed on the loop thread; submit() is called on the loop
// thread only. Each submitted call is run once through the runner on
// another thread and handed back with Loop::complete() (or the target's own
// native path to the same effect).
//
// Shutdown: the destructor hands back every call it still holds, exactly
// once, through the usual path (Loop::complete or the native equivalent):
// a call not started yet with status cancelled and its work not run, a call
// running with its result once it is done (the destructor waits for it).
class Target {
public:
    virtual ~Target() = default;  // hands back what it holds, stops and joins its threads

    virtual void submit(Call& call) = 0;

    // How calls reach the workers and results come back, for the output
    // ("mutex fifo + condvar", "uv_queue_work", "asio::thread_pool").
    virtual std::string mechanism() const = 0;
};

}  // namespace handoff
