#include "base/duration.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <stdexcept>

#include "base/printable.hpp"

namespace handoff {
namespace {

struct Unit {
    std::string_view suffix;
    std::int64_t ns;
};
// Longest suffix first so "ms" is not read as "s".
constexpr Unit units[] = {{"ns", 1}, {"us", 1'000}, {"ms", 1'000'000}, {"s", 1'000'000'000}};

constexpr std::int64_t max_duration_ns = std::int64_t(3600) * 1'000'000'000;  // an hour

}  // namespace

std::chrono::nanoseconds parse_duration(std::string_view text) {
    const auto bad = [&] {
        return std::invalid_argument(fmt::format(
            "{} is not a duration: expected a number and a unit (ns, us, ms, s), "
            "for example 250ns, 2us, 1.5ms; at most 1 hour",
            quote(text)));
    };
    for (const Unit& unit : units) {
        if (!text.ends_with(unit.suffix)) continue;
        const std::string_view number = text.substr(0, text.size() - unit.suffix.size());
        if (number.empty() || number.front() == '-' || number.front() == '+') throw bad();
        double value = 0;
        const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
        if (ec != std::errc{} || end != number.data() + number.size() || !std::isfinite(value)) {
            throw bad();
        }
        const double ns = value * double(unit.ns);
        if (ns > double(max_duration_ns)) throw bad();
        if (ns != std::floor(ns)) throw bad();  // finer than a nanosecond
        return std::chrono::nanoseconds(std::int64_t(ns));
    }
    throw bad();
}

std::string format_duration(std::chrono::nanoseconds d) {
    const std::int64_t ns = d.count();
    for (auto it = std::rbegin(units); it != std::rend(units); ++it) {
        if (ns != 0 && ns % it->ns == 0) return fmt::format("{}{}", ns / it->ns, it->suffix);
    }
    return fmt::format("{}ns", ns);
}

std::string format_per_call(double seconds) {
    const double ns = seconds * 1e9;
    if (ns < 1e3) return fmt::format("{:.0f} ns", ns);
    if (ns < 1e6) return fmt::format("{:.2f} us", ns / 1e3);
    if (ns < 1e9) return fmt::format("{:.2f} ms", ns / 1e6);
    return fmt::format("{:.2f} s", ns / 1e9);
}

}  // namespace handoff
