// Kernel ABI constants newer than Debian bookworm's headers (linux-libc-dev
// 6.1, liburing 2.3), for the uring loop's ring=futex. Each is a value the
// kernel fixed when it added the feature; an ABI value never changes, so a
// copy here is as good as the header's. Whether the running kernel has the
// feature is a separate question, asked at run time (io_uring's opcode probe).
#pragma once

#include <linux/futex.h>
#include <liburing.h>

#include <cstdint>

// futex2 flags, include/uapi/linux/futex.h, added in Linux 6.7 (with the
// futex2 syscalls and io_uring's futex ops). Macros there, so macros here,
// defined only when the system header lacks them.
#ifndef FUTEX2_SIZE_U32
#define FUTEX2_SIZE_U32 0x02  // the futex word is 32 bits
#endif
#ifndef FUTEX2_PRIVATE
#define FUTEX2_PRIVATE FUTEX_PRIVATE_FLAG  // 128: process-private, as FUTEX_*_PRIVATE
#endif

namespace handoff::kernel {

// IORING_OP_FUTEX_WAIT, include/uapi/linux/io_uring.h, enum io_uring_op,
// added in Linux 6.7. An enumerator there (no macro to test), so it is a
// constant of our own: it follows IORING_OP_SENDMSG_ZC (48, the last one
// liburing 2.3 knows), IORING_OP_READ_MULTISHOT (49) and IORING_OP_WAITID (50).
inline constexpr int ioring_op_futex_wait = 51;
static_assert(IORING_OP_SENDMSG_ZC == 48, "io_uring opcode numbering is not what kernel_compat.hpp assumes");

// The SQE of IORING_OP_FUTEX_WAIT (io_uring/futex.c, io_futex_prep):
//   fd    futex2 flags (FUTEX2_SIZE_U32 | FUTEX2_PRIVATE)
//   addr  the futex word       addr2  the expected value
//   addr3 the wake mask (FUTEX_BITSET_MATCH_ANY)
//   len, the op-flags field (sqe->futex_flags, liburing 2.3's rw_flags),
//   buf_index and file_index must be zero, or the kernel returns -EINVAL.
inline constexpr std::uint32_t futex_wait_flags = FUTEX2_SIZE_U32 | FUTEX2_PRIVATE;

}  // namespace handoff::kernel
