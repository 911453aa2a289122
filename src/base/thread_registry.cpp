#include "handoff/thread_registry.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "handoff/clocks.hpp"
#include "base/placement.hpp"

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

void ThreadRegistry::threads_into(std::vector<pid_t>& out) const {
    std::lock_guard lock(mutex_);
    out.assign(tids_.begin(), tids_.end());
}

namespace {

// What register_pool_threads shares with its tasks: held by each task too,
// so a task that runs after the caller gave up finds it still there.
struct PoolBarrier {
    std::mutex mutex;
    std::condition_variable changed;
    unsigned arrived = 0;   // tasks that noted their thread
    unsigned returned = 0;  // tasks that noted their thread and are done
    bool closed = false;    // every thread arrived, or the caller gave up: later tasks do nothing
};

}  // namespace

void register_pool_threads(ThreadRegistry& registry, unsigned threads, std::string_view pool,
                           const std::function<void(std::function<void()>)>& post,
                           std::chrono::milliseconds limit) {
    if (threads == 0) return;
    const auto barrier = std::make_shared<PoolBarrier>();
    const auto deadline = std::chrono::steady_clock::now() + limit;
    const auto close = [&] {
        {
            std::lock_guard lock(barrier->mutex);
            barrier->closed = true;
        }
        barrier->changed.notify_all();
    };
    // The task touches the registry only under the barrier's lock and only
    // while the barrier is open, so once it is closed no task reaches it.
    // The task's own wait is bounded by the same deadline: a pool whose caller
    // vanished without closing could not keep a thread forever.
    std::function<void()> task = [barrier, &registry, threads, deadline] {
        std::unique_lock lock(barrier->mutex);
        if (barrier->closed) return;
        registry.note_current_thread();
        if (++barrier->arrived == threads) {
            barrier->closed = true;
            barrier->changed.notify_all();
        }
        barrier->changed.wait_until(lock, deadline, [&] { return barrier->closed; });
        ++barrier->returned;
        barrier->changed.notify_all();
    };
    try {
        for (unsigned i = 0; i < threads; ++i) post(task);
    } catch (...) {
        close();
        throw;
    }
    std::unique_lock lock(barrier->mutex);
    if (!barrier->changed.wait_until(lock, deadline, [&] { return barrier->arrived == threads; })) {
        // Closed under the lock that counted them: no task arrives after this.
        barrier->closed = true;
        const unsigned arrived = barrier->arrived;
        lock.unlock();
        barrier->changed.notify_all();
        throw std::runtime_error(fmt::format(
            "{}: only {} of {} pool threads took a registration task within {} ms (a smaller pool than "
            "that, or threads kept busy): its workers cannot all be counted",
            pool, arrived, threads, limit.count()));
    }
    // All arrived and released: let them return, so the pool is idle when the
    // first call goes out. Bounded too; a straggler past it is harmless.
    barrier->changed.wait_until(lock, deadline, [&] { return barrier->returned == threads; });
}

}  // namespace handoff
