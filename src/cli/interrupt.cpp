#include "cli/interrupt.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <mutex>
#include <thread>

namespace handoff {
namespace {

std::atomic<bool> requested{false};
std::atomic<int> first_signal{0};

// A thread that takes the signals synchronously: no handler runs inside a
// loop's epoll_wait or io_uring wait, so none of them sees EINTR, and the
// reaction needs no async-signal-safety beyond _exit.
void wait_for_signals(sigset_t set) {
    for (;;) {
        int signal = 0;
        if (sigwait(&set, &signal) != 0) continue;
        if (requested.load()) _exit(128 + signal);  // the second: leave now
        first_signal.store(signal);  // before `requested`: whoever sees it set sees which
        requested.store(true);
    }
}

}  // namespace

void catch_interrupts() {
    static std::once_flag once;
    std::call_once(once, [] {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, nullptr);
        std::thread(wait_for_signals, set).detach();
    });
}

const std::atomic<bool>& interrupt_requested() { return requested; }

int interrupt_signal() { return first_signal.load(); }

const char* signal_name(int signal) {
    switch (signal) {
        case SIGINT: return "SIGINT";
        case SIGTERM: return "SIGTERM";
        default: return "";
    }
}

}  // namespace handoff
