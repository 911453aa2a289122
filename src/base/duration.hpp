// Durations on the command line: "250ns", "2us", "1.5ms", "3s".
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace handoff {

// Parses a positive-or-zero duration with a unit (ns, us, ms, s).
// Throws std::invalid_argument with a message saying what is allowed.
std::chrono::nanoseconds parse_duration(std::string_view text);

// The shortest exact spelling of a duration in the same grammar ("2us").
std::string format_duration(std::chrono::nanoseconds d);

// Human figure for a per-call time: "812 ns", "2.41 us", "1.20 ms".
std::string format_per_call(double seconds);

}  // namespace handoff
