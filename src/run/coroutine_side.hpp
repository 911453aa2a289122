// The coroutine awaiting side (--await coroutine), on the loop thread: C++20
// coroutines ("callers", handoff/awaitable.hpp) each send a call, co_await
// it, and send the next; `inflight` callers run at once. It measures exactly
// what the callback side (run/awaiting_side.cpp) measures, at the same
// points: the interval opens just before the first measured call is sent and
// closes once the last measured call has ended; a call's round trip runs from
// its send to the moment its caller has it back (resumed), one clock read
// ending it and stamping the caller's next send.
//
// Callers are the lab's own (lab_awaitable.hpp: resumed from
// CallSink::deliver) unless the loop runs callers as coroutines of its own
// kind (handoff::CoroutineLoop: Asio's awaitable with use_awaitable).
//
// Open loop (--rate): a caller whose next call is not due yet waits for the
// deadline armed at its intended time; the call goes out stamped with that
// time, so one held back by busy callers (all `inflight` awaiting) counts
// the wait, as the callback side's cap does.
//
// Every result is checked twice over: the window checks the call (its value,
// its exception, run exactly once: CallWindow::settle), and the side checks
// that the co_await gave the caller that very value or exception. With a
// timeout, a caller whose call is given up on is resumed with CallTimedOut;
// the call keeps its slot until it comes back (cancelled unrun, or late), and
// a caller that finds every spare slot held that way waits for one.
//
// Shutdown: once closed, nothing is resumed; callers still suspended are
// destroyed with the side (lab) or with the loop (Asio), never resumed.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "handoff/awaitable.hpp"
#include "handoff/call.hpp"
#include "handoff/loop.hpp"
#include "handoff/thread_registry.hpp"
#include "run/awaiting_phases.hpp"
#include "run/configuration.hpp"
#include "run/lab_awaitable.hpp"

namespace handoff {

class CoroutineSide final : public AwaitingPhases, public CallSink, public CallerDriver {
public:
    // `progress` counts delivered calls (warm-up included) for the watchdog.
    CoroutineSide(const Configuration& config, ThreadRegistry& registry, std::atomic<std::uint64_t>& progress);

    // Callers run as the loop's own coroutines when it is a CoroutineLoop.
    void attach(Loop& loop, Target& target);

    // Makes and starts the callers (before the loop runs), sending the first
    // warm-up calls, or the measured ones when there is no warm-up.
    void start();

    // close() (AwaitingPhases): from then on no caller is resumed again.

    // "lab awaitable" or the loop's own, for the output.
    std::string await_mechanism() const;

    // CallSink: a call is back on the loop thread / the earliest deadline passed.
    void deliver(Call& call) override;
    void on_deadline() override;

    // CallerDriver (handoff/awaitable.hpp), for the callers.
    Call* next_call(std::uint32_t caller) override;
    // Every measured call sent, or the run is broken or closing.
    bool done() const override { return broken_ || closing_ || (measuring_ && sent_ == phase_total_); }
    void submit(Call& call, std::uint32_t caller) override;
    void await_slot(std::uint32_t caller) override;
    void returned(Call& call, std::uint32_t caller, std::uint64_t value) override;
    void threw(Call& call, std::uint32_t caller, std::exception_ptr error) override;
    void finished(std::uint32_t caller) override;

    // Calls with a wrong, missing or duplicated result: the window's, and
    // a co_await that gave something other than its call's outcome.
    std::uint64_t errors() const { return window_.errors() + errors_; }
    std::string first_error() const { return window_.errors() != 0 ? window_.first_error() : first_error_; }

private:
    std::int64_t stamp();
    void resume(std::uint32_t caller, std::exception_ptr error, std::uint64_t value);
    void account(const Call& call, bool failed);
    void open_measured();
    void after_event();
    void maybe_complete();
    bool may_send() const;
    void wake_slot_waiters();
    void expire_calls();
    void error(std::string message);

    CoroutineLoop* foreign_ = nullptr;  // the loop's own callers, else the lab's below

    // The lab's callers: where each waits, and a frame per caller for the
    // whole run (destroyed first, with the side). Sized up front: nothing
    // grows per call.
    std::vector<Parking> parkings_;
    std::vector<CallerTask> tasks_;
    std::uint32_t callers_ = 0;

    std::vector<Call*> awaiting_;            // per caller: the call it awaits, or nullptr
    std::vector<std::uint32_t> caller_of_;   // per slot: the caller that sent its call
    std::vector<std::uint32_t> slot_waiters_;  // callers waiting for a call to send, oldest first
    std::size_t first_waiter_ = 0;             // slot_waiters_ before it have gone on
    std::vector<std::uint32_t> expiring_;    // on_deadline's scratch
    std::exception_ptr timed_out_error_;     // CallTimedOut, made once (with a timeout)

    bool completed_ = false;
    std::uint32_t live_callers_ = 0;
    std::int64_t now_ = 0;  // this turn's clock reading, 0 when none was taken
    std::uint64_t errors_ = 0;
    std::string first_error_;
};

}  // namespace handoff
