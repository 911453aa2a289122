// splitmix64's finaliser: cheap, and every bit of the result depends on every
// bit of the input. The lab derives call arguments and expected results from
// it (a result swapped between calls or torn is caught), and the stress tool
// its per-combination seeds.
#pragma once

#include <cstdint>

namespace handoff {

constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace handoff
