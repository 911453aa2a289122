// SIGINT and SIGTERM end a run early but cleanly: the first asks the running
// repetition to stop at the next call boundary and the results so far to be
// reported; a second SIGINT or SIGTERM ends the process at once.
#pragma once

#include <atomic>

namespace handoff {

// Call once from main() before any other thread exists: blocks SIGINT and
// SIGTERM in this thread (so every thread made later inherits the block and
// no loop's wait is ever interrupted by them) and starts one thread that
// waits for them with sigwait(). Idempotent.
void catch_interrupts();

// True once SIGINT or SIGTERM arrived.
const std::atomic<bool>& interrupt_requested();

// The first signal that arrived: 0, SIGINT or SIGTERM.
int interrupt_signal();

// "SIGINT", "SIGTERM", "" for 0.
const char* signal_name(int signal);

}  // namespace handoff
