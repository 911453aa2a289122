// parse_duration: accepts or rejects with one line; a parsed duration
// survives format_duration and back unchanged, within the documented range.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "base/duration.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::chrono::nanoseconds parsed{};
    if (!fuzz::parses(input, [&] { parsed = handoff::parse_duration(input); })) return 0;
    if (parsed.count() < 0 || parsed > std::chrono::hours(1)) fuzz::fail("duration outside 0..1h", input);
    const std::string canonical = handoff::format_duration(parsed);
    std::chrono::nanoseconds again{};
    if (!fuzz::parses(canonical, [&] { again = handoff::parse_duration(canonical); })) {
        fuzz::fail("format_duration's spelling does not parse", input, canonical);
    }
    if (again != parsed) fuzz::fail("parse(format(d)) != d", input, canonical);
    return 0;
}
