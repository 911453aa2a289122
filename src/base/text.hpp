// Splitting the lists typed on the command line ("epoll,uv", "0-1+3",
// "queue=spsc,wait=futex"). One splitter for every parser, so they all agree
// on what an empty item or a trailing separator is.
#pragma once

#include <string_view>
#include <vector>

namespace handoff {

// Every item between separators, empty ones included: "a,,b" is "a", "", "b"
// and "a," ends with "". Keeping them lets each parser say what is wrong with
// an empty item instead of skipping it silently. "" is one empty item. The
// views point into `text`.
inline std::vector<std::string_view> split(std::string_view text, char separator) {
    std::vector<std::string_view> items;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = text.find(separator, start);
        items.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
        if (end == std::string_view::npos) return items;
        start = end + 1;
    }
}

}  // namespace handoff
