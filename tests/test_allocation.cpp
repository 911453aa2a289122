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

#include "handoff/backend.hpp"
#include "handoff/runner.hpp"

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
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace handoff {
namespace {

long allocations_for(const Configuration& config) {
    const long before = allocations.load();
    const RowResult row = run_configuration(config);
    const long used = allocations.load() - before;
    EXPECT_EQ(row.status, RowStatus::ok) << row.reason;
    return used;
}

TEST(Allocation, NonePerCallInAnyBackendOrTarget) {
    for (const Backend* backend : all_backends()) {
        if (backend_unavailable_reason(*backend)) continue;
        for (TargetKind target : {TargetKind::dedicated, TargetKind::pool}) {
            for (std::uint32_t inflight : {1u, 8u}) {
                Configuration config;
                config.backend = std::string(backend->name);
                config.target = target;
                config.work = Work{};
                config.warmup = 100;
                config.inflight = inflight;
                config.calls = 1000;
                const long few = allocations_for(config);
                config.calls = 20000;
                const long many = allocations_for(config);
                // 19000 more calls; a per-call allocation would add >= 19000.
                EXPECT_LT(many - few, 100)
                    << backend->name << " " << to_string(target) << " in-flight " << inflight << ": " << few
                    << " allocations for 1000 calls, " << many << " for 20000";
            }
        }
    }
}

}  // namespace
}  // namespace handoff
