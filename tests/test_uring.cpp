// What is specific to the uring backend: liburing found at run time, io_uring
// usable here, the eventfd read kept in the ring waking the loop, and the
// loop's side of the designs: each ring= variant (eventfd, msg-ring, futex),
// wake=always and wake=gated, loop-spin, and what the loop rejects.
#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cctype>
#include <condition_variable>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "handoff/backend.hpp"
#include "handoff/clocks.hpp"
#include "handoff/design.hpp"
#include "backend_test_support.hpp"

namespace handoff {
extern const Backend uring_backend;
}

namespace {

using backend_test_support::CountingSink;
using backend_test_support::Watchdog;
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

std::unique_ptr<Loop> make_loop(CountingSink& sink, std::uint32_t window = 1,
                                const handoff::Design* design = nullptr) {
    auto loop = uring_backend.make_loop({.sink = &sink, .window = window, .design = design});
    sink.loop = loop.get();
    return loop;
}

void finish(Call& call, std::uint64_t seq) {
    call.seq = seq;
    call.arg = seq * 7;
    call.result = handoff::expected_result(call.arg);
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
    const pid_t loop_tid = handoff::current_tid();
    std::thread worker([&] {
        // Once the loop sleeps in io_uring, so the wake is real.
        EXPECT_TRUE(backend_test_support::wait_until_asleep(loop_tid)) << "the loop never went to sleep";
        finish(call, 1);
        loop->complete(call);
    });
    Watchdog watchdog(*loop, std::chrono::seconds(10));
    loop->run();
    EXPECT_FALSE(watchdog.finish()) << "the call was never delivered";
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

// Completes `count` calls from two threads with the loop possibly busy,
// sleeping or not yet running; a lost wake-up hangs run(), so a watchdog
// stops it and the count comes out short.
void deliver_from_two_threads(Loop& loop, CountingSink& sink, unsigned count) {
    std::vector<Call> calls(count);
    auto produce = [&](unsigned first, unsigned last) {
        for (unsigned i = first; i < last; ++i) {
            finish(calls[i], i);
            loop.complete(calls[i]);
        }
    };
    std::thread a(produce, 0u, count / 2);
    std::thread b(produce, count / 2, count);
    Watchdog watchdog(loop, std::chrono::seconds(10));
    loop.run();
    const bool fired = watchdog.finish();
    a.join();
    b.join();
    EXPECT_FALSE(fired) << "a lost wake-up: " << sink.delivered << " of " << count << " delivered";
    EXPECT_EQ(sink.delivered, count);
    EXPECT_FALSE(sink.off_loop_thread);
}

TEST(Uring, CoalescedWakesDeliverEveryCall) {
    SKIP_IF_URING_UNAVAILABLE();
    constexpr unsigned per_thread = 5000;
    CountingSink sink;
    sink.expected = 2 * per_thread;
    auto loop = make_loop(sink, sink.expected);
    deliver_from_two_threads(*loop, sink, sink.expected);
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
    const pid_t loop_tid = handoff::current_tid();
    std::thread stopper([&] {
        // Once the loop sleeps in io_uring: the request has to wake it.
        EXPECT_TRUE(backend_test_support::wait_until_asleep(loop_tid)) << "the loop never went to sleep";
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
        loop->complete(call);  // never run: the destructor delivers it, the armed read is completed
    }
    EXPECT_EQ(sink.delivered, 1u);
}

// ---- Designs: the ring variants, gating, loop-spin, rejections ----------

// Builds a loop for `design`; the test is skipped where the kernel lacks the
// variant's operation (ring=futex before Linux 6.7), which the loop reports
// as Unsupported with the reason.
#define MAKE_DESIGN_LOOP_OR_SKIP(loop, sink, window, design)                   \
    std::unique_ptr<Loop> loop;                                                \
    try {                                                                      \
        loop = make_loop(sink, window, &design);                               \
    } catch (const handoff::Unsupported& e) {                                  \
        GTEST_SKIP() << design.name << ": " << e.what();                       \
    }

// ring= x wake= (and a loop-spin): the spelling after "classic,".
class UringDesign : public testing::TestWithParam<const char*> {
protected:
    handoff::Design design() const { return handoff::parse_design(std::string("classic,") + GetParam()); }
};

// A design spelling as a test name: "ring=futex,wake=gated" -> "ring_futex_wake_gated".
std::string name_of(std::string_view spec) {
    std::string name;
    for (const char c : spec) name += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    return name;
}

std::string design_test_name(const testing::TestParamInfo<const char*>& info) { return name_of(info.param); }

TEST_P(UringDesign, WakeMechanismNamesRingAndGating) {
    SKIP_IF_URING_UNAVAILABLE();
    const handoff::Design d = design();
    CountingSink sink;
    MAKE_DESIGN_LOOP_OR_SKIP(loop, sink, 1, d);
    const std::string mechanism = loop->wake_mechanism();
    const char* expected = d.ring == handoff::Design::Ring::msg_ring ? "msg-ring"
                           : d.ring == handoff::Design::Ring::futex  ? "futex wait in ring"
                                                                    : "eventfd read in ring";
    EXPECT_EQ(mechanism.rfind(expected, 0), 0u) << mechanism;
    EXPECT_EQ(mechanism.find(", gated") != std::string::npos, d.wake == handoff::Design::Wake::gated) << mechanism;
}

TEST_P(UringDesign, DeliversTenThousandCallsFromTwoThreads) {
    SKIP_IF_URING_UNAVAILABLE();
    const handoff::Design d = design();
    constexpr unsigned count = 10'000;
    CountingSink sink;
    sink.expected = count;
    MAKE_DESIGN_LOOP_OR_SKIP(loop, sink, count, d);
    deliver_from_two_threads(*loop, sink, count);
}

TEST_P(UringDesign, DeliversCallCompletedWhileLoopSleeps) {
    SKIP_IF_URING_UNAVAILABLE();
    const handoff::Design d = design();
    CountingSink sink;
    MAKE_DESIGN_LOOP_OR_SKIP(loop, sink, 1, d);
    Call call;
    const pid_t loop_tid = handoff::current_tid();
    std::thread worker([&] {
        // Once the loop's spin budget ran out and it sleeps: the wake is real.
        // A loop that spins forever never sleeps; its spin finds the call.
        if (d.loop_spin != handoff::Design::LoopSpin::forever) {
            EXPECT_TRUE(backend_test_support::wait_until_asleep(loop_tid)) << "the loop never went to sleep";
        }
        finish(call, 1);
        loop->complete(call);
    });
    Watchdog watchdog(*loop, std::chrono::seconds(10));
    loop->run();
    EXPECT_FALSE(watchdog.finish()) << "the call was never delivered";
    worker.join();
    EXPECT_EQ(sink.delivered, 1u);
}

TEST_P(UringDesign, RequestStopFromAnotherThreadEndsRun) {
    SKIP_IF_URING_UNAVAILABLE();
    const handoff::Design d = design();
    CountingSink sink;
    MAKE_DESIGN_LOOP_OR_SKIP(loop, sink, 1, d);
    const pid_t loop_tid = handoff::current_tid();
    std::thread stopper([&] {
        // Once the loop sleeps (the request has to wake it); a loop that spins
        // forever never does, and its spin has to see the request.
        if (d.loop_spin != handoff::Design::LoopSpin::forever) {
            EXPECT_TRUE(backend_test_support::wait_until_asleep(loop_tid)) << "the loop never went to sleep";
        }
        loop->request_stop();
    });
    loop->run();
    stopper.join();
    EXPECT_EQ(sink.delivered, 0u);
}

TEST_P(UringDesign, DestroyWithUndeliveredCallDoesNotHang) {
    SKIP_IF_URING_UNAVAILABLE();
    const handoff::Design d = design();
    CountingSink sink;
    Call call;
    {
        MAKE_DESIGN_LOOP_OR_SKIP(loop, sink, 1, d);
        std::thread worker([&] {
            finish(call, 1);
            loop->complete(call);  // never run: the destructor delivers it, the armed wakes are completed
        });
        worker.join();
    }
    EXPECT_EQ(sink.delivered, 1u);
}

INSTANTIATE_TEST_SUITE_P(Rings, UringDesign,
                         testing::Values("ring=eventfd,wake=always", "ring=eventfd,wake=gated",
                                         "ring=msg-ring,wake=always", "ring=msg-ring,wake=gated",
                                         "ring=futex,wake=always", "ring=futex,wake=gated",
                                         // The loop's spin in front of each wait, with each ring.
                                         "ring=eventfd,wake=gated,loop-spin=adaptive",
                                         "ring=msg-ring,wake=always,loop-spin=20us",
                                         "ring=futex,wake=gated,loop-spin=20us",
                                         // Never blocks: request_stop must still end run().
                                         "ring=msg-ring,wake=gated,loop-spin=forever",
                                         "ring=futex,wake=always,loop-spin=forever"),
                         design_test_name);

// The lost-wake-up stress for wake=gated. Calls cycle between the loop, which
// hands each delivered call back, and one completing thread, in bursts
// separated by idle gaps from nothing to 2 ms. Within a burst both sides add a
// jittered pause of up to a couple of microseconds (the loop after handing a
// call back, the worker before completing the next), so completions land all
// over the loop's path from delivering, through publishing that it sleeps, to
// sleeping: the worker must sometimes find it awake and skip the wake. After
// each burst the worker waits for every call to come back; one that does not
// come back within ten seconds was lost with its wake-up (with in-flight 64 a
// later completion would otherwise rescue it). Ten seconds: a liveness limit,
// thousands of times what a call takes on a loaded machine.
class BurstSink final : public handoff::CallSink {
public:
    BurstSink(std::uint32_t window, unsigned expected)
        : calls_(window), window_(window), expected_(expected) {
        for (Call& call : calls_) free_.push_back(&call);
        available_ = window;
    }

    void deliver(Call& call) override {
        if (call.result != handoff::expected_result(call.arg) || call.status != CallStatus::ok) wrong_ = true;
        if (++delivered_ == expected_) loop->stop();
        const auto pause = static_cast<unsigned>((call.seq * 2654435761u) >> 7) % 256;
        {
            std::lock_guard lock(mutex_);
            free_.push_back(&call);  // the call is the worker's from here on
            available_.fetch_add(1, std::memory_order_release);
        }
        jitter(pause);
    }

    // Completing thread: a call the loop has handed back, or null when none
    // comes back in time (a lost wake-up) or the test is over. Polls, so it
    // takes a call the moment the loop returns it (yielding now and then, for
    // a machine with one CPU).
    Call* take() {
        if (!wait_for(1)) return nullptr;
        std::lock_guard lock(mutex_);
        Call* call = free_.back();
        free_.pop_back();
        available_.fetch_sub(1, std::memory_order_relaxed);
        return call;
    }

    // Completing thread: whether every call came back in time.
    bool all_returned() { return wait_for(window_); }

    void close() { closed_.store(true, std::memory_order_release); }

    // A short pause of `spins` polls of an atomic: a few ns each.
    static void jitter(unsigned spins) {
        static std::atomic<unsigned> counter{0};
        for (unsigned i = 0; i < spins; ++i) counter.fetch_add(0, std::memory_order_relaxed);
    }

    Loop* loop = nullptr;
    unsigned delivered() const { return delivered_; }
    bool wrong() const { return wrong_; }

private:
    bool wait_for(unsigned count) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (unsigned spins = 0; available_.load(std::memory_order_acquire) < count; ++spins) {
            if (closed_.load(std::memory_order_acquire)) return false;
            if (spins % 256 == 255) {
                if (std::chrono::steady_clock::now() > deadline) return false;
                std::this_thread::yield();
            }
        }
        return true;
    }

    std::vector<Call> calls_;
    const unsigned window_;
    const unsigned expected_;
    unsigned delivered_ = 0;
    bool wrong_ = false;
    std::mutex mutex_;
    std::vector<Call*> free_;
    std::atomic<unsigned> available_{0};
    std::atomic<bool> closed_{false};
};

// An idle gap: spun below 50 us (a sleep that short oversleeps), slept above.
void idle(std::chrono::nanoseconds gap) {
    if (gap >= std::chrono::microseconds(50)) {
        std::this_thread::sleep_for(gap);
        return;
    }
    const auto until = std::chrono::steady_clock::now() + gap;
    while (std::chrono::steady_clock::now() < until) {
    }
}

// Pins the calling thread to one CPU for its lifetime, then restores its mask.
class PinnedTo {
public:
    explicit PinnedTo(int cpu) {
        if (cpu < 0 || sched_getaffinity(0, sizeof saved_, &saved_) != 0) return;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(cpu, &one);
        pinned_ = sched_setaffinity(0, sizeof one, &one) == 0;
    }
    ~PinnedTo() {
        if (pinned_) sched_setaffinity(0, sizeof saved_, &saved_);
    }
    PinnedTo(const PinnedTo&) = delete;
    PinnedTo& operator=(const PinnedTo&) = delete;

private:
    cpu_set_t saved_{};
    bool pinned_ = false;
};

// The first two CPUs this thread may run on, or {-1, -1} with fewer than two.
std::pair<int, int> two_cpus() {
    cpu_set_t mask;
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) return {-1, -1};
    int found[2] = {-1, -1};
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; ++cpu) {
        if (CPU_ISSET(cpu, &mask)) found[n++] = cpu;
    }
    return n == 2 ? std::pair{found[0], found[1]} : std::pair{-1, -1};
}

struct StressCase {
    const char* design;
    std::uint32_t inflight;
};

class UringGatedStress : public testing::TestWithParam<StressCase> {};

std::string stress_test_name(const testing::TestParamInfo<StressCase>& info) {
    return name_of(info.param.design) + "_inflight" + std::to_string(info.param.inflight);
}

TEST_P(UringGatedStress, NoLostWakeUpAcrossBurstsAndGaps) {
    SKIP_IF_URING_UNAVAILABLE();
    using namespace std::chrono_literals;
    const handoff::Design d = handoff::parse_design(std::string("classic,") + GetParam().design);
    ASSERT_EQ(d.wake, handoff::Design::Wake::gated);
    const std::uint32_t window = GetParam().inflight;
    constexpr unsigned bursts = 150;
    const std::chrono::nanoseconds gaps[] = {0ns, 0ns, 1us, 3us, 10us, 30us, 100us, 300us, 1ms, 2ms};
    // Burst lengths 1 .. max(2*window, 16) and gaps in a fixed pseudo-random order.
    std::vector<unsigned> lengths(bursts);
    std::vector<std::chrono::nanoseconds> pauses(bursts);
    unsigned total = 0;
    std::uint32_t state = 12345;
    for (unsigned b = 0; b < bursts; ++b) {
        state = state * 1103515245u + 12345u;
        lengths[b] = 1 + (state >> 8) % std::max<std::uint32_t>(2 * window, 16);
        pauses[b] = gaps[(state >> 20) % std::size(gaps)];
        total += lengths[b];
    }
    BurstSink sink(window, total);
    std::unique_ptr<Loop> loop;
    try {
        loop = uring_backend.make_loop({.sink = &sink, .window = window, .design = &d});
    } catch (const handoff::Unsupported& e) {
        GTEST_SKIP() << d.name << ": " << e.what();
    }
    sink.loop = loop.get();

    // On two CPUs, where the worker can find the loop awake at any point on
    // its way to sleep (on one CPU it mostly runs only once the loop sleeps).
    const auto [loop_cpu, worker_cpu] = two_cpus();
    PinnedTo pin_loop(loop_cpu);
    std::atomic<bool> lost{false};
    std::thread worker([&, worker_cpu = worker_cpu] {
        PinnedTo pin_worker(worker_cpu);
        std::uint64_t seq = 0;
        std::uint32_t noise = 777;
        const auto give_up = [&] {
            lost = true;
            loop->request_stop();
        };
        for (unsigned b = 0; b < bursts; ++b) {
            idle(pauses[b]);
            for (unsigned i = 0; i < lengths[b]; ++i) {
                Call* call = sink.take();
                if (call == nullptr) return give_up();
                noise = noise * 1103515245u + 12345u;
                BurstSink::jitter((noise >> 16) % 256);
                finish(*call, seq++);
                loop->complete(*call);
            }
            if (b + 1 < bursts && !sink.all_returned()) return give_up();
        }
    });
    loop->run();
    sink.close();
    worker.join();
    EXPECT_FALSE(lost.load()) << "a lost wake-up left the loop asleep (" << d.name << ")";
    EXPECT_EQ(sink.delivered(), total);
    EXPECT_FALSE(sink.wrong());
}

INSTANTIATE_TEST_SUITE_P(
    Rings, UringGatedStress,
    testing::Values(StressCase{"ring=eventfd,wake=gated", 1}, StressCase{"ring=eventfd,wake=gated", 64},
                    StressCase{"ring=msg-ring,wake=gated", 1}, StressCase{"ring=msg-ring,wake=gated", 64},
                    StressCase{"ring=futex,wake=gated", 1}, StressCase{"ring=futex,wake=gated", 64},
                    // A spin in front of the gate: the loop publishes that it
                    // sleeps only after its budget runs out.
                    StressCase{"ring=eventfd,wake=gated,loop-spin=adaptive", 1},
                    StressCase{"ring=msg-ring,wake=gated,loop-spin=2us", 64},
                    StressCase{"ring=futex,wake=gated,loop-spin=adaptive", 64}),
    stress_test_name);

// ring=msg-ring: a completing thread keeps its own ring across loops. Each
// new loop may get the closed one's fd number; messages must reach the loop
// that is running, and a thread that outlives every loop must stay harmless.
TEST(Uring, MsgRingSenderOutlivesLoops) {
    SKIP_IF_URING_UNAVAILABLE();
    const handoff::Design d = handoff::parse_design("classic,ring=msg-ring,wake=gated");
    constexpr unsigned per_loop = 200;
    std::mutex mutex;
    std::condition_variable changed;
    Loop* current = nullptr;
    unsigned generation = 0;
    unsigned finished = 0;  // the last generation whose complete() calls all returned
    bool quit = false;
    std::vector<Call> calls(per_loop);
    std::thread worker([&] {
        unsigned seen = 0;
        for (;;) {
            Loop* loop = nullptr;
            {
                std::unique_lock lock(mutex);
                changed.wait(lock, [&] { return quit || generation != seen; });
                if (quit) return;
                seen = generation;
                loop = current;
            }
            for (unsigned i = 0; i < per_loop; ++i) {
                finish(calls[i], i);
                loop->complete(calls[i]);
            }
            {
                std::lock_guard lock(mutex);
                finished = seen;
            }
            changed.notify_all();
        }
    });
    for (int round = 0; round < 3; ++round) {
        CountingSink sink;
        sink.expected = per_loop;
        std::unique_ptr<Loop> loop;
        try {
            loop = make_loop(sink, per_loop, &d);
        } catch (const handoff::Unsupported& e) {
            {
                std::lock_guard lock(mutex);
                quit = true;
            }
            changed.notify_all();
            worker.join();
            GTEST_SKIP() << e.what();
        }
        {
            std::lock_guard lock(mutex);
            current = loop.get();
            ++generation;
        }
        changed.notify_all();
        Watchdog watchdog(*loop, std::chrono::seconds(10));
        loop->run();
        EXPECT_FALSE(watchdog.finish()) << "round " << round << ": a message missed the running loop";
        EXPECT_EQ(sink.delivered, per_loop) << "round " << round;
        // complete() may still be running after its call was delivered (it
        // wakes the loop after pushing): the loop may go only once it returned.
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return finished == generation; });
    }
    {
        std::lock_guard lock(mutex);
        quit = true;
    }
    changed.notify_all();
    worker.join();
}

TEST(Uring, RejectsNativeImpl) {
    SKIP_IF_URING_UNAVAILABLE();
    EXPECT_EQ(handoff::design_unsupported_reason(handoff::uring_backend, handoff::parse_design("native")),
              "uring has no native worker: impl=native is for uv and asio");
}

// ring=futex needs Linux 6.7: built where the kernel has the operation, and
// otherwise refused with that reason (never a failure at run time).
TEST(Uring, FutexRingBuildsOrSaysWhichKernel) {
    SKIP_IF_URING_UNAVAILABLE();
    const handoff::Design d = handoff::parse_design("futex-gated,ring=futex");
    CountingSink sink;
    try {
        auto loop = make_loop(sink, 1, &d);
        EXPECT_EQ(loop->wake_mechanism().rfind("futex wait in ring, gated", 0), 0u) << loop->wake_mechanism();
    } catch (const handoff::Unsupported& e) {
        EXPECT_STREQ(e.what(), "ring=futex needs IORING_OP_FUTEX_WAIT (Linux 6.7+)");
    }
}

}  // namespace
