#include "workers/designed_worker.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "handoff/clocks.hpp"
#include "handoff/thread_registry.hpp"

namespace handoff {
namespace {

void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected) {
    // Returns at once (EAGAIN) if the word already changed: that is the
    // kernel's half of the gate.
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, nullptr,
              nullptr, 0);
}

void futex_wake(std::atomic<std::uint32_t>& word) {
    ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
}

bool spins(Design::Wait wait) {
    return wait == Design::Wait::spin || wait == Design::Wait::spin_park || wait == Design::Wait::adaptive;
}

}  // namespace

DesignedWorker::DesignedWorker(Loop& loop, const CallRunner& runner, const Design& design, std::uint32_t window)
    : loop_(loop),
      runner_(runner),
      design_(design),
      post_order_(design.wait == Design::Wait::spin ? std::memory_order_release : std::memory_order_seq_cst),
      finish_order_(design.loop_spin == Design::LoopSpin::forever ? std::memory_order_release
                                                                   : std::memory_order_seq_cst),
      // A loop that spins forever never sleeps (a deadline ends its one wait).
      wake_loop_(design.queue == Design::Queue::inplace && design.loop_spin != Design::LoopSpin::forever),
      polled_(design.queue == Design::Queue::inplace || design.hold.count() != 0),
      ring_(design.queue == Design::Queue::spsc ? window : 1),
      slots_(design.queue == Design::Queue::inplace ? window : 1) {
    if (design_.wait == Design::Wait::eventfd) {
        eventfd_ = eventfd(0, EFD_CLOEXEC);
        if (eventfd_ < 0) throw std::runtime_error(fmt::format("eventfd: {}", std::strerror(errno)));
    }
    try {
        if (polled_) loop_.set_poller(this);  // Unsupported: it cannot
        thread_ = std::thread([this] { work(); });
    } catch (...) {
        if (polled_) loop_.set_poller(nullptr);
        if (eventfd_ >= 0) close(eventfd_);
        throw;
    }
}

DesignedWorker::~DesignedWorker() {
    stopping_.store(true, std::memory_order_seq_cst);
    // Wake it whatever the gate says: it may be about to park.
    sleeping_.store(0, std::memory_order_seq_cst);
    unpark();
    // The worker hands back every call still queued, unrun (see work()).
    thread_.join();
    if (eventfd_ >= 0) close(eventfd_);
    if (polled_) loop_.set_poller(nullptr);
    if (design_.queue != Design::Queue::inplace) return;
    // In place, the loop polls no more: every call it awaits goes back once
    // through its usual path, unrun or with the result the worker left.
    Call* list = slots_.take_all_awaited([](Call& call) { mark_cancelled_at_shutdown(call); });
    while (list != nullptr) {
        Call* next = list->next;
        loop_.complete(*list);
        list = next;
    }
}

std::string DesignedWorker::mechanism() const { return "lab worker: " + design_.describe(); }

void DesignedWorker::submit(Call& call) {
    if (design_.queue == Design::Queue::inplace) {
        slots_.post(call, post_order_);
    } else if (design_.queue == Design::Queue::spsc) {
        if (!ring_.push(&call)) throw std::logic_error("spsc ring full: more calls than the window");
    } else {
        {
            std::lock_guard lock(queue_mutex_);
            fifo_.push(call);
        }
        queued_.fetch_add(1, std::memory_order_seq_cst);
    }
    // The gate: the push (or post) above is seq_cst, and so is this read, so either the
    // worker sees the call before it sleeps, or we see it sleeping and wake it.
    if (design_.wait == Design::Wait::spin) return;  // never sleeps
    if (sleeping_.load(std::memory_order_seq_cst) == 0) return;
    if (design_.hold.count() != 0) {
        // Held: the worker sleeps on; before_sleep() decides when it wakes.
        // (If it was only about to sleep, its own last look finds the call.)
        if (held_since_ns_ == 0) held_since_ns_ = monotonic_ns();
        return;
    }
    if (sleeping_.exchange(0, std::memory_order_seq_cst) != 0) unpark();
}

void DesignedWorker::before_sleep(std::int64_t next_wake_ns) noexcept {
    if (held_since_ns_ == 0) return;
    // The loop wakes by then anyway: the calls wait for that wake, and the
    // wake-ups of the worker that they would each have cost become one.
    if (next_wake_ns != 0 && next_wake_ns - held_since_ns_ <= design_.hold.count()) return;
    held_since_ns_ = 0;
    if (sleeping_.load(std::memory_order_seq_cst) != 0 && sleeping_.exchange(0, std::memory_order_seq_cst) != 0) {
        unpark();
    }
}

bool DesignedWorker::has_work() const {
    if (design_.queue == Design::Queue::inplace) return slots_.any_posted();
    if (design_.queue == Design::Queue::spsc) return !ring_.empty();
    return queued_.load(std::memory_order_seq_cst) != 0;
}

Call* DesignedWorker::take() {
    if (design_.queue == Design::Queue::inplace) return slots_.take_posted();
    if (design_.queue == Design::Queue::spsc) return ring_.pop();
    if (queued_.load(std::memory_order_acquire) == 0) return nullptr;
    std::lock_guard lock(queue_mutex_);
    std::uint32_t count = 0;
    Call* taken = fifo_.take(design_.batch, &count);
    if (taken != nullptr) queued_.fetch_sub(count, std::memory_order_relaxed);
    return taken;
}

std::int64_t DesignedWorker::spin_budget(int peer_cpu) {
    switch (design_.wait) {
        case Design::Wait::spin: return -1;
        case Design::Wait::spin_park: return design_.worker_spin.count();
        case Design::Wait::adaptive: return adaptive_.budget(peer_cpu >= 0 && peer_cpu == sched_getcpu());
        default: return 0;
    }
}

bool DesignedWorker::work_or_stop() const {
    return has_work() || stopping_.load(std::memory_order_seq_cst);
}

void DesignedWorker::wait_for_work(int peer_cpu) {
    const auto ready = [this] { return work_or_stop(); };
    if (spins(design_.wait)) {
        const std::int64_t budget = spin_budget(peer_cpu);
        const bool adaptive = design_.wait == Design::Wait::adaptive;
        std::int64_t waited = 0;
        if (spin_until(ready, budget, adaptive ? &waited : nullptr)) {
            if (adaptive) adaptive_.won(waited);
            return;
        }
        if (adaptive) {
            // A lost spin: how long the whole wait lasts decides the next budget.
            const std::int64_t slept_from = monotonic_ns();
            sleep_until_work();
            adaptive_.lost(budget, budget + (monotonic_ns() - slept_from));
            return;
        }
    }
    sleep_until_work();
}

void DesignedWorker::sleep_until_work() {
    // Publish that we sleep, then look once more: the other half of the gate.
    sleeping_.store(1, std::memory_order_seq_cst);
    if (work_or_stop()) {
        sleeping_.store(0, std::memory_order_relaxed);
        return;
    }
    park();
    sleeping_.store(0, std::memory_order_relaxed);
}

void DesignedWorker::park() {
    switch (design_.wait) {
        case Design::Wait::condvar: {
            std::unique_lock lock(park_mutex_);
            park_cv_.wait(lock, [this] { return sleeping_.load(std::memory_order_acquire) == 0; });
            break;
        }
        case Design::Wait::eventfd: {
            std::uint64_t count;
            while (read(eventfd_, &count, sizeof count) < 0 && errno == EINTR) {
            }
            break;
        }
        default:  // futex, spin-park, adaptive
            while (sleeping_.load(std::memory_order_acquire) != 0) futex_wait(sleeping_, 1);
            break;
    }
}

void DesignedWorker::unpark() {
    switch (design_.wait) {
        case Design::Wait::condvar: {
            // Taking the lock orders this notify after the worker's check of
            // the flag, so the notify cannot fall between check and wait.
            { std::lock_guard lock(park_mutex_); }
            park_cv_.notify_one();
            break;
        }
        case Design::Wait::eventfd: {
            const std::uint64_t one = 1;
            while (write(eventfd_, &one, sizeof one) < 0 && errno == EINTR) {
            }
            break;
        }
        case Design::Wait::spin: break;
        default: futex_wake(sleeping_); break;
    }
}

void DesignedWorker::finish(Call& call) {
    if (design_.queue != Design::Queue::inplace) return loop_.complete(call);
    InplaceSlots::finish(call, finish_order_);
    if (wake_loop_) loop_.wake_for_poller();  // gated: a syscall only while the loop sleeps
}

void DesignedWorker::work() {
    runner_.registry().note_current_thread();
    int peer_cpu = -1;  // where the loop last sent from: adaptive spinning needs it
    while (!stopping_.load(std::memory_order_acquire)) {
        Call* batch = take();
        if (batch == nullptr) {
            wait_for_work(peer_cpu);
            continue;
        }
        while (batch != nullptr) {
            // complete() hands the call back; the loop may resubmit it (and
            // rewrite next) at once: read the link first.
            Call* next = design_.queue == Design::Queue::mutex ? batch->next : nullptr;
            peer_cpu = batch->loop_cpu;
            // Shutdown while a batch is under way: the rest goes back unrun
            // (in place: the destructor hands back what is still posted).
            if (stopping_.load(std::memory_order_relaxed)) {
                if (design_.queue == Design::Queue::inplace) return;
                mark_cancelled_at_shutdown(*batch);
            } else {
                runner_.run(*batch);
            }
            finish(*batch);
            batch = next;
        }
    }
    // Shutdown: every submit happened before the flag (both on the loop
    // thread, the flag seq_cst), so this sees every call still queued and
    // hands each back unrun, status cancelled. (In place: the destructor.)
    if (design_.queue == Design::Queue::inplace) return;
    while (Call* batch = take()) {
        while (batch != nullptr) {
            Call* next = design_.queue == Design::Queue::mutex ? batch->next : nullptr;
            mark_cancelled_at_shutdown(*batch);
            loop_.complete(*batch);
            batch = next;
        }
    }
}

}  // namespace handoff
