#include "base/placement.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "base/printable.hpp"
#include "base/text.hpp"

namespace handoff {
namespace {

// Larger than any kernel's NR_CPUS (8192 today), small enough that a typo
// like "0-2000000000" is refused instead of filling memory.
constexpr int max_cpu = 65535;

constexpr std::string_view allowed_pin =
    "loop=CPU,worker=CPU,pool=CPUS, each key at most once (CPUS like 1, 0-1 or 0+2)";

constexpr std::string_view allowed_placement = "free, same or split";

// A dynamically sized cpu_set_t, so CPU numbers past CPU_SETSIZE (1024) work.
class CpuSet {
public:
    explicit CpuSet(int cpus) : cpus_(cpus), set_(CPU_ALLOC(cpus)) {
        if (set_ == nullptr) throw std::bad_alloc();
        CPU_ZERO_S(size(), set_.get());
    }
    std::size_t size() const { return CPU_ALLOC_SIZE(cpus_); }
    cpu_set_t* get() { return set_.get(); }
    void add(int cpu) { CPU_SET_S(std::size_t(cpu), size(), set_.get()); }
    std::vector<int> members() const {
        std::vector<int> cpus;
        for (int cpu = 0; cpu < cpus_; ++cpu) {
            if (CPU_ISSET_S(std::size_t(cpu), size(), set_.get())) cpus.push_back(cpu);
        }
        return cpus;
    }

private:
    struct Free {
        void operator()(cpu_set_t* set) const { CPU_FREE(set); }
    };
    int cpus_;
    std::unique_ptr<cpu_set_t, Free> set_;
};

// The affinity mask of thread `tid` (0: the caller), growing the set until the
// kernel's mask fits (EINVAL means the set was too small).
std::vector<int> affinity_of(pid_t tid) {
    for (int cpus = CPU_SETSIZE; cpus <= (max_cpu + 1) * 2; cpus *= 2) {
        CpuSet set(cpus);
        if (sched_getaffinity(tid, set.size(), set.get()) == 0) return set.members();
        if (errno != EINVAL) break;
    }
    return {};
}

// One CPU number: digits only. Throws std::invalid_argument with the reason.
int parse_cpu_number(std::string_view text) {
    if (text.empty()) throw std::invalid_argument("a CPU number is missing");
    if (text.front() == '-') throw std::invalid_argument("CPU numbers are not negative");
    long value = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') throw std::invalid_argument(fmt::format("{} is not a CPU number", quote(text)));
        value = value * 10 + (c - '0');
        if (value > max_cpu) {
            throw std::invalid_argument(fmt::format("CPU {} is past the largest CPU number, {}", printable(text), max_cpu));
        }
    }
    return int(value);
}

// Numbers and inclusive ranges joined by `separator`. Throws
// std::invalid_argument with the reason only; callers say what was allowed.
std::vector<int> parse_list(std::string_view text, char separator) {
    if (text.empty()) throw std::invalid_argument("the list is empty");
    std::vector<int> cpus;
    for (const std::string_view item : split(text, separator)) {
        if (item.empty()) throw std::invalid_argument(fmt::format("an empty item beside '{}'", separator));
        // A leading '-' is a sign, not a range: report it as negative.
        const std::size_t dash = item.front() == '-' ? std::string_view::npos : item.find('-');
        if (dash == std::string_view::npos) {
            cpus.push_back(parse_cpu_number(item));
        } else {
            const int first = parse_cpu_number(item.substr(0, dash));
            const int last = parse_cpu_number(item.substr(dash + 1));
            if (last < first) throw std::invalid_argument(fmt::format("the range {} runs backwards", item));
            for (int cpu = first; cpu <= last; ++cpu) cpus.push_back(cpu);
        }
    }
    std::sort(cpus.begin(), cpus.end());
    cpus.erase(std::unique(cpus.begin(), cpus.end()), cpus.end());
    return cpus;
}

void require_online(int cpu, const std::vector<int>& online) {
    if (!std::binary_search(online.begin(), online.end(), cpu)) {
        throw std::invalid_argument(
            fmt::format("CPU {} is not online; online CPUs: {}", cpu, format_cpu_list(online)));
    }
}

std::string_view trim(std::string_view text) {
    constexpr std::string_view space = " \t\r\n";
    const std::size_t first = text.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

bool apply_affinity(const std::vector<int>& cpus, std::string* error) {
    const auto fail = [&](std::string_view why) {
        if (error != nullptr) {
            *error = fmt::format("cannot pin to CPU{} {}: {}", cpus.size() == 1 ? "" : "s",
                                 format_cpu_list(cpus), why);
        }
        return false;
    };
    if (cpus.front() < 0 || cpus.back() > max_cpu) return fail("not a CPU number");
    CpuSet set(std::max(CPU_SETSIZE, cpus.back() + 1));
    for (const int cpu : cpus) set.add(cpu);
    // pid 0 is the calling thread (sched_setaffinity acts on threads, not
    // processes). The kernel moves the thread before returning.
    if (sched_setaffinity(0, set.size(), set.get()) != 0) return fail(std::strerror(errno));
    return true;
}

}  // namespace

std::vector<int> parse_cpu_list(std::string_view text) {
    try {
        return parse_list(trim(text), ',');
    } catch (const std::invalid_argument& e) {
        throw std::invalid_argument(fmt::format(
            "bad CPU list {}: {}; expected numbers and ranges joined by commas, like 0-3,8,10-11",
            quote(trim(text)), e.what()));
    }
}

std::vector<int> online_cpus() {
    std::ifstream file("/sys/devices/system/cpu/online");
    std::string line;
    if (file && std::getline(file, line)) {
        try {
            if (auto cpus = parse_cpu_list(line); !cpus.empty()) return cpus;
        } catch (const std::invalid_argument&) {
            // Fall through: sysfs missing or odd (some containers), ask the scheduler.
        }
    }
    if (auto cpus = affinity_of(getpid()); !cpus.empty()) return cpus;
    const int here = sched_getcpu();
    return {here < 0 ? 0 : here};
}

std::string format_cpu_list(const std::vector<int>& cpus, char separator) {
    std::vector<int> sorted = cpus;
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    std::string text;
    for (std::size_t i = 0; i < sorted.size();) {
        std::size_t j = i;
        while (j + 1 < sorted.size() && sorted[j + 1] == sorted[j] + 1) ++j;
        if (!text.empty()) text += separator;
        text += j == i ? fmt::format("{}", sorted[i]) : fmt::format("{}-{}", sorted[i], sorted[j]);
        i = j + 1;
    }
    return text;
}

Placement parse_placement(std::string_view shorthand, const std::vector<int>& online) {
    if (shorthand == "free") return Placement{};
    if (shorthand != "same" && shorthand != "split") {
        throw std::invalid_argument(
            fmt::format("unknown placement {}: expected {}", quote(shorthand), allowed_placement));
    }
    if (online.empty()) throw std::invalid_argument(fmt::format("{} needs an online CPU; none are", shorthand));
    Placement placement;
    placement.name = std::string(shorthand);
    placement.loop_cpu = online[0];
    if (shorthand == "same") {
        placement.worker_cpu = online[0];
        placement.pool_cpus = {online[0]};
        return placement;
    }
    if (online.size() < 2) {
        throw std::invalid_argument(
            fmt::format("split needs two online CPUs; online CPUs: {}", format_cpu_list(online)));
    }
    placement.worker_cpu = online[1];
    for (const int cpu : online) {
        if (cpu != placement.loop_cpu) placement.pool_cpus.push_back(cpu);
    }
    return placement;
}

Placement parse_pin(std::string_view spec, const std::vector<int>& online) {
    if (spec.empty()) throw std::invalid_argument(fmt::format("nothing to pin: expected {}", allowed_pin));
    Placement placement;
    placement.name = "pinned";
    bool seen_loop = false, seen_worker = false, seen_pool = false;
    for (const std::string_view item : split(spec, ',')) {
        const std::size_t equals = item.find('=');
        if (equals == std::string_view::npos) {
            // "pool=0,1" splits into "pool=0" and "1": say how to list pool CPUs.
            const bool number = !item.empty() && item.find_first_not_of("0123456789-") == std::string_view::npos;
            throw std::invalid_argument(
                number ? fmt::format("{} has no key (list pool CPUs with +, like pool=0+1): expected {}",
                                     quote(item), allowed_pin)
                       : fmt::format("{} is not KEY=VALUE: expected {}", quote(item), allowed_pin));
        }
        const std::string_view key = item.substr(0, equals);
        const std::string_view value = item.substr(equals + 1);
        bool* seen = key == "loop" ? &seen_loop : key == "worker" ? &seen_worker : key == "pool" ? &seen_pool : nullptr;
        if (seen == nullptr) {
            throw std::invalid_argument(fmt::format("unknown key {}: expected {}", quote(key), allowed_pin));
        }
        if (*seen) throw std::invalid_argument(fmt::format("'{}' is given twice: expected {}", key, allowed_pin));
        *seen = true;
        try {
            if (key == "pool") {
                placement.pool_cpus = parse_list(value, '+');
            } else {
                (key == "loop" ? placement.loop_cpu : placement.worker_cpu) = parse_cpu_number(value);
            }
        } catch (const std::invalid_argument& e) {
            throw std::invalid_argument(fmt::format("{}: {}: expected {}", quote(item), e.what(), allowed_pin));
        }
        // Checked per key, so the first offline CPU in the spec is the one named.
        if (key == "pool") {
            for (const int cpu : placement.pool_cpus) require_online(cpu, online);
        } else {
            require_online(key == "loop" ? placement.loop_cpu : placement.worker_cpu, online);
        }
    }
    return placement;
}

std::string describe(const Placement& placement) {
    std::string roles;
    const auto add = [&](std::string_view role, const std::string& cpus) {
        roles += fmt::format("{}{} {}", roles.empty() ? "" : ", ", role, cpus);
    };
    if (placement.loop_cpu >= 0) add("loop", std::to_string(placement.loop_cpu));
    if (placement.worker_cpu >= 0) add("worker", std::to_string(placement.worker_cpu));
    if (!placement.pool_cpus.empty()) add("pool", format_cpu_list(placement.pool_cpus, '+'));
    return roles.empty() ? placement.name : fmt::format("{} ({})", placement.name, roles);
}

std::string pin_spec(const Placement& placement) {
    std::string spec;
    const auto add = [&](std::string_view key, const std::string& cpus) {
        spec += fmt::format("{}{}={}", spec.empty() ? "" : ",", key, cpus);
    };
    if (placement.loop_cpu >= 0) add("loop", std::to_string(placement.loop_cpu));
    if (placement.worker_cpu >= 0) add("worker", std::to_string(placement.worker_cpu));
    if (!placement.pool_cpus.empty()) add("pool", format_cpu_list(placement.pool_cpus, '+'));
    return spec;
}

bool pin_current_thread(int cpu, std::string* error) {
    if (cpu == -1) return true;
    return apply_affinity({cpu}, error);
}

bool pin_current_thread_to_set(const std::vector<int>& cpus, std::string* error) {
    if (cpus.empty()) return true;
    std::vector<int> sorted = cpus;
    std::sort(sorted.begin(), sorted.end());
    return apply_affinity(sorted, error);
}

std::vector<int> current_thread_affinity() {
    return affinity_of(0);
}

}  // namespace handoff
