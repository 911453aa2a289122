// What every fuzz target checks: a parser either returns a value or throws
// std::invalid_argument whose message is one non-empty line without raw
// control characters (it is printed as "handoff: --option: <message>").
// Anything else aborts, which libFuzzer reports as a crash with the input
// that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace fuzz {

[[noreturn]] inline void fail(std::string_view what, std::string_view input, std::string_view detail = {}) {
    std::fprintf(stderr, "FUZZ CHECK FAILED: %.*s\n  input: '%.*s'\n  detail: '%.*s'\n", int(what.size()), what.data(),
                 int(input.size()), input.data(), int(detail.size()), detail.data());
    std::abort();
}

// One line with no raw control character: what was typed is quoted escaped
// (quote() in src/base/printable.hpp), so a tab or an escape sequence in the input
// cannot reach the terminal either.
inline void check_message(const std::invalid_argument& e, std::string_view input) {
    const std::string_view message = e.what();
    if (message.empty()) fail("empty message", input);
    if (message.find('\n') != std::string_view::npos || message.find('\r') != std::string_view::npos) {
        fail("message is not one line", input, message);
    }
    for (const char c : message) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7f) fail("message has a raw control character", input, message);
    }
}

// Runs `parse` on `input`; returns true when it parsed. An invalid_argument
// with a good message is a clean rejection; any other exception escapes and
// ends the run (std::terminate -> abort).
template <class Parse>
bool parses(std::string_view input, Parse&& parse) {
    try {
        parse();
        return true;
    } catch (const std::invalid_argument& e) {
        check_message(e, input);
        return false;
    }
}

}  // namespace fuzz
