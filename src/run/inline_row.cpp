#include "run/inline_row.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>

#include <sys/prctl.h>

#include <fmt/format.h>

#include "base/placement.hpp"
#include "handoff/clocks.hpp"
#include "run/arrival.hpp"
#include "handoff/work.hpp"
#include "measurement/measurement.hpp"

namespace handoff {
namespace {

// The calling side of the inline row, on its own (pinned) thread.
//
// Inline has no loop to stop: it looks at the stop flag and publishes its
// progress every 64 calls of short work (a relaxed load and store, far below
// the cost of 64 calls even of `none`), and every call of timed work
// (sleep:DUR, spin:DUR).
class InlineCaller {
public:
    InlineCaller(const Configuration& config, const RunLimits& limits, std::atomic<std::uint64_t>& progress)
        : config_(config),
          limits_(limits),
          progress_(progress),
          check_every_(config.work.duration.count() > 0 || config.open_loop() ? 1 : 64) {
        if (config.open_loop()) arrivals_.emplace(config.rate, config.arrival, config.seed);
    }

    // Warm-up, then the measured interval. False when stopped on the way.
    bool run() {
        if (arrivals_) {
            // As the handoff rows' loop thread: no timer slack on its sleeps.
            prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
            arrivals_->restart(monotonic_ns());
        }
        if (!calls(config_.warmup, 0)) return false;
        errors_ = failed_ = 0;
        latency_ = LatencyHistogram{};
        const IntervalEdge start = open_interval();
        if (arrivals_) arrivals_->restart(monotonic_ns());
        if (!calls(config_.calls, config_.warmup)) return false;
        const IntervalEdge end = close_interval(start, {});
        measurement_ = measure_interval(start, end, {}, config_.calls);
        measurement_->failed_calls = failed_;
        measurement_->rate_asked = config_.rate;
        if (arrivals_) measurement_->latency = latency_;
        return true;
    }

    const std::optional<Measurement>& measurement() const { return measurement_; }
    std::uint64_t errors() const { return errors_; }

private:
    // `count` calls, numbered from 0; `done_before` counts toward progress.
    bool calls(std::uint64_t count, std::uint64_t done_before) {
        for (std::uint64_t seq = 0; seq < count; ++seq) {
            if (should_stop(done_before + seq)) return false;
            if (!arrivals_) {
                call(seq);
                continue;
            }
            // Open loop: the call waits for its intended time (a sleep, as a
            // loop waits for its next event), and its latency runs from then.
            const std::int64_t intended = arrivals_->next_ns();
            arrivals_->advance();
            if (intended > monotonic_ns()) {
                const timespec at{time_t(intended / 1'000'000'000), long(intended % 1'000'000'000)};
                while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr) == EINTR) {
                }
            }
            call(seq);
            latency_.record(monotonic_ns() - intended);
        }
        return true;
    }

    // One call, checked as the loop thread checks a delivered one (fail:P
    // throws here too).
    void call(std::uint64_t seq) {
        const std::uint64_t arg = argument_for(seq);
        try {
            errors_ += config_.work.perform(arg) != expected_result(arg) || config_.work.must_fail(arg);
        } catch (const WorkFailure& e) {
            ++failed_;
            errors_ += !config_.work.must_fail(arg) || e.what() != failure_message(arg);
        }
    }

    // A decrement per call, not a division; the counter stays in a register.
    bool should_stop(std::uint64_t calls_done) {
        if (--countdown_ != 0) return false;
        countdown_ = check_every_;
        progress_.store(calls_done, std::memory_order_relaxed);
        return limits_.stop_requested != nullptr && limits_.stop_requested->load(std::memory_order_relaxed);
    }

    const Configuration& config_;
    const RunLimits& limits_;
    std::atomic<std::uint64_t>& progress_;
    const std::uint64_t check_every_;
    std::uint64_t countdown_ = 1;
    std::uint64_t errors_ = 0;
    std::uint64_t failed_ = 0;
    std::optional<ArrivalSchedule> arrivals_;  // open loop only
    LatencyHistogram latency_;                 // open loop only: from each call's intended time
    std::optional<Measurement> measurement_;
};

}  // namespace

RowResult run_inline_row(const Configuration& config, const RunLimits& limits) {
    RowResult row;
    row.config = config;
    row.mechanism = "called on the loop thread, no handoff";
    std::atomic<std::uint64_t> progress{0};
    std::string pin_error;
    bool completed = false;
    InlineCaller caller(config, limits, progress);

    // The caller on its own thread; this one reports progress meanwhile.
    std::mutex done_mutex;
    std::condition_variable done_cv;
    bool done = false;
    std::thread caller_thread([&] {
        if (pin_current_thread(config.placement.loop_cpu, &pin_error)) completed = caller.run();
        std::lock_guard lock(done_mutex);
        done = true;
        done_cv.notify_one();
    });
    {
        std::unique_lock lock(done_mutex);
        while (!done_cv.wait_for(lock, std::chrono::milliseconds(100), [&] { return done; })) {
            if (limits.on_progress) limits.on_progress(progress.load(std::memory_order_relaxed));
        }
    }
    caller_thread.join();

    row.errors = caller.errors();
    if (!pin_error.empty()) {
        row.status = RowStatus::failed;
        row.reason = "placement: " + pin_error;
    } else if (!completed) {
        row.status = RowStatus::failed;
        row.reason = "interrupted";
    } else if (row.errors != 0) {
        row.status = RowStatus::failed;
        row.reason = fmt::format("{} calls returned a wrong result", row.errors);
    } else {
        row.runs.push_back(*caller.measurement());
    }
    return row;
}

}  // namespace handoff
