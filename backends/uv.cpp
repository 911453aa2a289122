// libuv: the loop thread sleeps in uv_run and workers wake it with
// uv_async_send (an eventfd underneath). The pool target is libuv's own pool,
// uv_queue_work, whose results come back through libuv's internal async handle
// and are delivered from the after-work callback. The shape of Node.js.
//
// Designs: libuv blocks inside uv_run, so the loop's side of a design that
// spins or gates its wakes works through libuv's hooks around the poll (see
// UvLoop). impl=native is the classic libuv way to talk to a dedicated worker:
// a second uv loop on the worker thread, uv_async both ways (UvWorkerLoop).
#include <sys/timerfd.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "handoff/completion_inbox.hpp"
#include "handoff/backend.hpp"
#include "handoff/clocks.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/work.hpp"
#include "handoff/loop_gate.hpp"
#include "handoff/spin.hpp"

namespace handoff {
namespace {

[[noreturn]] void fail(const char* what, int uv_error) {
    throw std::runtime_error(fmt::format("{}: {}", what, uv_strerror(uv_error)));
}

// libuv sizes its pool once per process, from UV_THREADPOOL_SIZE read at the
// first uv_queue_work, and never again. What the lab decided is remembered
// here so a later request for another size is refused rather than silently
// measured with the wrong pool.
struct PoolSize {
    unsigned threads = 0;   // 0: not decided yet
    bool from_env = false;  // the user's UV_THREADPOOL_SIZE, not options.threads
};

constexpr unsigned max_uv_pool = 1024;  // libuv's own cap (1.30 and later)

// The size libuv makes of a UV_THREADPOOL_SIZE value (its atoi, 0 -> 1, cap).
unsigned uv_pool_size_from(const char* value) {
    const auto n = static_cast<unsigned>(std::atoi(value));
    if (n == 0) return 1;
    return n > max_uv_pool ? max_uv_pool : n;
}

// Makes libuv start its pool now, with one no-op work on a throwaway loop.
void start_uv_pool() {
    uv_loop_t loop;
    if (const int rc = uv_loop_init(&loop); rc != 0) fail("uv_loop_init", rc);
    uv_work_t req{};
    const int rc = uv_queue_work(&loop, &req, [](uv_work_t*) {}, [](uv_work_t*, int) {});
    if (rc == 0) uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (rc != 0) fail("uv_queue_work", rc);
}

PoolSize claim_pool_size(unsigned asked) {
    static std::mutex mutex;
    static PoolSize decided;
    std::lock_guard lock(mutex);
    if (decided.threads == 0) {
        if (const char* env = std::getenv("UV_THREADPOOL_SIZE")) {
            decided = {uv_pool_size_from(env), true};
        } else {
            if (asked == 0 || asked > max_uv_pool) {
                throw Unsupported(fmt::format("libuv's pool holds 1 to {} threads, asked for {}",
                                              max_uv_pool, asked));
            }
            if (setenv("UV_THREADPOOL_SIZE", std::to_string(asked).c_str(), 1) != 0) {
                throw std::runtime_error("setenv UV_THREADPOOL_SIZE failed");
            }
            // Taken back once libuv has read it, so child processes (the test
            // suite runs the binary) do not mistake it for the user's.
            try {
                start_uv_pool();
            } catch (...) {
                unsetenv("UV_THREADPOOL_SIZE");
                throw;
            }
            unsetenv("UV_THREADPOOL_SIZE");
            decided = {asked, false};
        }
    } else if (!decided.from_env && decided.threads != asked) {
        throw Unsupported(fmt::format(
            "libuv's pool size is fixed per process at first use: started with {}, asked for {}",
            decided.threads, asked));
    }
    return decided;
}

// Registers every thread of libuv's pool in `registry` before the run
// measures anything (see register_pool_threads): `threads` registration tasks
// on a throwaway loop, each holding its pool thread until all have arrived.
// The pool is process-global and outlives runs, so this runs for every pool
// target: each run has a registry of its own, and pins the threads anew.
void register_uv_pool(ThreadRegistry& registry, unsigned threads) {
    struct Job {
        uv_work_t req{};
        std::function<void()> task;
    };
    uv_loop_t loop;
    if (const int rc = uv_loop_init(&loop); rc != 0) fail("uv_loop_init (pool registration)", rc);
    std::vector<std::unique_ptr<Job>> jobs;
    jobs.reserve(threads);
    std::exception_ptr error;
    try {
        register_pool_threads(registry, threads, fmt::format("uv: libuv's pool of {} threads", threads),
                              [&](std::function<void()> task) {
                                  Job& job = *jobs.emplace_back(std::make_unique<Job>());
                                  job.task = std::move(task);
                                  job.req.data = &job;
                                  const int rc = uv_queue_work(
                                      &loop, &job.req,
                                      [](uv_work_t* req) { static_cast<Job*>(req->data)->task(); },
                                      [](uv_work_t*, int) {});
                                  if (rc != 0) {
                                      jobs.pop_back();
                                      fail("uv_queue_work (pool registration)", rc);
                                  }
                              });
    } catch (...) {
        error = std::current_exception();
        // Given up: tasks still queued need not run (those that do return at once).
        for (const auto& job : jobs) uv_cancel(reinterpret_cast<uv_req_t*>(&job->req));
    }
    // Every task has returned or will at once: reap their after-work callbacks.
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (error) std::rethrow_exception(error);
}

// The pool target: one uv_work_t per window slot, so a call allocates nothing.
// The slots live in a block of their own that can outlive the target (see
// ~UvPool).
class UvPool final : public Target {
public:
    UvPool(uv_loop_t& loop, CallSink& sink, const CallRunner& runner, std::uint32_t window,
           std::string mechanism)
        : state_(std::make_unique<State>(loop, sink, runner, window)), mechanism_(std::move(mechanism)) {}

    ~UvPool() override {
        if (state_->in_flight == 0) return;
        // Shutdown with calls out: calls still queued are cancelled
        // (uv_cancel) and never run; a call already running is awaited,
        // because it writes to its Call and reads the CallRunner, which the
        // runner frees once this returns (a wait as long as one call's work,
        // not a hang). libuv still owns every in-flight uv_work_t until its
        // after-work callback, which only the loop runs: the block is left to
        // those callbacks, which hand each call to the sink (the cancelled
        // ones with status cancelled) and free the block with the last one.
        // The loop's destructor runs them before uv_loop_close, if no turn
        // of the loop does it first.
        std::vector<Slot*> running;
        for (Slot& slot : state_->slots) {  // cancel all first: waiting lets the pool take more
            if (slot.in_flight && uv_cancel(reinterpret_cast<uv_req_t*>(&slot.req)) != 0) {
                running.push_back(&slot);
            }
        }
        for (Slot* slot : running) {
            while (!slot->ran.load(std::memory_order_acquire)) {
                std::this_thread::sleep_for(std::chrono::microseconds(100));
            }
        }
        state_->orphaned = true;
        state_.release();
    }

    void submit(Call& call) override {
        Slot& slot = state_->slots[call.slot];
        slot.call = &call;
        slot.in_flight = true;
        slot.ran.store(false, std::memory_order_relaxed);  // published by libuv's queue mutex
        ++state_->in_flight;
        const int rc = uv_queue_work(&state_->loop, &slot.req, run_call, after_call);
        if (rc != 0) {
            slot.in_flight = false;
            --state_->in_flight;
            fail("uv_queue_work", rc);
        }
    }

    std::string mechanism() const override { return mechanism_; }

private:
    struct State;

    struct Slot {
        uv_work_t req{};
        State* state = nullptr;
        Call* call = nullptr;
        bool in_flight = false;        // loop thread only
        std::atomic<bool> ran{false};  // the work is over; read only at teardown
    };

    struct State {
        State(uv_loop_t& l, CallSink& s, const CallRunner& e, std::uint32_t window)
            : loop(l), sink(s), runner(e), slots(window) {
            for (Slot& slot : slots) {
                slot.req.data = &slot;
                slot.state = this;
            }
        }
        uv_loop_t& loop;
        CallSink& sink;
        const CallRunner& runner;
        std::vector<Slot> slots;      // indexed by Call::slot; never resized
        std::uint32_t in_flight = 0;  // loop thread only
        bool orphaned = false;        // the target is gone: deliver nothing
    };

    // On a libuv pool thread.
    static void run_call(uv_work_t* req) {
        Slot& slot = *static_cast<Slot*>(req->data);
        slot.state->runner.run(*slot.call);
        slot.ran.store(true, std::memory_order_release);
    }

    // On the loop thread: libuv's own way back, so straight to the sink.
    static void after_call(uv_work_t* req, int status /*UV_ECANCELED only at shutdown*/) {
        Slot& slot = *static_cast<Slot*>(req->data);
        State& state = *slot.state;
        slot.in_flight = false;
        --state.in_flight;
        if (status == UV_ECANCELED) mark_cancelled_at_shutdown(*slot.call);
        const bool last_orphan = state.orphaned && state.in_flight == 0;
        // Orphaned or not, the call goes back to its owner exactly once.
        state.sink.deliver(*slot.call);
        if (last_orphan) delete &state;
    }

    std::unique_ptr<State> state_;
    std::string mechanism_;
};

// impl=native: the classic libuv way to talk to a dedicated worker. The worker
// thread runs a uv loop of its own and sleeps in uv_run; submit() pushes the
// call into a lock-free inbox and wakes that loop with uv_async_send; the
// worker runs every call it finds and hands each back through Loop::complete,
// which is the loop thread's own uv_async. Nothing is allocated per call: the
// inbox links calls through Call::next.
//
// uv_async_send coalesces: on a handle already pending it is one load and a
// return, and libuv guarantees the callback runs after the send, so the
// callback drains the whole inbox and no call is left behind.
//
// The cost is libuv's own. In 1.44 (Debian's) the receiving loop busy-waits
// (uv__async_spin: 997 pauses, then sched_yield) when it wakes before the
// sender has finished uv_async_send; with both threads on one CPU the woken
// side preempts the sender every time, in both directions: measured here,
// ~34 us of spinning on each thread and 6 context switches per call.
class UvWorkerLoop final : public Target {
public:
    UvWorkerLoop(Loop& loop, const CallRunner& runner) : loop_(loop), runner_(runner) {
        if (const int rc = uv_loop_init(&worker_loop_); rc != 0) fail("uv_loop_init (worker)", rc);
        if (const int rc = uv_async_init(&worker_loop_, &wake_, on_wake); rc != 0) {
            uv_loop_close(&worker_loop_);
            fail("uv_async_init (worker)", rc);
        }
        wake_.data = this;
        // Both set up here, before the thread exists: submit() may send at
        // once, and creating the thread publishes them to it.
        try {
            thread_ = std::thread([this] { work(); });
        } catch (...) {
            uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
            uv_run(&worker_loop_, UV_RUN_DEFAULT);
            uv_loop_close(&worker_loop_);
            throw;
        }
    }

    ~UvWorkerLoop() override {
        // The worker's callback sees the flag, hands back every call still in
        // the inbox unrun (status cancelled), closes its only handle, and
        // uv_run returns for want of anything alive.
        stopping_.store(true, std::memory_order_seq_cst);
        uv_async_send(&wake_);
        thread_.join();
        // Closed here, after the join, not on the worker: the send above may
        // still be writing to this loop's eventfd when the worker has already
        // seen the flag (through an earlier send) and left uv_run.
        if (const int rc = uv_loop_close(&worker_loop_); rc != 0) {
            std::fprintf(stderr, "handoff uv: uv_loop_close (worker): %s\n", uv_strerror(rc));
            std::abort();
        }
    }

    void submit(Call& call) override {
        inbox_.push(call);
        uv_async_send(&wake_);
    }

    std::string mechanism() const override { return "uv worker loop, uv_async both ways"; }

private:
    void work() {
        runner_.registry().note_current_thread();
        uv_run(&worker_loop_, UV_RUN_DEFAULT);
    }

    // On the worker thread.
    static void on_wake(uv_async_t* handle) {
        auto& self = *static_cast<UvWorkerLoop*>(handle->data);
        if (self.stopping_.load(std::memory_order_acquire)) {
            // Every submit came before the flag (both on the loop thread).
            for (Call* list = self.inbox_.take_all(); list != nullptr;) {
                Call* next = list->next;
                mark_cancelled_at_shutdown(*list);
                self.loop_.complete(*list);
                list = next;
            }
            uv_close(reinterpret_cast<uv_handle_t*>(handle), nullptr);
            return;
        }
        Call* list = self.inbox_.take_all();
        while (list != nullptr) {
            // complete() hands the call back; the loop may resubmit it (and
            // rewrite next) at once: read the link first.
            Call* next = list->next;
            // Shutdown while a batch is under way: the rest goes back unrun.
            if (self.stopping_.load(std::memory_order_relaxed)) {
                mark_cancelled_at_shutdown(*list);
            } else {
                self.runner_.run(*list);
            }
            self.loop_.complete(*list);
            list = next;
        }
    }

    Loop& loop_;
    const CallRunner& runner_;
    uv_loop_t worker_loop_{};
    uv_async_t wake_{};
    std::atomic<bool> stopping_{false};
    CompletionInbox inbox_;  // the same shape as the loop's: any thread pushes, one takes all
    std::thread thread_;     // last: started once everything above exists
};

// The loop's side of a design (LoopGate) on libuv, which blocks inside uv_run.
// Each turn of uv_run runs, in order: timers, pending, idle, PREPARE, the poll
// (epoll_wait, blocking unless uv_backend_timeout says 0), CHECK, closing.
//
//   prepare  delivers what is waiting, spins for the budget (delivering what
//            arrives), then publishes through the gate that the loop sleeps,
//            and returns: libuv blocks in the poll.
//   poll     a worker that saw the loop asleep has sent uv_async: on_wake
//            takes the gate back and delivers.
//   check    takes the gate back whatever woke the poll.
//
// Why no wake-up is lost (wake=gated): the prepare hook stores `sleeping`
// and then looks at the inbox; a worker pushes and then looks at `sleeping`,
// both seq_cst (LoopGate). Either the hook sees the call (it delivers and
// goes round again, never returning to libuv with the flag set), or the worker
// sees the flag and sends uv_async, whose eventfd write makes the poll return
// however late it comes (before libuv enters epoll_wait, or during). A call
// pushed while the flag is clear — the loop is delivering, or between check
// and prepare — is found by the next prepare, which runs before any poll.
// The prepare hook returns to libuv only (a) with the flag published, (b) after
// a stop, when libuv's poll does not block, or (c) with an idle handle started,
// which makes libuv's poll timeout 0: never awake and unreachable.
class UvLoop final : public Loop {
public:
    explicit UvLoop(const LoopOptions& options)
        : sink_(*options.sink),
          gate_(options.design),
          // Results left in place are polled, and calls held back (hold=)
          // released as the loop goes to sleep, which only the hooks do.
          hooks_(gate_.gated() ||
                 (options.design != nullptr && (options.design->loop_spin != Design::LoopSpin::none ||
                                                options.design->queue == Design::Queue::inplace ||
                                                options.design->hold.count() != 0))) {
        if (const int rc = uv_loop_init(&loop_); rc != 0) fail("uv_loop_init", rc);
        loop_.data = this;  // every callback finds the UvLoop through its handle's loop
        // Referenced (the default), so it alone keeps uv_run from returning
        // until stop() or request_stop(); the hooks below are unreferenced.
        int rc = uv_async_init(&loop_, &wake_, on_wake);
        // The deadline's timer: a timerfd watched by libuv, unreferenced, and
        // costing nothing while disarmed (see set_deadline).
        timer_fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        if (timer_fd_ < 0) fail("timerfd_create", -errno);
        if (rc == 0) rc = init_hook(uv_poll_init(&loop_, &timer_, timer_fd_), timer_);
        // Classic designs run libuv untouched: no hook costs them anything.
        if (rc == 0 && hooks_) {
            rc = init_hook(uv_prepare_init(&loop_, &prepare_), prepare_);
            if (rc == 0) rc = uv_prepare_start(&prepare_, on_prepare);
            if (rc == 0) rc = init_hook(uv_check_init(&loop_, &check_), check_);
            if (rc == 0) rc = uv_check_start(&check_, on_check);
            if (rc == 0) rc = init_hook(uv_idle_init(&loop_, &idle_), idle_);
        }
        if (rc != 0) {
            close_all();
            fail("uv handle init", rc);
        }
    }

    ~UvLoop() override {
        // Shutdown: results that arrived after the last turn still reach the
        // sink; close_all() runs the after-work callbacks of a pool destroyed
        // with calls out (they deliver too), and whatever those hand back.
        drain();
        close_all();
        drain();
        ::close(timer_fd_);  // after libuv let go of its poll handle
    }

    void run() override {
        // Sticky, like the other loops: a stop requested once ends every run.
        if (stop_requested_.load(std::memory_order_acquire)) return;
        stopped_ = false;
        uv_run(&loop_, UV_RUN_DEFAULT);
    }

    void stop() override {
        stopped_ = true;
        uv_stop(&loop_);
    }

    void request_stop() override {
        stop_requested_.store(true, std::memory_order_release);
        // Whatever the gate says: async-signal-safe, as a signal handler needs.
        // A spinning prepare hook sees the flag itself (it is in `ready`).
        uv_async_send(&wake_);
    }

    void complete(Call& call) override {
        inbox_.push(call);
        wake_for_poller();
    }

    // Classic: every result sends. uv_async_send coalesces sends until the
    // callback runs, which is why it drains the whole inbox. Gated: only
    // while the loop has published that it sleeps (see the class comment).
    void wake_for_poller() override {
        if (gate_.should_wake()) uv_async_send(&wake_);
    }

    std::unique_ptr<Target> make_target(const TargetOptions& options) override {
        if (options.kind == TargetKind::dedicated) {
            if (options.design == nullptr || options.design->impl != Design::Impl::native) {
                return make_lab_target(*this, options);
            }
            if (options.runner == nullptr) throw std::invalid_argument("target without a call runner");
            return std::make_unique<UvWorkerLoop>(*this, *options.runner);
        }
        if (options.runner == nullptr) throw std::invalid_argument("target without a call runner");
        if (options.window == 0) throw std::invalid_argument("pool target with a window of 0");
        // libuv's pool completes through libuv's own internal uv_async, past
        // the inbox this loop's hooks spin on and gate.
        if (hooks_) throw Unsupported("uv_queue_work completes through libuv's own uv_async: pools take the classic design");
        const PoolSize size = claim_pool_size(options.threads);
        // Its workers are all of libuv's pool threads, from before the interval.
        register_uv_pool(options.runner->registry(), size.threads);
        std::string mechanism = size.threads == options.threads
                                    ? std::string("uv_queue_work")
                                    : fmt::format("uv_queue_work ({} threads, UV_THREADPOOL_SIZE)", size.threads);
        return std::make_unique<UvPool>(loop_, sink_, *options.runner, options.window, std::move(mechanism));
    }

    // The prepare hook polls the inbox, and through it the poller.
    void set_poller(CompletionPoller* poller) override {
        if (!hooks_) throw Unsupported("this uv loop does not poll: a polled target needs a loop-spin");
        inbox_.attach(poller);
    }

    // uv timers count whole milliseconds from a clock a tick behind: an
    // open-loop run at 10k calls per second would send in bursts each
    // millisecond. The deadline is a timerfd instead (nanoseconds, absolute
    // CLOCK_MONOTONIC), watched by a uv_poll: a libuv program wanting finer
    // timers does the same. One timerfd_settime per deadline.
    void set_deadline(std::int64_t deadline_ns) override {
        deadline_ns_ = deadline_ns;
        itimerspec at{};
        at.it_value = timespec{time_t(deadline_ns / 1'000'000'000), long(deadline_ns % 1'000'000'000)};
        if (timerfd_settime(timer_fd_, TFD_TIMER_ABSTIME, &at, nullptr) != 0) fail("timerfd_settime", -errno);
        if (deadline_ns == 0) {
            if (timer_polled_) uv_poll_stop(&timer_);
            timer_polled_ = false;
        } else if (!timer_polled_) {
            if (const int rc = uv_poll_start(&timer_, UV_READABLE, on_timer); rc != 0) fail("uv_poll_start", rc);
            timer_polled_ = true;
        }
    }

    std::string wake_mechanism() const override { return gate_.gated() ? "uv_async, gated" : "uv_async"; }

private:
    // A prepare hook that keeps delivering returns to libuv after this many
    // batches, for one poll that does not block: libuv's other handles get
    // their turn (none in the lab; a real program has sockets and timers).
    // One non-blocking epoll_wait per 64 batches is noise.
    static constexpr unsigned fair_share_batches = 64;
    // loop-spin=forever spins in slices of this, with a non-blocking turn of
    // libuv between slices, for the same reason; it still never blocks.
    static constexpr std::int64_t forever_slice_ns = 1'000'000;

    template <class Handle>
    static int init_hook(int rc, Handle& handle) {
        if (rc == 0) uv_unref(reinterpret_cast<uv_handle_t*>(&handle));
        return rc;
    }

    // Closes every handle that was initialised, lets libuv finish with them
    // and closes the loop.
    void close_all() {
        const auto close = [](auto& handle) {
            auto* h = reinterpret_cast<uv_handle_t*>(&handle);
            if (h->loop != nullptr && !uv_is_closing(h)) uv_close(h, nullptr);
        };
        close(wake_);
        close(timer_);
        close(prepare_);
        close(check_);
        close(idle_);
        // Runs the close callbacks, and the after-work callbacks of a pool
        // target destroyed with calls in flight (their work is over by now).
        // Again if a sink called stop() from one of those deliveries.
        while (uv_run(&loop_, UV_RUN_DEFAULT) != 0) {
        }
        if (const int rc = uv_loop_close(&loop_); rc != 0) {
            // A handle or request outlived the loop: a bug in this file.
            std::fprintf(stderr, "handoff uv: uv_loop_close: %s\n", uv_strerror(rc));
            std::abort();
        }
    }

    void drain() {
        if (const int cpu = deliver_all(inbox_.take_all(), sink_); cpu >= 0) peer_cpu_ = cpu;
    }

    // The prepare hook: libuv is about to compute its poll timeout and block.
    void before_poll() {
        const auto ready = [this] { return !inbox_.empty() || stop_requested_.load(std::memory_order_relaxed); };
        unsigned batches = 0;
        for (;;) {
            if (stop_requested_.load(std::memory_order_acquire)) {
                uv_stop(&loop_);
                return;
            }
            if (stopped_) return;  // stop() from a delivery: uv_stop made the poll non-blocking
            if (!inbox_.empty()) {
                if (batches++ == fair_share_batches) return stay_awake();
                drain();
                continue;
            }
            if (gate_.spins_forever()) {
                if (!spin_until(ready, forever_slice_ns)) return stay_awake();
                continue;
            }
            // Spins for the budget (no further than the deadline), then
            // publishes that the loop sleeps (defer=: not while the deadline
            // is near); false when a result or a stop arrived meanwhile: go
            // round and take it. libuv then blocks until the deadline's
            // timerfd, a wake or a result: the worker hears of it (hold=).
            if (gate_.before_block(ready, peer_cpu_, deadline_ns_)) {
                inbox_.before_sleep(deadline_ns_);
                return;
            }
        }
    }

    // An active idle handle makes libuv's poll timeout 0: the poll only looks.
    void stay_awake() { uv_idle_start(&idle_, on_idle); }

    static UvLoop& self(void* data) { return *static_cast<UvLoop*>(data); }

    static void on_wake(uv_async_t* handle) {
        UvLoop& loop = self(handle->loop->data);
        loop.gate_.after_block();
        loop.drain();
        if (loop.stop_requested_.load(std::memory_order_acquire)) uv_stop(&loop.loop_);
    }
    static void on_timer(uv_poll_t* handle, int, int) {
        UvLoop& loop = self(handle->loop->data);
        std::uint64_t expirations = 0;
        [[maybe_unused]] const ssize_t got = read(loop.timer_fd_, &expirations, sizeof expirations);
        if (loop.deadline_ns_ == 0 || monotonic_ns() < loop.deadline_ns_) return;
        loop.deadline_ns_ = 0;  // before the call: the sink may set the next one
        loop.sink_.on_deadline();
    }
    static void on_prepare(uv_prepare_t* handle) { self(handle->loop->data).before_poll(); }
    static void on_check(uv_check_t* handle) { self(handle->loop->data).gate_.after_block(); }
    static void on_idle(uv_idle_t* handle) { uv_idle_stop(handle); }  // one turn was enough

    CallSink& sink_;
    uv_loop_t loop_{};
    uv_async_t wake_{};
    uv_poll_t timer_{};
    int timer_fd_ = -1;
    bool timer_polled_ = false;
    std::int64_t deadline_ns_ = 0;  // set_deadline's, 0 for none (loop thread only)
    uv_prepare_t prepare_{};  // hooks: set up only for designs that gate or spin
    uv_check_t check_{};
    uv_idle_t idle_{};
    std::atomic<bool> stop_requested_{false};
    bool stopped_ = false;  // stop() was called in this run (loop thread only)
    CompletionInbox inbox_;
    LoopGate gate_;
    const bool hooks_;
    int peer_cpu_ = -1;  // where the worker last ran: adaptive spinning needs it
};

// Designs the uv backend cannot honour are refused before anything is built.
void check_design(const Design& design) {
    if (design.impl == Design::Impl::native) {
        // The native worker is a libuv loop: the lab worker's axes mean nothing to it.
        const Design native = parse_design("native");
        if (design.queue != native.queue || design.wait != native.wait || design.worker_spin != native.worker_spin ||
            design.batch != native.batch) {
            throw Unsupported(
                "impl=native on uv: the worker is a libuv loop woken by uv_async; queue=, wait= and batch= are for "
                "lab workers (wake= and loop-spin= apply)");
        }
    }
}

std::unique_ptr<Loop> make_uv_loop(const LoopOptions& options) {
    if (options.sink == nullptr) throw std::invalid_argument("loop without a sink");
    if (options.design != nullptr) check_design(*options.design);
    return std::make_unique<UvLoop>(options);
}

}  // namespace

extern const Backend uv_backend = {
    .name = "uv",
    .description = "libuv: uv_run, woken through uv_async_send; pool: uv_queue_work",
    .unavailable_reason = [] { return std::optional<std::string>(); },
    .library_version = [] { return std::string("libuv ") + uv_version_string(); },
    .make_loop = make_uv_loop,
    .capabilities = {.native_worker = true, .sleep_hooks = true},
};

}  // namespace handoff
