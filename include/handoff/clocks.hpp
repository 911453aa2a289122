// The clocks and counters every column is read from (see DESIGN.md).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace handoff {

std::int64_t monotonic_ns() noexcept;      // CLOCK_MONOTONIC
std::int64_t process_cpu_ns() noexcept;    // CLOCK_PROCESS_CPUTIME_ID: every thread, user + system
std::int64_t this_thread_cpu_ns() noexcept;  // CLOCK_THREAD_CPUTIME_ID

// The calling thread's kernel thread id.
pid_t current_tid() noexcept;

// CPU time (user + system) of thread `tid` of this process, read from its
// thread CPU clock; nullopt once the thread has exited.
std::optional<std::int64_t> thread_cpu_ns(pid_t tid) noexcept;

struct ContextSwitches {
    std::uint64_t voluntary = 0;
    std::uint64_t involuntary = 0;
};

// The calling thread's context switches (getrusage(RUSAGE_THREAD)).
ContextSwitches this_thread_switches() noexcept;

// Context switches of thread `tid` of this process, from /proc/self/task/TID/status.
std::optional<ContextSwitches> thread_switches(pid_t tid);

}  // namespace handoff
