#include "handoff/work.hpp"

#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "handoff/call.hpp"
#include "handoff/clocks.hpp"
#include "base/duration.hpp"
#include "handoff/thread_registry.hpp"
#include "handoff/cpu_relax.hpp"
#include "base/mix.hpp"
#include "base/printable.hpp"

namespace handoff {
namespace {

constexpr std::string_view allowed_work =
    "none, sleep0, yield, spin:DUR, sleep:DUR or syscall (DUR like 200us), optionally with "
    "+fail:P and +slow:P:DUR (P a share from 0 to 1, like 0.01)";

// Whether a call with `arg` is among the share `p` that a modifier picks:
// its own hash (salted per modifier, so fail and slow pick independently)
// below p * 2^64. Deterministic, so the loop thread can tell too.
bool picked(std::uint64_t arg, double p, std::uint64_t salt) noexcept {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return double(mix64(arg ^ salt)) < p * 18446744073709551616.0;
}
constexpr std::uint64_t fail_salt = 0xfa11fa11fa11fa11ULL;
constexpr std::uint64_t slow_salt = 0x510e510e510e510eULL;

double parse_share(std::string_view what, std::string_view text) {
    double p = -1;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), p);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || !(p >= 0 && p <= 1)) {
        throw std::invalid_argument(
            fmt::format("{}: P must be a share from 0 to 1, like 0.01 (got {})", quote(what), quote(text)));
    }
    return p;
}

void sleep_exactly(std::chrono::nanoseconds d) {
    timespec left{time_t(d.count() / 1'000'000'000), long(d.count() % 1'000'000'000)};
    // A zero sleep is still a real clock_nanosleep system call (glibc does not
    // short-circuit it): the thread offers the CPU, like Python's time.sleep(0).
    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR) {
    }
}

}  // namespace

namespace {

Work parse_base(std::string_view text);

}  // namespace

Work Work::parse(std::string_view text) {
    // BASE[+MODIFIER...], or a modifier alone (on none).
    Work work;
    bool have_base = false, have_fail = false, have_slow = false;
    std::size_t start = 0;
    for (;;) {
        const std::size_t plus = std::min(text.find('+', start), text.size());
        const std::string_view part = text.substr(start, plus - start);
        if (part.starts_with("fail:")) {
            if (have_fail) throw std::invalid_argument(fmt::format("{}: fail:P given twice", quote(text)));
            have_fail = true;
            work.fail_share = parse_share(part, part.substr(5));
        } else if (part.starts_with("slow:")) {
            if (have_slow) throw std::invalid_argument(fmt::format("{}: slow:P:DUR given twice", quote(text)));
            have_slow = true;
            const std::string_view rest = part.substr(5);
            const std::size_t colon = rest.find(':');
            if (colon == std::string_view::npos) {
                throw std::invalid_argument(fmt::format("{}: expected slow:P:DUR, like slow:0.1:20ms", quote(part)));
            }
            work.slow_share = parse_share(part, rest.substr(0, colon));
            try {
                work.slow_duration = parse_duration(rest.substr(colon + 1));
            } catch (const std::invalid_argument& e) {
                throw std::invalid_argument(fmt::format("{}: {}", quote(part), e.what()));
            }
        } else if (!have_base && start == 0) {
            const Work base = parse_base(part);
            work.kind = base.kind;
            work.duration = base.duration;
            have_base = true;
        } else {
            throw std::invalid_argument(fmt::format("unknown work {} in {}: expected {}", quote(part), quote(text), allowed_work));
        }
        if (plus == text.size()) break;
        start = plus + 1;
    }
    return work;
}

namespace {

Work parse_base(std::string_view text) {
    using Kind = Work::Kind;
    const auto with_duration = [&](std::string_view prefix, Kind kind) -> std::optional<Work> {
        if (!text.starts_with(prefix)) return std::nullopt;
        try {
            return Work{.kind = kind, .duration = parse_duration(text.substr(prefix.size()))};
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(fmt::format("{}: {}", quote(text), e.what()));
        }
    };
    if (text == "none") return Work{.kind = Kind::none};
    if (text == "sleep0") return Work{.kind = Kind::sleep0};
    if (text == "yield") return Work{.kind = Kind::yield};
    if (text == "syscall") return Work{.kind = Kind::syscall};
    if (auto w = with_duration("spin:", Kind::spin)) return *w;
    if (auto w = with_duration("sleep:", Kind::sleep)) return *w;
    throw std::invalid_argument(fmt::format("unknown work {}: expected {}", quote(text), allowed_work));
}

std::string base_spec(const Work& w) {
    using Kind = Work::Kind;
    switch (w.kind) {
        case Kind::none: return "none";
        case Kind::sleep0: return "sleep0";
        case Kind::yield: return "yield";
        case Kind::syscall: return "syscall";
        case Kind::spin: return "spin:" + format_duration(w.duration);
        case Kind::sleep: return "sleep:" + format_duration(w.duration);
    }
    return "?";
}

}  // namespace

std::string Work::spec() const {
    const bool slow = slow_share > 0 || slow_duration.count() != 0;
    const bool fail = fail_share > 0;
    std::string text = kind == Kind::none && (slow || fail) ? "" : base_spec(*this);
    if (slow) text += fmt::format("{}slow:{}:{}", text.empty() ? "" : "+", slow_share, format_duration(slow_duration));
    if (fail) text += fmt::format("{}fail:{}", text.empty() ? "" : "+", fail_share);
    return text;
}

bool Work::must_fail(std::uint64_t arg) const noexcept { return picked(arg, fail_share, fail_salt); }
bool Work::is_slow(std::uint64_t arg) const noexcept { return picked(arg, slow_share, slow_salt); }

std::chrono::nanoseconds Work::longest() const noexcept {
    return (kind == Kind::sleep || kind == Kind::spin ? duration : std::chrono::nanoseconds(0)) +
           (slow_share > 0 ? slow_duration : std::chrono::nanoseconds(0));
}

std::string failure_message(std::uint64_t arg) { return fmt::format("fail:P picked the call with arg {:#x}", arg); }

WorkFailure::WorkFailure(std::uint64_t arg) : std::runtime_error(failure_message(arg)) {}

std::uint64_t Work::perform(std::uint64_t arg) const {
    if (slow_share > 0 && is_slow(arg)) sleep_exactly(slow_duration);
    switch (kind) {
        case Kind::none: break;
        case Kind::sleep0: sleep_exactly(std::chrono::nanoseconds(0)); break;
        case Kind::yield: sched_yield(); break;
        // getppid: one cheap system call that glibc does not cache.
        case Kind::syscall: ::syscall(SYS_getppid); break;
        case Kind::spin: spin_for_thread_cpu(duration); break;
        case Kind::sleep: sleep_exactly(duration); break;
    }
    if (fail_share > 0 && must_fail(arg)) throw WorkFailure(arg);
    return expected_result(arg);
}

std::uint64_t expected_result(std::uint64_t arg) noexcept { return mix64(arg ^ 0x5ca1ab1e); }

std::uint64_t argument_for(std::uint64_t seq) noexcept { return mix64(seq + 0x9e3779b97f4a7c15ULL); }

void spin_for_thread_cpu(std::chrono::nanoseconds budget) {
    // Reading the thread CPU clock is a system call (no vDSO for it), so check
    // it between short bursts of pure user-space spinning.
    const std::int64_t until = this_thread_cpu_ns() + budget.count();
    while (this_thread_cpu_ns() < until) {
        for (int i = 0; i < 64; ++i) cpu_relax();
    }
}

}  // namespace handoff
