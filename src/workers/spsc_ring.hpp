// A bounded lock-free single-producer single-consumer ring of pointers: the
// `spsc` queue from the loop to a dedicated worker. The runner's window
// bounds the calls in flight, so a ring of at least that size never fills.
#pragma once

#include <atomic>
#include <cstdint>
#include <vector>

namespace handoff {

template <class T>
class SpscRing {
public:
    explicit SpscRing(std::uint32_t min_capacity) {
        std::uint32_t capacity = 1;
        while (capacity < min_capacity) capacity *= 2;
        slots_.resize(capacity);
        mask_ = capacity - 1;
    }

    // Producer only. Returns false when full (never, within the window).
    bool push(T* item) noexcept {
        const std::uint64_t tail = tail_.load(std::memory_order_relaxed);
        if (tail - head_cache_ > mask_) {
            head_cache_ = head_.load(std::memory_order_acquire);
            if (tail - head_cache_ > mask_) return false;
        }
        slots_[tail & mask_] = item;
        // seq_cst: a gated waker reads the worker's `sleeping` flag next, and
        // that read must not pass this write.
        tail_.store(tail + 1, std::memory_order_seq_cst);
        return true;
    }

    // Consumer only. nullptr when empty.
    T* pop() noexcept {
        const std::uint64_t head = head_.load(std::memory_order_relaxed);
        if (head == tail_cache_) {
            tail_cache_ = tail_.load(std::memory_order_acquire);
            if (head == tail_cache_) return nullptr;
        }
        T* item = slots_[head & mask_];
        head_.store(head + 1, std::memory_order_release);
        return item;
    }

    // Consumer: whether pop() would find nothing (seq_cst, for the sleep gate).
    bool empty() const noexcept {
        return head_.load(std::memory_order_relaxed) == tail_.load(std::memory_order_seq_cst);
    }

private:
    std::vector<T*> slots_;
    std::uint64_t mask_ = 0;
    // Producer and consumer indices on their own cache lines, each with a
    // cached copy of the other's, so an uncontended push or pop touches one
    // shared line only when it must.
    alignas(64) std::atomic<std::uint64_t> tail_{0};
    std::uint64_t head_cache_ = 0;  // producer's view of head_
    alignas(64) std::atomic<std::uint64_t> head_{0};
    std::uint64_t tail_cache_ = 0;  // consumer's view of tail_
};

}  // namespace handoff
