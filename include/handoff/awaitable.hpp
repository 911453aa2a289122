// Awaiting calls from C++20 coroutines (--await coroutine): the caller every
// coroutine runs, what it asks of the awaiting side, and what a loop that runs
// callers as coroutines of its own kind (Asio's awaitable) implements.
//
// A caller is one coroutine on the loop thread that sends a call, awaits it,
// checks what came back, and sends the next, one after another, through the
// warm-up and the measured calls, until none is left to send:
//
//     const std::uint64_t r = co_await ops.handoff(*call, caller);
//
// `--inflight N` is N callers. A caller is created once per run, before the
// loop runs, and its frame holds everything it needs for all its calls: what
// is awaited per call is the Call in the window slot (handoff/call.hpp), so
// the lab's own awaitable allocates nothing per call. A caller is resumed on
// the loop thread only, from the loop's delivery of a call (CallSink::deliver)
// or a deadline (CallSink::on_deadline), never on a worker.
//
// What the co_await gives: the call's value; or its own exception (fail:P),
// rethrown there; or CallTimedOut when --timeout gave up on it (the call then
// still belongs to the target, which may yet cancel it while it is queued).
#pragma once

#include <cstdint>
#include <exception>
#include <string>

#include "handoff/call.hpp"

namespace handoff {

// Thrown at the co_await of a call that did not come back within --timeout.
class CallTimedOut final : public std::exception {
public:
    const char* what() const noexcept override { return "the call did not come back within the timeout"; }
};

// The awaiting side, as a caller sees it. Loop thread only.
class CallerDriver {
public:
    // The call `caller` sends next, prepared and stamped; nullptr when there
    // is none to send now: none is left at all (done()), or not yet — the
    // warm-up's are all out and the measured calls start once they are back,
    // or every free slot is held by a timed-out call still out (await_slot()).
    virtual Call* next_call(std::uint32_t caller) = 0;
    // No call is left for any caller (or the run is stopping): callers return.
    virtual bool done() const = 0;
    // From an awaitable, once `caller` is suspended on `call`: hands the call
    // to the target. The caller is resumed when the call is delivered or
    // times out.
    virtual void submit(Call& call, std::uint32_t caller) = 0;
    // From an awaitable, once `caller` is suspended: resume it when it may
    // have a call to send (a slot came back, the measured calls start) or
    // when done().
    virtual void await_slot(std::uint32_t caller) = 0;
    // What the co_await on `call` gave `caller`: a value, or an exception.
    virtual void returned(Call& call, std::uint32_t caller, std::uint64_t value) = 0;
    virtual void threw(Call& call, std::uint32_t caller, std::exception_ptr error) = 0;
    // `caller` has its last call back and none is left: it returns.
    virtual void finished(std::uint32_t caller) = 0;

protected:
    ~CallerDriver() = default;
};

// The one caller body, whatever the coroutine type: `Task` is the coroutine
// (the lab's CallerTask, or boost::asio::awaitable<void>), `Ops` makes what
// it awaits: ops.handoff(call, caller) (submits the call; gives its value or
// throws) and ops.slot_free(caller) (gives when there may be a call to send).
// Every exception of a call is caught here: the body itself never throws.
template <class Task, class Ops, class Driver>
Task run_caller(Driver& driver, std::uint32_t caller, Ops ops) {
    for (;;) {
        Call* call = driver.next_call(caller);
        if (call == nullptr) {
            if (driver.done()) break;
            co_await ops.slot_free(caller);
            continue;
        }
        // Caught here and judged outside the handler: a co_await may not sit
        // in a catch block, and the driver wants the exception itself.
        std::exception_ptr error;
        std::uint64_t value = 0;
        try {
            value = co_await ops.handoff(*call, caller);
        } catch (...) {
            error = std::current_exception();
        }
        if (error) {
            driver.threw(*call, caller, std::move(error));
        } else {
            driver.returned(*call, caller, value);
        }
    }
    driver.finished(caller);
}

// A loop whose callers are coroutines of its own kind (Asio: awaitable,
// co_spawn, use_awaitable) implements this beside Loop; the awaiting side
// finds it with dynamic_cast and otherwise runs the lab's own awaitable over
// CallSink::deliver. Loop thread only.
class CoroutineLoop {
public:
    // Starts caller number `caller` (below the window's slots), running
    // run_caller(driver, caller, ...): at once, or once the loop runs. Called
    // before the loop runs (a loop whose handler may never return, a design
    // that spins forever, could not start a caller later).
    virtual void spawn_caller(CallerDriver& driver, std::uint32_t caller) = 0;
    // Resumes `caller`, suspended in ops.handoff or ops.slot_free: `error`
    // is rethrown at its co_await, else `value` is what it gives. Never
    // called from inside that caller.
    virtual void resume_caller(std::uint32_t caller, std::exception_ptr error, std::uint64_t value) = 0;
    // How callers await, for the output ("asio::awaitable, use_awaitable").
    virtual std::string await_mechanism() const = 0;
    // Shutdown: callers still suspended are destroyed with the loop, never
    // resumed; the awaiting side resumes none once it has closed.

protected:
    ~CoroutineLoop() = default;
};

}  // namespace handoff
