// A backend broken on purpose, shared by the tests that check a fault
// becomes an error and never a figure (test_runner.cpp, test_coroutines.cpp):
// the lab's epoll loop with one completion dropped, corrupted, delivered
// twice, run twice, or answered without running.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "handoff/backend.hpp"
#include "handoff/call.hpp"
#include "handoff/loop.hpp"
#include "handoff/target.hpp"
#include "handoff/work.hpp"

namespace handoff {
extern const Backend epoll_backend;
}

namespace handoff::testing_support {

enum class Fault { drop, corrupt, duplicate, run_twice, answer_unrun };
inline Fault fault = Fault::drop;  // which fault, and on which call (one test at a time)
inline std::uint64_t faulty_call = 0;

// Wraps a real loop and breaks one completion on purpose.
class FaultyLoop final : public Loop, CallSink {
public:
    explicit FaultyLoop(const LoopOptions& options) : sink_(*options.sink) {
        LoopOptions inner = options;
        inner.sink = this;
        inner_ = epoll_backend.make_loop(inner);
    }
    void run() override { inner_->run(); }
    void stop() override { inner_->stop(); }
    void request_stop() override { inner_->request_stop(); }
    void set_deadline(std::int64_t deadline_ns) override { inner_->set_deadline(deadline_ns); }
    void complete(Call& call) override {
        if (fault == Fault::drop && call.seq == faulty_call) return;
        if (fault == Fault::corrupt && call.seq == faulty_call) call.result ^= 1;
        // The real runner, a second time: the right result, and the work done twice.
        if (fault == Fault::run_twice && call.seq == faulty_call) runner_->run(call);
        inner_->complete(call);
    }
    std::unique_ptr<Target> make_target(const TargetOptions& options) override {
        runner_ = options.runner;
        // Completes through the faults above.
        return std::make_unique<UnrunAnswer>(*this, make_lab_target(*this, options));
    }
    std::string wake_mechanism() const override { return "faulty"; }

private:
    void deliver(Call& call) override {
        const bool twice = fault == Fault::duplicate && call.seq == faulty_call;
        sink_.deliver(call);
        if (twice) sink_.deliver(call);
    }

    // Answers the faulty call with the right value without running its work.
    class UnrunAnswer final : public Target {
    public:
        UnrunAnswer(Loop& loop, std::unique_ptr<Target> inner) : loop_(loop), inner_(std::move(inner)) {}
        void submit(Call& call) override {
            if (fault != Fault::answer_unrun || call.seq != faulty_call) return inner_->submit(call);
            call.result = expected_result(call.arg);
            call.status = CallStatus::ok;
            loop_.complete(call);
        }
        std::string mechanism() const override { return inner_->mechanism(); }

    private:
        Loop& loop_;
        std::unique_ptr<Target> inner_;
    };

    CallSink& sink_;
    std::unique_ptr<Loop> inner_;
    const CallRunner* runner_ = nullptr;
};

inline const Backend faulty_backend = {
    .name = "faulty",
    .description = "epoll with one broken completion",
    .unavailable_reason = [] { return std::optional<std::string>(); },
    .library_version = [] { return std::string(); },
    .make_loop = [](const LoopOptions& options) -> std::unique_ptr<Loop> {
        return std::make_unique<FaultyLoop>(options);
    },
};

}  // namespace handoff::testing_support
