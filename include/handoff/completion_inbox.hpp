// Finished calls waiting for the loop thread, shared by the lab's loops.
// Workers push from any thread; the loop thread takes the whole list at once
// after each wake, so one wake delivers every result that arrived before it
// (wakes may coalesce). Lock-free: a push is one compare-and-swap on the head
// of an intrusive stack, a take is one exchange; the list is reversed on
// take so calls are delivered in the order they were pushed.
#pragma once

#include <atomic>

#include "handoff/call.hpp"

namespace handoff {

// A target whose results the loop collects by polling, not by being handed
// them (queue=inplace: the result waits in the call's own cache line). Loop
// thread only, like everything the loop's spin asks.
class CompletionPoller {
public:
    virtual bool has_completion() noexcept = 0;
    // Every finished call, oldest first, linked through Call::next (or nullptr).
    virtual Call* take_completions() noexcept = 0;
    // The loop is about to sleep until `next_wake_ns` (its timer,
    // CLOCK_MONOTONIC; 0: until something wakes it). A target that holds
    // calls back (hold=) wakes its worker here if they should not wait that
    // long. Called only by loops with Backend::Capabilities::sleep_hooks.
    virtual void before_sleep(std::int64_t /*next_wake_ns*/) noexcept {}

protected:
    ~CompletionPoller() = default;
};

class CompletionInbox {
public:
    // Loop thread: from now on the inbox also holds what `poller` has
    // finished (nullptr: no poller). The target attaches itself when it is
    // built and detaches before it goes.
    void attach(CompletionPoller* poller) noexcept { poller_ = poller; }
    bool polled() const noexcept { return poller_ != nullptr; }  // loop thread

    // Any thread. Returns true when the inbox was empty before this push.
    bool push(Call& call) noexcept {
        Call* head = head_.load(std::memory_order_relaxed);
        do {
            call.next = head;
            // seq_cst: a gated design's completer reads the loop's `sleeping`
            // flag next, and that read must not pass this write (LoopGate).
        } while (!head_.compare_exchange_weak(head, &call, std::memory_order_seq_cst,
                                              std::memory_order_relaxed));
        return head == nullptr;
    }

    // Loop thread: every waiting call, oldest first, linked through Call::next
    // (a poller's calls after those pushed).
    Call* take_all() noexcept {
        Call* polled = poller_ != nullptr ? poller_->take_completions() : nullptr;
        // A plain load first: a poller's loop finds this empty on every turn,
        // and an exchange would be a locked write each time.
        if (head_.load(std::memory_order_relaxed) == nullptr) return polled;
        Call* newest_first = head_.exchange(nullptr, std::memory_order_acquire);
        Call* oldest_first = polled;
        while (newest_first != nullptr) {
            Call* next = newest_first->next;
            newest_first->next = oldest_first;
            oldest_first = newest_first;
            newest_first = next;
        }
        return oldest_first;
    }

    // Loop thread, about to sleep: tells the poller (see CompletionPoller).
    void before_sleep(std::int64_t next_wake_ns) noexcept {
        if (poller_ != nullptr) poller_->before_sleep(next_wake_ns);
    }

    // Loop thread: whether a take would find something (for polling and the
    // sleep gate; seq_cst so it pairs with the gate's fence).
    bool empty() const noexcept {
        return head_.load(std::memory_order_seq_cst) == nullptr &&
               (poller_ == nullptr || !poller_->has_completion());
    }

private:
    alignas(64) std::atomic<Call*> head_{nullptr};
    CompletionPoller* poller_ = nullptr;  // loop thread only
};

// Delivers a list from take_all() in order. Reads each link before delivering,
// because the sink may resubmit the same call (its slot) at once. Returns the
// CPU the last call ran on (-1 for none): adaptive designs use it to tell
// whether the worker shares the loop's CPU.
inline int deliver_all(Call* list, CallSink& sink) {
    int worker_cpu = -1;
    while (list != nullptr) {
        Call* next = list->next;
        worker_cpu = list->worker_cpu;
        sink.deliver(*list);
        list = next;
    }
    return worker_cpu;
}

}  // namespace handoff
