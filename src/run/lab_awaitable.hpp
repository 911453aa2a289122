// The lab's own awaitable, over any loop's completion path: a caller (see
// handoff/awaitable.hpp) suspended on a call is parked in its Parking, and the
// awaiting side resumes it from CallSink::deliver when the loop hands that
// call back on the loop thread (or from on_deadline when it times out).
//
// Nothing here allocates: a caller's frame is made once per phase
// (CallerTask), and what it awaits lives in that frame (the awaiters) and in
// the caller's Parking, made once per run.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <utility>

#include "handoff/awaitable.hpp"

namespace handoff {

// A caller's coroutine and the owner of its frame. Starts suspended (start()
// runs it to its first co_await) and stays suspended at its end, so the
// owner alone destroys the frame: finished or not, never twice.
class CallerTask {
public:
    struct promise_type {
        CallerTask get_return_object() noexcept {
            return CallerTask(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        std::suspend_always initial_suspend() const noexcept { return {}; }
        std::suspend_always final_suspend() const noexcept { return {}; }
        void return_void() const noexcept {}
        // run_caller catches every exception of a call; anything else is a bug.
        void unhandled_exception() const noexcept { std::terminate(); }
    };

    CallerTask() = default;
    CallerTask(CallerTask&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
    CallerTask& operator=(CallerTask&& other) noexcept {
        if (this != &other) {
            if (handle_) handle_.destroy();
            handle_ = std::exchange(other.handle_, {});
        }
        return *this;
    }
    ~CallerTask() {
        if (handle_) handle_.destroy();
    }

    void start() { handle_.resume(); }
    bool done() const { return handle_.done(); }

private:
    explicit CallerTask(std::coroutine_handle<promise_type> handle) : handle_(handle) {}
    std::coroutine_handle<promise_type> handle_;
};

// Where one caller waits while suspended, and what it is resumed with.
class Parking {
public:
    void park(std::coroutine_handle<> handle) noexcept { handle_ = handle; }
    bool parked() const noexcept { return static_cast<bool>(handle_); }

    // Resumes the parked caller: it runs until its next co_await, here.
    void resume(std::exception_ptr error, std::uint64_t value) {
        error_ = std::move(error);
        value_ = value;
        std::exchange(handle_, {}).resume();
    }

    // In the resumed caller: the value, or the exception rethrown.
    std::uint64_t take() {
        if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
        return value_;
    }

private:
    std::coroutine_handle<> handle_;
    std::exception_ptr error_;
    std::uint64_t value_ = 0;
};

// What a lab caller awaits (the Ops of run_caller).
template <class Driver>
struct LabOps {
    // co_await ops.handoff(call, caller): the call goes to the target once
    // the caller is suspended; the co_await gives its value or throws.
    struct Handoff {
        Driver& driver;
        Parking& parking;
        Call& call;
        std::uint32_t caller;

        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> handle) {
            // Parked first: the call can only come back in a later turn of
            // the loop, but a resume must never find an empty parking.
            parking.park(handle);
            driver.submit(call, caller);
        }
        std::uint64_t await_resume() { return parking.take(); }
    };

    // co_await ops.slot_free(caller): until a slot comes back or the phase ends.
    struct SlotFree {
        Driver& driver;
        Parking& parking;
        std::uint32_t caller;

        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> handle) {
            parking.park(handle);
            driver.await_slot(caller);
        }
        std::uint64_t await_resume() { return parking.take(); }
    };

    Handoff handoff(Call& call, std::uint32_t caller) { return {*driver, parkings[caller], call, caller}; }
    SlotFree slot_free(std::uint32_t caller) { return {*driver, parkings[caller], caller}; }

    Driver* driver;
    Parking* parkings;  // one per caller
};

}  // namespace handoff
