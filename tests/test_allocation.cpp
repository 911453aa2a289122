// No heap allocation per call: a counting operator new around real runs.
//
// Replacing the global operator new counts every allocation in the process;
// a run allocates a fixed amount to set up (threads, the window, the edges of
// the interval), so two runs that differ only in their number of calls must
// allocate the same, give or take a little set-up noise.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include <fmt/format.h>

#include <optional>

#include "handoff/backend.hpp"
#include "handoff/design.hpp"
#include "run/runner.hpp"

namespace {
std::atomic<long> allocations{0};
}  // namespace

// The replacement pairs operator new with malloc and operator delete with
// free, which is consistent; GCC 12 at -O1 inlines both and misreads the pair
// as mismatched.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(std::size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
// The nothrow forms too (std::stable_sort's temporary buffer uses them): every
// new in the binary must come from malloc, since every delete here frees.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size ? size : 1);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace handoff {
namespace {

// Allocations of one run; nullopt when the configuration was refused.
std::optional<long> allocations_for(const Configuration& config) {
    const long before = allocations.load();
    const RowResult row = run_configuration(config);
    const long used = allocations.load() - before;
    if (row.status == RowStatus::unavailable) return std::nullopt;
    EXPECT_EQ(row.status, RowStatus::ok) << row.reason;
    return used;
}

void expect_none_per_call(Configuration config, const std::string& what) {
    config.calls = 1000;
    const auto few = allocations_for(config);
    config.calls = 20000;
    const auto many = allocations_for(config);
    if (!few || !many) return;  // refused (a native design on a lab loop)
    // 19000 more calls; a per-call allocation would add >= 19000.
    EXPECT_LT(*many - *few, 100) << what << ": " << *few << " allocations for 1000 calls, " << *many
                                 << " for 20000";
}

// The pool row of `backend` at `inflight`; the tests then try the dedicated designs.
Configuration pool_config(const Backend& backend, std::uint32_t inflight, AwaitMode await_mode) {
    Configuration config;
    config.backend = std::string(backend.name);
    config.work = Work{};
    config.warmup = 100;
    config.inflight = inflight;
    config.await_mode = await_mode;
    config.target = TargetKind::pool;
    return config;
}

TEST(Allocation, NonePerCallInAnyBackendTargetOrDesign) {
    for (const Backend* backend : all_backends()) {
        if (backend_unavailable_reason(*backend)) continue;
        for (std::uint32_t inflight : {1u, 8u}) {
            Configuration config = pool_config(*backend, inflight, AwaitMode::callback);
            expect_none_per_call(config, fmt::format("{} pool in-flight {}", backend->name, inflight));
            config.target = TargetKind::dedicated;
            for (const DesignPreset& preset : design_presets()) {
                // Two spinners may share a CPU when left to the scheduler:
                // a time slice per call, nothing to learn about allocation.
                if (preset.name == "spin") continue;
                config.design = parse_design(preset.name);
                expect_none_per_call(config, fmt::format("{} {} in-flight {}", backend->name, preset.name, inflight));
            }
        }
    }
}

// With --timeout the deadline is re-armed about once per millisecond (a
// timer per loop, the cancellation state per call): still nothing per call.
TEST(Allocation, NonePerCallWithTimeouts) {
    for (const Backend* backend : all_backends()) {
        if (backend_unavailable_reason(*backend)) continue;
        Configuration config;
        config.backend = std::string(backend->name);
        config.work = Work{};
        config.warmup = 100;
        config.inflight = 4;
        config.timeout = std::chrono::milliseconds(1);
        config.target = TargetKind::pool;
        expect_none_per_call(config, fmt::format("{} pool with a timeout", backend->name));
        config.target = TargetKind::dedicated;
        for (const char* design : {"classic", "adaptive", "native"}) {
            config.design = parse_design(design);
            expect_none_per_call(config, fmt::format("{} {} with a timeout", backend->name, design));
        }
    }
}

}  // namespace
}  // namespace handoff

namespace handoff {
namespace {

// --await coroutine: the lab's awaitable makes one frame per caller per phase
// and nothing per call; Asio's awaitable path recycles its per-call frames
// (use_awaitable's initiation, dispatch's function) in Asio's per-thread
// cache, so at steady state it reaches the heap no more than that.
TEST(Allocation, NonePerCallWithCoroutines) {
    for (const Backend* backend : all_backends()) {
        if (backend_unavailable_reason(*backend)) continue;
        for (std::uint32_t inflight : {1u, 8u}) {
            Configuration config = pool_config(*backend, inflight, AwaitMode::coroutine);
            expect_none_per_call(config, fmt::format("{} pool in-flight {}, coroutines", backend->name, inflight));
            config.target = TargetKind::dedicated;
            for (const char* design : {"classic", "inplace", "adaptive", "native"}) {
                config.design = parse_design(design);
                expect_none_per_call(config,
                                     fmt::format("{} {} in-flight {}, coroutines", backend->name, design, inflight));
            }
            config.timeout = std::chrono::milliseconds(1);
            config.design = parse_design("classic");
            expect_none_per_call(config, fmt::format("{} classic in-flight {}, coroutines with a timeout",
                                                     backend->name, inflight));
        }
    }
}

}  // namespace
}  // namespace handoff
