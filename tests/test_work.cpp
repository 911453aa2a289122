// Work, durations, the runner and the awaiting side's checks.
#include <gtest/gtest.h>

#include <stdexcept>
#include <thread>

#include "run/call_window.hpp"
#include "handoff/clocks.hpp"
#include "base/duration.hpp"
#include "measurement/measurement.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"

namespace handoff {
namespace {

using namespace std::chrono_literals;

TEST(Duration, ParsesEveryUnit) {
    EXPECT_EQ(parse_duration("250ns"), 250ns);
    EXPECT_EQ(parse_duration("2us"), 2us);
    EXPECT_EQ(parse_duration("1.5ms"), 1500us);
    EXPECT_EQ(parse_duration("3s"), 3s);
    EXPECT_EQ(parse_duration("0us"), 0ns);
}

TEST(Duration, RejectsMalformed) {
    for (const char* bad : {"", "5", "us", "-1ms", "+1ms", "1.5ns", "1e99s", "2 us", "2usx", "nan s", "2hours"}) {
        EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
    }
}

TEST(Duration, FormatsTheShortestExactSpelling) {
    EXPECT_EQ(format_duration(2us), "2us");
    EXPECT_EQ(format_duration(1500us), "1500us");
    EXPECT_EQ(format_duration(3s), "3s");
    EXPECT_EQ(format_duration(0ns), "0ns");
    EXPECT_EQ(format_per_call(812e-9), "812 ns");
    EXPECT_EQ(format_per_call(2.41e-6), "2.41 us");
}

TEST(Work, ParsesAndSpellsEveryKind) {
    for (const char* spec : {"none", "sleep0", "yield", "syscall", "spin:200us", "sleep:1ms"}) {
        EXPECT_EQ(Work::parse(spec).spec(), spec);
    }
    EXPECT_THROW(Work::parse("spin"), std::invalid_argument);
    EXPECT_THROW(Work::parse("spin:"), std::invalid_argument);
    EXPECT_THROW(Work::parse("nap"), std::invalid_argument);
}

TEST(Work, EveryKindReturnsTheExpectedResult) {
    for (const char* spec : {"none", "sleep0", "yield", "syscall", "spin:5us", "sleep:10us"}) {
        const Work work = Work::parse(spec);
        for (std::uint64_t seq = 0; seq < 20; ++seq) {
            EXPECT_EQ(work.perform(argument_for(seq)), expected_result(argument_for(seq))) << spec;
        }
    }
    EXPECT_NE(argument_for(1), argument_for(2));
    EXPECT_NE(expected_result(1), expected_result(2));
}

TEST(Work, SpinUsesItsBudgetOfThreadCpu) {
    const std::int64_t before = this_thread_cpu_ns();
    spin_for_thread_cpu(20ms);
    const std::int64_t used = this_thread_cpu_ns() - before;
    EXPECT_GE(used, 20'000'000);
    EXPECT_LT(used, 40'000'000);  // generous: one burst of overshoot at most
}

TEST(CallRunner, RunsRegistersAndCapturesExceptions) {
    ThreadRegistry registry;
    const CallRunner runner(Work{}, registry);
    Call call;
    call.arg = 42;
    call.loop_cpu = 0;  // a sampled call: the worker notes its CPU
    std::thread([&] { runner.run(call); }).join();
    EXPECT_EQ(call.status, CallStatus::ok);
    EXPECT_EQ(call.result, expected_result(42));
    EXPECT_GE(call.worker_cpu, 0);
    Call unsampled;  // loop_cpu -1: no sched_getcpu on the worker either
    unsampled.arg = 42;
    std::thread([&] { runner.run(unsampled); }).join();
    EXPECT_EQ(unsampled.worker_cpu, -1);
    EXPECT_EQ(unsampled.result, expected_result(42));
    ASSERT_EQ(registry.threads().size(), 2u);
    EXPECT_NE(registry.threads()[0], current_tid());
    runner.run(call);
    runner.run(call);
    EXPECT_EQ(registry.threads().size(), 3u);  // this thread once, however many calls
}

TEST(CallWindow, SettlesOnceAndCatchesEveryFault) {
    using Outcome = CallWindow::Outcome;
    const Work work;
    CallWindow window(2, work);
    Call& a = *window.prepare(7, 0);
    EXPECT_EQ(window.in_flight(), 1u);
    a.result = expected_result(a.arg);
    a.executions = 1;  // what the worker's CallRunner counts
    a.status = CallStatus::ok;
    EXPECT_EQ(window.settle(a), Outcome::ok);
    EXPECT_EQ(window.in_flight(), 0u);
    EXPECT_EQ(window.settle(a), Outcome::error);  // twice
    EXPECT_NE(window.first_error().find("twice"), std::string::npos);

    Call& b = *window.prepare(8, 0);
    b.result = expected_result(b.arg) ^ 1;
    b.executions = 1;
    b.status = CallStatus::ok;
    EXPECT_EQ(window.settle(b), Outcome::error);

    Call& c = *window.prepare(9, 0);
    c.executions = 1;
    c.status = CallStatus::failed;
    c.error = std::make_exception_ptr(std::runtime_error("boom"));
    EXPECT_EQ(window.settle(c), Outcome::error);  // fail:P did not pick it

    Call stray;
    EXPECT_EQ(window.settle(stray), Outcome::error);
    EXPECT_EQ(window.errors(), 4u);
}

// The right value is not enough: the work must have run exactly once (the
// CallRunner counts in the call), and a call handed back cancelled not at all.
TEST(CallWindow, AcceptsOnlyACallWhoseWorkRanExactlyOnce) {
    using Outcome = CallWindow::Outcome;
    const Work work;
    CallWindow window(1, work);
    const auto answered = [&](std::uint64_t seq, std::uint8_t executions, CallStatus status) {
        Call& call = *window.prepare(seq, 0);
        call.result = expected_result(call.arg);
        call.executions = executions;
        call.status = status;
        return window.settle(call);
    };
    EXPECT_EQ(answered(1, 0, CallStatus::ok), Outcome::error);
    EXPECT_NE(window.first_error().find("call 1 came back with a result, but its work never ran"), std::string::npos)
        << window.first_error();
    EXPECT_EQ(answered(2, 2, CallStatus::ok), Outcome::error);
    EXPECT_EQ(answered(3, 1, CallStatus::cancelled), Outcome::error);  // handed back unrun, but it ran
    EXPECT_EQ(answered(4, 0, CallStatus::cancelled), Outcome::shut_down);
    EXPECT_EQ(answered(5, 1, CallStatus::ok), Outcome::ok);
    EXPECT_EQ(window.errors(), 3u);
}

TEST(CallRunner, CountsEveryExecutionInTheCall) {
    ThreadRegistry registry;
    const CallRunner runner(Work{}, registry);
    Call call;
    call.arg = 7;
    runner.run(call);
    EXPECT_EQ(call.executions, 1);
    runner.run(call);
    EXPECT_EQ(call.executions, 2);
    call.executions = 255;
    runner.run(call);
    EXPECT_EQ(call.executions, 255);  // saturates: never reads as 0 or 1 again
}

// A timed-out call keeps its slot until it comes back; the spare slot carries
// the next call meanwhile; a cancelled one comes back unrun, a running one late.
TEST(CallWindow, TimedOutCallsHoldTheirSlotUntilTheyComeBack) {
    using Outcome = CallWindow::Outcome;
    const Work work;
    CallWindow window(2, work);
    Call& a = *window.prepare(0, 100);
    std::uint64_t timed_out = 0, cancelled = 0;
    window.expire(100, 0, timed_out, cancelled);
    EXPECT_EQ(timed_out, 1u);
    EXPECT_EQ(cancelled, 1u);  // still queued: the cancel won
    EXPECT_EQ(window.in_flight(), 0u);
    EXPECT_EQ(window.abandoned(), 1u);
    Call& b = *window.prepare(1, 200);
    EXPECT_NE(&a, &b);
    EXPECT_EQ(window.prepare(2, 200), nullptr);  // every slot held
    ASSERT_TRUE(b.try_start());                  // b runs...
    window.expire(200, 0, timed_out, cancelled);
    EXPECT_EQ(timed_out, 2u);
    EXPECT_EQ(cancelled, 1u);  // ...so its cancel lost
    b.result = expected_result(b.arg);
    b.executions = 1;
    b.status = CallStatus::ok;
    EXPECT_EQ(window.settle(a), Outcome::reclaimed);
    EXPECT_EQ(window.settle(b), Outcome::late);
    EXPECT_EQ(window.settle(b), Outcome::error);  // never twice
    EXPECT_EQ(window.abandoned(), 0u);
    EXPECT_EQ(window.errors(), 1u);
}

TEST(CallRunner, ACancelledCallNeverRuns) {
    ThreadRegistry registry;
    const CallRunner runner(Work{}, registry, true);
    Call call;
    call.arg = 42;
    ASSERT_TRUE(call.try_cancel());
    runner.run(call);
    EXPECT_EQ(call.status, CallStatus::pending);
    EXPECT_EQ(call.worker_cpu, -1);
    EXPECT_TRUE(call.was_cancelled());
    Call started;
    started.arg = 1;
    runner.run(started);
    EXPECT_EQ(started.status, CallStatus::ok);
    EXPECT_FALSE(started.try_cancel());
}

TEST(Clocks, ReadsAnotherThreadsCpuClock) {
    std::atomic<pid_t> tid{0};
    std::atomic<bool> done{false};
    std::thread spinner([&] {
        tid = current_tid();
        spin_for_thread_cpu(30ms);
        done = true;
        while (done) std::this_thread::yield();
    });
    while (!done) std::this_thread::yield();
    const auto cpu = thread_cpu_ns(tid);
    const auto switches = thread_switches(tid);
    done = false;
    spinner.join();
    ASSERT_TRUE(cpu.has_value());
    EXPECT_GE(*cpu, 30'000'000);
    EXPECT_TRUE(switches.has_value());
}

}  // namespace
}  // namespace handoff
