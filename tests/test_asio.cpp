// The asio backend: version, cross-thread delivery, early stop, its own pool.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "handoff/backend.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"

namespace handoff {
extern const Backend asio_backend;
}

namespace handoff {
namespace {

using namespace std::chrono_literals;

// Stops the loop after a deadline so a lost wake fails the test instead of hanging it.
class Watchdog {
public:
    Watchdog(Loop& loop, std::chrono::milliseconds limit)
        : thread_([&loop, limit, this] {
              const auto deadline = std::chrono::steady_clock::now() + limit;
              while (!done_.load() && std::chrono::steady_clock::now() < deadline) {
                  std::this_thread::sleep_for(1ms);
              }
              if (!done_.load()) {
                  fired_ = true;
                  loop.request_stop();
              }
          }) {}
    ~Watchdog() {
        done_ = true;
        thread_.join();
    }
    bool fired() const { return fired_.load(); }

private:
    std::atomic<bool> done_{false};
    std::atomic<bool> fired_{false};
    std::thread thread_;
};

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
    std::thread worker([&] {
        std::this_thread::sleep_for(20ms);  // let the loop block first
        call.result = 7;
        call.status = CallStatus::ok;
        loop->complete(call);
    });
    {
        Watchdog watchdog(*loop, 5000ms);
        loop->run();
        EXPECT_FALSE(watchdog.fired()) << "run() did not return after the delivery";
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
    EXPECT_FALSE(watchdog.fired());
    EXPECT_EQ(sink.delivered, &call);
}

TEST(Asio, RequestStopBeforeRunReturnsPromptly) {
    StopOnFirst sink;
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 1});
    sink.loop = loop.get();
    loop->request_stop();
    Watchdog watchdog(*loop, 5000ms);
    const auto start = std::chrono::steady_clock::now();
    loop->run();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_FALSE(watchdog.fired());
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
    EXPECT_FALSE(watchdog.fired());
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
        if (sent_ < total_) send(call);
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
    const Executor executor(Work{}, registry);
    Resubmitter sink(total);

    auto loop = asio_backend.make_loop({.sink = &sink, .window = window});
    auto target = loop->make_target(
        {.kind = TargetKind::pool, .threads = 2, .window = window, .executor = &executor});
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
        EXPECT_FALSE(watchdog.fired()) << "stalled after " << sink.delivered << " calls";
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

TEST(Asio, DestroyWithCallsOutstandingDoesNotHang) {
    ThreadRegistry registry;
    const Executor executor(Work::parse("sleep:2ms"), registry);
    Resubmitter sink(100);
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 4});
    auto target = loop->make_target(
        {.kind = TargetKind::pool, .threads = 1, .window = 4, .executor = &executor});
    sink.loop = loop.get();
    sink.target = target.get();
    std::vector<Call> calls(4);
    for (std::uint32_t slot = 0; slot < 4; ++slot) {
        calls[slot].slot = slot;
        sink.send(calls[slot]);
    }
    // Never run: by now one call has finished and waits in the io_context, one
    // is sleeping on the pool thread, two are queued. All must be freed
    // without delivery and without waiting for the queued ones.
    std::this_thread::sleep_for(3ms);
    const auto start = std::chrono::steady_clock::now();
    target.reset();
    loop.reset();
    EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    EXPECT_EQ(sink.delivered, 0u);
}

TEST(Asio, DedicatedTargetIsTheLabWorker) {
    ThreadRegistry registry;
    const Executor executor(Work{}, registry);
    Resubmitter sink(200);
    auto loop = asio_backend.make_loop({.sink = &sink, .window = 2});
    const Design design;
    auto target = loop->make_target({.kind = TargetKind::dedicated, .design = &design, .window = 2,
                                     .executor = &executor});
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
        EXPECT_FALSE(watchdog.fired());
    }
    target.reset();
    EXPECT_EQ(sink.delivered, 200u);
    EXPECT_EQ(sink.wrong, 0u);
}

}  // namespace
}  // namespace handoff
