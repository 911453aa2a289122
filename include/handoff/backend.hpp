// A backend: one event loop implementation, registered by name.
//
// Adding a backend: write backends/NAME.cpp defining `const Backend NAME_backend`
// and add one line to src/backends_registry.cpp.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "handoff/loop.hpp"

namespace handoff {

struct Backend {
    std::string_view name;         // "epoll", the --backend spelling
    std::string_view description;  // one line for --list
    // Why the backend cannot run on this machine now, or nullopt when it can.
    std::optional<std::string> (*unavailable_reason)();
    // Library and version found at run time ("libuv 1.44.2"), or "" for none.
    std::string (*library_version)();
    // Builds a loop on the calling thread (the loop thread). May throw
    // std::runtime_error with the reason (a failed io_uring_queue_init, say).
    std::unique_ptr<Loop> (*make_loop)(const LoopOptions& options);
};

// Every registered backend, in table order.
std::span<const Backend* const> all_backends();

// The backend named `name`, or nullptr.
const Backend* find_backend(std::string_view name);

// Why `backend` cannot run: its own reason, or the test seam
// HANDOFF_DISABLE_BACKENDS=name[,name...] (reported as such).
std::optional<std::string> backend_unavailable_reason(const Backend& backend);

}  // namespace handoff
