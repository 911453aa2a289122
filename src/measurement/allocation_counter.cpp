// The allocation hook and its per-thread counters (see allocation_counter.hpp).
//
// Everything the hook touches must work inside malloc, at any moment of a
// thread's life, without allocating: the thread's state is two `__thread`
// words of trivial type in the executable's static TLS (initial-exec: no
// __tls_get_addr, no lazy TLS allocation, which would call malloc), the
// slots are a constant-initialised array (ready before any constructor runs),
// and the forwarding goes to glibc's exported __libc_* entry points (no
// dlsym, which allocates).
#include "measurement/allocation_counter.hpp"

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define HANDOFF_SANITIZER_OWNS_MALLOC 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define HANDOFF_SANITIZER_OWNS_MALLOC 1
#endif

#ifdef HANDOFF_SANITIZER_OWNS_MALLOC

namespace handoff {

const char* allocation_counting_unavailable_reason() {
    return "this build runs under a sanitizer that owns malloc (ASan or TSan), so the lab does not hook it";
}

std::uint64_t allocations_so_far() { return 0; }

}  // namespace handoff

#else

#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstddef>

// glibc's allocator under its second names: what the hook forwards to.
extern "C" {
void* __libc_malloc(std::size_t size) noexcept;
void* __libc_calloc(std::size_t count, std::size_t size) noexcept;
void* __libc_realloc(void* ptr, std::size_t size) noexcept;
void __libc_free(void* ptr) noexcept;
void* __libc_memalign(std::size_t alignment, std::size_t size) noexcept;
void* __libc_valloc(std::size_t size) noexcept;
void* __libc_pvalloc(std::size_t size) noexcept;
}

namespace handoff {
namespace {

// One thread's count, alone on its cache line: the line stays in its
// owner's cache, and the reader's visits at the edges are two per interval.
struct alignas(64) Slot {
    std::atomic<std::uint64_t> count{0};  // written by the owner only
    std::atomic<bool> taken{false};
};

// More threads than this at once (the lab runs a handful; the test suite a
// few dozen) count into `unslotted_count` instead: exact still, only slower.
constexpr std::size_t slot_count = 256;
constinit Slot slots[slot_count];
constinit std::atomic<std::size_t> slots_used{0};  // every slot ever taken is below this
constinit std::atomic<std::uint64_t> unslotted_count{0};

// The calling thread's slot, taken at its first allocation; null before
// that. `unslotted` is set while the thread takes one (an allocation in
// there must not recurse) and for good once it has none: the table was
// full, or the thread is exiting and gave its slot back.
__thread Slot* my_slot __attribute__((tls_model("initial-exec"))) = nullptr;
__thread bool unslotted __attribute__((tls_model("initial-exec"))) = false;

// A thread-specific value's destructor runs as its thread exits: the slot
// goes back (its count stays), and what the thread still allocates after
// this (another key's destructor) counts as unslotted.
void give_back(void* slot) {
    my_slot = nullptr;
    unslotted = true;
    // Release: the next owner's first increment comes after this thread's last.
    static_cast<Slot*>(slot)->taken.store(false, std::memory_order_release);
}

// pthread_key_create and pthread_setspecific allocate nothing for the first
// 32 keys (they live in the thread descriptor), and this key is made at the
// process's first allocation, before any library makes its own.
struct ExitHook {
    pthread_key_t key{};
    bool ok = pthread_key_create(&key, give_back) == 0;
};

[[gnu::noinline]] Slot* take_slot() noexcept {
    if (unslotted) return nullptr;
    unslotted = true;
    static ExitHook hook;  // a guarded static: no allocation either
    for (std::size_t i = 0; i < slot_count; ++i) {
        Slot& slot = slots[i];
        if (slot.taken.load(std::memory_order_relaxed) || slot.taken.exchange(true, std::memory_order_acquire)) {
            continue;
        }
        std::size_t used = slots_used.load(std::memory_order_relaxed);
        while (used < i + 1 && !slots_used.compare_exchange_weak(used, i + 1, std::memory_order_release)) {
        }
        // Without the exit hook the slot is never given back: still exact,
        // the table only fills sooner.
        if (hook.ok) pthread_setspecific(hook.key, &slot);
        my_slot = &slot;
        unslotted = false;
        return &slot;
    }
    return nullptr;  // all taken: `unslotted` stays set
}

inline void count_one() noexcept {
    Slot* slot = my_slot;
    if (__builtin_expect(slot == nullptr, 0)) {
        slot = take_slot();
        if (slot == nullptr) {
            unslotted_count.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    // Only the owner writes the slot: a plain increment, published whole.
    slot->count.store(slot->count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
}

// Does the process's malloc reach the hook? It does whenever this object is
// linked into the executable (its definitions come first in symbol lookup);
// asked once, with an allocation glibc makes itself, to be sure.
bool hook_reached() {
    const std::uint64_t before = allocations_so_far();
    char* (*volatile duplicate)(const char*) = &strdup;  // volatile: the call stays a call
    char* copy = duplicate("probe");
    const bool reached = allocations_so_far() != before;
    free(copy);
    return reached;
}

}  // namespace

const char* allocation_counting_unavailable_reason() {
    static const bool reached = hook_reached();
    return reached ? nullptr : "the process's malloc does not reach the lab's allocation hook";
}

std::uint64_t allocations_so_far() {
    std::uint64_t total = unslotted_count.load(std::memory_order_relaxed);
    const std::size_t used = slots_used.load(std::memory_order_acquire);
    for (std::size_t i = 0; i < used; ++i) total += slots[i].count.load(std::memory_order_relaxed);
    return total;
}

}  // namespace handoff

// The hook: each allocation function counts one call that asks the heap for
// memory (a failed one too), then forwards. Not counted: free, and realloc
// to size 0 of a block (a free).
extern "C" {

// Counts nothing; defined so that every entry point of the heap is glibc's
// even under a preloaded allocator (LD_PRELOAD comes after the binary in
// symbol lookup: its free would otherwise be handed glibc's blocks).
void free(void* ptr) noexcept { __libc_free(ptr); }

void* malloc(std::size_t size) noexcept {
    handoff::count_one();
    return __libc_malloc(size);
}

void* calloc(std::size_t count, std::size_t size) noexcept {
    handoff::count_one();
    return __libc_calloc(count, size);
}

void* realloc(void* ptr, std::size_t size) noexcept {
    if (ptr == nullptr || size != 0) handoff::count_one();
    return __libc_realloc(ptr, size);
}

// glibc's own calls __libc_realloc directly, past the hook.
void* reallocarray(void* ptr, std::size_t count, std::size_t size) noexcept {
    std::size_t bytes = 0;
    if (__builtin_mul_overflow(count, size, &bytes)) {
        errno = ENOMEM;
        return nullptr;
    }
    return realloc(ptr, bytes);
}

void* memalign(std::size_t alignment, std::size_t size) noexcept {
    handoff::count_one();
    return __libc_memalign(alignment, size);
}

// glibc 2.36's aligned_alloc is memalign under another name.
void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept {
    handoff::count_one();
    return __libc_memalign(alignment, size);
}

// glibc's checks, then its memalign.
int posix_memalign(void** out, std::size_t alignment, std::size_t size) noexcept {
    if (alignment % sizeof(void*) != 0 || !std::has_single_bit(alignment / sizeof(void*))) return EINVAL;
    handoff::count_one();
    void* block = __libc_memalign(alignment, size);
    if (block == nullptr) return ENOMEM;
    *out = block;
    return 0;
}

void* valloc(std::size_t size) noexcept {
    handoff::count_one();
    return __libc_valloc(size);
}

void* pvalloc(std::size_t size) noexcept {
    handoff::count_one();
    return __libc_pvalloc(size);
}

}  // extern "C"

#endif  // HANDOFF_SANITIZER_OWNS_MALLOC
