// The asio backend: version, cross-thread delivery, early stop, its own pool,
// the loop's side of the designs (gated drain, loop-spin) and the native
// worker (a second io_context).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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
extern const Backend asio_backend;
}

namespace handoff {
namespace {

using namespace std::chrono_literals;

using backend_test_support::Watchdog;

struct StopOnFirst final : CallSink {
    void deliver(Call& call) override {
        delivered = &call;
        delivered_on = std::this_thread::get_id();
        loop->stop();
    }
    Loop* loop = nullptr;
    Call* delivered = nullptr;
    std::thread::id delivered_on;
};

TEST(Asio, LibraryVersionIsBoostAsio) {
    EXPECT_EQ(asio_backend.library_version().rfind("Boost.Asio 1.", 0), 0u)
        << asio_backend.library_version();
    EXPECT_FALSE(asio_backend.unavailable_reason().has_value());
}

TEST(Asio, DeliversCallCompletedOnAnotherThread) {
    StopOnFirst sink;
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    EXPECT_EQ(loop->wake_mechanism(), "asio::post");

    Call call;
    const pid_t loop_tid = current_tid();
    std::thread worker([&] {
        // Once the loop blocks in the io_context, so the wake is real.
        EXPECT_TRUE(backend_test_support::wait_until_asleep(loop_tid)) << "the loop never went to sleep";
        call.result = 7;
        call.status = CallStatus::ok;
        loop->complete(call);
    });
    {
        Watchdog watchdog(*loop, 5000ms);
        loop->run();
        EXPECT_FALSE(watchdog.finish()) << "run() did not return after the delivery";
    }
    worker.join();
    EXPECT_EQ(sink.delivered, &call);
    EXPECT_EQ(sink.delivered_on, std::this_thread::get_id());
    EXPECT_EQ(call.result, 7u);
}

TEST(Asio, CompletionBeforeRunIsDelivered) {
    StopOnFirst sink;
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    Call call;
    std::thread([&] { loop->complete(call); }).join();
    Watchdog watchdog(*loop, 5000ms);
    loop->run();
    EXPECT_FALSE(watchdog.finish());
    EXPECT_EQ(sink.delivered, &call);
}

TEST(Asio, RequestStopBeforeRunReturnsPromptly) {
    StopOnFirst sink;
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    loop->request_stop();
    Watchdog watchdog(*loop, 5000ms);
    loop->run();
    // Were the early request lost, only the watchdog's own would end run().
    EXPECT_FALSE(watchdog.finish()) << "run() ignored the earlier request_stop()";
    EXPECT_EQ(sink.delivered, nullptr);
}

struct StopAfter final : CallSink {
    void deliver(Call& call) override {
        order.push_back(&call);
        if (order.size() == wanted) loop->stop();
    }
    Loop* loop = nullptr;
    std::size_t wanted = 0;
    std::vector<Call*> order;
};

// The per-slot buffers fall back to the heap for a slot outside the window or
// one already in use (a broken invariant must not corrupt anything).
TEST(Asio, SlotOutsideTheWindowOrSharedStillDelivers) {
    StopAfter sink;
    sink.wanted = 3;
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    Call first, same_slot, outside;
    outside.slot = 99;
    std::thread([&] {
        loop->complete(first);
        loop->complete(same_slot);
        loop->complete(outside);
    }).join();
    Watchdog watchdog(*loop, 5000ms);
    loop->run();
    EXPECT_FALSE(watchdog.finish());
    EXPECT_EQ(sink.order, (std::vector<Call*>{&first, &same_slot, &outside}));
}

// Keeps `window` calls in flight, reusing each slot from inside deliver().
class Resubmitter final : public CallSink {
public:
    explicit Resubmitter(std::uint64_t total) : seen(total, 0), total_(total) {}

    void deliver(Call& call) override {
        if (call.seq < total_) ++seen[call.seq];
        if (call.status != CallStatus::ok || call.result != expected_result(call.arg)) ++wrong;
        if (++delivered == total_) {
            loop->stop();
            return;
        }
        if (sent_ < total_ && target != nullptr) send(call);
    }

    void send(Call& call) {
        call.seq = sent_++;
        call.arg = argument_for(call.seq);
        call.result = 0;
        call.status = CallStatus::pending;
        target->submit(call);
    }

    Loop* loop = nullptr;
    Target* target = nullptr;
    std::vector<int> seen;
    std::uint64_t delivered = 0;
    std::uint64_t wrong = 0;

private:
    std::uint64_t total_;
    std::uint64_t sent_ = 0;
};

TEST(Asio, PoolTargetRunsEveryCallExactlyOnce) {
    constexpr std::uint64_t total = 1000;
    constexpr std::uint32_t window = 4;
    ThreadRegistry registry;
    const CallRunner runner(Work{}, registry);
    Resubmitter sink(total);

    auto loop = asio_backend.make_loop({.sink = &sink, .window = window});
    auto target = loop->make_target(
        {.kind = TargetKind::pool, .threads = 2, .window = window, .runner = &runner});
    EXPECT_EQ(target->mechanism(), "asio::thread_pool");
    sink.loop = loop.get();
    sink.target = target.get();

    std::vector<Call> calls(window);
    for (std::uint32_t slot = 0; slot < window; ++slot) {
        calls[slot].slot = slot;
        sink.send(calls[slot]);
    }
    {
        Watchdog watchdog(*loop, 10000ms);
        loop->run();
        EXPECT_FALSE(watchdog.finish()) << "stalled after " << sink.delivered << " calls";
    }
    target.reset();

    EXPECT_EQ(sink.delivered, total);
    EXPECT_EQ(sink.wrong, 0u);
    for (std::uint64_t seq = 0; seq < total; ++seq) {
        ASSERT_EQ(sink.seen[seq], 1) << "call " << seq;
    }
    EXPECT_GE(registry.threads().size(), 1u);
    EXPECT_LE(registry.threads().size(), 2u);
}

// Sends four calls of 200 ms work to a one-thread target and destroys target
// and loop once the second has started: by then one has finished and waits in
// the loop's io_context, one is running, two are queued. Each comes back
// exactly once: run, or handed back cancelled with its work unrun. A teardown
// that ran the queued calls would cancel none.
void expect_teardown_hands_back_each_call_once(TargetKind kind, const Design* design) {
    ThreadRegistry registry;
    // Cancellable only so the test sees each call start (Call::state); the
    // teardown's own flag decides what goes back unrun.
    const CallRunner runner(Work::parse("sleep:200ms"), registry, /*cancellable=*/true);
    Resubmitter sink(100);
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 4, .design = design});
    auto target = loop->make_target(
        {.kind = kind, .design = design, .threads = 1, .window = 4, .runner = &runner});
    sink.loop = loop.get();
    sink.target = target.get();
    std::vector<Call> calls(4);
    for (std::uint32_t slot = 0; slot < 4; ++slot) {
        calls[slot].slot = slot;
        sink.send(calls[slot]);
    }
    // Never run: the loop delivers nothing until teardown.
    EXPECT_TRUE(backend_test_support::wait_until_started(calls, 2)) << "the target ran fewer than two calls";
    sink.target = nullptr;  // nothing is resubmitted while tearing down
    target.reset();
    loop.reset();
    EXPECT_EQ(sink.delivered, 4u);
    for (std::uint64_t seq = 0; seq < 4; ++seq) EXPECT_EQ(sink.seen[seq], 1) << seq;
    std::uint64_t ran = 0, cancelled = 0;
    for (Call& call : calls) {
        const bool started = backend_test_support::started(call);
        if (call.status == CallStatus::cancelled) {
            ++cancelled;
            EXPECT_FALSE(started) << "call " << call.seq << " ran but came back cancelled";
        } else {
            ++ran;
            EXPECT_TRUE(started) << "call " << call.seq << " came back " << int(call.status) << " unrun";
        }
    }
    // The two queued ones, less one that a slow teardown let start.
    EXPECT_GE(cancelled, 1u) << ran << " calls ran";
}

TEST(Asio, DestroyWithCallsOutstandingDoesNotHang) {
    expect_teardown_hands_back_each_call_once(TargetKind::pool, nullptr);
}

TEST(Asio, DedicatedTargetIsTheLabWorker) {
    ThreadRegistry registry;
    const CallRunner runner(Work{}, registry);
    Resubmitter sink(200);
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 2});
    const Design design;
    auto target = loop->make_target({.kind = TargetKind::dedicated, .design = &design, .window = 2,
                                     .runner = &runner});
    sink.loop = loop.get();
    sink.target = target.get();
    std::vector<Call> calls(2);
    for (std::uint32_t slot = 0; slot < 2; ++slot) {
        calls[slot].slot = slot;
        sink.send(calls[slot]);
    }
    {
        Watchdog watchdog(*loop, 10000ms);
        loop->run();
        EXPECT_FALSE(watchdog.finish());
    }
    target.reset();
    EXPECT_EQ(sink.delivered, 200u);
    EXPECT_EQ(sink.wrong, 0u);
}

// ---- The loop's side of the designs -------------------------------------

Configuration asio_config(const std::string& spec, std::uint32_t inflight, std::uint64_t calls) {
    Configuration config;
    config.backend = "asio";
    config.target = TargetKind::dedicated;
    config.design = parse_design(spec);
    config.work = Work{};
    config.calls = calls;
    config.warmup = 100;
    config.inflight = inflight;
    return config;
}

void expect_ok(const Configuration& config, const std::string& wake) {
    const RowResult row = run_configuration(config);
    const std::string what = config.design.name + " in-flight " + std::to_string(config.inflight);
    ASSERT_EQ(row.status, RowStatus::ok) << what << ": " << row.reason;
    EXPECT_EQ(row.errors, 0u) << what;
    ASSERT_EQ(row.runs.size(), 1u) << what;
    EXPECT_EQ(row.runs[0].calls, config.calls) << what;
    EXPECT_TRUE(row.mechanism.ends_with("; wake: " + wake)) << what << ": " << row.mechanism;
}

TEST(AsioDesigns, EveryLoopSideDeliversEveryCall) {
    const struct {
        const char* spec;
        const char* wake;
    } cases[] = {
        {"classic", "asio::post"},
        {"futex-gated", "asio::post of a drain, gated"},
        {"eventfd", "asio::post of a drain, gated"},
        {"spin-park:2us", "asio::post of a drain, gated"},
        {"adaptive", "asio::post of a drain, gated"},
        {"futex-gated,loop-spin=forever", "asio::post of a drain, gated"},
        // wake=always with a loop-spin: the drain, posted on every result
        // unless one is already queued.
        {"futex-gated,wake=always,loop-spin=2us", "asio::post of a drain"},
        {"futex-gated,wake=always,loop-spin=forever", "asio::post of a drain"},
        // A lab worker, but the loop's side is classic: one post per result.
        {"futex-gated,wake=always,queue=spsc", "asio::post"},
        // ... unless the results stay in place: only the drain polls them.
        {"futex-gated,wake=always", "asio::post of a drain"},
        {"native", "asio::post"},
    };
    for (const auto& c : cases) {
        for (std::uint32_t inflight : {1u, 16u}) expect_ok(asio_config(c.spec, inflight, 2000), c.wake);
    }
}

// Both sides spin forever: fine on two CPUs, time slices when they share one,
// so few calls.
TEST(AsioDesigns, SpinPresetDeliversEveryCall) {
    for (std::uint32_t inflight : {1u, 16u}) {
        expect_ok(asio_config("spin", inflight, 300), "asio::post of a drain, gated");
    }
}

// Completes calls from a thread of its own, in bursts of `window` separated
// by idle gaps of 0 to ~2 ms, each burst only after the loop delivered the
// last one: so the loop goes to sleep (or is about to, or is still spinning)
// right when the next results arrive. A lost wake-up stalls the run until the
// watchdog stops it.
class BurstStress final : public CallSink {
public:
    BurstStress(std::uint32_t window, std::uint64_t bursts)
        : window_(window), bursts_(bursts), calls_(window), last_burst_(window, 0) {
        for (std::uint32_t slot = 0; slot < window; ++slot) calls_[slot].slot = slot;
    }

    void deliver(Call& call) override {
        if (std::this_thread::get_id() != loop_thread_) ++wrong;
        const std::uint64_t done = delivered_.load(std::memory_order_relaxed);
        const std::uint64_t burst = done / window_;
        // Each call once per burst, with its burst's result.
        if (call.seq != burst || call.result != expected_result(burst) || last_burst_[call.slot] != burst) ++wrong;
        last_burst_[call.slot] = burst + 1;
        delivered_.store(done + 1, std::memory_order_release);
        if (done + 1 == bursts_ * window_) loop->stop();
    }

    // The completing side (a worker's role), on its own thread.
    void feed() {
        std::minstd_rand random(12345 + window_);
        for (std::uint64_t burst = 0; burst < bursts_; ++burst) {
            while (delivered_.load(std::memory_order_acquire) < burst * window_) {
                if (stop_feeding.load(std::memory_order_relaxed)) return;
                std::this_thread::yield();
            }
            idle_gap(random);
            for (Call& call : calls_) {
                call.seq = burst;
                call.result = expected_result(burst);
                call.status = CallStatus::ok;
                loop->complete(call);
            }
        }
    }

    std::uint64_t delivered() const { return delivered_.load(); }

    Loop* loop = nullptr;
    std::uint64_t wrong = 0;
    std::atomic<bool> stop_feeding{false};

private:
    // None, a few microseconds (inside the loop's spin budgets), tens of
    // microseconds (around them), or a real sleep up to ~2 ms.
    void idle_gap(std::minstd_rand& random) {
        const unsigned kind = random() % 4;
        if (kind == 0) return;
        if (kind == 3) {
            std::this_thread::sleep_for(std::chrono::microseconds(100 + random() % 1900));
            return;
        }
        const auto spin = std::chrono::microseconds(kind == 1 ? random() % 5 : 5 + random() % 95);
        const auto until = std::chrono::steady_clock::now() + spin;
        while (std::chrono::steady_clock::now() < until) {
        }
    }

    const std::thread::id loop_thread_ = std::this_thread::get_id();
    const std::uint32_t window_;
    const std::uint64_t bursts_;
    std::vector<Call> calls_;
    std::vector<std::uint64_t> last_burst_;  // loop thread: the next burst each slot is due in
    std::atomic<std::uint64_t> delivered_{0};
};

void stress(const std::string& spec, std::uint32_t window, std::uint64_t bursts) {
    const Design design = parse_design(spec);
    BurstStress sink(window, bursts);
    auto loop = asio_backend.make_loop({.sink = &sink, .window = window, .design = &design});
    sink.loop = loop.get();
    std::thread feeder([&] { sink.feed(); });
    bool fired = false;
    {
        Watchdog watchdog(*loop, 10000ms);
        loop->run();
        fired = watchdog.finish();
    }
    sink.stop_feeding = true;
    feeder.join();
    EXPECT_FALSE(fired) << spec << " in-flight " << window << ": stalled after " << sink.delivered() << " of "
                        << bursts * window << " results (a lost wake-up)";
    EXPECT_EQ(sink.delivered(), bursts * window) << spec << " in-flight " << window;
    EXPECT_EQ(sink.wrong, 0u) << spec << " in-flight " << window;
}

TEST(AsioDesigns, GatedWakeSurvivesBurstsAndIdleGaps) {
    for (const char* spec : {"futex-gated", "adaptive", "spin-park:2us", "futex-gated,wake=always,loop-spin=2us"}) {
        stress(spec, 1, 1000);
        stress(spec, 64, 200);
    }
}

// Stop from another thread ends run() promptly even while the loop spins
// forever (the stop request is part of what the spin polls for).
TEST(AsioDesigns, RequestStopEndsAForeverSpinningLoop) {
    const Design design = parse_design("spin");
    StopOnFirst sink;
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 1, .design = &design});
    sink.loop = loop.get();
    std::thread stopper([&] {
        std::this_thread::sleep_for(30ms);
        loop->request_stop();
    });
    Watchdog watchdog(*loop, 5000ms);
    loop->run();
    stopper.join();
    EXPECT_FALSE(watchdog.finish()) << "the spinning loop missed the stop request";
    EXPECT_EQ(sink.delivered, nullptr);
}

// After stop() the drain handler returns without publishing that the loop
// sleeps; a result that comes while no run() is going must still be
// delivered by the next run().
TEST(AsioDesigns, ResultArrivingBetweenRunsIsDelivered) {
    for (const char* spec : {"futex-gated", "futex-gated,wake=always,loop-spin=2us", "spin"}) {
        const Design design = parse_design(spec);
        StopOnFirst sink;
        auto loop = asio_backend.make_loop({.sink = &sink, .window = 1, .design = &design});
        sink.loop = loop.get();
        Call first, second;
        std::thread([&] { loop->complete(first); }).join();
        {
            Watchdog watchdog(*loop, 5000ms);
            loop->run();
            EXPECT_FALSE(watchdog.finish()) << spec;
        }
        EXPECT_EQ(sink.delivered, &first) << spec;
        std::thread([&] { loop->complete(second); }).join();
        {
            Watchdog watchdog(*loop, 5000ms);
            loop->run();
            EXPECT_FALSE(watchdog.finish()) << spec << ": the second run() missed a result";
        }
        EXPECT_EQ(sink.delivered, &second) << spec;
    }
}

// ring= is uring's: the runner refuses it once, from the backend's flags,
// before anything is built.
TEST(AsioDesigns, RingOtherThanEventfdIsRejected) {
    for (const char* spec : {"futex-gated,ring=msg-ring", "futex-gated,ring=futex", "native,ring=msg-ring"}) {
        EXPECT_EQ(design_unsupported_reason(asio_backend, parse_design(spec)), "ring= is for uring only") << spec;
    }
    const RowResult row = run_configuration(asio_config("futex-gated,ring=msg-ring", 1, 100));
    EXPECT_EQ(row.status, RowStatus::unavailable);
    EXPECT_EQ(row.reason, "ring= is for uring only");
}

// ---- impl=native: a second io_context as the worker ---------------------

void run_native(std::uint32_t window, std::uint64_t total) {
    ThreadRegistry registry;
    const CallRunner runner(Work{}, registry);
    Resubmitter sink(total);
    const Design design = parse_design("native");
    auto loop = asio_backend.make_loop({.sink = &sink, .window = window, .design = &design});
    auto target = loop->make_target(
        {.kind = TargetKind::dedicated, .design = &design, .window = window, .runner = &runner});
    EXPECT_EQ(target->mechanism(), "asio worker io_context, asio::post both ways");
    EXPECT_EQ(loop->wake_mechanism(), "asio::post");
    sink.loop = loop.get();
    sink.target = target.get();
    std::vector<Call> calls(window);
    for (std::uint32_t slot = 0; slot < window; ++slot) {
        calls[slot].slot = slot;
        sink.send(calls[slot]);
    }
    {
        Watchdog watchdog(*loop, 20000ms);
        loop->run();
        EXPECT_FALSE(watchdog.finish()) << "in-flight " << window << ": stalled after " << sink.delivered;
    }
    target.reset();
    EXPECT_EQ(sink.delivered, total) << "in-flight " << window;
    EXPECT_EQ(sink.wrong, 0u) << "in-flight " << window;
    for (std::uint64_t seq = 0; seq < total; ++seq) {
        ASSERT_EQ(sink.seen[seq], 1) << "in-flight " << window << ", call " << seq;
    }
    // The worker thread noted itself when it started: exactly one worker.
    EXPECT_EQ(registry.threads().size(), 1u);
}

// (No allocation per call is checked by tests/test_allocation.cpp, which owns
// the binary's one counting operator new.)
TEST(AsioNative, WorkerIoContextRunsEveryCallExactlyOnce) {
    run_native(1, 10000);
    run_native(16, 10000);
}

TEST(AsioNative, DestroyWithCallsQueuedDoesNotHang) {
    const Design design = parse_design("native");
    expect_teardown_hands_back_each_call_once(TargetKind::dedicated, &design);
}

}  // namespace
}  // namespace handoff
