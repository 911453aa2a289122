// Boost.Asio: the loop thread runs an io_context and workers hand results back
// with boost::asio::post. With nothing but posted handlers (no sockets or
// timers yet) Boost 1.74's scheduler never starts its epoll reactor: run()
// sleeps on the scheduler's own mutex + condition variable and post() signals
// it. The pool target is asio's own thread_pool.
//
// Three ways a result comes back, by design:
//   classic (wake=always, loop-spin=0): every result posts a handler that
//     delivers that one call — asio's own idiom.
//   lab designs with wake=gated or a loop-spin: results go through the lab's
//     lock-free CompletionInbox, and the wake is one posted "drain" handler
//     that delivers everything waiting (see AsioLoop::drain).
//   impl=native: the worker is a second io_context on its own thread; calls
//     go there and come back with asio::post (NativeTarget).
//
// Posting allocates an operation through the handler's associated allocator.
// Every handler here carries an allocator that places it in a fixed buffer —
// the buffer of its call's window slot, or one of a few drain buffers — so no
// call touches the heap.
//
// --await coroutine: the callers are Asio's own coroutines (AsioLoop is a
// CoroutineLoop): boost::asio::awaitable<void> started with co_spawn, each
// call awaited as `co_await async_handoff(...)` with use_awaitable, an
// async_initiate whose handler is parked per caller and invoked through
// asio::dispatch on the loop thread once the call is delivered (by any of the
// three paths above). What that costs in Asio's own machinery is the point:
// it is measured, not tuned (see AsioLoop::resume_caller).

// Asio's fenced blocks call std::atomic_thread_fence, which ThreadSanitizer
// cannot model, and GCC says so (-Wtsan, an error under -Werror). Asio orders
// every hand-off through its scheduler mutex as well, which TSan does see.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wtsan"
#endif

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>  // before Boost 1.74's awaitable.hpp, which uses std::exchange without it
#include <vector>

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/version.hpp>

#include <fmt/format.h>

#include "handoff/awaitable.hpp"
#include "handoff/completion_inbox.hpp"
#include "handoff/backend.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"
#include "handoff/loop_gate.hpp"

#if !defined(BOOST_ASIO_HAS_CO_AWAIT)
#error "Boost.Asio without co_await: --await coroutine needs a C++20 compiler (g++ 10 or later, -std=c++20)"
#endif

namespace handoff {
namespace {

// Fixed buffers for asio operations. allocate(slot) takes the buffer of one
// window slot: a slot has one call in flight, and asio frees an operation
// before invoking its handler, so the one operation a slot's call has queued
// at a time always finds its buffer free. allocate_any() takes the first free
// buffer, for handlers that belong to no call (the drain). The busy flags turn
// a broken invariant into a heap fallback instead of corruption; requests too
// big or too aligned for a buffer use the heap too.
class SlotArena {
public:
    static constexpr std::uint32_t any = UINT32_MAX;

    explicit SlotArena(std::uint32_t slots) : slots_(std::make_unique<Slot[]>(slots)), count_(slots) {}

    void* allocate(std::uint32_t slot, std::size_t bytes, std::size_t align) {
        if (bytes <= kBytes && align <= alignof(std::max_align_t)) {
            if (slot == any) {
                for (std::uint32_t i = 0; i < count_; ++i) {
                    if (claim(i)) return slots_[i].bytes;
                }
            } else if (slot < count_ && claim(slot)) {
                return slots_[slot].bytes;
            }
        }
        return ::operator new(bytes, std::align_val_t(align));
    }

    void deallocate(void* p, std::size_t align) noexcept {
        // Ours when it points into the array: the slot follows from the address.
        const auto* first = reinterpret_cast<const std::byte*>(slots_.get());
        const auto* byte = static_cast<const std::byte*>(p);
        if (byte >= first && byte < first + count_ * sizeof(Slot)) {
            slots_[static_cast<std::size_t>(byte - first) / sizeof(Slot)].busy.store(false, std::memory_order_release);
        } else {
            ::operator delete(p, std::align_val_t(align));
        }
    }

private:
    bool claim(std::uint32_t slot) noexcept {
        // A cheap look first, so a scan over busy buffers writes nothing.
        return !slots_[slot].busy.load(std::memory_order_relaxed) &&
               !slots_[slot].busy.exchange(true, std::memory_order_acquire);
    }

    // An io_context or thread_pool operation wrapping our handlers is ~50 bytes.
    static constexpr std::size_t kBytes = 128;

    // Cache-line aligned: different threads post for different slots at once.
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
    void deallocate(T* p, std::size_t) noexcept { arena->deallocate(p, alignof(T)); }

    template <typename U>
    bool operator==(const SlotAllocator<U>& other) const noexcept {
        return arena == other.arena && slot == other.slot;
    }

    SlotArena* arena;
    std::uint32_t slot;
};

// Does the loop's side of `design` need the inbox and the drain handler?
// Classic (every result wakes, no loop-spin) and impl=native use asio's own
// post per result. A native design ignores the other axes, as its spelling
// ("impl=native") says. Results left in place are polled, which only the
// inbox's drain does.
bool uses_inbox(const Design* design) {
    return design != nullptr && design->impl == Design::Impl::lab &&
           (design->wake == Design::Wake::gated || design->loop_spin != Design::LoopSpin::none ||
            design->queue == Design::Queue::inplace);
}

// What a caller coroutine's co_await completes with: the call's exception
// (rethrown at the co_await) or its value. use_awaitable's handler for it.
using CallSignature = void(std::exception_ptr, std::uint64_t);
using CallerHandler = boost::asio::async_result<boost::asio::use_awaitable_t<>, CallSignature>::handler_type;

class AsioLoop final : public Loop, public CoroutineLoop {
public:
    explicit AsioLoop(const LoopOptions& options)
        : sink_(*options.sink), inbox_path_(uses_inbox(options.design)), gate_(options.design),
          arena_(options.window), parked_(options.window) {}

    // Shutdown: every result posted or pushed but not yet delivered still
    // reaches the sink. Delivery handlers and drains run once more (the stop
    // flag keeps a drain from spinning); what they leave in the inbox goes
    // straight to the sink.
    //
    // Callers still suspended (--await coroutine) are never resumed: each
    // parked handler owns its caller's coroutine stack, and destroying it
    // posts the stack's destruction to io_ (Asio unwinds a coroutine through
    // its executor), which the poll below runs.
    ~AsioLoop() override {
        stop_requested_.store(true, std::memory_order_release);
        timer_.reset();  // a pending wait is abandoned with it
        for (std::optional<CallerHandler>& parked : parked_) parked.reset();
        io_.restart();
        io_.poll();
        deliver_all(inbox_.take_all(), sink_);
    }

    void run() override {
        if (stop_requested_.load(std::memory_order_acquire)) return;
        stop_called_ = false;
        // The inbox path starts (and restarts after a stop) with a drain
        // scheduled: results that came while no run() was going are
        // delivered, and the invariant in drain() below holds from here on.
        if (inbox_path_) post_drain();
        io_.run();
        // io_context::stop() is sticky until restart(): re-arm for a later
        // run() after stop(), but keep a request_stop() sticky like the other
        // loops. A request racing this check is still honoured by the flag.
        if (!stop_requested_.load(std::memory_order_acquire)) io_.restart();
    }

    void stop() override {
        stop_called_ = true;  // ends a drain handler that is delivering (it called us)
        io_.stop();
    }

    void request_stop() override {
        stop_requested_.store(true, std::memory_order_release);
        io_.stop();  // thread-safe; before run() it makes run() return at once
    }

    void complete(Call& call) override {
        if (!inbox_path_) {
            boost::asio::post(io_, Delivery{this, &call});
            return;
        }
        inbox_.push(call);
        wake_for_poller();
    }

    void wake_for_poller() override {
        if (gate_.gated()) {
            // Gated: post only when the loop has published that it sleeps
            // (no drain pending or running); should_wake() takes the flag, so
            // of many completers exactly one posts.
            if (gate_.should_wake()) post_drain();
        } else if (!drain_posted_.exchange(true, std::memory_order_acq_rel)) {
            // wake=always with a loop-spin: every result wakes the loop, even
            // while it is awake, except that one queued drain is enough (a
            // second would only run empty: the analogue of writing an eventfd
            // whose counter is already non-zero, without a growing queue).
            post_drain();
        }
    }

    std::unique_ptr<Target> make_target(const TargetOptions& options) override;

    // A steady_timer (CLOCK_MONOTONIC underneath), made at the first deadline:
    // a timer starts asio's reactor, which then hosts the scheduler's wait
    // (epoll instead of its condition variable), and rows without a timeout
    // must not pay for that. A later deadline cancels the wait it replaces.
    void set_deadline(std::int64_t deadline_ns) override {
        deadline_ns_ = deadline_ns;
        if (!timer_) timer_.emplace(io_);
        ++deadline_generation_;
        if (deadline_ns == 0) {
            timer_->cancel();
            return;
        }
        timer_->expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(deadline_ns)));
        timer_->async_wait(DeadlineFired{this, deadline_generation_});
    }

    // The drain handler polls the inbox, and through it the poller.
    void set_poller(CompletionPoller* poller) override {
        if (!inbox_path_) throw Unsupported("asio posts each result on this design: it has no inbox to poll");
        inbox_.attach(poller);
    }

    std::string wake_mechanism() const override {
        if (!inbox_path_) return "asio::post";
        return gate_.gated() ? "asio::post of a drain, gated" : "asio::post of a drain";
    }

    // ---- --await coroutine: the callers as Asio coroutines (CoroutineLoop).

    // co_spawn, detached: the caller starts once run() runs it.
    void spawn_caller(CallerDriver& driver, std::uint32_t caller) override {
        boost::asio::co_spawn(io_, run_caller<boost::asio::awaitable<void>>(driver, caller, CallerOps{this, &driver}),
                              boost::asio::detached);
    }

    // Invoked as an asynchronous operation's handler is: through its
    // associated executor, with dispatch, which runs it here (this is the
    // io_context's thread); the caller's coroutine runs to its next co_await.
    void resume_caller(std::uint32_t caller, std::exception_ptr error, std::uint64_t value) override {
        std::optional<CallerHandler>& parked = parked_[caller];
        CallerHandler handler = std::move(*parked);
        parked.reset();
        const auto executor = boost::asio::get_associated_executor(handler, io_.get_executor());
        boost::asio::dispatch(executor, [handler = std::move(handler), error = std::move(error), value]() mutable {
            handler(std::move(error), value);
        });
    }

    std::string await_mechanism() const override {
        return "asio::awaitable (co_spawn), co_await async_initiate with use_awaitable, resumed by asio::dispatch";
    }

private:
    // What an Asio caller awaits (the Ops of run_caller): asynchronous
    // operations with use_awaitable, whose handler waits in parked_ until the
    // awaiting side resumes the caller.
    struct CallerOps {
        // Submits `call` once the caller is suspended (async_initiate runs
        // the initiation then); completes with the call's exception or value.
        boost::asio::awaitable<std::uint64_t> handoff(Call& call, std::uint32_t caller) const {
            return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, CallSignature>(
                [loop = loop, driver = driver, &call, caller](CallerHandler handler) {
                    loop->parked_[caller].emplace(std::move(handler));
                    driver->submit(call, caller);
                },
                boost::asio::use_awaitable);
        }
        // Completes when a slot may be free, or the phase is over.
        boost::asio::awaitable<std::uint64_t> slot_free(std::uint32_t caller) const {
            return boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&, CallSignature>(
                [loop = loop, driver = driver, caller](CallerHandler handler) {
                    loop->parked_[caller].emplace(std::move(handler));
                    driver->await_slot(caller);
                },
                boost::asio::use_awaitable);
        }

        AsioLoop* loop;
        CallerDriver* driver;
    };

    // What "sleeping" means for asio. The loop thread blocks inside
    // io_context::run(), and asio offers no hook before it blocks; but on the
    // inbox path the only handlers this io_context ever runs are drains. So
    // the loop is awake exactly while a drain is pending or running, and it
    // "sleeps" when none is: then run() is, or soon will be, blocked in the
    // scheduler's wait, and only a posted drain can wake it.
    //
    // Why no wake-up is lost. The handler ends only through LoopGate's
    // before_block(), which publishes `sleeping` and then checks the inbox
    // (seq_cst, Dekker): a completer pushes and then checks `sleeping`. So
    // either the handler sees the result and delivers it instead of
    // returning, or the completer sees `sleeping` and posts a drain. While
    // `sleeping` is clear, a drain is pending or running and will itself end
    // through that same publish-then-check, after the completer's push. The
    // one exception is a stop(): the handler returns without publishing, and
    // the next run() schedules a drain before it runs the io_context.
    //
    // Being gated saves the completer asio's scheduler mutex and an
    // operation while the loop is awake, not a futex wake: asio already
    // signals its condition variable only when a thread waits on it.
    void drain() {
        // wake=always: results from here on post again (see complete());
        // acq_rel pairs with the completers' exchange so everything pushed
        // before a post that this drain answers is visible to the take below.
        if (!gate_.gated()) drain_posted_.exchange(false, std::memory_order_acq_rel);
        gate_.after_block();  // awake: gated completers need not post
        const auto ready = [this] { return !inbox_.empty() || stop_requested_.load(std::memory_order_relaxed); };
        for (;;) {
            if (const int cpu = deliver_all(inbox_.take_all(), sink_); cpu >= 0) peer_cpu_ = cpu;
            if (stop_called_ || stop_requested_.load(std::memory_order_acquire)) return;
            // Polls for the design's loop-spin (forever: until a result or a
            // stop arrives, so this handler never returns while running),
            // then publishes `sleeping`. False: something arrived — deliver
            // it here rather than return and be posted again.
            // A deadline ends the spin too: the timer's handler runs once
            // this one returns.
            if (gate_.before_block(ready, peer_cpu_, deadline_ns_)) return;
        }
    }

    void post_drain() { boost::asio::post(io_, Drain{this}); }

    struct DeadlineFired {
        void operator()(const boost::system::error_code& error) const {
            // A cancelled wait, or one replaced by a later deadline: not ours.
            if (error || generation != loop->deadline_generation_) return;
            loop->deadline_ns_ = 0;  // before the call: the sink may set the next one
            loop->sink_.on_deadline();
            // A polled target whose loop spins forever never wakes it (see
            // DesignedWorker): the drain the deadline ended is posted again here.
            if (loop->inbox_.polled() && loop->gate_.spins_forever() && loop->gate_.should_wake()) loop->post_drain();
        }

        AsioLoop* loop;
        std::uint64_t generation;
    };

    struct Delivery {
        using allocator_type = SlotAllocator<void>;
        allocator_type get_allocator() const noexcept { return {loop->arena_, call->slot}; }
        void operator()() const { loop->sink_.deliver(*call); }

        AsioLoop* loop;
        Call* call;
    };

    struct Drain {
        using allocator_type = SlotAllocator<void>;
        allocator_type get_allocator() const noexcept { return {loop->drain_arena_, SlotArena::any}; }
        void operator()() const { loop->drain(); }

        AsioLoop* loop;
    };

    CallSink& sink_;
    const bool inbox_path_;
    bool stop_called_ = false;  // loop thread only
    std::atomic<bool> stop_requested_{false};
    CompletionInbox inbox_;
    LoopGate gate_;
    alignas(64) std::atomic<bool> drain_posted_{false};  // wake=always on the inbox path
    int peer_cpu_ = -1;  // where the worker last ran: adaptive loop-spin needs it
    // Before io_: handlers still queued are freed into them when io_ dies.
    SlotArena arena_;
    // Drains rarely overlap: at most one is posted per published sleep, plus
    // the one run() schedules; two pending at once needs a completer to take
    // the gate in the instant before_block() takes it back. Four buffers
    // leave the heap for what should never happen.
    SlotArena drain_arena_{4};
    // Concurrency hint 1 only tells the scheduler one thread runs it (skip
    // waking peers); it keeps the scheduler mutex, so posts from any thread
    // stay safe (BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, 1) holds).
    boost::asio::io_context io_{1};
    // Keeps run() blocked while nothing is queued.
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{io_.get_executor()};
    std::optional<boost::asio::steady_timer> timer_;  // after io_: made at the first deadline
    // Per caller (fewer than the window's slots): the handler of the
    // operation it awaits. After io_, which must outlive them (see the destructor).
    std::vector<std::optional<CallerHandler>> parked_;
    std::int64_t deadline_ns_ = 0;                    // set_deadline's, 0 for none (loop thread)
    std::uint64_t deadline_generation_ = 0;
};

// A call posted to the thread that runs it: run it there, then hand it back
// to the loop. The operation asio allocates for it comes from the owner's
// per-slot arena, so posting allocates nothing.
template <class Owner>
struct RunCallJob {
    using allocator_type = SlotAllocator<void>;
    allocator_type get_allocator() const noexcept { return {owner->arena_, call->slot}; }
    void operator()() const {
        // Shutdown: a job still queued when its target closes goes back unrun.
        if (owner->closing_.load(std::memory_order_acquire)) {
            mark_cancelled_at_shutdown(*call);
        } else {
            owner->runner_.run(*call);
        }
        owner->loop_.complete(*call);
    }

    Owner* owner;
    Call* call;
};

// Runs calls on asio's thread_pool; each pool thread hands its result back
// with a post into the loop's io_context.
class AsioPoolTarget final : public Target {
public:
    // Its workers are all of the pool's threads, registered here, before the
    // interval, one registration task each. On a throw, ~thread_pool stops
    // and joins the threads the tasks have released.
    AsioPoolTarget(AsioLoop& loop, const TargetOptions& options)
        : loop_(loop), runner_(*options.runner), arena_(options.window), pool_(options.threads) {
        register_pool_threads(runner_.registry(), options.threads,
                              fmt::format("asio: asio::thread_pool of {} threads", options.threads),
                              [this](std::function<void()> task) { boost::asio::post(pool_, std::move(task)); });
    }

    // Shutdown: running calls finish; queued ones still run their job, which
    // sees the flag and hands its call back unrun (status cancelled). join()
    // without stop() waits until the pool has no work left.
    ~AsioPoolTarget() override {
        closing_.store(true, std::memory_order_release);
        pool_.join();
    }

    void submit(Call& call) override { boost::asio::post(pool_, Job{this, &call}); }

    std::string mechanism() const override { return "asio::thread_pool"; }

private:
    using Job = RunCallJob<AsioPoolTarget>;
    friend Job;

    AsioLoop& loop_;
    const CallRunner& runner_;
    std::atomic<bool> closing_{false};
    SlotArena arena_;
    boost::asio::thread_pool pool_;  // last: its threads start in the constructor
};

// impl=native: the asio way to run a dedicated worker — a second io_context,
// run by one thread of its own. A call goes there with asio::post and comes
// back with asio::post into the loop's io_context (the classic delivery), so
// both directions are asio's scheduler: mutex, op queue, condition variable.
class NativeTarget final : public Target {
public:
    NativeTarget(AsioLoop& loop, const TargetOptions& options)
        : loop_(loop), runner_(*options.runner), arena_(options.window) {
        thread_ = std::thread([this] {
            runner_.registry().note_current_thread();  // a worker from the start (and pinned)
            worker_io_.run();
        });
    }

    // Shutdown: a running call finishes; queued ones still run their job,
    // which sees the flag and hands its call back unrun (status cancelled).
    // Without the guard, run() returns once nothing is left.
    ~NativeTarget() override {
        closing_.store(true, std::memory_order_release);
        guard_.reset();
        thread_.join();
    }

    void submit(Call& call) override { boost::asio::post(worker_io_, Job{this, &call}); }

    std::string mechanism() const override { return "asio worker io_context, asio::post both ways"; }

private:
    using Job = RunCallJob<NativeTarget>;
    friend Job;

    AsioLoop& loop_;
    const CallRunner& runner_;
    std::atomic<bool> closing_{false};
    SlotArena arena_;  // before worker_io_, which frees queued jobs into it
    boost::asio::io_context worker_io_{1};  // one thread runs it; posts come from the loop thread
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> guard_{worker_io_.get_executor()};
    std::thread thread_;  // last: starts once everything above exists
};

std::unique_ptr<Target> AsioLoop::make_target(const TargetOptions& options) {
    if (options.kind == TargetKind::dedicated && options.design != nullptr &&
        options.design->impl == Design::Impl::native) {
        if (options.runner == nullptr) throw std::invalid_argument("target without a call runner");
        return std::make_unique<NativeTarget>(*this, options);
    }
    if (options.kind != TargetKind::pool) return make_lab_target(*this, options);
    if (options.runner == nullptr) throw std::invalid_argument("target without a call runner");
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

std::unique_ptr<Loop> make_asio_loop(const LoopOptions& options) { return std::make_unique<AsioLoop>(options); }

}  // namespace

extern const Backend asio_backend = {
    .name = "asio",
    .description = "Boost.Asio io_context, woken by asio::post; pool: asio::thread_pool; "
                   "native: a second io_context as the worker",
    .unavailable_reason = [] { return std::optional<std::string>(); },
    .library_version = asio_version,
    .make_loop = make_asio_loop,
    .capabilities = {.native_worker = true},
};

}  // namespace handoff
