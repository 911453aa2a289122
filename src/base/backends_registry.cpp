// The registered backends, in table order. A new backend adds one line here.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "handoff/backend.hpp"

namespace handoff {

extern const Backend epoll_backend;
extern const Backend uring_backend;
extern const Backend uv_backend;
extern const Backend asio_backend;

namespace {
constexpr const Backend* registered[] = {
    &epoll_backend,
    &uring_backend,
    &uv_backend,
    &asio_backend,
};
}  // namespace

std::span<const Backend* const> all_backends() { return registered; }

const Backend* find_backend(std::string_view name) {
    for (const Backend* backend : registered) {
        if (backend->name == name) return backend;
    }
    return nullptr;
}

std::optional<std::string> backend_unavailable_reason(const Backend& backend) {
    // Test seam: pretend a capability is missing, to exercise the skip path
    // on a machine that has it.
    if (const char* disabled = std::getenv("HANDOFF_DISABLE_BACKENDS")) {
        const std::string_view list = disabled;
        std::size_t start = 0;
        while (start <= list.size()) {
            const std::size_t comma = std::min(list.find(',', start), list.size());
            if (list.substr(start, comma - start) == backend.name) {
                return std::string("disabled by HANDOFF_DISABLE_BACKENDS");
            }
            start = comma + 1;
        }
    }
    return backend.unavailable_reason();
}

}  // namespace handoff
