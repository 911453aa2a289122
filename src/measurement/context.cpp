#include "measurement/context.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <ctime>
#include <fstream>
#include <string_view>
#include <vector>

#include "measurement/environment_probe.hpp"
#include "handoff/backend.hpp"
#include "base/placement.hpp"

// The build's commit and flags, written by the Makefile (build/build_info.hpp,
// regenerated only when they change). Builds without it say "unknown".
#if __has_include("build_info.hpp")
#include "build_info.hpp"
#endif
#ifndef HANDOFF_GIT_COMMIT
#define HANDOFF_GIT_COMMIT "unknown"
#endif
#ifndef HANDOFF_BUILD_FLAGS
#define HANDOFF_BUILD_FLAGS "unknown"
#endif

namespace handoff {
namespace {

// Quotes an argument only when a POSIX shell would otherwise change it, so the
// line can be pasted back: plain words stay plain, the rest in single quotes.
std::string shell_quote(std::string_view arg) {
    constexpr std::string_view safe =
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-";
    if (!arg.empty() && arg.find_first_not_of(safe) == std::string_view::npos) return std::string(arg);
    std::string quoted = "'";
    for (const char c : arg) {
        if (c == '\'') {
            quoted += "'\\''";
        } else {
            quoted += c;
        }
    }
    quoted += '\'';
    return quoted;
}

std::string command_line(int argc, const char* const argv[]) {
    std::string line;
    for (int i = 0; i < argc; ++i) {
        if (i != 0) line += ' ';
        line += shell_quote(argv[i] ? argv[i] : "");
    }
    return line;
}

std::string utc_now() {
    const std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char text[32];
    const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return std::string(text, n);
}

std::string host_name() {
    char name[HOST_NAME_MAX + 1] = {};
    if (gethostname(name, sizeof name - 1) != 0) return "unknown";
    return name;
}

std::string cpu_model() {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
        if (!line.starts_with("model name")) continue;
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const auto start = line.find_first_not_of(" \t", colon + 1);
        return start == std::string::npos ? std::string() : line.substr(start);
    }
    return "unknown";  // some architectures have no "model name" line
}

std::string kernel() {
    utsname u{};
    if (uname(&u) != 0) return "unknown";
    return fmt::format("{} {}", u.release, u.version);
}

std::string lab_version() {
#ifdef HANDOFF_VERSION
    return HANDOFF_VERSION;  // a string literal, e.g. -DHANDOFF_VERSION='"0.2.0"'
#else
    return "0.1.0";
#endif
}

std::string compiler() {
#if defined(__clang__)
    return fmt::format("clang {}.{}.{}", __clang_major__, __clang_minor__, __clang_patchlevel__);
#elif defined(__GNUC__)
    return fmt::format("g++ {}.{}.{}", __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__);
#else
    return "unknown";
#endif
}

}  // namespace

RunContext collect_context(int argc, const char* const argv[]) {
    RunContext c;
    c.command_line = command_line(argc, argv);
    c.date = utc_now();
    c.host = host_name();
    c.cpu_model = cpu_model();
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    c.online_cpus = cpus > 0 ? unsigned(cpus) : 0;
    c.online_cpu_list = format_cpu_list(online_cpus());
    c.kernel = kernel();
    c.lab_version = lab_version();
    c.git_commit = HANDOFF_GIT_COMMIT;
    c.compiler = compiler();
    c.build_flags = HANDOFF_BUILD_FLAGS;
    c.virtualization = environment::virtualization();
    c.clocksource = environment::clocksource();
    c.cpu_governor = environment::cpu_governor();
    c.cpu_boost = environment::cpu_boost();
    c.cpuidle = environment::cpuidle();
    c.timer_slack_ns = environment::timer_slack_ns();
    c.io_uring = environment::io_uring();
    c.load_average = environment::load_average();
    for (const Backend* backend : all_backends()) {
        if (backend->library_version == nullptr) continue;
        // The context is a courtesy: a library that cannot say its version must not stop the run.
        try {
            if (std::string version = backend->library_version(); !version.empty()) {
                c.libraries[std::string(backend->name)] = std::move(version);
            }
        } catch (const std::exception&) {
        }
    }
    // The foreign backends' interpreter, once per family ("python": its path;
    // its version and modules are in each Python row's mechanism).
    for (const Backend* backend : foreign_backends()) {
        try {
            if (std::string version = backend->library_version(); !version.empty()) {
                c.libraries.emplace(std::string(backend->family), std::move(version));
            }
        } catch (const std::exception&) {
        }
    }
    c.libraries["fmt"] = fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100);
    return c;
}

std::string describe_environment(const RunContext& c) {
    const auto known = [](const std::string& value) { return !value.empty() && value != "unknown"; };
    std::vector<std::string> machine;
    if (known(c.virtualization)) machine.push_back(c.virtualization);
    if (known(c.clocksource)) machine.push_back("clock " + c.clocksource);
    if (known(c.cpuidle)) machine.push_back("idle: " + c.cpuidle);
    if (known(c.cpu_governor)) machine.push_back("governor " + c.cpu_governor);
    if (known(c.timer_slack_ns)) machine.push_back("timer slack " + c.timer_slack_ns + " ns");
    if (known(c.load_average)) machine.push_back("load " + c.load_average);
    std::vector<std::string> build;
    if (!c.lab_version.empty()) build.push_back("handoff " + c.lab_version);
    if (known(c.git_commit)) build.push_back("commit " + c.git_commit);
    if (known(c.compiler)) build.push_back(c.compiler + (known(c.build_flags) ? " " + c.build_flags : ""));
    for (const auto& [name, version] : c.libraries) {
        // Backends report "libuv 1.44.2"; bare versions ("9.1.0") get their name.
        build.push_back(version.find(' ') != std::string::npos ? version : name + " " + version);
    }
    std::string text = fmt::format("{}", fmt::join(machine, "; "));
    if (!build.empty()) text += fmt::format("{}{}", text.empty() ? "" : "\n", fmt::join(build, ", "));
    return text;
}

}  // namespace handoff
