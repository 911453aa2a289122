// What is specific to the uv backend: libuv found at run time, uv_async
// waking uv_run from another thread, request_stop, and libuv's own pool.
//
// libuv fixes its pool size once per process: every in-process pool target
// here uses the default TargetOptions::threads (4, the Configuration default
// too), so tests can run in any order.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "handoff/backend.hpp"
#include "handoff/clocks.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"

namespace handoff {
extern const Backend uv_backend;
}

namespace {

using handoff::Call;
using handoff::CallStatus;
using handoff::Loop;
using handoff::uv_backend;
using namespace std::chrono_literals;

// Stops the loop from outside if the test has not finished in time, so a lost
// wake-up fails the test instead of hanging the suite.
class Watchdog {
public:
    Watchdog(Loop& loop, std::chrono::milliseconds limit)
        : thread_([this, &loop, limit] {
              std::unique_lock lock(mutex_);
              if (!done_cv_.wait_for(lock, limit, [this] { return done_; })) {
                  fired_ = true;
                  loop.request_stop();
              }
          }) {}
    ~Watchdog() { finish(); }

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

// Counts deliveries on the loop thread and stops the loop after `expected`.
struct CountingSink final : handoff::CallSink {
    Loop* loop = nullptr;
    unsigned expected = 1;
    unsigned delivered = 0;
    bool off_loop_thread = false;
    std::thread::id loop_thread = std::this_thread::get_id();

    void deliver(Call& call) override {
        if (std::this_thread::get_id() != loop_thread) off_loop_thread = true;
        EXPECT_EQ(call.status, CallStatus::ok);
        EXPECT_EQ(call.result, handoff::expected_result(call.arg));
        if (++delivered == expected) loop->stop();
    }
};

TEST(Uv, LibraryVersionIsLibuv1) {
    const std::string version = uv_backend.library_version();
    EXPECT_EQ(version.rfind("libuv 1.", 0), 0u) << version;
    EXPECT_EQ(uv_backend.unavailable_reason(), std::nullopt);
}

TEST(Uv, DeliversCallCompletedOnAnotherThread) {
    CountingSink sink;
    auto loop = uv_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    EXPECT_EQ(loop->wake_mechanism(), "uv_async");
    Call call;
    std::thread worker([&] {
        // Let the loop go to sleep in uv_run first, so the wake is real.
        std::this_thread::sleep_for(20ms);
        call.arg = 42;
        call.result = handoff::expected_result(call.arg);
        call.status = CallStatus::ok;
        loop->complete(call);
    });
    Watchdog watchdog(*loop, 10s);
    loop->run();
    EXPECT_FALSE(watchdog.finish()) << "the call was never delivered";
    worker.join();
    EXPECT_EQ(sink.delivered, 1u);
    EXPECT_FALSE(sink.off_loop_thread);
}

TEST(Uv, RequestStopBeforeRunReturnsPromptly) {
    CountingSink sink;
    auto loop = uv_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    loop->request_stop();
    Watchdog watchdog(*loop, 10s);
    const auto start = std::chrono::steady_clock::now();
    loop->run();
    const auto took = std::chrono::steady_clock::now() - start;
    EXPECT_FALSE(watchdog.finish());
    EXPECT_LT(took, 1s);
    EXPECT_EQ(sink.delivered, 0u);
}

TEST(Uv, RequestStopFromAnotherThreadEndsRun) {
    CountingSink sink;
    auto loop = uv_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    std::thread stopper([&] {
        std::this_thread::sleep_for(20ms);
        loop->request_stop();
    });
    loop->run();
    stopper.join();
    EXPECT_EQ(sink.delivered, 0u);
}

// Window 1: each delivery sends the next call in the same slot, from inside
// deliver(), as the runner does.
struct SequenceSink final : handoff::CallSink {
    Loop* loop = nullptr;
    handoff::Target* target = nullptr;
    std::uint64_t total = 0;
    std::uint64_t next_seq = 0;
    std::vector<unsigned> seen;  // deliveries per seq
    unsigned wrong = 0;

    void send(Call& call) {
        call.seq = next_seq++;
        call.arg = handoff::argument_for(call.seq);
        call.result = 0;
        call.status = CallStatus::pending;
        call.slot = 0;
        target->submit(call);
    }

    void deliver(Call& call) override {
        ++seen.at(call.seq);
        if (call.status != CallStatus::ok || call.result != handoff::expected_result(call.arg)) ++wrong;
        if (next_seq < total) {
            send(call);
        } else {
            loop->stop();
        }
    }
};

TEST(Uv, PoolRunsCallsInOrderAndDeliversEachOnce) {
    handoff::ThreadRegistry registry;
    const handoff::Executor executor(handoff::Work{}, registry);
    SequenceSink sink;
    sink.total = 1000;
    sink.seen.assign(sink.total, 0);
    auto loop = uv_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    const char* env = std::getenv("UV_THREADPOOL_SIZE");
    const std::string env_before = env ? env : "(unset)";
    auto target = loop->make_target(
        {.kind = handoff::TargetKind::pool, .window = 1, .executor = &executor});
    // The size the backend sets for libuv must not leak into child processes.
    env = std::getenv("UV_THREADPOOL_SIZE");
    EXPECT_EQ(env ? env : "(unset)", env_before);
    EXPECT_EQ(target->mechanism().rfind("uv_queue_work", 0), 0u) << target->mechanism();
    sink.target = target.get();

    Call call;
    sink.send(call);
    Watchdog watchdog(*loop, 10s);
    loop->run();
    EXPECT_FALSE(watchdog.finish()) << "stopped after " << sink.next_seq << " calls";
    target.reset();

    EXPECT_EQ(sink.next_seq, sink.total);
    EXPECT_EQ(sink.wrong, 0u);
    for (std::uint64_t seq = 0; seq < sink.total; ++seq) {
        ASSERT_EQ(sink.seen[seq], 1u) << "seq " << seq;
    }
    const std::vector<pid_t> workers = registry.threads();
    ASSERT_FALSE(workers.empty());
    for (pid_t tid : workers) EXPECT_NE(tid, handoff::current_tid());
}

// A pool target destroyed with calls queued and running (the watchdog path)
// must return once the running ones finish: queued ones are cancelled (run,
// four rounds of 100ms would take 400ms), and the loop's destructor disposes
// of libuv's requests without delivering them.
TEST(Uv, DestroyingPoolTargetWithCallsInFlightDoesNotHang) {
    handoff::ThreadRegistry registry;
    const handoff::Executor executor(handoff::Work::parse("sleep:100ms"), registry);
    CountingSink sink;
    constexpr std::uint32_t window = 16;  // more than the pool's threads: some stay queued
    std::vector<Call> calls(window);
    const auto start = std::chrono::steady_clock::now();
    {
        auto loop = uv_backend.make_loop({.sink = &sink, .window = window});
        sink.loop = loop.get();
        auto target = loop->make_target(
            {.kind = handoff::TargetKind::pool, .window = window, .executor = &executor});
        for (std::uint32_t i = 0; i < window; ++i) {
            calls[i].slot = i;
            calls[i].arg = handoff::argument_for(i);
            target->submit(calls[i]);
        }
        std::this_thread::sleep_for(5ms);  // let the pool pick up the first calls
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, 300ms);
    EXPECT_EQ(sink.delivered, 0u);
}

}  // namespace
