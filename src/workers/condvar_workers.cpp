#include "workers/condvar_workers.hpp"

#include <functional>

#include <fmt/format.h>

#include "handoff/thread_registry.hpp"

namespace handoff {

CondvarWorkers::CondvarWorkers(Loop& loop, const CallRunner& runner, unsigned threads,
                               bool drain_batch, std::string name)
    : loop_(loop), runner_(runner), drain_batch_(drain_batch), name_(std::move(name)) {
    threads_.reserve(threads);
    // Workers by role: every thread is registered (and pinned) before the
    // constructor returns, so before any interval, and counted in CpuWorker
    // whether or not it gets a call. Each runs the registration task first,
    // then its loop.
    try {
        register_pool_threads(runner_.registry(), threads, name_, [this](std::function<void()> task) {
            threads_.emplace_back([this, task = std::move(task)] {
                task();
                work();
            });
        });
    } catch (...) {
        stop_and_join();
        throw;
    }
}

CondvarWorkers::~CondvarWorkers() { stop_and_join(); }

void CondvarWorkers::stop_and_join() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wanted_.notify_all();
    // The workers hand back every call still queued, unrun (see work()).
    for (std::thread& t : threads_) t.join();
}

void CondvarWorkers::submit(Call& call) {
    {
        std::lock_guard lock(mutex_);
        queue_.push(call);
    }
    // Classic: always notify, as a queue.put does; a waiter-count gate is a
    // design of its own.
    wanted_.notify_one();
}

std::string CondvarWorkers::mechanism() const {
    return fmt::format("{}: mutex fifo + condvar{}", name_, drain_batch_ ? ", batch" : "");
}

Call* CondvarWorkers::take(std::unique_lock<std::mutex>& lock) {
    wanted_.wait(lock, [this] { return !queue_.empty() || stopping_; });
    return queue_.take(drain_batch_);  // nullptr: stopping
}

void CondvarWorkers::work() {
    std::unique_lock lock(mutex_);
    while (Call* batch = take(lock)) {
        // Shutdown (read under the lock that set it): what is taken from now
        // on goes back unrun, status cancelled, each call exactly once.
        const bool cancel = stopping_;
        lock.unlock();
        while (batch != nullptr) {
            // complete() hands the call to the loop thread, which may resubmit
            // it (and so rewrite next) at once: read the link first.
            Call* next = batch->next;
            if (cancel) {
                mark_cancelled_at_shutdown(*batch);
            } else {
                runner_.run(*batch);
            }
            loop_.complete(*batch);
            batch = next;
        }
        lock.lock();
    }
}

}  // namespace handoff
