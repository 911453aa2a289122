// The lab's classic target: N threads sharing one mutex-protected FIFO, each
// sleeping on a condition variable while the queue is empty. With one thread
// it is the `classic` dedicated worker (the shape of python-async-bench's:
// a queue, then call_soon_threadsafe); with N it is the lab's pool for the
// loops that have none of their own (epoll, uring).
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "handoff/loop.hpp"
#include "handoff/work.hpp"
#include "workers/intrusive_fifo.hpp"

namespace handoff {

class CondvarWorkers final : public Target {
public:
    // `drain_batch`: a worker takes every queued call per wake instead of one.
    CondvarWorkers(Loop& loop, const CallRunner& runner, unsigned threads, bool drain_batch,
                   std::string name);
    ~CondvarWorkers() override;

    void submit(Call& call) override;
    std::string mechanism() const override;

private:
    void stop_and_join();
    void work();
    Call* take(std::unique_lock<std::mutex>& lock);

    Loop& loop_;
    const CallRunner& runner_;
    const bool drain_batch_;
    const std::string name_;

    std::mutex mutex_;
    std::condition_variable wanted_;
    IntrusiveFifo queue_;  // guarded by mutex_
    bool stopping_ = false;

    std::vector<std::thread> threads_;  // last: started once the queue exists
};

}  // namespace handoff
