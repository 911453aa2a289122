// A hint to the CPU inside a spin loop: lets the sibling hyperthread (or the
// hypervisor) have the core, and avoids a memory-order mis-speculation flush
// when the awaited cache line changes.
#pragma once

namespace handoff {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#else
    asm volatile("" ::: "memory");
#endif
}

}  // namespace handoff
