// Pool rows like for like: for every backend's pool, the run's workers are
// every thread the pool owns, registered (and pinned) before the measured
// interval, whether or not it runs a call; CpuWorker, the worker switches and
// worker_threads cover exactly those threads.
//
// libuv's pool is process-global and sized once per process: its targets here
// use the default size (4, as every other test in this binary does), or what
// UV_THREADPOOL_SIZE says when the suite runs with it set.
#include <gtest/gtest.h>

#include <dirent.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iterator>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "handoff/backend.hpp"
#include "handoff/clocks.hpp"
#include "handoff/loop.hpp"
#include "base/placement.hpp"
#include "run/runner.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"

namespace handoff {
namespace {

// The pool size each backend's pool target really has when asked for `asked`.
unsigned pool_size(const Backend& backend, unsigned asked) {
    if (std::string(backend.name) != "uv") return asked;
    // libuv reads UV_THREADPOOL_SIZE itself (atoi, 0 -> 1, capped at 1024).
    if (const char* env = std::getenv("UV_THREADPOOL_SIZE")) {
        const auto n = static_cast<unsigned>(std::atoi(env));
        return n == 0 ? 1 : std::min(n, 1024u);
    }
    return asked;
}

// The sizes a backend's pool can be tried with in one process: libuv's is
// fixed at first use, so only the default there.
std::vector<unsigned> sizes_for(const Backend& backend) {
    if (std::string(backend.name) == "uv") return {4};
    return {1, 3, 4};
}

std::set<pid_t> process_threads() {
    std::set<pid_t> tids;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/task"), closedir);
    if (!dir) return tids;
    while (const dirent* entry = readdir(dir.get())) {
        if (const pid_t tid = pid_t(std::atoi(entry->d_name)); tid > 0) tids.insert(tid);
    }
    return tids;
}

std::set<pid_t> as_set(const std::vector<pid_t>& tids) { return {tids.begin(), tids.end()}; }

std::vector<int> affinity_of(pid_t tid) {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::vector<int> cpus;
    if (sched_getaffinity(tid, sizeof set, &set) != 0) return cpus;
    for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
        if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
    }
    return cpus;
}

Configuration pool_config(const Backend& backend, const std::string& work, std::uint64_t calls,
                          std::uint64_t warmup, unsigned threads, std::uint32_t inflight = 1) {
    Configuration config;
    config.backend = backend.name;
    config.target = TargetKind::pool;
    config.work = Work::parse(work);
    config.calls = calls;
    config.warmup = warmup;
    config.threads = threads;
    config.inflight = inflight;
    return config;
}

// Every available backend, or a skip naming why there is none to test.
template <class Body>
void for_each_available_backend(Body body) {
    unsigned tested = 0;
    for (const Backend* backend : all_backends()) {
        if (auto reason = backend_unavailable_reason(*backend)) {
            std::printf("skipped %s: %s\n", std::string(backend->name).c_str(), reason->c_str());
            continue;
        }
        SCOPED_TRACE(testing::Message() << "backend " << backend->name);
        body(*backend);
        ++tested;
    }
    EXPECT_GE(tested, 1u);
}

// No sink is ever called: these targets get no calls.
struct NoCalls final : CallSink {
    void deliver(Call&) override { ADD_FAILURE() << "a call came back, none was sent"; }
};

// With one call and no warm-up at most one pool thread can run a call: every
// other one is idle, and still a worker.
TEST(PoolAccounting, EveryPoolThreadIsAWorkerEvenIdle) {
    for_each_available_backend([](const Backend& backend) {
        for (unsigned threads : sizes_for(backend)) {
            SCOPED_TRACE(testing::Message() << threads << " threads");
            for (std::uint64_t calls : {1u, 3u}) {
                const RowResult row = run_configuration(pool_config(backend, "none", calls, 0, threads));
                ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
                ASSERT_EQ(row.runs.size(), 1u);
                const Measurement& m = row.runs[0];
                EXPECT_EQ(m.calls, calls);
                EXPECT_EQ(m.worker_threads, pool_size(backend, threads)) << row.mechanism;
                EXPECT_GE(m.cpu_worker_s, 0.0);
            }
        }
    });
}

// The registered threads are exactly the pool's: for a pool the target
// creates, the threads that appear with it and are gone once it is; for
// libuv's global pool, the same threads for every target, none of them this
// one. Each is pinned by the registry before make_target returns.
TEST(PoolAccounting, RegistersExactlyThePoolsThreadsPinnedBeforeAnyCall) {
    const std::vector<int> process_mask = current_thread_affinity();
    ASSERT_FALSE(process_mask.empty());
    const std::vector<int> one_cpu = {process_mask.front()};
    for_each_available_backend([&](const Backend& backend) {
        const bool global_pool = std::string(backend.name) == "uv";
        std::set<pid_t> previous;  // uv: the pool the previous target registered
        for (unsigned threads : sizes_for(backend)) {
            for (int round = 0; round < 2; ++round) {
                SCOPED_TRACE(testing::Message() << threads << " threads, round " << round);
                // Pinned to one CPU in the first round; the second puts them
                // back on the process's mask (libuv's pool outlives this test).
                const std::vector<int>& cpus = round == 0 ? one_cpu : process_mask;
                ThreadRegistry registry(cpus);
                const CallRunner runner(Work{}, registry);
                NoCalls sink;
                auto loop = backend.make_loop({.sink = &sink, .window = 4});
                const std::set<pid_t> before = process_threads();
                auto target = loop->make_target(
                    {.kind = TargetKind::pool, .threads = threads, .window = 4, .runner = &runner});
                const std::set<pid_t> after = process_threads();
                const std::set<pid_t> registered = as_set(registry.threads());
                EXPECT_EQ(registered.size(), pool_size(backend, threads)) << target->mechanism();
                EXPECT_EQ(registered.count(current_tid()), 0u);
                EXPECT_TRUE(registry.pin_error().empty()) << registry.pin_error();
                for (const pid_t tid : registered) {
                    EXPECT_EQ(after.count(tid), 1u) << "registered thread " << tid << " is not alive";
                    EXPECT_EQ(affinity_of(tid), cpus) << "thread " << tid;
                }
                std::set<pid_t> appeared;
                std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                                    std::inserter(appeared, appeared.end()));
                if (global_pool) {
                    // Created by this target (the first pool of the process) or earlier.
                    if (!appeared.empty()) {
                        EXPECT_EQ(registered, appeared);
                    }
                    if (!previous.empty()) {
                        EXPECT_EQ(registered, previous);
                    }
                    previous = registered;
                    target.reset();
                } else {
                    EXPECT_EQ(registered, appeared);
                    target.reset();  // joins the pool's threads
                    // A joined thread's /proc entry goes a moment after the
                    // join returns (the kernel clears the joiner's futex
                    // before it reaps the task): wait for it, generously.
                    const auto outlived = [&] {
                        const std::set<pid_t> now = process_threads();
                        return std::any_of(registered.begin(), registered.end(),
                                           [&](pid_t tid) { return now.count(tid) != 0; });
                    };
                    for (int i = 0; i < 1000 && outlived(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
                    EXPECT_FALSE(outlived()) << "a pool thread outlived its pool by a second";
                }
            }
        }
    });
}

// spin:200us: every call burns 200 us of its worker's own CPU clock inside the
// interval, so CpuWorker is at least the spun total, whichever threads ran
// them; and no more than the process used.
TEST(PoolAccounting, AccountsSpunCallsToTheWorkers) {
    constexpr std::uint64_t calls = 100;
    constexpr double spun_s = calls * 200e-6;
    for_each_available_backend([&](const Backend& backend) {
        const unsigned threads = sizes_for(backend).back();
        const RowResult row = run_configuration(pool_config(backend, "spin:200us", calls, 10, threads, threads));
        ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
        const Measurement& m = row.runs.at(0);
        EXPECT_EQ(m.worker_threads, pool_size(backend, threads));
        EXPECT_GE(m.cpu_worker_s, spun_s) << "CpuWorker " << m.cpu_worker_s << " s";
        EXPECT_LE(m.cpu_worker_s, m.cpu_total_s + 0.01);
        EXPECT_LT(m.cpu_worker_s, 10 * spun_s + 1.0);  // a sanity bound, not a timing one
    });
}

// sleep:1ms blocks in every call: each is at least one voluntary switch of the
// pool thread that ran it, and all of those threads are counted.
TEST(PoolAccounting, CountsTheSwitchesOfThePoolThreads) {
    constexpr std::uint64_t calls = 40;
    for_each_available_backend([&](const Backend& backend) {
        const unsigned threads = sizes_for(backend).back();
        const RowResult row = run_configuration(pool_config(backend, "sleep:1ms", calls, 4, threads, threads));
        ASSERT_EQ(row.status, RowStatus::ok) << row.reason;
        const Measurement& m = row.runs.at(0);
        EXPECT_EQ(m.worker_threads, pool_size(backend, threads));
        EXPECT_GE(m.worker_switches.voluntary, calls);
    });
}

// The barrier is bounded: a pool with fewer threads than said fails with an
// error naming it, and the tasks it could not place do nothing later.
TEST(PoolAccounting, RegistrationGivesUpOnAPoolSmallerThanSaid) {
    ThreadRegistry registry;
    std::vector<std::thread> pool;
    std::vector<std::function<void()>> left;  // posted but never run: a pool of 1
    const auto post = [&](std::function<void()> task) {
        if (pool.empty()) {
            pool.emplace_back(std::move(task));
        } else {
            left.push_back(std::move(task));
        }
    };
    try {
        register_pool_threads(registry, 3, "test pool", post, std::chrono::milliseconds(200));
        ADD_FAILURE() << "a pool of one thread passed a barrier of three";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("test pool"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("1 of 3"), std::string::npos) << e.what();
    }
    for (std::thread& t : pool) t.join();  // released by the give-up
    for (auto& task : left) task();        // too late: returns at once, registers nothing
    EXPECT_EQ(registry.threads().size(), 1u);
}

}  // namespace
}  // namespace handoff
