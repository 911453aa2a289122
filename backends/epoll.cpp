// The lab's own loop on epoll: the loop thread sleeps in epoll_wait and
// workers wake it by writing to an eventfd it watches. The classic shape of
// a hand-written Linux event loop (and of asyncio's selector loop with its
// self-pipe, which call_soon_threadsafe writes to).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

#include "handoff/completion_inbox.hpp"
#include "handoff/backend.hpp"
#include "handoff/clocks.hpp"
#include "handoff/loop_gate.hpp"

namespace handoff {
namespace {

[[noreturn]] void fail(const char* what) {
    throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(errno)));
}

class EpollLoop final : public Loop {
public:
    explicit EpollLoop(const LoopOptions& options) : sink_(*options.sink), gate_(options.design) {
        epoll_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_ < 0) fail("epoll_create1");
        wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake_fd_ < 0) {
            close(epoll_);
            fail("eventfd");
        }
        epoll_event watch{};
        watch.events = EPOLLIN;
        watch.data.fd = wake_fd_;
        if (epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_fd_, &watch) != 0) {
            close(wake_fd_);
            close(epoll_);
            fail("epoll_ctl");
        }
    }

    ~EpollLoop() override {
        // Shutdown: results that arrived after the last turn still reach the sink.
        drain();
        close(wake_fd_);
        close(epoll_);
    }

    void run() override {
        running_ = true;
        const auto ready = [this] { return !inbox_.empty() || stop_requested_.load(std::memory_order_relaxed); };
        while (running_ && !stop_requested_.load(std::memory_order_acquire)) {
            // The timer: one clock read per turn, only while a deadline is set.
            if (deadline_ns_ != 0 && monotonic_ns() >= deadline_ns_) {
                fire_deadline();
                continue;
            }
            // A design may poll for results before blocking, and gate the
            // workers' wakes on the loop having published that it sleeps.
            if (!gate_.before_block(ready, peer_cpu_, deadline_ns_)) {
                drain();
                continue;
            }
            inbox_.before_sleep(deadline_ns_);
            epoll_event events[8];
            int n;
            if (deadline_ns_ == 0) {
                n = epoll_wait(epoll_, events, 8, -1);
            } else {
                // epoll_pwait2 (Linux 5.11): a nanosecond timeout, where
                // epoll_wait's is in milliseconds.
                const std::int64_t ns = std::max<std::int64_t>(0, deadline_ns_ - monotonic_ns());
                const timespec left{time_t(ns / 1'000'000'000), long(ns % 1'000'000'000)};
                n = epoll_pwait2(epoll_, events, 8, &left, nullptr);
            }
            gate_.after_block();
            if (n < 0) {
                if (errno == EINTR) continue;
                fail(deadline_ns_ == 0 ? "epoll_wait" : "epoll_pwait2");
            }
            for (int i = 0; i < n; ++i) {
                if (events[i].data.fd == wake_fd_) on_wake();
            }
        }
    }

    void stop() override { running_ = false; }

    void request_stop() override {
        stop_requested_.store(true, std::memory_order_release);
        wake();
    }

    void complete(Call& call) override {
        inbox_.push(call);
        wake_for_poller();
    }

    // Classic: every result writes. Gated: only while the loop sleeps.
    void wake_for_poller() override {
        if (gate_.should_wake()) wake();
    }

    void set_deadline(std::int64_t deadline_ns) override { deadline_ns_ = deadline_ns; }

    void set_poller(CompletionPoller* poller) override { inbox_.attach(poller); }

    std::string wake_mechanism() const override { return gate_.gated() ? "eventfd, gated" : "eventfd"; }

private:
    void fire_deadline() {
        deadline_ns_ = 0;  // before the call: the sink may set the next one
        sink_.on_deadline();
    }

    void wake() {
        const std::uint64_t one = 1;
        // EAGAIN means the counter is saturated: the loop is already due to wake.
        while (write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
        }
    }

    void on_wake() {
        std::uint64_t count;
        // Reset the counter before draining: a write after this read makes the
        // fd readable again, so no result pushed after the drain is missed.
        while (read(wake_fd_, &count, sizeof count) < 0 && errno == EINTR) {
        }
        drain();
    }

    void drain() {
        if (const int cpu = deliver_all(inbox_.take_all(), sink_); cpu >= 0) peer_cpu_ = cpu;
    }

    CallSink& sink_;
    int epoll_ = -1;
    int wake_fd_ = -1;
    bool running_ = false;
    std::atomic<bool> stop_requested_{false};
    CompletionInbox inbox_;
    LoopGate gate_;
    int peer_cpu_ = -1;  // where the worker last ran: adaptive spinning needs it
    std::int64_t deadline_ns_ = 0;  // set_deadline's, 0 for none (loop thread only)
};

std::unique_ptr<Loop> make_epoll_loop(const LoopOptions& options) { return std::make_unique<EpollLoop>(options); }

}  // namespace

extern const Backend epoll_backend = {
    .name = "epoll",
    .description = "the lab's own loop: epoll_wait, woken through an eventfd",
    .unavailable_reason = [] { return std::optional<std::string>(); },
    .library_version = [] { return std::string(); },
    .make_loop = make_epoll_loop,
    .capabilities = {.sleep_hooks = true},
};

}  // namespace handoff
