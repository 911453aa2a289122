// Heap allocations made by every thread of the process, counted cheaply.
//
// The binary defines the C allocation functions itself (malloc, calloc,
// realloc, reallocarray, aligned_alloc, posix_memalign, memalign, valloc,
// pvalloc) and forwards each to glibc's own (__libc_malloc and its kin), so
// every allocation of the process reaches the counter: the lab's, libstdc++'s
// (operator new calls malloc, so a `new` counts once), libuv's, liburing's,
// Asio's, glibc's own (strdup, fopen). free forwards too and counts nothing.
// The binary's definitions come before any LD_PRELOADed allocator in symbol
// lookup: such an allocator is bypassed, and the heap stays glibc's.
//
// Each thread counts into a slot of its own (one cache line, written only by
// its owner: a load and a store, no locked instruction), claimed at its first
// allocation and given back when it exits. A slot's count is never reset:
// the next owner counts on from it, so a thread that ended inside an interval
// keeps its allocations in the sum. Reading sums the slots ever used.
//
// Under AddressSanitizer or ThreadSanitizer the sanitizer's runtime owns
// malloc (its shadow memory, its race detection depend on it): a second
// definition in the binary would take its place and break it. Those builds
// compile the hook out, and the figure is unknown ("n/a"), never 0.
#pragma once

#include <cstdint>

namespace handoff {

// Null when allocations are counted; otherwise why not, in a phrase.
const char* allocation_counting_unavailable_reason();

inline bool allocation_counting_available() { return allocation_counting_unavailable_reason() == nullptr; }

// Heap allocations by every thread of the process since it started: only
// ever grows. A thread's allocations are seen by a reader that synchronises
// with it after them (a delivered result, a join); 0 when not counted.
std::uint64_t allocations_so_far();

}  // namespace handoff
