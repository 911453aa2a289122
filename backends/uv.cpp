// libuv: the loop thread sleeps in uv_run and workers wake it with
// uv_async_send (an eventfd underneath). The pool target is libuv's own pool,
// uv_queue_work, whose results come back through libuv's internal async handle
// and are delivered from the after-work callback. The shape of Node.js.
#include <uv.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "completion_inbox.hpp"
#include "handoff/backend.hpp"
#include "handoff/work.hpp"

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

// The pool target: one uv_work_t per window slot, so a call allocates nothing.
// The slots live in a block of their own that can outlive the target (see
// ~UvPool).
class UvPool final : public Target {
public:
    UvPool(uv_loop_t& loop, CallSink& sink, const Executor& executor, std::uint32_t window,
           std::string mechanism)
        : state_(std::make_unique<State>(loop, sink, executor, window)), mechanism_(std::move(mechanism)) {}

    ~UvPool() override {
        if (state_->in_flight == 0) return;
        // Not the normal path: the runner tears a target down after every call
        // was delivered, or after it gave up on the run. Calls still queued
        // are cancelled and never run; a call already running is awaited,
        // because it writes to its Call and reads the Executor, which the
        // runner frees once this returns (a wait as long as one call's work,
        // not a hang). libuv still owns every in-flight uv_work_t until its
        // after-work callback, which only the loop runs: the block is left to
        // those callbacks, which deliver nothing now and free it with the
        // last one. The loop's destructor runs them before uv_loop_close.
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
        State(uv_loop_t& l, CallSink& s, const Executor& e, std::uint32_t window)
            : loop(l), sink(s), executor(e), slots(window) {
            for (Slot& slot : slots) {
                slot.req.data = &slot;
                slot.state = this;
            }
        }
        uv_loop_t& loop;
        CallSink& sink;
        const Executor& executor;
        std::vector<Slot> slots;      // indexed by Call::slot; never resized
        std::uint32_t in_flight = 0;  // loop thread only
        bool orphaned = false;        // the target is gone: deliver nothing
    };

    // On a libuv pool thread.
    static void run_call(uv_work_t* req) {
        Slot& slot = *static_cast<Slot*>(req->data);
        slot.state->executor.run(*slot.call);
        slot.ran.store(true, std::memory_order_release);
    }

    // On the loop thread: libuv's own way back, so straight to the sink.
    static void after_call(uv_work_t* req, int /*status: UV_ECANCELED only once orphaned*/) {
        Slot& slot = *static_cast<Slot*>(req->data);
        State& state = *slot.state;
        slot.in_flight = false;
        --state.in_flight;
        if (state.orphaned) {
            if (state.in_flight == 0) delete &state;
            return;
        }
        state.sink.deliver(*slot.call);
    }

    std::unique_ptr<State> state_;
    std::string mechanism_;
};

class UvLoop final : public Loop {
public:
    explicit UvLoop(const LoopOptions& options) : sink_(*options.sink) {
        if (const int rc = uv_loop_init(&loop_); rc != 0) fail("uv_loop_init", rc);
        if (const int rc = uv_async_init(&loop_, &wake_, on_wake); rc != 0) {
            uv_loop_close(&loop_);
            fail("uv_async_init", rc);
        }
        // Referenced (the default), so it alone keeps uv_run from returning
        // until stop() or request_stop().
        wake_.data = this;
    }

    ~UvLoop() override {
        uv_close(reinterpret_cast<uv_handle_t*>(&wake_), nullptr);
        // Runs the close callback, and the after-work callbacks of a pool
        // target destroyed with calls in flight (their work is over by now).
        uv_run(&loop_, UV_RUN_DEFAULT);
        if (const int rc = uv_loop_close(&loop_); rc != 0) {
            // A handle or request outlived the loop: a bug in this file.
            std::fprintf(stderr, "handoff uv: uv_loop_close: %s\n", uv_strerror(rc));
            std::abort();
        }
    }

    void run() override {
        // Sticky, like the other loops: a stop requested once ends every run.
        if (stop_requested_.load(std::memory_order_acquire)) return;
        uv_run(&loop_, UV_RUN_DEFAULT);
    }

    void stop() override { uv_stop(&loop_); }

    void request_stop() override {
        stop_requested_.store(true, std::memory_order_release);
        uv_async_send(&wake_);  // async-signal-safe, as a signal handler needs
    }

    void complete(Call& call) override {
        inbox_.push(call);
        // Classic: every result sends. uv_async_send coalesces sends until the
        // callback runs, which is why it drains the whole inbox.
        uv_async_send(&wake_);
    }

    std::unique_ptr<Target> make_target(const TargetOptions& options) override {
        if (options.kind != TargetKind::pool) return make_lab_target(*this, options);
        if (options.executor == nullptr) throw std::invalid_argument("target without an executor");
        if (options.window == 0) throw std::invalid_argument("pool target with a window of 0");
        const PoolSize size = claim_pool_size(options.threads);
        std::string mechanism = size.threads == options.threads
                                    ? std::string("uv_queue_work")
                                    : fmt::format("uv_queue_work ({} threads, UV_THREADPOOL_SIZE)", size.threads);
        return std::make_unique<UvPool>(loop_, sink_, *options.executor, options.window, std::move(mechanism));
    }

    std::string wake_mechanism() const override { return "uv_async"; }

private:
    static void on_wake(uv_async_t* handle) {
        auto& self = *static_cast<UvLoop*>(handle->data);
        deliver_all(self.inbox_.take_all(), self.sink_);
        if (self.stop_requested_.load(std::memory_order_acquire)) uv_stop(&self.loop_);
    }

    CallSink& sink_;
    uv_loop_t loop_{};
    uv_async_t wake_{};
    std::atomic<bool> stop_requested_{false};
    CompletionInbox inbox_;
};

std::unique_ptr<Loop> make_uv_loop(const LoopOptions& options) {
    if (options.sink == nullptr) throw std::invalid_argument("loop without a sink");
    return std::make_unique<UvLoop>(options);
}

}  // namespace

extern const Backend uv_backend = {
    .name = "uv",
    .description = "libuv: uv_run, woken through uv_async_send; pool: uv_queue_work",
    .unavailable_reason = [] { return std::optional<std::string>(); },
    .library_version = [] { return std::string("libuv ") + uv_version_string(); },
    .make_loop = make_uv_loop,
};

}  // namespace handoff
