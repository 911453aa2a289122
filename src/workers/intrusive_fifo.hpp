// A FIFO of calls linked through Call::next: no allocation per call. Not
// thread-safe by itself: its owner guards it with its own mutex (the lab's
// mutex-queue workers).
#pragma once

#include <cstdint>

#include "handoff/call.hpp"

namespace handoff {

class IntrusiveFifo {
public:
    bool empty() const noexcept { return head_ == nullptr; }

    void push(Call& call) noexcept {
        call.next = nullptr;
        if (tail_ != nullptr) {
            tail_->next = &call;
        } else {
            head_ = &call;
        }
        tail_ = &call;
    }

    // The oldest call (next = nullptr), or with `all` every queued call,
    // oldest first, linked through next. nullptr when empty. `taken` counts them.
    Call* take(bool all, std::uint32_t* taken = nullptr) noexcept {
        Call* first = head_;
        if (first == nullptr) return nullptr;
        std::uint32_t count = 1;
        if (all) {
            if (taken != nullptr) {
                for (Call* c = first->next; c != nullptr; c = c->next) ++count;
            }
            head_ = tail_ = nullptr;
        } else {
            head_ = first->next;
            if (head_ == nullptr) tail_ = nullptr;
            first->next = nullptr;
        }
        if (taken != nullptr) *taken = count;
        return first;
    }

private:
    Call* head_ = nullptr;
    Call* tail_ = nullptr;
};

}  // namespace handoff
