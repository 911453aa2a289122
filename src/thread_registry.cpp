#include "handoff/thread_registry.hpp"

#include <algorithm>
#include <atomic>

#include "handoff/clocks.hpp"
#include "handoff/placement.hpp"

namespace handoff {
namespace {

std::atomic<std::uint64_t> next_registry_id{1};

// The registry this thread last noted itself in: the per-call check.
thread_local std::uint64_t noted_in = 0;

}  // namespace

ThreadRegistry::ThreadRegistry(std::vector<int> cpus)
    : id_(next_registry_id.fetch_add(1, std::memory_order_relaxed)), cpus_(std::move(cpus)) {}

void ThreadRegistry::note_current_thread() {
    if (noted_in == id_) return;
    std::string error;
    if (!pin_current_thread_to_set(cpus_, &error)) {
        std::lock_guard lock(mutex_);
        if (pin_error_.empty()) pin_error_ = error;
    }
    add(current_tid());
    noted_in = id_;
}

std::string ThreadRegistry::pin_error() const {
    std::lock_guard lock(mutex_);
    return pin_error_;
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
