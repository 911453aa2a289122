#include "handoff/clocks.hpp"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <string>

namespace handoff {
namespace {

std::int64_t read_clock(clockid_t id) noexcept {
    timespec ts{};
    clock_gettime(id, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

// The CPU clock of another thread, for threads the lab did not create (a
// library's pool) and so has no pthread_t for. The kernel encodes a thread's
// CPU clock id as ((~tid) << 3) | CPUCLOCK_PERTHREAD_MASK(4) | CPUCLOCK_SCHED(2)
// (include/linux/posix-timers.h, not exported to user space headers); it is
// the same id pthread_getcpuclockid returns, and SCHED is user + system time.
clockid_t thread_cpu_clock(pid_t tid) noexcept {
    return clockid_t((~unsigned(tid)) << 3) | 4 | 2;
}

}  // namespace

std::int64_t monotonic_ns() noexcept { return read_clock(CLOCK_MONOTONIC); }
std::int64_t process_cpu_ns() noexcept { return read_clock(CLOCK_PROCESS_CPUTIME_ID); }
std::int64_t this_thread_cpu_ns() noexcept { return read_clock(CLOCK_THREAD_CPUTIME_ID); }

pid_t current_tid() noexcept {
    thread_local const pid_t tid = pid_t(::syscall(SYS_gettid));
    return tid;
}

std::optional<std::int64_t> thread_cpu_ns(pid_t tid) noexcept {
    timespec ts{};
    if (clock_gettime(thread_cpu_clock(tid), &ts) != 0) return std::nullopt;
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

ContextSwitches this_thread_switches() noexcept {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return {std::uint64_t(usage.ru_nvcsw), std::uint64_t(usage.ru_nivcsw)};
}

std::optional<ContextSwitches> thread_switches(pid_t tid) {
    std::ifstream status("/proc/self/task/" + std::to_string(tid) + "/status");
    if (!status) return std::nullopt;
    ContextSwitches switches;
    int found = 0;
    for (std::string line; std::getline(status, line);) {
        constexpr std::string_view vol = "voluntary_ctxt_switches:";
        constexpr std::string_view invol = "nonvoluntary_ctxt_switches:";
        if (line.starts_with(vol)) {
            switches.voluntary = std::stoull(line.substr(vol.size()));
            ++found;
        } else if (line.starts_with(invol)) {
            switches.involuntary = std::stoull(line.substr(invol.size()));
            ++found;
        }
    }
    if (found != 2) return std::nullopt;
    return switches;
}

}  // namespace handoff
