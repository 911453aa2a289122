// The CPU-list, --pin and --placement parsers: accept or reject with one
// line; parse_cpu_list(format_cpu_list(v)) == v, parse_pin(pin_spec(p)) == p,
// and every CPU a parse returns is online. The first byte picks the set of
// online CPUs (as the kernel's list), the rest is the text.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_check.hpp"
#include "base/placement.hpp"

namespace {

const std::vector<int>& online_set(std::uint8_t pick) {
    static const std::vector<std::vector<int>> sets = {
        {0}, {0, 1}, {0, 1, 2, 3}, {1, 3, 5}, {0, 1, 2, 3, 4, 5, 6, 7, 16}, {2},
    };
    return sets[pick % sets.size()];
}

bool online(int cpu, const std::vector<int>& cpus) { return std::binary_search(cpus.begin(), cpus.end(), cpu); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::vector<int>& cpus = online_set(data[0]);
    const std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);

    std::vector<int> list;
    if (fuzz::parses(input, [&] { list = handoff::parse_cpu_list(input); })) {
        if (list.empty() || !std::is_sorted(list.begin(), list.end()) ||
            std::adjacent_find(list.begin(), list.end()) != list.end() || list.front() < 0) {
            fuzz::fail("parse_cpu_list: not a sorted, duplicate-free, non-empty list", input);
        }
        const std::string text = handoff::format_cpu_list(list);
        std::vector<int> again;
        if (!fuzz::parses(text, [&] { again = handoff::parse_cpu_list(text); }) || again != list) {
            fuzz::fail("parse_cpu_list(format_cpu_list(v)) != v", input, text);
        }
    }

    handoff::Placement pin;
    if (fuzz::parses(input, [&] { pin = handoff::parse_pin(input, cpus); })) {
        const bool roles_online = (pin.loop_cpu == -1 || online(pin.loop_cpu, cpus)) &&
                                  (pin.worker_cpu == -1 || online(pin.worker_cpu, cpus)) &&
                                  std::all_of(pin.pool_cpus.begin(), pin.pool_cpus.end(),
                                              [&](int cpu) { return online(cpu, cpus); });
        if (!roles_online) fuzz::fail("parse_pin accepted a CPU that is not online", input);
        const std::string spec = handoff::pin_spec(pin);
        handoff::Placement again;
        if (!fuzz::parses(spec, [&] { again = handoff::parse_pin(spec, cpus); }) || !(again == pin)) {
            fuzz::fail("parse_pin(pin_spec(p)) != p", input, spec);
        }
    }

    handoff::Placement shorthand;
    if (fuzz::parses(input, [&] { shorthand = handoff::parse_placement(input, cpus); })) {
        if (shorthand.name != input) fuzz::fail("parse_placement: name is not the shorthand", input);
        if (shorthand.name != "free" && !online(shorthand.loop_cpu, cpus)) {
            fuzz::fail("parse_placement pinned the loop to a CPU that is not online", input);
        }
    }
    return 0;
}
