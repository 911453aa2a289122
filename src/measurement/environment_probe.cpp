#include "measurement/environment_probe.hpp"

#include <sys/prctl.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string_view>
#include <unistd.h>

#include <fmt/format.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace handoff::environment {
namespace {

// The first line of a sysfs or procfs file, without its newline; "" when it
// cannot be read.
std::string first_line(const char* path) {
    std::ifstream file(path);
    std::string line;
    if (!file || !std::getline(file, line)) return {};
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
    return line;
}

std::string or_unknown(std::string value) { return value.empty() ? "unknown" : value; }

// CPUID leaf 0x40000000 carries the hypervisor's signature once the
// "hypervisor present" bit (leaf 1, ECX bit 31) is set: the only reliable
// sign inside a guest that hides its DMI tables.
std::string hypervisor() {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) == 0) return "unknown";
    if ((c & (1u << 31)) == 0) return "none";
    __cpuid(0x40000000, a, b, c, d);
    char signature[13] = {};
    std::memcpy(signature, &b, 4);
    std::memcpy(signature + 4, &c, 4);
    std::memcpy(signature + 8, &d, 4);
    std::string name(signature);
    while (!name.empty() && (name.back() == ' ' || name.back() == '\0')) name.pop_back();
    return name.empty() ? "hypervisor" : fmt::format("hypervisor '{}'", name);
#else
    return or_unknown(first_line("/sys/hypervisor/type"));
#endif
}

std::string container() {
    if (access("/.dockerenv", F_OK) == 0) return "docker";
    if (access("/run/.containerenv", F_OK) == 0) return "podman";
    if (const char* name = std::getenv("container"); name != nullptr && *name != '\0') return name;
    return {};
}

}  // namespace

std::string virtualization() {
    std::string text = hypervisor();
    if (const std::string in = container(); !in.empty()) text += ", container " + in;
    return text;
}

std::string clocksource() {
    return or_unknown(first_line("/sys/devices/system/clocksource/clocksource0/current_clocksource"));
}

std::string cpu_governor() {
    const std::string governor = first_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor");
    if (!governor.empty()) return governor;
    return access("/sys/devices/system/cpu/cpu0/cpufreq", F_OK) == 0 ? "unknown" : "none (no cpufreq)";
}

std::string cpu_boost() {
    if (const std::string boost = first_line("/sys/devices/system/cpu/cpufreq/boost"); !boost.empty()) {
        return boost == "1" ? "on" : "off";
    }
    if (const std::string no_turbo = first_line("/sys/devices/system/cpu/intel_pstate/no_turbo"); !no_turbo.empty()) {
        return no_turbo == "1" ? "off" : "on";
    }
    return "unknown";
}

std::string cpuidle() {
    const std::string driver = first_line("/sys/devices/system/cpu/cpuidle/current_driver");
    const std::string governor = first_line("/sys/devices/system/cpu/cpuidle/current_governor");
    // A guest's haltpoll keeps a vCPU spinning briefly before it halts, which
    // changes what waking it costs.
    const std::string halt_poll = first_line("/sys/module/haltpoll/parameters/guest_halt_poll_ns");
    if (driver.empty() && governor.empty() && halt_poll.empty()) return "unknown";
    std::string text = fmt::format("driver {}, governor {}", or_unknown(driver), or_unknown(governor));
    if (!halt_poll.empty()) text += fmt::format(", guest halt-poll {} ns", halt_poll);
    return text;
}

std::string timer_slack_ns() {
    const int slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
    return slack < 0 ? "unknown" : std::to_string(slack);
}

std::string io_uring() {
    const std::string value = first_line("/proc/sys/kernel/io_uring_disabled");
    if (value.empty()) return "unknown (no kernel.io_uring_disabled)";
    const std::string_view meaning = value == "0"   ? "enabled"
                                     : value == "1" ? "restricted to the io_uring group"
                                     : value == "2" ? "disabled"
                                                    : "unknown";
    return fmt::format("{} (io_uring_disabled={})", meaning, value);
}

std::string load_average() {
    double load[3] = {};
    if (getloadavg(load, 3) != 3) return "unknown";
    return fmt::format("{:.2f} {:.2f} {:.2f}", load[0], load[1], load[2]);
}

}  // namespace handoff::environment
