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
#include <vector>

namespace handoff {

class ThreadRegistry {
public:
    ThreadRegistry();
    ThreadRegistry(const ThreadRegistry&) = delete;
    ThreadRegistry& operator=(const ThreadRegistry&) = delete;

    // Notes the calling thread as a worker (idempotent, cheap after the first time).
    void note_current_thread();

    // Kernel thread ids noted so far.
    std::vector<pid_t> threads() const;

private:
    void add(pid_t tid);

    std::uint64_t id_;  // unique per registry, so a thread_local cache can't go stale
    mutable std::mutex mutex_;
    std::vector<pid_t> tids_;
};

}  // namespace handoff
