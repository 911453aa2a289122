// Shutdown with calls outstanding: a target destroyed while calls are queued
// and running, then its loop, hand every call back exactly once — run (ok) or
// cancelled unrun — on every backend x target x design; no hang, no leak
// (make asan), no race (make tsan).
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>

#include "handoff/thread_registry.hpp"
#include "backend_test_support.hpp"
#include "semantics_support.hpp"

namespace handoff {
namespace {

using testing_support::Shape;

class RecordingSink final : public CallSink {
public:
    void deliver(Call& call) override {
        ++times[call.seq];
        if (call.status == CallStatus::ok) {
            ok += call.result == expected_result(call.arg);
        } else if (call.status == CallStatus::cancelled) {
            ++cancelled;
        } else {
            ++wrong;
        }
        // A call that ran (ok) started; one handed back cancelled never did.
        unstarted_ran += call.status == CallStatus::ok && !backend_test_support::started(call);
        started_cancelled += call.status == CallStatus::cancelled && backend_test_support::started(call);
        if (stop_after != 0 && --stop_after == 0) loop->stop();
    }
    Loop* loop = nullptr;
    std::uint64_t stop_after = 0;
    std::map<std::uint64_t, int> times;
    std::uint64_t ok = 0, cancelled = 0, wrong = 0, unstarted_ran = 0, started_cancelled = 0;
};

class Shutdown : public testing_support::OnAvailableBackend<Shape> {
protected:
    // Submits `count` calls of 20 ms each, runs the loop until `run_until`
    // results came back or, without, waits until a call runs; then destroys
    // the target and then the loop.
    void submit_and_tear_down(std::uint32_t count, std::uint64_t run_until) {
        const Backend& backend = *find_backend(GetParam().backend);
        const Design design = GetParam().design.empty() ? Design{} : parse_design(GetParam().design);
        const Design* loop_design = GetParam().target == TargetKind::dedicated ? &design : nullptr;
        ThreadRegistry registry;
        // Cancellable only so the test sees which calls started (Call::state);
        // what a shutdown hands back unrun is the target's own decision.
        const CallRunner runner(Work::parse("sleep:20ms"), registry, /*cancellable=*/true);
        std::vector<Call> calls(count);
        RecordingSink sink;
        {
            std::unique_ptr<Loop> loop;
            std::unique_ptr<Target> target;
            // What the runner refuses from the backend's flags is not built here either.
            if (const auto refused = loop_design ? design_unsupported_reason(backend, *loop_design) : std::nullopt) {
                GTEST_SKIP() << *refused;
            }
            try {
                loop = backend.make_loop({.sink = &sink, .window = count, .design = loop_design});
                target = loop->make_target({.kind = GetParam().target,
                                            .design = loop_design,
                                            .threads = 4,
                                            .window = count,
                                            .runner = &runner});
            } catch (const Unsupported& e) {
                GTEST_SKIP() << e.what();
            }
            sink.loop = loop.get();
            for (std::uint32_t i = 0; i < count; ++i) {
                calls[i].slot = i;
                calls[i].seq = i;
                calls[i].arg = argument_for(i);
                target->submit(calls[i]);
            }
            if (run_until != 0) {
                sink.stop_after = run_until;
                loop->run();
            } else {
                // Some running, most queued.
                EXPECT_TRUE(backend_test_support::wait_until_started(calls, 1)) << "no call started";
            }
            target.reset();
        }
        ASSERT_EQ(sink.times.size(), count) << "a call never came back";
        for (const auto& [seq, times] : sink.times) EXPECT_EQ(times, 1) << "seq " << seq;
        EXPECT_EQ(sink.wrong, 0u);
        EXPECT_EQ(sink.ok + sink.cancelled, count);
        EXPECT_EQ(sink.unstarted_ran, 0u);
        EXPECT_EQ(sink.started_cancelled, 0u) << "a call that ran came back cancelled";
        EXPECT_GE(sink.ok, run_until);
        // 64 calls of 20 ms take 320 ms on a pool of 4, 1.28 s on one worker:
        // the target goes long before, and a teardown that let its queue
        // drain instead of cancelling it would cancel none.
        EXPECT_GE(sink.cancelled, 1u);
    }
};

TEST_P(Shutdown, QueuedAndRunningCallsComeBackOnceWithoutRunningTheLoop) { submit_and_tear_down(64, 0); }

TEST_P(Shutdown, QueuedAndRunningCallsComeBackOnceAfterTheLoopStopped) { submit_and_tear_down(64, 2); }

INSTANTIATE_TEST_SUITE_P(Semantics, Shutdown, testing::ValuesIn(testing_support::every_shape()),
                         testing_support::shape_name);

}  // namespace
}  // namespace handoff
