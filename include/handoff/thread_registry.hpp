// The threads a run counts as its workers: the roles CpuWorker is summed over.
//
// One rule for every target: a run's workers are every thread its target
// owns, registered (and pinned) before the measured interval opens, whether
// or not it later runs a call. The lab's own workers register as they start;
// a pool the lab did not write (libuv's, asio's thread_pool) is made to run
// one registration task on each of its threads when the target is created
// (register_pool_threads). CallRunner::run still notes its thread on every call
// (one thread_local compare once registered), a safety net, not the rule.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace handoff {

// Aligned for the same reason as CallRunner: workers read it on every call.
class alignas(64) ThreadRegistry {
public:
    // `cpus`: where every noted thread is pinned when first noted (the run's
    // worker or pool CPUs; the process's own mask for an unpinned run, since
    // a thread inherits the mask of the thread that made it and libuv's pool
    // outlives a run). Empty: leave threads where they are.
    explicit ThreadRegistry(std::vector<int> cpus = {});
    ThreadRegistry(const ThreadRegistry&) = delete;
    ThreadRegistry& operator=(const ThreadRegistry&) = delete;

    // Notes the calling thread as a worker and pins it (idempotent, cheap after
    // the first time).
    void note_current_thread();

    // Kernel thread ids noted so far.
    std::vector<pid_t> threads() const;
    // The same into `out`, reusing its capacity: no allocation at an
    // interval's edge when `out` was reserved before.
    void threads_into(std::vector<pid_t>& out) const;

    // Why pinning a worker failed, or "" (the run is then not what was asked).
    std::string pin_error() const;

private:
    void add(pid_t tid);

    std::uint64_t id_;  // unique per registry, so a thread_local cache can't go stale
    std::vector<int> cpus_;
    std::string pin_error_;
    mutable std::mutex mutex_;
    std::vector<pid_t> tids_;
};

// How long register_pool_threads waits for a pool before it gives up:
// generous (a loaded machine or a sanitizer can be slow to start threads;
// it takes well under a millisecond here), and well short of the runner's
// watchdog (10 s by default), so the row fails with this error, not a stall.
inline constexpr std::chrono::milliseconds pool_registration_limit{5'000};

// Registers every thread of a pool of `threads` in `registry` (pinning it),
// before any call is sent. `post` hands one task to the pool, to be run on one
// of its threads; it is called `threads` times. Each task notes its thread and
// then waits on a barrier of `threads`, so no thread can take two: the pool
// registers exactly `threads` distinct threads, all of them, or the wait ends
// at `limit` and this throws std::runtime_error naming `pool` (a pool smaller
// than said, or one whose threads are busy). Never hangs: a task that runs
// after the give-up returns at once and touches nothing (the registry may be
// gone by then). Returns once every task has returned, so the pool is idle.
//
// Called on the thread that creates the target, once per run: none of this is
// on the per-call path. An exception from `post` is passed on, after the
// tasks already posted were released.
void register_pool_threads(ThreadRegistry& registry, unsigned threads, std::string_view pool,
                           const std::function<void(std::function<void()>)>& post,
                           std::chrono::milliseconds limit = pool_registration_limit);

}  // namespace handoff
