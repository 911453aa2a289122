// The registered backends, in table order. A new backend adds one line here.
#include "handoff/backend.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "base/text.hpp"

namespace handoff {

extern const Backend epoll_backend;
extern const Backend uring_backend;
extern const Backend uv_backend;
extern const Backend asio_backend;
extern const Backend asyncio_backend, uvloop_backend, trio_backend;
extern const Backend anyio_asyncio_backend, anyio_uvloop_backend, anyio_trio_backend;

namespace {
constexpr const Backend* registered[] = {
    &epoll_backend,
    &uring_backend,
    &uv_backend,
    &asio_backend,
};
// Loops in another process (run_foreign): backends/python.cpp.
constexpr const Backend* registered_foreign[] = {
    &asyncio_backend, &uvloop_backend, &trio_backend, &anyio_asyncio_backend, &anyio_uvloop_backend, &anyio_trio_backend,
};
}  // namespace

std::span<const Backend* const> all_backends() { return registered; }
std::span<const Backend* const> foreign_backends() { return registered_foreign; }

const Backend* find_backend(std::string_view name) {
    for (const auto list : {all_backends(), foreign_backends()}) {
        for (const Backend* backend : list) {
            if (backend->name == name) return backend;
        }
    }
    return nullptr;
}

std::optional<std::string> backend_unavailable_reason(const Backend& backend) {
    // Test seam: pretend a capability is missing, to exercise the skip path
    // on a machine that has it.
    if (const char* disabled = std::getenv("HANDOFF_DISABLE_BACKENDS")) {
        for (const std::string_view name : split(disabled, ',')) {
            if (name == backend.name) return std::string("disabled by HANDOFF_DISABLE_BACKENDS");
        }
    }
    return backend.unavailable_reason();
}

namespace {

// "asio and uv": the registered backends that have a capability.
std::string backends_with(bool Backend::Capabilities::*capability) {
    std::vector<std::string_view> names;
    for (const Backend* backend : registered) {
        if (backend->capabilities.*capability) names.push_back(backend->name);
    }
    std::string list;
    for (std::size_t i = 0; i < names.size(); ++i) {
        list += i == 0 ? "" : i + 1 == names.size() ? " and " : ", ";
        list += names[i];
    }
    return list;
}

}  // namespace

std::optional<std::string> design_unsupported_reason(const Backend& backend, const Design& design) {
    if (design.impl == Design::Impl::native && !backend.capabilities.native_worker) {
        return fmt::format("{} has no native worker: impl=native is for {}", backend.name,
                           backends_with(&Backend::Capabilities::native_worker));
    }
    if (design.ring != Design::Ring::eventfd && !backend.capabilities.ring_wakes) {
        return fmt::format("ring= is for {} only", backends_with(&Backend::Capabilities::ring_wakes));
    }
    if ((design.defer.count() != 0 || design.hold.count() != 0) && design.impl == Design::Impl::lab &&
        !backend.capabilities.sleep_hooks) {
        return fmt::format("defer= and hold= are for {} only: they need a loop that tells the worker when it sleeps",
                           backends_with(&Backend::Capabilities::sleep_hooks));
    }
    return std::nullopt;
}

}  // namespace handoff
