// The allocation counter: exact on known workloads, whichever thread
// allocates and whether it is still alive when the count is read; and every
// row's Measurement carrying it.
//
// (tests/test_allocation.cpp is another thing: it replaces operator new in
// the test binary to check that two runs differing only in their number of
// calls allocate the same. Its operator new calls malloc, which this counter
// sees, so a `new` counts once here too.)
#include <gtest/gtest.h>

#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <new>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "measurement/allocation_counter.hpp"
#include "run/runner.hpp"

namespace handoff {
namespace {

#define SKIP_WITHOUT_COUNTER()                                                                  \
    if (const char* why = allocation_counting_unavailable_reason()) GTEST_SKIP() << why

// Calls through volatile pointers: the compiler may not pair a malloc with
// its free and remove both.
void* (*volatile do_malloc)(std::size_t) = &malloc;
void* (*volatile do_calloc)(std::size_t, std::size_t) = &calloc;
void* (*volatile do_realloc)(void*, std::size_t) = &realloc;
void* (*volatile do_aligned_alloc)(std::size_t, std::size_t) = &aligned_alloc;
int (*volatile do_posix_memalign)(void**, std::size_t, std::size_t) = &posix_memalign;
void* (*volatile do_memalign)(std::size_t, std::size_t) = &memalign;
char* (*volatile do_strdup)(const char*) = &strdup;

// Each allocation function, called once on this thread, counts exactly once.
TEST(AllocationCounter, CountsEachAllocationFunctionOnce) {
    SKIP_WITHOUT_COUNTER();
    const auto counted = [](auto&& allocate) {
        const std::uint64_t before = allocations_so_far();
        allocate();
        return allocations_so_far() - before;
    };
    void* block = nullptr;
    EXPECT_EQ(counted([&] { block = do_malloc(24); }), 1u) << "malloc";
    EXPECT_EQ(counted([&] { block = do_realloc(block, 4096); }), 1u) << "realloc to a larger size";
    EXPECT_EQ(counted([&] { block = do_realloc(block, 0); }), 0u) << "realloc to 0 frees";
    EXPECT_EQ(counted([&] { block = do_calloc(3, 8); }), 1u) << "calloc";
    free(block);
    EXPECT_EQ(counted([&] { block = do_aligned_alloc(64, 64); }), 1u) << "aligned_alloc";
    free(block);
    EXPECT_EQ(counted([&] { EXPECT_EQ(do_posix_memalign(&block, 128, 10), 0); }), 1u) << "posix_memalign";
    free(block);
    EXPECT_EQ(counted([&] { EXPECT_EQ(do_posix_memalign(&block, 3, 10), EINVAL); }), 0u)
        << "posix_memalign refused: asks the heap for nothing";
    EXPECT_EQ(counted([&] { block = do_memalign(32, 10); }), 1u) << "memalign";
    free(block);
    // glibc's own allocations go through the hook too.
    EXPECT_EQ(counted([&] { block = do_strdup("seen"); }), 1u) << "strdup (inside glibc)";
    free(block);
    // libstdc++'s operator new calls malloc: one allocation, counted once.
    // (Volatile: a new and its delete may otherwise be removed together.)
    int* volatile one = nullptr;
    EXPECT_EQ(counted([&] { one = new int(7); }), 1u) << "new";
    delete one;
    EXPECT_EQ(counted([&] { one = new int[100]; }), 1u) << "new[]";
    delete[] one;
    struct alignas(256) Wide {
        char bytes[256];
    };
    Wide* volatile wide = nullptr;
    EXPECT_EQ(counted([&] { wide = new Wide; }), 1u) << "aligned new";
    delete wide;
    EXPECT_EQ(counted([&] { free(nullptr); }), 0u) << "free";
}

// N allocations on each of three threads made before the interval, one of
// which exits before its end: exactly 3N. The threads do nothing else
// between the two readings (they spin on flags, which allocates nothing).
TEST(AllocationCounter, CountsEveryThreadExactlyEvenOneThatExited) {
    SKIP_WITHOUT_COUNTER();
    constexpr int per_thread = 1000;
    constexpr int thread_count = 3;
    std::vector<int*> made(per_thread * thread_count);  // before: no growth inside
    std::atomic<bool> go{false}, leave{false};
    std::atomic<int> started{0}, finished{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t) {
        threads.emplace_back([&, t] {
            started.fetch_add(1, std::memory_order_release);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (int i = 0; i < per_thread; ++i) made[std::size_t(t * per_thread + i)] = new int(i);
            finished.fetch_add(1, std::memory_order_release);
            if (t == 0) return;  // ends inside the interval
            while (!leave.load(std::memory_order_acquire)) std::this_thread::yield();
        });
    }
    // The threads' start-up stays outside; their first allocation (which
    // takes their slot) is inside, and counts like any other.
    while (started.load(std::memory_order_acquire) != thread_count) std::this_thread::yield();

    const std::uint64_t before = allocations_so_far();
    go.store(true, std::memory_order_release);
    while (finished.load(std::memory_order_acquire) != thread_count) std::this_thread::yield();
    threads[0].join();  // exited: its slot is given back, its count stays
    const std::uint64_t after = allocations_so_far();

    leave = true;
    for (std::size_t t = 1; t < threads.size(); ++t) threads[t].join();
    for (int* p : made) delete p;
    EXPECT_EQ(after - before, std::uint64_t(per_thread * thread_count));
}

// A thread born inside the interval, which allocates and ends: its N are
// there, beside what creating a thread allocates (std::thread's state, the
// thread's TLS vector), a handful.
TEST(AllocationCounter, CountsAThreadBornAndEndedInside) {
    SKIP_WITHOUT_COUNTER();
    constexpr int count = 500;
    std::vector<int*> made(count);
    const std::uint64_t before = allocations_so_far();
    std::thread([&] {
        for (int i = 0; i < count; ++i) made[std::size_t(i)] = new int(i);
    }).join();
    const std::uint64_t after = allocations_so_far();
    for (int* p : made) delete p;
    EXPECT_GE(after - before, std::uint64_t(count));
    EXPECT_LE(after - before, std::uint64_t(count + 8));
}

// Many threads come and go, more than the slot table holds, one at a time:
// each one's slot is given back and taken by a later one, which counts on
// from it; nothing is lost or counted twice.
TEST(AllocationCounter, ThreadsComingAndGoingKeepTheCount) {
    SKIP_WITHOUT_COUNTER();
    constexpr int generations = 300;
    constexpr int per_thread = 10;
    std::vector<int*> made(generations * per_thread);
    // Threads start and end outside the readings: each one reads, allocates, reads.
    std::uint64_t counted = 0;
    for (int g = 0; g < generations; ++g) {
        std::atomic<bool> ready{false}, go{false}, done{false}, leave{false};
        std::thread thread([&] {
            int* volatile first = new int;  // takes its slot
            delete first;
            ready.store(true, std::memory_order_release);
            while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
            for (int i = 0; i < per_thread; ++i) made[std::size_t(g * per_thread + i)] = new int(i);
            done.store(true, std::memory_order_release);
            while (!leave.load(std::memory_order_acquire)) std::this_thread::yield();
        });
        while (!ready.load(std::memory_order_acquire)) std::this_thread::yield();
        const std::uint64_t before = allocations_so_far();
        go.store(true, std::memory_order_release);
        while (!done.load(std::memory_order_acquire)) std::this_thread::yield();
        counted += allocations_so_far() - before;
        leave = true;
        thread.join();
    }
    for (int* p : made) delete p;
    EXPECT_EQ(counted, std::uint64_t(generations * per_thread));
}

// Every row measured in-process carries the count. The lab's callback path
// allocates nothing per call: epoll's dedicated worker, the default design.
TEST(AllocationCounter, EveryInProcessRowCarriesIt) {
    Configuration config;
    config.backend = "epoll";
    config.target = TargetKind::dedicated;
    config.work = Work::parse("none");
    config.calls = 10000;
    config.warmup = 100;
    const RowResult handoff = run_configuration(config);
    ASSERT_EQ(handoff.status, RowStatus::ok) << handoff.reason;
    ASSERT_EQ(handoff.runs.size(), 1u);
    const Measurement& m = handoff.runs[0];
    EXPECT_EQ(m.allocations_known, allocation_counting_available());
    if (!m.allocations_known) {
        EXPECT_EQ(m.allocations, 0u);
        GTEST_SKIP() << allocation_counting_unavailable_reason();
    }
    std::printf("epoll dedicated, work none: %llu allocations in %llu calls\n",
                static_cast<unsigned long long>(m.allocations), static_cast<unsigned long long>(m.calls));
    EXPECT_LT(double(m.allocations) / double(m.calls), 1.0);

    const RowResult inline_row = run_configuration(Configuration::reference(RowKind::inline_calls, config));
    ASSERT_EQ(inline_row.status, RowStatus::ok) << inline_row.reason;
    EXPECT_TRUE(inline_row.runs[0].allocations_known);
    EXPECT_EQ(inline_row.runs[0].allocations, 0u) << "inline, work none";

    const RowResult floor_row = run_configuration(Configuration::reference(RowKind::floor, config));
    if (floor_row.status == RowStatus::unavailable) {
        std::printf("floor unavailable (%s): not checked\n", floor_row.reason.c_str());
        return;
    }
    ASSERT_EQ(floor_row.status, RowStatus::ok) << floor_row.reason;
    EXPECT_TRUE(floor_row.runs[0].allocations_known);
    EXPECT_EQ(floor_row.runs[0].allocations, 0u) << "floor";
}

}  // namespace
}  // namespace handoff
