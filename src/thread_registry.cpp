#include "handoff/thread_registry.hpp"

#include <algorithm>
#include <atomic>

#include "handoff/clocks.hpp"

namespace handoff {
namespace {

std::atomic<std::uint64_t> next_registry_id{1};

// The registry this thread last noted itself in: the per-call check.
thread_local std::uint64_t noted_in = 0;

}  // namespace

ThreadRegistry::ThreadRegistry() : id_(next_registry_id.fetch_add(1, std::memory_order_relaxed)) {}

void ThreadRegistry::note_current_thread() {
    if (noted_in == id_) return;
    add(current_tid());
    noted_in = id_;
}

void ThreadRegistry::add(pid_t tid) {
    std::lock_guard lock(mutex_);
    if (std::find(tids_.begin(), tids_.end(), tid) == tids_.end()) tids_.push_back(tid);
}

std::vector<pid_t> ThreadRegistry::threads() const {
    std::lock_guard lock(mutex_);
    return tids_;
}

}  // namespace handoff
