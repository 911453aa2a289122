// Readers of the machine settings that change what a handoff costs: each
// returns a short human-readable value, or "unknown" where the system does
// not expose it (a container without /sys, another architecture). Never
// throws: the environment is a courtesy kept with the results, and must not
// stop a run. Private to src/ (collect_context uses them).
#pragma once

#include <string>

namespace handoff::environment {

std::string virtualization();  // "hypervisor 'KVMKVMKVM'", "none"; ", container docker" if seen
std::string clocksource();     // /sys/devices/system/clocksource/clocksource0/current_clocksource
std::string cpu_governor();    // scaling_governor of CPU 0, "none (no cpufreq)" in most VMs
std::string cpu_boost();       // cpufreq boost or intel_pstate no_turbo: "on", "off", "unknown"
std::string cpuidle();         // "driver none, governor menu, guest halt-poll 200000 ns"
std::string timer_slack_ns();  // prctl(PR_GET_TIMERSLACK) of this process
std::string io_uring();        // "enabled (io_uring_disabled=0)", "disabled (io_uring_disabled=2)"
std::string load_average();    // "0.70 0.60 0.41"

}  // namespace handoff::environment
