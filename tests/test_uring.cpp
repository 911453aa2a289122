// What is specific to the uring backend: liburing found at run time, io_uring
// usable here, and the eventfd read kept in the ring waking the loop.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "handoff/backend.hpp"

namespace handoff {
extern const Backend uring_backend;
}

namespace {

using handoff::Call;
using handoff::CallStatus;
using handoff::Loop;
using handoff::uring_backend;

#define SKIP_IF_URING_UNAVAILABLE()                                    \
    do {                                                               \
        if (const auto reason = uring_backend.unavailable_reason()) {  \
            GTEST_SKIP() << "io_uring unavailable: " << *reason;       \
        }                                                              \
    } while (0)

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
        EXPECT_EQ(call.result, call.arg + 1);
        if (++delivered == expected) loop->stop();
    }
};

std::unique_ptr<Loop> make_loop(CountingSink& sink, std::uint32_t window = 1) {
    auto loop = uring_backend.make_loop({.sink = &sink, .window = window});
    sink.loop = loop.get();
    return loop;
}

void finish(Call& call, std::uint64_t seq) {
    call.seq = seq;
    call.arg = seq * 7;
    call.result = call.arg + 1;
    call.status = CallStatus::ok;
}

TEST(Uring, LibraryVersionNamesLiburing) {
    const std::string version = uring_backend.library_version();
    EXPECT_EQ(version.rfind("liburing", 0), 0u) << version;
    EXPECT_NE(version, "liburing (version unknown)") << "liburing.so.X.Y not found via dladdr";
}

TEST(Uring, AvailableOnThisMachine) {
    SKIP_IF_URING_UNAVAILABLE();
    EXPECT_EQ(uring_backend.unavailable_reason(), std::nullopt);
}

TEST(Uring, WakeMechanismIsEventfdReadInRing) {
    SKIP_IF_URING_UNAVAILABLE();
    CountingSink sink;
    auto loop = make_loop(sink);
    EXPECT_EQ(loop->wake_mechanism().rfind("eventfd read in ring", 0), 0u) << loop->wake_mechanism();
}

TEST(Uring, DeliversCallCompletedOnAnotherThread) {
    SKIP_IF_URING_UNAVAILABLE();
    CountingSink sink;
    auto loop = make_loop(sink);
    Call call;
    std::thread worker([&] {
        // Give the loop time to go to sleep in io_uring, so the wake is real.
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        finish(call, 1);
        loop->complete(call);
    });
    loop->run();
    worker.join();
    EXPECT_EQ(sink.delivered, 1u);
    EXPECT_FALSE(sink.off_loop_thread);
}

TEST(Uring, DeliversCallCompletedBeforeRun) {
    SKIP_IF_URING_UNAVAILABLE();
    CountingSink sink;
    auto loop = make_loop(sink);
    Call call;
    std::thread worker([&] {
        finish(call, 1);
        loop->complete(call);
    });
    worker.join();
    loop->run();
    EXPECT_EQ(sink.delivered, 1u);
}

TEST(Uring, CoalescedWakesDeliverEveryCall) {
    SKIP_IF_URING_UNAVAILABLE();
    constexpr unsigned per_thread = 5000;
    CountingSink sink;
    sink.expected = 2 * per_thread;
    auto loop = make_loop(sink, sink.expected);
    std::vector<Call> calls(sink.expected);
    std::atomic<bool> done{false};
    auto produce = [&](unsigned first) {
        for (unsigned i = first; i < first + per_thread; ++i) {
            finish(calls[i], i);
            loop->complete(calls[i]);
        }
    };
    std::thread a(produce, 0u);
    std::thread b(produce, per_thread);
    // A lost wake-up would hang run(): stop it from outside and fail instead.
    std::thread watchdog([&] {
        for (int i = 0; i < 1000 && !done.load(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (!done.load()) loop->request_stop();
    });
    loop->run();
    done = true;
    a.join();
    b.join();
    watchdog.join();
    EXPECT_EQ(sink.delivered, sink.expected);
    EXPECT_FALSE(sink.off_loop_thread);
}

TEST(Uring, RequestStopBeforeRunReturns) {
    SKIP_IF_URING_UNAVAILABLE();
    CountingSink sink;
    auto loop = make_loop(sink);
    loop->request_stop();
    loop->run();
    EXPECT_EQ(sink.delivered, 0u);
}

TEST(Uring, RequestStopFromAnotherThreadEndsRun) {
    SKIP_IF_URING_UNAVAILABLE();
    CountingSink sink;
    auto loop = make_loop(sink);
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        loop->request_stop();
    });
    loop->run();
    stopper.join();
    EXPECT_EQ(sink.delivered, 0u);
}

TEST(Uring, DestroyWithUndeliveredCallDoesNotHang) {
    SKIP_IF_URING_UNAVAILABLE();
    CountingSink sink;
    Call call;
    {
        auto loop = make_loop(sink);
        finish(call, 1);
        loop->complete(call);  // never run: the armed read and the call are left behind
    }
    EXPECT_EQ(sink.delivered, 0u);
}

}  // namespace
