// Finished calls waiting for the loop thread: a mutex-protected intrusive FIFO
// that the lab's loops (epoll, uring, uv) share. Workers push from any thread;
// the loop thread takes the whole list at once after each wake, so one wake
// delivers every result that arrived before it (wakes may coalesce).
#pragma once

#include <mutex>

#include "handoff/call.hpp"

namespace handoff {

class CompletionInbox {
public:
    // Any thread. Returns true when the inbox was empty before this push.
    bool push(Call& call) {
        call.next = nullptr;
        std::lock_guard lock(mutex_);
        const bool was_empty = head_ == nullptr;
        if (was_empty) {
            head_ = &call;
        } else {
            tail_->next = &call;
        }
        tail_ = &call;
        return was_empty;
    }

    // Loop thread: every waiting call, oldest first, linked through Call::next.
    Call* take_all() {
        std::lock_guard lock(mutex_);
        Call* list = head_;
        head_ = tail_ = nullptr;
        return list;
    }

private:
    std::mutex mutex_;
    Call* head_ = nullptr;
    Call* tail_ = nullptr;
};

// Delivers a list from take_all() in order. Reads each link before delivering,
// because the sink may resubmit the same call (its slot) at once.
inline void deliver_all(Call* list, CallSink& sink) {
    while (list != nullptr) {
        Call* next = list->next;
        sink.deliver(*list);
        list = next;
    }
}

}  // namespace handoff
