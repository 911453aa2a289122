// queue=inplace: no queue and no inbox. The call's own cache line (a Call is
// one) carries the request to the worker and the result back, so one line
// moves each way per call — the floor's pattern — where a queue also moves an
// index line, a slot line and the inbox's head.
//
//   loop    writes the call, then flips its mailbox to `posted`;
//   worker  polls the mailboxes of the window's slots, runs what is posted
//           and flips the mailbox to `done`;
//   loop    polls the mailboxes of the calls it awaits (the worker is its
//           CompletionPoller) and delivers what is done.
//
// Only the loop moves a mailbox to `posted` (a call it owns), only the worker
// from `posted` to `done`: plain stores, no compare-and-swap. A side that may
// sleep is woken through the usual gates (DesignedWorker, LoopGate); for
// those Dekker handshakes the flips are seq_cst, otherwise release.
#pragma once

#include <atomic>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

#include "handoff/call.hpp"

namespace handoff {

class InplaceSlots {
public:
    explicit InplaceSlots(std::uint32_t window) : slots_(window == 0 ? 1 : window) {
        awaited_.reserve(slots_.size());  // no allocation per call
    }

    // Loop thread: hands `call` to the worker.
    void post(Call& call, std::memory_order order) {
        if (call.slot >= slots_.size()) {
            throw std::logic_error(fmt::format("call in slot {} of a window of {}", call.slot, slots_.size()));
        }
        if (awaited_.size() == slots_.size()) throw std::logic_error("more calls posted than the window holds");
        std::atomic<Call*>& slot = slots_[call.slot].call;
        if (slot.load(std::memory_order_relaxed) != &call) slot.store(&call, std::memory_order_release);
        awaited_.push_back(&call);
        put(call, Mailbox::posted, order);  // publishes the call's fields with it
    }

    // Worker: a posted call, looking at each slot in turn from where the
    // last look ended (so every slot gets its turn), or nullptr.
    Call* take_posted() noexcept {
        for (std::size_t looked = 0; looked < slots_.size(); ++looked) {
            Call* call = slots_[cursor_].call.load(std::memory_order_acquire);
            if (++cursor_ == slots_.size()) cursor_ = 0;
            if (call != nullptr && holds(*call, Mailbox::posted, std::memory_order_acquire)) return call;
        }
        return nullptr;
    }

    // Worker: whether take_posted() would find something (seq_cst: the gate).
    bool any_posted() const noexcept {
        for (const Slot& slot : slots_) {
            Call* call = slot.call.load(std::memory_order_seq_cst);
            if (call != nullptr && holds(*call, Mailbox::posted, std::memory_order_seq_cst)) return true;
        }
        return false;
    }

    // Worker: the call is finished; the loop owns it again.
    static void finish(Call& call, std::memory_order order) noexcept { put(call, Mailbox::done, order); }

    // Loop thread: whether an awaited call is done (seq_cst: the loop's gate).
    bool any_done() const noexcept {
        for (Call* call : awaited_) {
            if (holds(*call, Mailbox::done, std::memory_order_seq_cst)) return true;
        }
        return false;
    }

    // Loop thread: every done call, linked through Call::next, oldest first.
    // Writes nothing to a call's line that it need not: a store here, long
    // before the loop rewrites the call to send it again, would pull the line
    // back from the polling worker once more (a line transfer per call). The
    // mailbox stays `done` until the next post; the worker looks for `posted`.
    Call* take_done() noexcept {
        Call* first = nullptr;
        Call** link = &first;
        std::size_t kept = 0;
        for (Call* call : awaited_) {
            if (holds(*call, Mailbox::done, std::memory_order_acquire)) {
                *link = call;
                link = &call->next;
            } else {
                awaited_[kept++] = call;
            }
        }
        if (*link != nullptr) *link = nullptr;
        awaited_.resize(kept);
        return first;
    }

    // Loop thread, the worker gone: every call still awaited, once, linked
    // through Call::next; `unrun` is told of each the worker never ran.
    template <class Unrun>
    Call* take_all_awaited(Unrun&& unrun) noexcept {
        Call* first = nullptr;
        for (auto it = awaited_.rbegin(); it != awaited_.rend(); ++it) {
            if (holds(**it, Mailbox::posted, std::memory_order_acquire)) unrun(**it);
            put(**it, Mailbox::idle, std::memory_order_relaxed);
            (*it)->next = first;
            first = *it;
        }
        awaited_.clear();
        return first;
    }

private:
    enum class Mailbox : std::uint8_t { idle, posted, done };

    static std::atomic_ref<std::uint8_t> mailbox(Call& call) noexcept {
        return std::atomic_ref<std::uint8_t>(call.mailbox);
    }
    static bool holds(Call& call, Mailbox what, std::memory_order order) noexcept {
        return mailbox(call).load(order) == static_cast<std::uint8_t>(what);
    }
    static void put(Call& call, Mailbox what, std::memory_order order) noexcept {
        mailbox(call).store(static_cast<std::uint8_t>(what), order);
    }

    // Each slot's call, published once per slot (the window reuses its
    // calls): read by the worker on every poll, never written after, so the
    // line stays in both caches. Alone on its line: a neighbour the loop
    // wrote would move it on every call.
    struct alignas(64) Slot {
        std::atomic<Call*> call{nullptr};
    };

    std::vector<Slot> slots_;
    alignas(64) std::size_t cursor_ = 0;  // worker only, written on every take
    // Loop thread only, written on every call: a line of its own.
    alignas(64) std::vector<Call*> awaited_;  // posted and not yet taken back, oldest first
};

}  // namespace handoff
