// The measured interval: every CPU column from the threads' own clocks, so
// CpuTotal is exact at any interval length and Other is never negative.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "handoff/clocks.hpp"
#include "measurement/measurement.hpp"
#include "handoff/work.hpp"

namespace handoff {
namespace {

using namespace std::chrono_literals;

// Two edges made by hand: loop thread 10, workers 11 (there at the start)
// and 12 (born inside), thread 13 no role (born inside).
struct Edges {
    IntervalEdge start, end;
    Edges() {
        start.loop_tid = end.loop_tid = 10;
        start.wall_ns = 1'000'000'000;
        end.wall_ns = 3'000'000'000;
        start.threads[10] = {0, {10, 1}};
        end.threads[10] = {500'000'000, {30, 2}};
        start.threads[11] = {100'000'000, {5, 5}};
        end.threads[11] = {600'000'000, {25, 6}};
        end.threads[12] = {300'000'000, {4, 0}};
        end.threads[13] = {200'000'000, {0, 0}};
        start.process_cpu_ns = 0;
        end.process_cpu_ns = 1'500'000'000;
    }
};

TEST(Measurement, ComputesEveryColumnFromTheThreadsClocks) {
    const Edges e;
    const Measurement m = measure_interval(e.start, e.end, {11, 12}, 1000);
    EXPECT_EQ(m.calls, 1000u);
    EXPECT_DOUBLE_EQ(m.wall_s, 2.0);
    EXPECT_DOUBLE_EQ(m.cpu_loop_s, 0.5);
    EXPECT_DOUBLE_EQ(m.cpu_worker_s, 0.8);  // 0.5 + 0.3 (born inside: from zero)
    EXPECT_DOUBLE_EQ(m.cpu_total_s, 1.5);   // every thread: 0.5 + 0.5 + 0.3 + 0.2
    EXPECT_DOUBLE_EQ(m.cpu_other_s(), 0.2);  // thread 13, which no role explains
    EXPECT_EQ(m.loop_switches.voluntary, 20u);
    EXPECT_EQ(m.loop_switches.involuntary, 1u);
    EXPECT_EQ(m.worker_switches.voluntary, 24u);
    EXPECT_EQ(m.worker_switches.involuntary, 1u);
    EXPECT_EQ(m.worker_threads, 2u);
    EXPECT_TRUE(m.cpu_total_caveat.empty()) << m.cpu_total_caveat;
}

TEST(Measurement, AWorkerThatExitedInsideIsAnError) {
    const Edges e;
    EXPECT_THROW(measure_interval(e.start, e.end, {11, 14}, 1), std::runtime_error);
}

TEST(Measurement, AThreadThatEndedInsideMakesCpuTotalSayItIsNotExact) {
    Edges e;
    e.start.threads[14] = {50'000'000, {0, 0}};  // gone at the end
    const Measurement m = measure_interval(e.start, e.end, {11, 12}, 1000);
    EXPECT_NE(m.cpu_total_caveat.find("1 thread(s) ended inside"), std::string::npos) << m.cpu_total_caveat;
}

TEST(Measurement, ProcessCpuNoThreadExplainsMakesCpuTotalSayItIsNotExact) {
    Edges e;
    // 5 s more than the threads' 1.5 s: far beyond what the clock's lag
    // allows for three threads at the start.
    e.end.process_cpu_ns = 6'500'000'000;
    const Measurement m = measure_interval(e.start, e.end, {11, 12}, 1000);
    EXPECT_NE(m.cpu_total_caveat.find("started and ended inside"), std::string::npos) << m.cpu_total_caveat;
}

TEST(Measurement, AReusedThreadIdCountsAsANewThread) {
    Edges e;
    e.start.threads[13] = {900'000'000, {0, 0}};  // a bigger reading than at the end
    const Measurement m = measure_interval(e.start, e.end, {11, 12}, 1000);
    EXPECT_DOUBLE_EQ(m.cpu_other_s(), 0.2);
}

// A thread spinning on another CPU is not brought up to date in the process
// CPU clock until a tick (4 ms here), so a process-clock CpuTotal over a
// millisecond interval misses most of it. Read from the threads' own clocks
// it must be there, whatever the interval's length.
TEST(Measurement, CpuTotalHoldsABusyThreadOverAnIntervalShorterThanATick) {
    std::atomic<bool> stop{false};
    std::atomic<pid_t> tid{0};
    std::thread busy([&] {
        tid = current_tid();
        while (!stop.load(std::memory_order_relaxed)) {
        }
    });
    while (tid == 0) std::this_thread::yield();
    std::this_thread::sleep_for(5ms);  // the spinner is running (on another CPU where there is one)
    double shortest_share = 1e9;
    for (int i = 0; i < 20; ++i) {
        const IntervalEdge start = open_interval();
        spin_for_thread_cpu(500us);  // this thread is the "loop": busy too
        const IntervalEdge end = close_interval(start, {tid});
        const Measurement m = measure_interval(start, end, {tid}, 1);
        // Never below the parts: the parts are among the threads summed.
        EXPECT_GE(m.cpu_total_s, m.cpu_loop_s + m.cpu_worker_s - 1e-9);  // doubles of whole ns
        EXPECT_GE(m.cpu_other_s(), 0.0);
        shortest_share = std::min(shortest_share, m.cpu_total_s / (m.cpu_loop_s + m.cpu_worker_s));
    }
    stop = true;
    busy.join();
    EXPECT_GE(shortest_share, 0.99);
}

// A busy thread that is neither the loop nor a worker is CPU no role
// explains: it must appear in Other, not vanish and not land in a role.
TEST(Measurement, ABusyThreadWithNoRoleShowsInOther) {
    std::atomic<bool> go{false}, spun{false}, stop{false};
    std::atomic<pid_t> tid{0};
    std::thread stranger([&] {
        tid = current_tid();
        while (!go) std::this_thread::sleep_for(100us);
        spin_for_thread_cpu(20ms);  // 20 ms of its own CPU, all after the start edge
        spun = true;
        while (!stop) std::this_thread::sleep_for(1ms);
    });
    while (tid == 0) std::this_thread::yield();
    const IntervalEdge start = open_interval();
    go = true;
    // The loop waits (sleeps) until the stranger has spun its 20 ms inside
    // the interval (its CPU before the edge, waiting for go, does not count).
    while (!spun) std::this_thread::sleep_for(1ms);
    const IntervalEdge end = close_interval(start, {});
    stop = true;
    stranger.join();
    const Measurement m = measure_interval(start, end, {}, 1);
    EXPECT_GE(m.cpu_other_s(), 0.019);  // its 20 ms, less what it spun before the start edge (none)
    EXPECT_EQ(m.cpu_worker_s, 0.0);
    EXPECT_LT(m.cpu_loop_s, 0.019);
}

}  // namespace
}  // namespace handoff
