#include "handoff/context.hpp"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <climits>
#include <ctime>
#include <fstream>
#include <string_view>

#include "handoff/backend.hpp"

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

}  // namespace

RunContext collect_context(int argc, const char* const argv[]) {
    RunContext c;
    c.command_line = command_line(argc, argv);
    c.date = utc_now();
    c.host = host_name();
    c.cpu_model = cpu_model();
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    c.online_cpus = cpus > 0 ? unsigned(cpus) : 0;
    c.kernel = kernel();
    c.lab_version = lab_version();
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
    c.libraries["fmt"] = fmt::format("{}.{}.{}", FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100);
    return c;
}

}  // namespace handoff
