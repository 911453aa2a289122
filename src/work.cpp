#include "handoff/work.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "handoff/call.hpp"
#include "handoff/clocks.hpp"
#include "handoff/duration.hpp"
#include "handoff/thread_registry.hpp"
#include "cpu_relax.hpp"
#include "printable.hpp"

namespace handoff {
namespace {

// splitmix64's finaliser: cheap, and every bit of the result depends on every
// bit of the input, so a result swapped between calls or torn is caught.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

constexpr std::string_view allowed_work =
    "none, sleep0, yield, spin:DUR, sleep:DUR or syscall (DUR like 200us)";

void sleep_exactly(std::chrono::nanoseconds d) {
    timespec left{time_t(d.count() / 1'000'000'000), long(d.count() % 1'000'000'000)};
    // A zero sleep is still a real clock_nanosleep system call (glibc does not
    // short-circuit it): the thread offers the CPU, like Python's time.sleep(0).
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR) {
    }
}

}  // namespace

Work Work::parse(std::string_view text) {
    const auto with_duration = [&](std::string_view prefix, Kind kind) -> std::optional<Work> {
        if (!text.starts_with(prefix)) return std::nullopt;
        try {
            return Work{kind, parse_duration(text.substr(prefix.size()))};
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(fmt::format("'{}': {}", printable(text), e.what()));
        }
    };
    if (text == "none") return {Kind::none, {}};
    if (text == "sleep0") return {Kind::sleep0, {}};
    if (text == "yield") return {Kind::yield, {}};
    if (text == "syscall") return {Kind::syscall, {}};
    if (auto w = with_duration("spin:", Kind::spin)) return *w;
    if (auto w = with_duration("sleep:", Kind::sleep)) return *w;
    throw std::invalid_argument(fmt::format("unknown work '{}': expected {}", printable(text), allowed_work));
}

std::string Work::spec() const {
    switch (kind) {
        case Kind::none: return "none";
        case Kind::sleep0: return "sleep0";
        case Kind::yield: return "yield";
        case Kind::syscall: return "syscall";
        case Kind::spin: return "spin:" + format_duration(duration);
        case Kind::sleep: return "sleep:" + format_duration(duration);
    }
    return "?";
}

std::uint64_t Work::perform(std::uint64_t arg) const {
    switch (kind) {
        case Kind::none: break;
        case Kind::sleep0: sleep_exactly(std::chrono::nanoseconds(0)); break;
        case Kind::yield: sched_yield(); break;
        // getppid: one cheap system call that glibc does not cache.
        case Kind::syscall: ::syscall(SYS_getppid); break;
        case Kind::spin: spin_for_thread_cpu(duration); break;
        case Kind::sleep: sleep_exactly(duration); break;
    }
    return expected_result(arg);
}

std::uint64_t expected_result(std::uint64_t arg) noexcept { return mix(arg ^ 0x5ca1ab1e); }

std::uint64_t argument_for(std::uint64_t seq) noexcept { return mix(seq + 0x9e3779b97f4a7c15ULL); }

void spin_for_thread_cpu(std::chrono::nanoseconds budget) {
    // Reading the thread CPU clock is a system call (no vDSO for it), so check
    // it between short bursts of pure user-space spinning.
    const std::int64_t until = this_thread_cpu_ns() + budget.count();
    while (this_thread_cpu_ns() < until) {
        for (int i = 0; i < 64; ++i) cpu_relax();
    }
}

void Executor::run(Call& call) const noexcept {
    registry_->note_current_thread();
    call.worker_cpu = sched_getcpu();
    try {
        call.result = work_.perform(call.arg);
        call.status = CallStatus::ok;
    } catch (...) {
        call.error = std::current_exception();
        call.status = CallStatus::failed;
    }
}

}  // namespace handoff
