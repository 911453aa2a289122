// What a call does on the thread that runs it (`--work`).
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>


namespace handoff {

struct Work {
    enum class Kind { none, sleep0, yield, spin, sleep, syscall };

    Kind kind = Kind::none;
    std::chrono::nanoseconds duration{0};  // spin and sleep only
    // Modifiers, decided per call from its argument alone (a hash below a
    // share of 2^64), so the loop thread knows which calls they hit:
    double fail_share = 0;                      // fail:P — these calls throw
    double slow_share = 0;                      // slow:P:DUR — these calls also
    std::chrono::nanoseconds slow_duration{0};  // sleep DUR first

    // "none", "sleep0", "yield", "spin:DUR", "sleep:DUR", "syscall",
    // optionally followed by modifiers joined with '+': "sleep0+fail:0.01",
    // "none+slow:0.1:20ms+fail:0.5"; a modifier alone applies to none.
    // Throws std::invalid_argument naming what is allowed.
    static Work parse(std::string_view text);
    std::string spec() const;  // the canonical spelling, parse(spec()) == *this

    // Does the work and returns its result for `arg`. Runs on any thread.
    // Throws WorkFailure for the calls fail:P picks (must_fail).
    std::uint64_t perform(std::uint64_t arg) const;

    bool must_fail(std::uint64_t arg) const noexcept;
    bool is_slow(std::uint64_t arg) const noexcept;
    // The longest a call can take (its sleep or spin, plus slow's sleep).
    std::chrono::nanoseconds longest() const noexcept;

    bool operator==(const Work&) const = default;
};

// What a call picked by fail:P throws on the worker; its message names the
// argument, so the loop thread can tell that the exception it receives is
// the one its own call raised.
struct WorkFailure : std::runtime_error {
    explicit WorkFailure(std::uint64_t arg);
};
std::string failure_message(std::uint64_t arg);

// The value a correct call returns for `arg`: what the loop thread checks.
std::uint64_t expected_result(std::uint64_t arg) noexcept;

// The argument of call number `seq` in a run (varied, so a result delivered
// to the wrong call is caught).
std::uint64_t argument_for(std::uint64_t seq) noexcept;

// Busy-waits until the calling thread has used `budget` of its own CPU time.
void spin_for_thread_cpu(std::chrono::nanoseconds budget);

}  // namespace handoff
