// A backend: one event loop implementation, registered by name.
//
// Adding a backend: write backends/NAME.cpp defining `const Backend NAME_backend`
// and add one line to the list in src/base/backends_registry.cpp.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "handoff/design.hpp"
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

    // What the backend can build besides the lab's designs. The runner checks
    // a design against these once, before a row runs, and says plainly what
    // cannot be built (design_unsupported_reason): the backend need not.
    struct Capabilities {
        bool native_worker = false;  // impl=native: its own cross-thread machinery both ways
        bool ring_wakes = false;     // ring=: how a worker wakes an io_uring
    };
    Capabilities capabilities = {};
};

// Every registered backend, in table order.
std::span<const Backend* const> all_backends();

// The backend named `name`, or nullptr.
const Backend* find_backend(std::string_view name);

// Why `backend` cannot run: its own reason, or the test seam
// HANDOFF_DISABLE_BACKENDS=name[,name...] (reported as such).
std::optional<std::string> backend_unavailable_reason(const Backend& backend);

// Why `backend` cannot build a dedicated worker of `design` (an axis it lacks
// the capability for), naming the backends that can; nullopt when it can.
std::optional<std::string> design_unsupported_reason(const Backend& backend, const Design& design);

}  // namespace handoff
