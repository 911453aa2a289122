// Lets a watchdog (or a signal) stop a loop that lives on another thread,
// whether or not the loop exists yet: a pull before attach() stops the loop
// as soon as it is attached. Used by the runner and by the stress tool.
#pragma once

#include <mutex>

#include "handoff/loop.hpp"

namespace handoff {

class StopSwitch {
public:
    // Loop thread: the loop a pull reaches, or nullptr before it is destroyed.
    void attach(Loop* loop) {
        std::lock_guard lock(mutex_);
        loop_ = loop;
        if (loop_ != nullptr && pulled_) loop_->request_stop();
    }
    // Any thread.
    void pull() {
        std::lock_guard lock(mutex_);
        pulled_ = true;
        if (loop_ != nullptr) loop_->request_stop();
    }
    bool pulled() const {
        std::lock_guard lock(mutex_);
        return pulled_;
    }

private:
    mutable std::mutex mutex_;
    Loop* loop_ = nullptr;
    bool pulled_ = false;
};

}  // namespace handoff
