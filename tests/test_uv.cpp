// What is specific to the uv backend: libuv found at run time, uv_async
// waking uv_run from another thread, request_stop, libuv's own pool, the
// loop's side of designs (gated wakes and loop spinning through libuv's
// prepare/check hooks), the native worker (a second uv loop, uv_async both
// ways) and the designs the backend refuses.
//
// libuv fixes its pool size once per process: every in-process pool target
// here uses the default TargetOptions::threads (4, the Configuration default
// too), so tests can run in any order.
#include <gtest/gtest.h>

#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "handoff/backend.hpp"
#include "handoff/clocks.hpp"
#include "handoff/design.hpp"
#include "run/runner.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"
#include "backend_test_support.hpp"

namespace handoff {
extern const Backend uv_backend;
}

namespace {

using backend_test_support::CountingSink;
using backend_test_support::Watchdog;
using handoff::Call;
using handoff::CallStatus;
using handoff::Design;
using handoff::Loop;
using handoff::parse_design;
using handoff::TargetKind;
using handoff::uv_backend;
using namespace std::chrono_literals;

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
    const pid_t loop_tid = handoff::current_tid();
    std::thread worker([&] {
        // Once the loop sleeps in uv_run, so the wake is real.
        EXPECT_TRUE(backend_test_support::wait_until_asleep(loop_tid)) << "the loop never went to sleep";
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

// A stop requested before run() is not lost: run() returns by itself (were
// it lost, only the watchdog's own request would end it).
TEST(Uv, RequestStopBeforeRunReturnsPromptly) {
    CountingSink sink;
    auto loop = uv_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    loop->request_stop();
    Watchdog watchdog(*loop, 10s);
    loop->run();
    EXPECT_FALSE(watchdog.finish()) << "run() ignored the earlier request_stop()";
    EXPECT_EQ(sink.delivered, 0u);
}

TEST(Uv, RequestStopFromAnotherThreadEndsRun) {
    CountingSink sink;
    auto loop = uv_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    const pid_t loop_tid = handoff::current_tid();
    std::thread stopper([&] {
        // Once the loop sleeps in uv_run: the request has to wake it.
        EXPECT_TRUE(backend_test_support::wait_until_asleep(loop_tid)) << "the loop never went to sleep";
        loop->request_stop();
    });
    Watchdog watchdog(*loop, 10s);
    loop->run();
    stopper.join();
    EXPECT_FALSE(watchdog.finish()) << "the request did not wake the loop";
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
    const handoff::CallRunner runner(handoff::Work{}, registry);
    SequenceSink sink;
    sink.total = 1000;
    sink.seen.assign(sink.total, 0);
    auto loop = uv_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    const char* env = std::getenv("UV_THREADPOOL_SIZE");
    const std::string env_before = env ? env : "(unset)";
    auto target = loop->make_target(
        {.kind = handoff::TargetKind::pool, .window = 1, .runner = &runner});
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
// returns once the running ones finish: the queued ones are cancelled unrun
// (uv_cancel), and the loop's destructor runs libuv's after-work callbacks,
// which hand every call back once: run, or cancelled unrun.
struct ShutdownSink final : handoff::CallSink {
    std::vector<int> seen = std::vector<int>(64, 0);
    unsigned delivered = 0, cancelled = 0, ran = 0, ran_unstarted = 0, cancelled_started = 0;
    void deliver(Call& call) override {
        ++seen.at(call.seq);
        ++delivered;
        if (call.status == CallStatus::cancelled) {
            ++cancelled;
            cancelled_started += backend_test_support::started(call);
        } else {
            EXPECT_EQ(call.status, CallStatus::ok);
            EXPECT_EQ(call.result, handoff::expected_result(call.arg));
            ++ran;
            ran_unstarted += !backend_test_support::started(call);
        }
    }
};

// 16 calls of 300 ms on libuv's 4 threads, the target destroyed as soon as
// the first ones run. A teardown that let the queue drain would run all 16
// (and take four rounds): it cancels none.
TEST(Uv, DestroyingPoolTargetWithCallsInFlightCancelsTheQueuedOnes) {
    handoff::ThreadRegistry registry;
    // Cancellable only so the test sees each call start (Call::state); uv_cancel
    // alone decides what the shutdown hands back unrun.
    const handoff::CallRunner runner(handoff::Work::parse("sleep:300ms"), registry, /*cancellable=*/true);
    ShutdownSink sink;
    constexpr std::uint32_t window = 16;  // more than the pool's threads: some stay queued
    constexpr std::uint32_t pool_threads = 4;  // TargetOptions::threads, libuv's pool size here
    std::vector<Call> calls(window);
    {
        auto loop = uv_backend.make_loop({.sink = &sink, .window = window});
        auto target = loop->make_target(
            {.kind = handoff::TargetKind::pool, .window = window, .runner = &runner});
        for (std::uint32_t i = 0; i < window; ++i) {
            calls[i].slot = i;
            calls[i].seq = i;
            calls[i].arg = handoff::argument_for(i);
            target->submit(calls[i]);
        }
        ASSERT_TRUE(backend_test_support::wait_until_started(calls, 1)) << "the pool ran nothing";
    }
    EXPECT_EQ(sink.delivered, window);
    for (std::uint32_t i = 0; i < window; ++i) EXPECT_EQ(sink.seen[i], 1) << i;
    EXPECT_EQ(sink.ran_unstarted, 0u);
    EXPECT_EQ(sink.cancelled_started, 0u) << "a call that ran was reported cancelled";
    // At most one round has started by the teardown, but a slow machine may
    // let a second begin: the rest, half the calls, must come back unrun.
    EXPECT_GE(sink.cancelled, window - 2 * pool_threads) << sink.ran << " calls ran";
}

// ---- Designs: the loop's side (gate, loop spin), through the real runner.

handoff::Configuration uv_config(const std::string& design, std::uint64_t calls, std::uint32_t inflight,
                                 const std::string& work = "none") {
    handoff::Configuration config;
    config.backend = "uv";
    config.target = TargetKind::dedicated;
    config.design = parse_design(design);
    config.work = handoff::Work::parse(work);
    config.calls = calls;
    config.warmup = 50;
    config.inflight = inflight;
    return config;
}

// The runner verifies every result (right value, delivered once, none
// missing): an ok row with `calls` measured deliveries is the proof.
void expect_all_delivered(const handoff::RowResult& row, std::uint64_t calls) {
    ASSERT_EQ(row.status, handoff::RowStatus::ok) << row.config.design.name << ": " << row.reason;
    EXPECT_EQ(row.errors, 0u);
    ASSERT_EQ(row.runs.size(), 1u);
    EXPECT_EQ(row.runs[0].calls, calls);
}

TEST(UvDesigns, EveryLoopSideDeliversEveryCall) {
    // The presets, and the loop-side axes on their own over the classic worker.
    const char* designs[] = {"futex-gated",         "eventfd",
                             "spin-park:2us",       "adaptive",
                             "classic,wake=gated",  "classic,loop-spin=5us",
                             "classic,wake=gated,loop-spin=adaptive",
                             "classic,wake=gated,loop-spin=forever"};
    for (const char* design : designs) {
        for (std::uint32_t inflight : {1u, 16u}) {
            SCOPED_TRACE(testing::Message() << design << ", in-flight " << inflight);
            const handoff::RowResult row = handoff::run_configuration(uv_config(design, 2000, inflight));
            expect_all_delivered(row, 2000);
            const bool gated = parse_design(design).wake == Design::Wake::gated;
            EXPECT_TRUE(row.mechanism.ends_with(gated ? "; wake: uv_async, gated" : "; wake: uv_async"))
                << row.mechanism;
        }
    }
}

// Both sides spin: where the two threads share a CPU each handoff can cost a
// time slice, so few calls.
TEST(UvDesigns, SpinPresetDeliversEveryCall) {
    for (std::uint32_t inflight : {1u, 16u}) {
        SCOPED_TRACE(testing::Message() << "in-flight " << inflight);
        handoff::Configuration config = uv_config("spin", 100, inflight);
        config.warmup = 10;
        expect_all_delivered(handoff::run_configuration(config), 100);
    }
}

// Work that sleeps: the loop has nothing to do for 50 us per call and goes to
// sleep in the poll every time, so every result needs its gated wake.
TEST(UvDesigns, GatedDesignsWakeASleepingLoop) {
    for (const char* design : {"futex-gated", "adaptive", "spin-park:2us"}) {
        for (std::uint32_t inflight : {1u, 64u}) {
            SCOPED_TRACE(testing::Message() << design << ", in-flight " << inflight);
            expect_all_delivered(handoff::run_configuration(uv_config(design, 300, inflight, "sleep:50us")), 300);
        }
    }
}

// ---- The lost-wake-up stress, directly on the loop.

// A target whose thread completes whatever was submitted in one burst after
// an idle gap of varying length: none (racing the loop's publish of its
// sleep), a few microseconds (racing a spin budget), up to ~2 ms (the loop
// is surely asleep in the poll). submit() never blocks the loop thread (a
// spin lock that yields, and a futex wake), so every voluntary switch of the
// loop thread is the loop's own: LoopSpinForeverNeverBlocks counts them.
class BurstCompleter final : public handoff::Target {
public:
    BurstCompleter(Loop& loop, std::uint32_t seed) : loop_(loop), random_(seed), thread_([this] { work(); }) {}
    ~BurstCompleter() override {
        stopping_.store(true);
        submitted_.fetch_add(1);
        submitted_.notify_one();
        thread_.join();
    }

    void submit(Call& call) override {
        lock();
        queue_.push_back(&call);
        unlock();
        submitted_.fetch_add(1, std::memory_order_release);
        submitted_.notify_one();
    }

    std::string mechanism() const override { return "test bursts"; }

private:
    // A lock whose waiter yields (an involuntary switch), never sleeps.
    void lock() {
        while (locked_.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    }
    void unlock() { locked_.clear(std::memory_order_release); }

    std::chrono::nanoseconds next_gap() {
        const unsigned kind = random_() % 10;
        if (kind < 3) return {};                                                // back to back
        if (kind < 6) return std::chrono::nanoseconds(100 + random_() % 20'000);  // < 20 us, spun
        if (kind < 9) return std::chrono::microseconds(20 + random_() % 280);
        return std::chrono::microseconds(300 + random_() % 1700);  // up to 2 ms
    }

    static void wait_for(std::chrono::nanoseconds gap) {
        if (gap < 50us) {
            // sleep_for cannot sleep this short: spin on the clock.
            const std::int64_t until = handoff::monotonic_ns() + gap.count();
            while (handoff::monotonic_ns() < until) {
            }
        } else {
            std::this_thread::sleep_for(gap);
        }
    }

    void work() {
        std::vector<Call*> burst;
        burst.reserve(1024);
        for (;;) {
            const std::uint32_t seen = submitted_.load(std::memory_order_acquire);
            if (stopping_.load()) return;
            lock();
            burst.assign(queue_.begin(), queue_.end());
            queue_.clear();
            unlock();
            if (burst.empty()) {
                submitted_.wait(seen);  // until the next submit (or the destructor)
                continue;
            }
            wait_for(next_gap());
            for (Call* call : burst) {
                call->result = handoff::expected_result(call->arg);
                call->status = CallStatus::ok;
                call->worker_cpu = sched_getcpu();
                loop_.complete(*call);
            }
        }
    }

    Loop& loop_;
    std::minstd_rand random_;
    std::atomic_flag locked_;
    std::deque<Call*> queue_;        // under locked_
    std::atomic<std::uint32_t> submitted_{0};  // bumped by each submit, waited on when idle
    std::atomic<bool> stopping_{false};
    std::thread thread_;  // last
};

// Keeps `window` calls in flight until `total` were delivered; each is checked
// and counted once per sequence number.
struct WindowSink final : handoff::CallSink {
    WindowSink(std::uint32_t window, std::uint64_t total_calls)
        : calls(window), total(total_calls), seen(total_calls, 0) {
        for (std::uint32_t i = 0; i < window; ++i) calls[i].slot = i;
    }

    void start() {
        for (Call& call : calls) {
            if (next_seq < total) send(call);
        }
    }

    void send(Call& call) {
        call.seq = next_seq++;
        call.arg = handoff::argument_for(call.seq);
        call.result = 0;
        call.status = CallStatus::pending;
        target->submit(call);
    }

    void deliver(Call& call) override {
        if (std::this_thread::get_id() != loop_thread) ++off_loop_thread;
        ++seen.at(call.seq);
        if (call.status != CallStatus::ok || call.result != handoff::expected_result(call.arg)) ++wrong;
        if (delivered > 0 && call.seq < last_seq) ++out_of_order;
        last_seq = call.seq;
        ++delivered;
        if (next_seq < total) {
            send(call);
        } else if (delivered == total) {
            loop->stop();
        }
    }

    void expect_each_once() const {
        EXPECT_EQ(delivered, total);
        EXPECT_EQ(wrong, 0u);
        EXPECT_EQ(off_loop_thread, 0u);
        std::uint64_t missing = 0, duplicated = 0;
        for (unsigned n : seen) {
            missing += n == 0;
            duplicated += n > 1;
        }
        EXPECT_EQ(missing, 0u);
        EXPECT_EQ(duplicated, 0u);
    }

    Loop* loop = nullptr;
    handoff::Target* target = nullptr;
    std::vector<Call> calls;
    std::uint64_t total;
    std::vector<unsigned> seen;
    std::uint64_t next_seq = 0;
    std::uint64_t delivered = 0;
    std::uint64_t last_seq = 0;
    unsigned wrong = 0;
    unsigned out_of_order = 0;
    unsigned off_loop_thread = 0;
    std::thread::id loop_thread = std::this_thread::get_id();
};

// Runs `total` calls, `window` at a time, through a BurstCompleter on a loop
// with `design`; returns the loop thread's voluntary context switches.
std::uint64_t run_bursts(const Design& design, std::uint32_t window, std::uint64_t total) {
    WindowSink sink(window, total);
    auto loop = uv_backend.make_loop({.sink = &sink, .window = window, .design = &design});
    BurstCompleter target(*loop, 12345 + window);
    sink.loop = loop.get();
    sink.target = &target;
    sink.start();
    Watchdog watchdog(*loop, 10s);
    const handoff::ContextSwitches before = handoff::this_thread_switches();
    loop->run();
    const handoff::ContextSwitches after = handoff::this_thread_switches();
    EXPECT_FALSE(watchdog.finish()) << "lost wake-up: " << sink.delivered << " of " << total << " delivered";
    sink.expect_each_once();
    return after.voluntary - before.voluntary;
}

TEST(UvGate, SurvivesBurstsSeparatedByIdleGaps) {
    for (const char* spec : {"futex-gated", "adaptive", "spin-park:2us"}) {
        const Design design = parse_design(spec);
        ASSERT_EQ(design.wake, Design::Wake::gated) << spec;
        for (std::uint32_t window : {1u, 64u}) {
            SCOPED_TRACE(testing::Message() << spec << ", in-flight " << window);
            // In-flight 64 makes bursts of up to 64 calls: more calls, as many gaps.
            run_bursts(design, window, window == 1 ? 1500 : 30000);
        }
    }
}

// A result completed before run() starts: a gated worker saw the loop awake
// (it has not published a sleep yet) and sent nothing; the first prepare
// hook must find it before libuv ever blocks.
TEST(UvGate, DeliversACallCompletedBeforeRun) {
    const Design design = parse_design("futex-gated");
    CountingSink sink;
    auto loop = uv_backend.make_loop({.sink = &sink, .window = 1, .design = &design});
    sink.loop = loop.get();
    EXPECT_EQ(loop->wake_mechanism(), "uv_async, gated");
    Call call;
    call.arg = 7;
    call.result = handoff::expected_result(call.arg);
    call.status = CallStatus::ok;
    std::thread([&] { loop->complete(call); }).join();
    Watchdog watchdog(*loop, 10s);
    loop->run();
    EXPECT_FALSE(watchdog.finish()) << "the call was never delivered";
    EXPECT_EQ(sink.delivered, 1u);
}

// loop-spin=forever: the loop thread never blocks in libuv's poll, even
// across 2 ms gaps. The same bursts run on a loop that blocks when idle make
// a voluntary switch for most calls (each call is a burst, and the completer
// needs a wake); with submit() unable to block (BurstCompleter), a spinning
// loop makes next to none. The bound, a tenth of the calls, is far from
// both; the blocking run shows the count tells the two apart.
TEST(UvGate, LoopSpinForeverNeverBlocks) {
    const std::uint64_t total = 300;
    const std::uint64_t spinning = run_bursts(parse_design("classic,wake=gated,loop-spin=forever"), 1, total);
    const std::uint64_t blocking = run_bursts(parse_design("classic,wake=gated"), 1, total);
    EXPECT_LT(spinning, total / 10) << "the loop thread blocked " << spinning << " times";
    EXPECT_GT(blocking, total / 2) << "a loop that may block did so only " << blocking << " times";
}

// A spinning loop polls for the stop request: run() ends by the stopper's
// request, not by the watchdog's (which comes only after 10 s).
TEST(UvGate, RequestStopEndsASpinningRun) {
    for (const char* spec : {"spin", "classic,loop-spin=forever", "classic,wake=gated,loop-spin=10ms"}) {
        SCOPED_TRACE(spec);
        const Design design = parse_design(spec);
        CountingSink sink;
        auto loop = uv_backend.make_loop({.sink = &sink, .window = 1, .design = &design});
        sink.loop = loop.get();
        // Most likely once run() spins; a request before run() must end it too.
        std::thread stopper([&] {
            std::this_thread::sleep_for(20ms);
            loop->request_stop();
        });
        Watchdog watchdog(*loop, 10s);
        loop->run();
        stopper.join();
        EXPECT_FALSE(watchdog.finish()) << "the spinning loop missed the stop request";
    }
}

// ---- impl=native: a second uv loop on the worker thread, uv_async both ways.

struct NativeRun {
    explicit NativeRun(std::uint32_t window, std::uint64_t total, const char* spec = "native")
        : design(parse_design(spec)), runner(handoff::Work{}, registry), sink(window, total) {
        loop = uv_backend.make_loop({.sink = &sink, .window = window, .design = &design});
        target = loop->make_target(
            {.kind = TargetKind::dedicated, .design = &design, .window = window, .runner = &runner});
        sink.loop = loop.get();
        sink.target = target.get();
    }

    // Runs until every call was delivered; false if the watchdog had to stop it.
    bool run() {
        sink.start();
        Watchdog watchdog(*loop, 20s);
        loop->run();
        return !watchdog.finish();
    }

    Design design;
    handoff::ThreadRegistry registry;
    handoff::CallRunner runner;
    WindowSink sink;
    std::unique_ptr<Loop> loop;
    std::unique_ptr<handoff::Target> target;
};

TEST(UvNative, DeliversEveryCallExactlyOnceInOrder) {
    for (std::uint32_t window : {1u, 16u}) {
        SCOPED_TRACE(testing::Message() << "in-flight " << window);
        NativeRun native(window, 10000);
        EXPECT_EQ(native.target->mechanism(), "uv worker loop, uv_async both ways");
        EXPECT_EQ(native.loop->wake_mechanism(), "uv_async");
        EXPECT_TRUE(native.run()) << "stopped after " << native.sink.delivered << " calls";
        native.sink.expect_each_once();
        // One worker runs the calls in the order they were sent.
        EXPECT_EQ(native.sink.out_of_order, 0u);
        const std::vector<pid_t> workers = native.registry.threads();
        ASSERT_EQ(workers.size(), 1u);
        EXPECT_NE(workers[0], handoff::current_tid());
    }
}

// The loop's side of a design still applies to the native worker.
TEST(UvNative, WorksWithAGatedSpinningLoop) {
    NativeRun native(16, 5000, "native,wake=gated,loop-spin=adaptive");
    EXPECT_EQ(native.loop->wake_mechanism(), "uv_async, gated");
    EXPECT_TRUE(native.run()) << "stopped after " << native.sink.delivered << " calls";
    native.sink.expect_each_once();
}

// Teardown takes milliseconds; the bounds are sanity bounds far above that,
// for a teardown that waits on something that never comes.
TEST(UvNative, DestroyedRightAfterItsCallsDoesNotHang) {
    for (std::uint32_t window : {1u, 16u}) {
        SCOPED_TRACE(testing::Message() << "in-flight " << window);
        NativeRun native(window, 100);
        ASSERT_TRUE(native.run());
        const auto start = std::chrono::steady_clock::now();
        native.target.reset();  // stops the worker loop and joins its thread
        native.loop.reset();    // aborts if a handle outlived it
        EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
    }
    // Never used: the worker may not even have entered uv_run yet.
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) NativeRun(1, 1).target.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
}

TEST(UvNative, RunsThroughTheRunner) {
    for (std::uint32_t inflight : {1u, 16u}) {
        SCOPED_TRACE(testing::Message() << "in-flight " << inflight);
        const handoff::RowResult row = handoff::run_configuration(uv_config("native", 3000, inflight));
        expect_all_delivered(row, 3000);
        EXPECT_EQ(row.mechanism, "uv worker loop, uv_async both ways; wake: uv_async");
        ASSERT_EQ(row.runs.size(), 1u);
        EXPECT_EQ(row.runs[0].worker_threads, 1u);
    }
}

// ---- What the uv backend refuses, and why.

std::string refusal(const char* spec, TargetKind kind = TargetKind::dedicated) {
    const Design design = parse_design(spec);
    handoff::ThreadRegistry registry;
    const handoff::CallRunner runner(handoff::Work{}, registry);
    CountingSink sink;
    try {
        auto loop = uv_backend.make_loop({.sink = &sink, .window = 1, .design = &design});
        loop->make_target({.kind = kind, .design = &design, .window = 1, .runner = &runner});
    } catch (const handoff::Unsupported& e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(UvRefuses, RingDesigns) {
    for (const char* spec : {"futex-gated,ring=msg-ring", "classic,ring=futex"}) {
        EXPECT_EQ(handoff::design_unsupported_reason(uv_backend, parse_design(spec)), "ring= is for uring only");
    }
    // Through the runner, the row says so instead of measuring something else.
    const handoff::RowResult row = handoff::run_configuration(uv_config("classic,ring=msg-ring", 10, 1));
    EXPECT_EQ(row.status, handoff::RowStatus::unavailable);
    EXPECT_EQ(row.reason, "ring= is for uring only");
}

TEST(UvRefuses, LabWorkerAxesOnTheNativeWorker) {
    const std::string reason = refusal("native,wait=futex");
    EXPECT_NE(reason.find("impl=native"), std::string::npos) << reason;
    EXPECT_NE(reason.find("wait="), std::string::npos) << reason;
    EXPECT_EQ(refusal("native,wake=gated,loop-spin=2us"), "(accepted)");
}

TEST(UvRefuses, APoolUnderAGatedOrSpinningLoop) {
    const std::string reason = refusal("futex-gated", TargetKind::pool);
    EXPECT_NE(reason.find("uv_queue_work"), std::string::npos) << reason;
}

}  // namespace
