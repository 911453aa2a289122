// User text quoted in an error message. Messages are one line on stderr
// ("handoff: --option: ..."), so control characters in what was typed (a
// newline pasted into an argument, say) are shown escaped — \n, \r, \t or
// \xNN — instead of breaking the line. Everything else is kept as typed.
#pragma once

#include <string>
#include <string_view>

namespace handoff {

inline std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte != 0x7f) {
            out += c;
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == '\t') {
            out += "\\t";
        } else {
            constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[byte >> 4];
            out += hex[byte & 0xf];
        }
    }
    return out;
}

// 'text', escaped: how every message quotes what was typed, so that quoting
// and escaping cannot be done apart.
inline std::string quote(std::string_view text) { return "'" + printable(text) + "'"; }

}  // namespace handoff
