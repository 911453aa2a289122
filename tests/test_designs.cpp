// Designs: the grammar, every preset on every backend and placement, and the
// lab worker's sleep gate under bursts separated by idle gaps.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "workers/designed_worker.hpp"
#include "handoff/backend.hpp"
#include "handoff/clocks.hpp"
#include "handoff/design.hpp"
#include "base/placement.hpp"
#include "run/runner.hpp"
#include "handoff/thread_registry.hpp"

namespace handoff {
namespace {

TEST(DesignSpec, PresetsExpandAndOverride) {
    EXPECT_EQ(parse_design("classic").describe(), "queue=mutex,wait=condvar,wake=always,loop-spin=0,batch=off");
    const Design gated = parse_design("futex-gated");
    EXPECT_EQ(gated.queue, Design::Queue::inplace);
    EXPECT_EQ(gated.wait, Design::Wait::futex);
    EXPECT_EQ(gated.wake, Design::Wake::gated);
    const Design park = parse_design("spin-park:5us");
    EXPECT_EQ(park.wait, Design::Wait::spin_park);
    EXPECT_EQ(park.worker_spin, std::chrono::microseconds(5));
    EXPECT_EQ(park.loop_spin_budget, std::chrono::microseconds(5));
    const Design mixed = parse_design("spin-park:2us,wake=always,queue=mutex,ring=msg-ring");
    EXPECT_EQ(mixed.wake, Design::Wake::always);
    EXPECT_EQ(mixed.queue, Design::Queue::mutex);
    EXPECT_EQ(mixed.ring, Design::Ring::msg_ring);
    EXPECT_EQ(mixed.name, "spin-park:2us,wake=always,queue=mutex,ring=msg-ring");
    const Design axes = parse_design("wait=adaptive,loop-spin=forever");
    EXPECT_EQ(axes.wait, Design::Wait::adaptive);
    EXPECT_EQ(axes.loop_spin, Design::LoopSpin::forever);
    EXPECT_EQ(parse_design("native").impl, Design::Impl::native);
    // describe() is itself a valid spec that means the same design.
    for (const DesignPreset& preset : design_presets()) {
        Design d = parse_design(preset.name);
        Design again = parse_design(d.describe());
        again.name = d.name;
        EXPECT_EQ(again, d) << preset.name;
    }
}

TEST(DesignSpec, RejectsWhatItCannotMean) {
    for (const char* bad : {"", "nope", "queue=ring", "wait=sleepy", "wait=spin-park:", "wait=spin-park:5",
                            "wake=sometimes", "loop-spin=fast", "queue=inline", "batch=maybe", "ring=pipe", "impl=magic",
                            "colour=blue", "classic,spin", "classic,=x", "spin-park:-1us"}) {
        EXPECT_THROW(parse_design(bad), std::invalid_argument) << bad;
    }
}

TEST(DesignSpec, DeferAndHoldRoundTripAndRefuseWhatWouldLoseAWake) {
    const Design d = parse_design("futex-gated,defer=200us,hold=300us");
    EXPECT_EQ(d.defer, std::chrono::microseconds(200));
    EXPECT_EQ(d.hold, std::chrono::microseconds(300));
    EXPECT_EQ(d.describe(), "queue=inplace,wait=futex,wake=gated,loop-spin=0,batch=on,defer=200us,hold=300us");
    Design again = parse_design(d.describe());
    again.name = d.name;
    EXPECT_EQ(again, d);
    EXPECT_EQ(parse_design("futex-gated,defer=0,hold=0").describe(), parse_design("futex-gated").describe());
    EXPECT_FALSE(parse_design("classic,hold=1ms").is_classic());  // the plain condvar worker cannot hold
    // defer without the gate: the loop would sleep unpublished and always-wake
    // completers do not look; hold where a side never sleeps: held calls would
    // wait forever (the worker spins, or the loop never goes to sleep).
    for (const char* bad : {"classic,defer=1ms", "futex-gated,wake=always,defer=1ms", "inplace,hold=1ms",
                            "spin,hold=1ms", "futex-gated,loop-spin=forever,hold=1ms", "futex-gated,defer=soon",
                            "futex-gated,hold=-1us"}) {
        EXPECT_THROW(parse_design(bad), std::invalid_argument) << bad;
    }
}

// --- Every preset x backend x placement, through the real runner.

struct Case {
    std::string backend;
    std::string design;
    std::string placement;
};

std::vector<Case> every_case() {
    std::vector<Case> all;
    for (const Backend* backend : all_backends()) {
        for (const DesignPreset& preset : design_presets()) {
            for (const char* placement : {"same", "split", "free"}) {
                all.push_back({std::string(backend->name), std::string(preset.name), placement});
            }
        }
    }
    return all;
}

std::string case_name(const testing::TestParamInfo<Case>& info) {
    std::string name = info.param.backend + "_" + info.param.design + "_" + info.param.placement;
    for (char& c : name) {
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
    }
    return name;
}

class EveryDesign : public testing::TestWithParam<Case> {};

// A row is ok with every call verified, or refused with a reason (a native
// design on a lab loop, a never-sleeping design pinned to one CPU); never a
// failure, never a hang.
TEST_P(EveryDesign, CompletesOrIsRefusedWithAReason) {
    const Case& c = GetParam();
    const Backend* backend = find_backend(c.backend);
    ASSERT_NE(backend, nullptr);
    if (auto reason = backend_unavailable_reason(*backend)) GTEST_SKIP() << *reason;
    const std::vector<int> online = online_cpus();
    if (c.placement == "split" && online.size() < 2) GTEST_SKIP() << "split needs two online CPUs";
    for (std::uint32_t inflight : {1u, 16u}) {
        Configuration config;
        config.backend = c.backend;
        config.target = TargetKind::dedicated;
        config.design = parse_design(c.design);
        config.placement = parse_placement(c.placement, online);
        config.work = Work{};
        config.calls = 1500;
        config.warmup = 100;
        config.inflight = inflight;
        const RowResult row = run_configuration(config);
        ASSERT_NE(row.status, RowStatus::failed) << row.reason;
        if (row.status == RowStatus::unavailable) {
            EXPECT_FALSE(row.reason.empty());
            return;
        }
        ASSERT_EQ(row.runs.size(), 1u);
        EXPECT_EQ(row.runs[0].calls, 1500u);
        // Every call timed, or (short calls) exactly those with seq % 8 == 0.
        std::uint64_t eighth = 0;
        for (std::uint64_t seq = config.warmup; seq < config.warmup + config.calls; ++seq) eighth += seq % 8 == 0;
        const std::uint64_t timed = row.runs[0].latency.count();
        EXPECT_TRUE(timed == 1500u || timed == eighth) << timed;
        EXPECT_EQ(row.runs[0].cpu_known_calls, timed);
        EXPECT_GE(row.runs[0].latency.max_ns(), row.runs[0].latency.percentile_ns(50));
        if (c.placement == "same") {
            EXPECT_EQ(row.runs[0].same_cpu_calls, timed);
        } else if (c.placement == "split") {
            EXPECT_EQ(row.runs[0].same_cpu_calls, 0u);
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Designs, EveryDesign, testing::ValuesIn(every_case()), case_name);

TEST(Designs, NativeIsRefusedOnTheLabLoops) {
    for (const char* name : {"epoll", "uring"}) {
        Configuration config;
        config.backend = name;
        config.design = parse_design("native");
        config.calls = 10;
        const RowResult row = run_configuration(config);
        EXPECT_EQ(row.status, RowStatus::unavailable) << name;
        EXPECT_NE(row.reason.find("native"), std::string::npos) << row.reason;
    }
}

// defer= and hold= need a loop that tells the worker when it sleeps: the
// others refuse them with a reason, before anything is built.
TEST(Designs, DeferAndHoldAreRefusedWhereTheLoopCannotCarryThem) {
    for (const Backend* backend : all_backends()) {
        for (const char* spec : {"futex-gated,defer=1ms", "futex-gated,hold=1ms"}) {
            const auto reason = design_unsupported_reason(*backend, parse_design(spec));
            const bool hooks = backend->name == "epoll" || backend->name == "uring" || backend->name == "uv";
            EXPECT_EQ(hooks, !reason.has_value()) << backend->name << " " << spec;
            EXPECT_EQ(backend->capabilities.sleep_hooks, hooks) << backend->name;
            if (reason) {
                EXPECT_NE(reason->find("defer= and hold="), std::string::npos) << *reason;
            }
        }
    }
    for (const Backend* backend : foreign_backends()) {
        EXPECT_TRUE(design_unsupported_reason(*backend, parse_design("futex-gated,defer=1ms"))) << backend->name;
    }
}

// --- The lab worker's gate, driven directly: the test thread plays the loop,
// sending bursts and then going idle for gaps of every length, so the worker
// parks and is woken again and again. A lost wake-up stalls a burst: the
// wait below times out and the test fails (under TSan too).

// Results arrive through complete(), or (queue=inplace) wait in the calls
// until the test thread polls the worker, woken by wake_for_poller().
class TestLoop final : public Loop {
public:
    void run() override {}
    void stop() override {}
    void request_stop() override {}
    void complete(Call& call) override {
        std::lock_guard lock(mutex_);
        count(call);
        done_.notify_one();
    }
    void set_poller(CompletionPoller* poller) override { poller_ = poller; }
    void wake_for_poller() override {
        std::lock_guard lock(mutex_);
        ++pokes_;
        done_.notify_one();
    }
    std::string wake_mechanism() const override { return "test"; }

    // The test thread (the loop thread of a polled worker).
    bool wait_for(std::uint64_t count_wanted) {
        std::unique_lock lock(mutex_);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        for (;;) {
            const std::uint64_t pokes_seen = pokes_;
            if (poller_ != nullptr) {
                for (Call* call = poller_->take_completions(); call != nullptr; call = call->next) count(*call);
            }
            if (completed_ >= count_wanted) return true;
            // About to sleep, with no timer: a worker holding calls back
            // (hold=) wakes its worker now, as it would in a real loop.
            if (poller_ != nullptr) poller_->before_sleep(0);
            // A result left after the take above comes with a poke (the
            // worker's loop-side gate is always open here): wait for one.
            if (!done_.wait_until(lock, deadline, [&] { return pokes_ != pokes_seen || completed_ >= count_wanted; })) {
                return false;
            }
        }
    }
    std::uint64_t wrong() {
        std::lock_guard lock(mutex_);
        return wrong_;
    }
    CompletionPoller* poller() { return poller_; }

private:
    void count(const Call& call) {
        ++completed_;
        if (call.status != CallStatus::ok || call.result != expected_result(call.arg)) ++wrong_;
    }

    std::mutex mutex_;
    std::condition_variable done_;
    CompletionPoller* poller_ = nullptr;
    std::uint64_t pokes_ = 0;
    std::uint64_t completed_ = 0;
    std::uint64_t wrong_ = 0;
};

class GateStress : public testing::TestWithParam<std::tuple<std::string, std::uint32_t>> {};

TEST_P(GateStress, NoLostWakeUpAcrossBurstsAndGaps) {
    const auto& [spec, window] = GetParam();
    const Design design = parse_design(spec);
    TestLoop loop;
    ThreadRegistry registry;
    const CallRunner runner(Work{}, registry);
    std::vector<Call> calls(window);
    std::mt19937 random(42);
    std::uniform_int_distribution<int> gap_kind(0, 3);
    std::uint64_t sent = 0;
    {
        DesignedWorker worker(loop, runner, design, window);
        for (int burst = 0; burst < 300; ++burst) {
            for (std::uint32_t i = 0; i < window; ++i) {
                Call& c = calls[i];
                c.slot = i;
                c.seq = sent;
                c.arg = argument_for(sent++);
                c.status = CallStatus::pending;
                worker.submit(c);
            }
            ASSERT_TRUE(loop.wait_for(sent)) << spec << ": burst " << burst << " lost a wake-up";
            // Gaps from none to ~2 ms: the worker is caught spinning, parking and parked.
            switch (gap_kind(random)) {
                case 0: break;
                case 1: std::this_thread::yield(); break;
                case 2: std::this_thread::sleep_for(std::chrono::microseconds(random() % 50)); break;
                default: std::this_thread::sleep_for(std::chrono::microseconds(100 + random() % 1900)); break;
            }
        }
    }
    EXPECT_EQ(loop.wrong(), 0u);
}

// hold=: a call submitted to the sleeping worker is not run until the loop
// goes to sleep with its next wake too far off (or none); then it is.
TEST(Designs, HoldKeepsCallsForTheLoopsNextSleep) {
    TestLoop loop;
    ThreadRegistry registry;
    const CallRunner runner(Work{}, registry);
    std::vector<Call> calls(2);
    {
        DesignedWorker worker(loop, runner, parse_design("futex-gated,queue=spsc,hold=10s"), 2);
        ASSERT_NE(loop.poller(), nullptr);  // attached for its before_sleep
        const auto send = [&](std::uint32_t slot, std::uint64_t seq) {
            Call& c = calls[slot];
            c.slot = slot;
            c.seq = seq;
            c.arg = argument_for(seq);
            c.status = CallStatus::pending;
            worker.submit(c);
        };
        send(0, 0);  // the worker may be awake yet: it finds this one itself
        ASSERT_TRUE(loop.wait_for(1));
        // Long enough for the worker to go back to sleep (it does not spin).
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        send(1, 1);
        loop.poller()->before_sleep(monotonic_ns() + 1'000'000);  // the loop wakes within the hold: kept
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        EXPECT_EQ(std::atomic_ref<std::uint8_t>(calls[1].executions).load(), 0u) << "a held call ran";
        ASSERT_TRUE(loop.wait_for(2));  // its before_sleep(0): no timer, so the worker wakes
    }
    EXPECT_EQ(loop.wrong(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Designs, GateStress,
                         testing::Combine(testing::Values("futex-gated", "eventfd", "adaptive", "spin-park:2us",
                                                          "queue=mutex,wait=condvar,wake=gated",
                                                          "queue=mutex,wait=futex,batch=on",
                                                          "futex-gated,queue=spsc", "eventfd,queue=spsc",
                                                          "adaptive,queue=spsc", "spin-park:2us,queue=spsc",
                                                          "futex-gated,hold=50us", "eventfd,queue=spsc,hold=1ms",
                                                          "queue=mutex,wait=futex,batch=on,hold=1ms"),
                                          testing::Values(1u, 64u)),
                         [](const auto& param_info) {
                             std::string name = std::get<0>(param_info.param) + "_" +
                                                std::to_string(std::get<1>(param_info.param));
                             for (char& c : name) {
                                 if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                             }
                             return name;
                         });

}  // namespace
}  // namespace handoff
