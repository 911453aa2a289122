// Which threads ran calls in one run: the roles CpuWorker is summed over.
//
// The lab's own workers register when they start; threads a library creates
// (libuv's pool, asio's thread_pool) register the first time they run a call
// (Executor::run), so no library internals are needed. Registration takes a
// lock once per thread and run; the per-call cost is one thread_local compare.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace handoff {

// Aligned for the same reason as Executor: workers read it on every call.
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

}  // namespace handoff
