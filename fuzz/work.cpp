// Work::parse: accepts or rejects with one line; parse(spec(w)) == w.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "handoff/work.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    handoff::Work work;
    if (!fuzz::parses(input, [&] { work = handoff::Work::parse(input); })) return 0;
    const std::string spec = work.spec();
    handoff::Work again;
    if (!fuzz::parses(spec, [&] { again = handoff::Work::parse(spec); })) {
        fuzz::fail("spec() does not parse", input, spec);
    }
    if (!(again == work)) fuzz::fail("parse(spec(w)) != w", input, spec);
    return 0;
}
