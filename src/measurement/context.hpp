// Where and how a run happened: kept with every result, so a number read
// months later still says what machine, build and settings produced it.
#pragma once

#include <map>
#include <string>

namespace handoff {

struct RunContext {
    std::string command_line;
    std::string date;         // UTC, ISO 8601
    std::string host;
    std::string cpu_model;
    unsigned online_cpus = 0;
    std::string online_cpu_list;  // "0-1", the kernel's format
    std::string kernel;
    std::string lab_version;
    std::string git_commit;   // the lab's commit at build time, "+dirty" when the tree had changes
    std::string compiler;     // "g++ 12.2.0"
    std::string build_flags;  // the flags the lab was compiled with
    std::map<std::string, std::string> libraries;  // name -> version found at run time

    // The settings that move a handoff's cost on this machine; each is
    // "unknown" (or empty) where the system does not expose it.
    std::string virtualization;   // "hypervisor 'KVMKVMKVM'", "none", plus a container if seen
    std::string clocksource;      // what CLOCK_MONOTONIC reads: tsc, kvm-clock, ...
    std::string cpu_governor;     // cpufreq scaling governor of CPU 0
    std::string cpu_boost;        // "on", "off" or "unknown"
    std::string cpuidle;          // cpuidle driver/governor, with guest halt-polling if present
    std::string timer_slack_ns;   // this process's timer slack: what a zero sleep really waits
    std::string io_uring;         // kernel.io_uring_disabled and what it means
    std::string load_average;     // 1, 5 and 15 minute load at the start of the run
};

RunContext collect_context(int argc, const char* const argv[]);

// One or two short lines for the head of a table: the settings above that
// most change the numbers (virtualisation, clock, idle, slack, load, build).
std::string describe_environment(const RunContext& context);

}  // namespace handoff
