// Boost.Asio: the loop thread runs an io_context and workers hand results back
// with boost::asio::post. With nothing but posted handlers (no sockets or
// timers yet) Boost 1.74's scheduler never starts its epoll reactor: run()
// sleeps on the scheduler's own mutex + condition variable and post() signals
// it. The pool target is asio's own thread_pool.
//
// Posting allocates an operation through the handler's associated allocator.
// Every handler here carries a SlotAllocator that places it in a fixed buffer
// of its call's window slot, so no call touches the heap.

// Asio's fenced blocks call std::atomic_thread_fence, which ThreadSanitizer
// cannot model, and GCC says so (-Wtsan, an error under -Werror). Asio orders
// every hand-off through its scheduler mutex as well, which TSan does see.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/version.hpp>

#include "handoff/backend.hpp"
#include "handoff/work.hpp"

namespace handoff {
namespace {

// One buffer per window slot for the one asio operation the slot's call has
// queued at a time. A slot has one call in flight, and asio frees an
// operation before invoking its handler, so a buffer is never wanted twice at
// once; the busy flag turns a broken invariant into a heap fallback instead of
// corruption. Requests too big or too aligned for a buffer use the heap too.
class SlotArena {
public:
    explicit SlotArena(std::uint32_t slots) : slots_(std::make_unique<Slot[]>(slots)), count_(slots) {}

    void* allocate(std::uint32_t slot, std::size_t bytes, std::size_t align) {
        if (slot < count_ && bytes <= kBytes && align <= alignof(std::max_align_t) &&
            !slots_[slot].busy.exchange(true, std::memory_order_acquire)) {
            return slots_[slot].bytes;
        }
        return ::operator new(bytes, std::align_val_t(align));
    }

    void deallocate(std::uint32_t slot, void* p, std::size_t align) noexcept {
        if (slot < count_ && p == slots_[slot].bytes) {
            slots_[slot].busy.store(false, std::memory_order_release);
        } else {
            ::operator delete(p, std::align_val_t(align));
        }
    }

private:
    // An io_context or thread_pool operation wrapping our handlers is ~50 bytes.
    static constexpr std::size_t kBytes = 128;

    // Cache-line aligned: pool threads complete different slots at once.
    struct alignas(64) Slot {
        alignas(std::max_align_t) std::byte bytes[kBytes];
        std::atomic<bool> busy{false};
    };

    std::unique_ptr<Slot[]> slots_;
    std::uint32_t count_;
};

template <typename T>
struct SlotAllocator {
    using value_type = T;

    SlotAllocator(SlotArena& owner, std::uint32_t index) noexcept : arena(&owner), slot(index) {}
    template <typename U>
    SlotAllocator(const SlotAllocator<U>& other) noexcept : arena(other.arena), slot(other.slot) {}

    T* allocate(std::size_t n) { return static_cast<T*>(arena->allocate(slot, n * sizeof(T), alignof(T))); }
    void deallocate(T* p, std::size_t) noexcept { arena->deallocate(slot, p, alignof(T)); }

    template <typename U>
    bool operator==(const SlotAllocator<U>& other) const noexcept {
        return arena == other.arena && slot == other.slot;
    }

    SlotArena* arena;
    std::uint32_t slot;
};

class AsioLoop final : public Loop {
public:
    explicit AsioLoop(const LoopOptions& options)
        : sink_(*options.sink), arena_(options.window) {}

    void run() override {
        if (stop_requested_.load(std::memory_order_acquire)) return;
        io_.run();
        // io_context::stop() is sticky until restart(): re-arm for a later
        // run() after stop(), but keep a request_stop() sticky like the other
        // loops. A request racing this check is still honoured by the flag.
        if (!stop_requested_.load(std::memory_order_acquire)) io_.restart();
    }

    void stop() override { io_.stop(); }

    void request_stop() override {
        stop_requested_.store(true, std::memory_order_release);
        io_.stop();  // thread-safe; before run() it makes run() return at once
    }

    void complete(Call& call) override { boost::asio::post(io_, Delivery{this, &call}); }

    std::unique_ptr<Target> make_target(const TargetOptions& options) override;

    std::string wake_mechanism() const override { return "asio::post"; }

private:
    struct Delivery {
        using allocator_type = SlotAllocator<void>;
        allocator_type get_allocator() const noexcept { return {loop->arena_, call->slot}; }
        void operator()() const { loop->sink_.deliver(*call); }

        AsioLoop* loop;
        Call* call;
    };

    CallSink& sink_;
    std::atomic<bool> stop_requested_{false};
    SlotArena arena_;  // before io_: handlers still queued are freed into it when io_ dies
    // Concurrency hint 1 only tells the scheduler one thread runs it (skip
    // waking peers); it keeps the scheduler mutex, so posts from any thread
    // stay safe (BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, 1) holds).
    boost::asio::io_context io_{1};
    // Keeps run() blocked while nothing is queued.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
};

// Runs calls on asio's thread_pool; each pool thread hands its result back
// with a post into the loop's io_context.
class AsioPoolTarget final : public Target {
public:
    AsioPoolTarget(AsioLoop& loop, const TargetOptions& options)
        : loop_(loop), executor_(*options.executor), arena_(options.window), pool_(options.threads) {}

    // Lets running calls finish, abandons queued ones (their operations are
    // freed into arena_ when pool_ is destroyed, before arena_).
    ~AsioPoolTarget() override {
        pool_.stop();
        pool_.join();
    }

    void submit(Call& call) override { boost::asio::post(pool_, Job{this, &call}); }

    std::string mechanism() const override { return "asio::thread_pool"; }

private:
    struct Job {
        using allocator_type = SlotAllocator<void>;
        allocator_type get_allocator() const noexcept { return {target->arena_, call->slot}; }
        void operator()() const {
            target->executor_.run(*call);
            target->loop_.complete(*call);
        }

        AsioPoolTarget* target;
        Call* call;
    };

    AsioLoop& loop_;
    const Executor& executor_;
    SlotArena arena_;
    boost::asio::thread_pool pool_;  // last: its threads start in the constructor
};

std::unique_ptr<Target> AsioLoop::make_target(const TargetOptions& options) {
    if (options.kind != TargetKind::pool) return make_lab_target(*this, options);
    if (options.executor == nullptr) throw std::invalid_argument("target without an executor");
    return std::make_unique<AsioPoolTarget>(*this, options);
}

// Asio is header-only: the code that runs is the code compiled here, so the
// compile-time version is the run-time one (no library to ask).
std::string asio_version() {
    std::string version = "Boost.Asio " + std::to_string(BOOST_VERSION / 100000) + "." +
                          std::to_string(BOOST_VERSION / 100 % 1000);
    if (BOOST_VERSION % 100 != 0) version += "." + std::to_string(BOOST_VERSION % 100);
    return version;
}

std::unique_ptr<Loop> make_asio_loop(const LoopOptions& options) {
    return std::make_unique<AsioLoop>(options);
}

}  // namespace

extern const Backend asio_backend = {
    .name = "asio",
    .description = "Boost.Asio io_context, woken by asio::post; pool: asio::thread_pool",
    .unavailable_reason = [] { return std::optional<std::string>(); },
    .library_version = asio_version,
    .make_loop = make_asio_loop,
};

}  // namespace handoff
