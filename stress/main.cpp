// stress: every backend x target x main design through 10^6 calls each, in
// bursts and idle gaps, checking each call comes back once with the right
// result (stress/stress_core.hpp says what varies). `make stress` runs it.
//
//   handoff_stress [--calls N] [--quick] [--backend NAME[,NAME...]] [--seed N] [--verbose]
//
// Exit status: 0 all ok, 1 a combination failed (or the watchdog fired),
// 2 bad arguments, 3 the watchdog could not stop a stuck loop.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "handoff/backend.hpp"
#include "base/duration.hpp"
#include "stress/stress_core.hpp"

namespace {

using namespace handoff;

constexpr std::string_view usage =
    "usage: handoff_stress [--calls N] [--quick] [--backend NAME[,NAME...]] [--seed N] [--verbose]\n"
    "  --calls N     calls per backend x target x design, half at in-flight 1, half at 64 (default 1000000)\n"
    "  --quick       100000 calls per combination: a smoke run\n"
    "  --backend     a comma list of backends (default: all)\n"
    "  --seed N      the seed of every random choice (default 1); printed, so a failure can be replayed\n"
    "  --verbose     one line per segment: in-flight, placement, work, calls, time\n";

[[noreturn]] void bad(std::string_view option, std::string_view message) {
    std::cerr << fmt::format("stress: {}: {}\n{}", option, message, usage);
    std::exit(2);
}

std::uint64_t number(std::string_view option, std::string_view text, std::uint64_t min, std::uint64_t max) {
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        bad(option, fmt::format("'{}' is not allowed: expected a whole number from {} to {}", text, min, max));
    }
    return value;
}

std::vector<const Backend*> parse_backends(std::string_view text) {
    std::vector<const Backend*> chosen;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t end = std::min(text.find(',', start), text.size());
        const std::string_view name = text.substr(start, end - start);
        const Backend* backend = find_backend(name);
        if (backend == nullptr) {
            std::string names;
            for (const Backend* b : all_backends()) names += fmt::format("{}{}", names.empty() ? "" : ", ", b->name);
            bad("--backend", fmt::format("unknown backend '{}': expected a comma list of {}", name, names));
        }
        chosen.push_back(backend);
        start = end + 1;
    }
    return chosen;
}

}  // namespace

int main(int argc, char** argv) {
    stress::Options options;
    options.alarm = &std::cerr;
    std::vector<const Backend*> backends(all_backends().begin(), all_backends().end());
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const auto value = [&]() -> std::string_view {
            if (i + 1 >= argc) bad(arg, "needs a value");
            return argv[++i];
        };
        if (arg == "--calls") {
            options.calls = number(arg, value(), 2, 1'000'000'000'000);
        } else if (arg == "--quick") {
            options.calls = 100'000;
        } else if (arg == "--backend") {
            backends = parse_backends(value());
        } else if (arg == "--verbose") {
            options.segments = &std::cout;
        } else if (arg == "--seed") {
            options.seed = number(arg, value(), 0, UINT64_MAX);
        } else if (arg == "--help" || arg == "-h") {
            std::cout << usage;
            return 0;
        } else {
            bad(arg, "unknown option");
        }
    }

    const auto combinations = stress::main_combinations(backends);
    std::cout << fmt::format("stress: {} combinations x {} calls (half at in-flight 1, half at 64), seed {}, "
                             "watchdog {} ms\n",
                             combinations.size(), options.calls, options.seed, options.stall_limit.count())
              << std::flush;
    std::size_t name_width = 0;  // the names line up, however long the longest
    for (const stress::Combination& combination : combinations) {
        name_width = std::max(name_width, combination.name().size());
    }
    std::uint64_t calls = 0, failures = 0, skipped = 0;
    double seconds = 0;
    for (const stress::Combination& combination : combinations) {
        const stress::Result r = stress::run_combination(combination, options);
        calls += r.calls;
        seconds += r.seconds;
        if (r.skipped) {
            ++skipped;
            std::cout << fmt::format("{:<{}} skipped: {}\n", combination.name(), name_width, r.message) << std::flush;
            continue;
        }
        failures += !r.ok;
        std::cout << fmt::format("{:<{}} {:>9} calls {:>7.1f} s  max round trip {:>9}  "
                                 "segments {:>3}  bursts {:>6}  idle gaps {:>5}  paced {:>5}  {}\n",
                                 combination.name(), name_width, r.calls, r.seconds, format_per_call(double(r.max_round_trip_ns) / 1e9),
                                 r.segments, r.bursts, r.idle_gaps, r.paced_runs, r.ok ? "ok" : "FAILED: " + r.message)
                  << std::flush;
    }
    std::cout << fmt::format("stress: {} combinations ({} skipped), {} calls verified, {} failed, {:.1f} s; seed {}\n",
                             combinations.size(), skipped, calls, failures, seconds, options.seed);
    return failures == 0 ? 0 : 1;
}
