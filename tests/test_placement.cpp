// Placement: the kernel's CPU-list format, --placement and --pin parsing with
// their messages, and pinning real threads.
#include <gtest/gtest.h>

#include <sched.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/placement.hpp"

namespace handoff {
namespace {

using Cpus = std::vector<int>;

// The message std::invalid_argument carries, or "" when nothing is thrown.
template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const std::invalid_argument& e) {
        return e.what();
    }
    return "";
}

TEST(CpuList, ParsesTheKernelFormat) {
    EXPECT_EQ(parse_cpu_list("0"), (Cpus{0}));
    EXPECT_EQ(parse_cpu_list("0-1"), (Cpus{0, 1}));
    EXPECT_EQ(parse_cpu_list("0-3,8,10-11"), (Cpus{0, 1, 2, 3, 8, 10, 11}));
    EXPECT_EQ(parse_cpu_list("0-1\n"), (Cpus{0, 1}));
    EXPECT_EQ(parse_cpu_list("  4,6-7 \t\n"), (Cpus{4, 6, 7}));
    EXPECT_EQ(parse_cpu_list("3,1,1-2"), (Cpus{1, 2, 3}));  // sorted, no duplicates
    EXPECT_EQ(parse_cpu_list("5-5"), (Cpus{5}));
}

TEST(CpuList, RejectsMalformed) {
    for (const char* bad : {"", "\n", "a", "1-", "-1", "3-1", "0,,1", "0,", ",0", "1 2", "0-1-2", "1x",
                            "0+1", "99999999999", "0-2000000000"}) {
        const std::string message = error_of([&] { parse_cpu_list(bad); });
        EXPECT_NE(message, "") << '"' << bad << '"';
        EXPECT_NE(message.find("expected numbers and ranges"), std::string::npos) << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
}

TEST(CpuList, FormatsTheShortestSpelling) {
    EXPECT_EQ(format_cpu_list({0, 1, 4}), "0-1,4");
    EXPECT_EQ(format_cpu_list({0}), "0");
    EXPECT_EQ(format_cpu_list({}), "");
    EXPECT_EQ(format_cpu_list({6, 0, 1, 2, 7, 10}), "0-2,6-7,10");
    EXPECT_EQ(format_cpu_list({0, 1, 4}, '+'), "0-1+4");
    for (const char* text : {"0", "0-1", "0-3,8,10-11"}) EXPECT_EQ(format_cpu_list(parse_cpu_list(text)), text);
}

TEST(CpuList, OnlineCpusIncludeTheOneWeRunOn) {
    const Cpus online = online_cpus();
    ASSERT_FALSE(online.empty());
    EXPECT_TRUE(std::is_sorted(online.begin(), online.end()));
    EXPECT_NE(std::find(online.begin(), online.end(), sched_getcpu()), online.end());
}

TEST(Placement, Shorthands) {
    const Placement free = parse_placement("free", {0, 1});
    EXPECT_EQ(free.name, "free");
    EXPECT_EQ(free.loop_cpu, -1);
    EXPECT_EQ(free.worker_cpu, -1);
    EXPECT_TRUE(free.pool_cpus.empty());
    EXPECT_EQ(describe(free), "free");
    EXPECT_EQ(pin_spec(free), "");

    const Placement same = parse_placement("same", {0, 1});
    EXPECT_EQ(same.loop_cpu, 0);
    EXPECT_EQ(same.worker_cpu, 0);
    EXPECT_EQ(same.pool_cpus, (Cpus{0}));
    EXPECT_EQ(describe(same), "same (loop 0, worker 0, pool 0)");

    const Placement split = parse_placement("split", {0, 1});
    EXPECT_EQ(split.loop_cpu, 0);
    EXPECT_EQ(split.worker_cpu, 1);
    EXPECT_EQ(split.pool_cpus, (Cpus{1}));
    EXPECT_EQ(describe(split), "split (loop 0, worker 1, pool 1)");
    EXPECT_EQ(pin_spec(split), "loop=0,worker=1,pool=1");

    // First online CPUs, whatever their numbers; the pool gets all but the loop's.
    const Placement wide = parse_placement("split", {2, 3, 5, 6});
    EXPECT_EQ(wide.loop_cpu, 2);
    EXPECT_EQ(wide.worker_cpu, 3);
    EXPECT_EQ(wide.pool_cpus, (Cpus{3, 5, 6}));
    EXPECT_EQ(describe(wide), "split (loop 2, worker 3, pool 3+5-6)");
}

TEST(Placement, OneCpu) {
    EXPECT_EQ(parse_placement("free", {0}), Placement{});
    const Placement same = parse_placement("same", {0});
    EXPECT_EQ(same.loop_cpu, 0);
    EXPECT_EQ(same.worker_cpu, 0);
    EXPECT_EQ(error_of([] { parse_placement("split", {0}); }), "split needs two online CPUs; online CPUs: 0");
}

TEST(Placement, UnknownShorthand) {
    EXPECT_EQ(error_of([] { parse_placement("apart", {0, 1}); }),
              "unknown placement 'apart': expected free, same or split");
    EXPECT_NE(error_of([] { parse_placement("pinned", {0, 1}); }), "");
    EXPECT_NE(error_of([] { parse_placement("", {0, 1}); }), "");
}

TEST(Pin, Valid) {
    const Cpus online{0, 1};
    const Placement both = parse_pin("loop=0,worker=1", online);
    EXPECT_EQ(both.name, "pinned");
    EXPECT_EQ(both.loop_cpu, 0);
    EXPECT_EQ(both.worker_cpu, 1);
    EXPECT_TRUE(both.pool_cpus.empty());
    EXPECT_EQ(describe(both), "pinned (loop 0, worker 1)");

    EXPECT_EQ(parse_pin("loop=0,worker=1,pool=0-1", online).pool_cpus, (Cpus{0, 1}));
    EXPECT_EQ(parse_pin("pool=1+0", online).pool_cpus, (Cpus{0, 1}));
    EXPECT_EQ(parse_pin("pool=1", online).pool_cpus, (Cpus{1}));
    EXPECT_EQ(parse_pin("worker=1,loop=1", online).loop_cpu, 1);  // any order

    const Placement only_worker = parse_pin("worker=1", online);
    EXPECT_EQ(only_worker.loop_cpu, -1);
    EXPECT_EQ(describe(only_worker), "pinned (worker 1)");

    const Cpus wide{0, 1, 2, 3, 4, 8};
    const Placement p = parse_pin("loop=8,worker=3,pool=0-2+4", wide);
    EXPECT_EQ(p.pool_cpus, (Cpus{0, 1, 2, 4}));
    EXPECT_EQ(describe(p), "pinned (loop 8, worker 3, pool 0-2+4)");
    EXPECT_EQ(pin_spec(p), "loop=8,worker=3,pool=0-2+4");
    EXPECT_EQ(parse_pin(pin_spec(p), wide), p);
}

TEST(Pin, Invalid) {
    const Cpus online{0, 1};
    const auto rejects = [&](const char* spec, const char* fragment) {
        const std::string message = error_of([&] { parse_pin(spec, online); });
        EXPECT_NE(message.find(fragment), std::string::npos) << spec << " -> " << message;
        EXPECT_EQ(message.find('\n'), std::string::npos) << message;
        // Every syntax error names what is allowed.
        EXPECT_NE(message.find("loop=CPU,worker=CPU,pool=CPUS"), std::string::npos) << message;
    };
    rejects("", "nothing to pin");
    rejects("cpu=0", "unknown key 'cpu'");
    rejects("loop=0,Loop=1", "unknown key 'Loop'");
    rejects("loop=0,loop=1", "'loop' is given twice");
    rejects("pool=0,pool=1", "'pool' is given twice");
    rejects("loop=a", "'a' is not a CPU number");
    rejects("loop=1x", "'1x' is not a CPU number");
    rejects("loop=", "a CPU number is missing");
    rejects("loop=-1", "CPU numbers are not negative");
    rejects("worker=+1", "is not a CPU number");
    rejects("loop", "'loop' is not KEY=VALUE");
    rejects("loop=0,", "'' is not KEY=VALUE");
    rejects("loop=0,worker=1,pool=0,1", "list pool CPUs with +");
    rejects("pool=1-0", "runs backwards");
    rejects("pool=0++1", "empty item");
    rejects("pool=-1", "CPU numbers are not negative");
    rejects("loop=0 ,worker=1", "is not a CPU number");
    rejects("loop=999999999999", "past the largest CPU number");
}

TEST(Pin, OfflineCpuListsTheOnlineOnes) {
    const Cpus online{0, 1};
    EXPECT_EQ(error_of([&] { parse_pin("loop=5,worker=1", online); }), "CPU 5 is not online; online CPUs: 0-1");
    EXPECT_EQ(error_of([&] { parse_pin("loop=0,worker=2", online); }), "CPU 2 is not online; online CPUs: 0-1");
    EXPECT_EQ(error_of([&] { parse_pin("pool=0-3", online); }), "CPU 2 is not online; online CPUs: 0-1");
    EXPECT_EQ(error_of([&] { parse_pin("worker=1", {0, 2, 3, 7}); }),
              "CPU 1 is not online; online CPUs: 0,2-3,7");
}

// Pins a fresh thread (so the test's own thread keeps its mask) and reports
// where it ended up.
struct PinnedRun {
    bool ok = false;
    std::string error;
    int cpu = -1;
    Cpus mask;
};

template <typename Pin>
PinnedRun run_pinned(Pin pin) {
    PinnedRun run;
    std::thread thread([&] {
        run.ok = pin(&run.error);
        // The kernel migrates before sched_setaffinity returns; the yields only
        // give a slow hypervisor a chance if it did not.
        for (int i = 0; i < 1000; ++i) {
            run.cpu = sched_getcpu();
            run.mask = current_thread_affinity();
            if (run.mask.size() != 1 || run.cpu == run.mask[0]) break;
            std::this_thread::yield();
        }
    });
    thread.join();
    return run;
}

TEST(Pinning, EachOnlineCpu) {
    for (const int cpu : online_cpus()) {
        const PinnedRun run = run_pinned([cpu](std::string* error) { return pin_current_thread(cpu, error); });
        ASSERT_TRUE(run.ok) << run.error;
        EXPECT_EQ(run.cpu, cpu);
        EXPECT_EQ(run.mask, (Cpus{cpu}));
    }
}

TEST(Pinning, ToASet) {
    const Cpus online = online_cpus();
    const PinnedRun run =
        run_pinned([&](std::string* error) { return pin_current_thread_to_set(online, error); });
    ASSERT_TRUE(run.ok) << run.error;
    EXPECT_EQ(run.mask, online);
    EXPECT_NE(std::find(online.begin(), online.end(), run.cpu), online.end());

    const int last = online.back();
    const PinnedRun one = run_pinned([&](std::string* error) { return pin_current_thread_to_set({last}, error); });
    ASSERT_TRUE(one.ok) << one.error;
    EXPECT_EQ(one.mask, (Cpus{last}));
    EXPECT_EQ(one.cpu, last);
}

TEST(Pinning, NothingToPinLeavesTheMaskAlone) {
    const Cpus before = current_thread_affinity();
    std::string error = "untouched";
    EXPECT_TRUE(pin_current_thread(-1, &error));
    EXPECT_TRUE(pin_current_thread_to_set({}, &error));
    EXPECT_EQ(error, "untouched");
    EXPECT_EQ(current_thread_affinity(), before);
}

TEST(Pinning, FailureCarriesStrerror) {
    // CPU 4000 exists on no machine this runs on: the kernel says EINVAL.
    const PinnedRun run = run_pinned([](std::string* error) { return pin_current_thread(4000, error); });
    EXPECT_FALSE(run.ok);
    EXPECT_EQ(run.error, "cannot pin to CPU 4000: Invalid argument");
    EXPECT_EQ(run.mask, current_thread_affinity());  // unchanged: as inherited from this thread

    std::string error;
    EXPECT_FALSE(pin_current_thread(-2, &error));
    EXPECT_EQ(error, "cannot pin to CPU -2: not a CPU number");
    EXPECT_FALSE(pin_current_thread_to_set({0, 70000}, &error));
    EXPECT_NE(error.find("not a CPU number"), std::string::npos) << error;
    EXPECT_FALSE(pin_current_thread(4000));  // no error string wanted
}

}  // namespace
}  // namespace handoff
