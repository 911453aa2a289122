// Scaffolding shared by the tests that drive a backend's loop and targets
// directly (test_uv.cpp, test_uring.cpp, test_asio.cpp, test_shutdown.cpp):
// a watchdog that turns a lost wake-up into a failure instead of a hang, a
// sink that counts deliveries, and waits on observable events (a call has
// started, the loop thread sleeps) in place of fixed sleeps, which a loaded
// machine can make too short.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "handoff/call.hpp"
#include "handoff/loop.hpp"
#include "handoff/work.hpp"

namespace backend_test_support {

// Stops the loop from outside if the test has not finished within `limit`
// (a liveness limit, seconds where the test needs milliseconds).
class Watchdog {
public:
    Watchdog(handoff::Loop& loop, std::chrono::milliseconds limit)
        : thread_([this, &loop, limit] {
              std::unique_lock lock(mutex_);
              if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
                  fired_ = true;
                  loop.request_stop();
              }
          }) {}
    ~Watchdog() { finish(); }
    Watchdog(const Watchdog&) = delete;
    Watchdog& operator=(const Watchdog&) = delete;

    // Returns whether the watchdog had to stop the loop.
    bool finish() {
        {
            std::lock_guard lock(mutex_);
            done_ = true;
        }
        done_cv_.notify_one();
        if (thread_.joinable()) thread_.join();
        return fired_;
    }

private:
    std::mutex mutex_;
    std::condition_variable done_cv_;
    bool done_ = false;
    bool fired_ = false;
    std::thread thread_;  // last: starts once the rest exists
};

// Counts deliveries on the loop thread, checks each result, and stops the
// loop after `expected`.
struct CountingSink final : handoff::CallSink {
    handoff::Loop* loop = nullptr;
    unsigned expected = 1;
    unsigned delivered = 0;
    bool off_loop_thread = false;
    std::thread::id loop_thread = std::this_thread::get_id();

    void deliver(handoff::Call& call) override {
        if (std::this_thread::get_id() != loop_thread) off_loop_thread = true;
        EXPECT_EQ(call.status, handoff::CallStatus::ok);
        EXPECT_EQ(call.result, handoff::expected_result(call.arg));
        if (++delivered == expected) loop->stop();
    }
};

// Whether `call` has started: an CallRunner made cancellable moves each call
// queued -> running (Call::try_start) before its work, and a target's
// shutdown never touches that state, so after a teardown it still tells a
// call that ran from one handed back unrun.
inline bool started(handoff::Call& call) {
    return std::atomic_ref<std::uint8_t>(call.state).load(std::memory_order_acquire) ==
           static_cast<std::uint8_t>(handoff::CallState::running);
}

// Waits until `n` of `calls` have started (see started()); false after `limit`.
inline bool wait_until_started(std::vector<handoff::Call>& calls, std::size_t n,
                               std::chrono::seconds limit = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        std::size_t running = 0;
        for (handoff::Call& call : calls) running += started(call);
        if (running >= n) return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

// Waits until thread `tid` of this process is asleep (state S in
// /proc/self/task/TID/stat): a loop thread with nothing to do is then blocked
// in its wait, so a completion that comes next needs a real wake. False after
// `limit`.
inline bool wait_until_asleep(pid_t tid, std::chrono::seconds limit = std::chrono::seconds(10)) {
    const std::string path = "/proc/self/task/" + std::to_string(tid) + "/stat";
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        std::ifstream stat(path);
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        // "TID (name) S ...": the name may hold spaces and parentheses, the state follows the last ')'.
        const auto close = text.rfind(')');
        if (close != std::string::npos && close + 2 < text.size() && text[close + 2] == 'S') return true;
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

}  // namespace backend_test_support
