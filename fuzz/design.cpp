// parse_design: accepts or rejects with one line; the canonical spelling
// (describe()) parses back to the same design.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "handoff/design.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    handoff::Design design;
    if (!fuzz::parses(input, [&] { design = handoff::parse_design(input); })) return 0;
    if (design.name != input) fuzz::fail("name is not the spec as given", input, design.name);
    const std::string canonical = design.describe();
    handoff::Design again;
    if (!fuzz::parses(canonical, [&] { again = handoff::parse_design(canonical); })) {
        fuzz::fail("describe() does not parse", input, canonical);
    }
    again.name = design.name;
    // A native design runs the backend's own machinery: the lab axes do not
    // apply, and describe() says only impl=native.
    if (design.impl == handoff::Design::Impl::native) {
        if (again.impl != handoff::Design::Impl::native) fuzz::fail("native lost in describe()", input, canonical);
        return 0;
    }
    if (!(again == design)) fuzz::fail("parse(describe(d)) != d", input, canonical);
    return 0;
}
