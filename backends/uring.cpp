// The lab's own loop on io_uring (liburing): the loop thread sleeps inside
// io_uring_enter, and workers wake it by writing to an eventfd whose read is
// kept armed in the ring. A result therefore arrives as an ordinary CQE, the
// way every other I/O completion of such a loop would.
#include <dlfcn.h>
#include <liburing.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "completion_inbox.hpp"
#include "handoff/backend.hpp"

namespace handoff {
namespace {

// Room for the operations later work adds (timeouts, cancellation, msg_ring);
// today only the wake read is ever in flight.
constexpr unsigned ring_entries = 64;

// What a CQE's user_data names: one tag per kind of operation this loop issues.
enum class Op : std::uint64_t { wake_read = 1 };

[[noreturn]] void fail(const char* what, int error) {
    throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(error)));
}

class UringLoop final : public Loop {
public:
    explicit UringLoop(const LoopOptions& options) : sink_(*options.sink) {
        // Blocking on purpose: io_uring completes a read of an O_NONBLOCK fd
        // with -EAGAIN instead of arming a poll and waiting for the write.
        wake_fd_ = eventfd(0, EFD_CLOEXEC);
        if (wake_fd_ < 0) fail("eventfd", errno);
        // Only the loop thread ever enters this ring (workers touch the
        // eventfd, not the ring), which is what SINGLE_ISSUER promises; with
        // DEFER_TASKRUN the kernel finishes the wake read only when the loop
        // thread waits for completions, instead of interrupting it (a signal-
        // like task-work notification) while it runs callbacks. Kernels
        // before 6.1 reject the flags with EINVAL: fall back to a plain ring.
        io_uring_params params{};
        params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
        int rc = io_uring_queue_init_params(ring_entries, &ring_, &params);
        if (rc == -EINVAL) {
            params = io_uring_params{};
            rc = io_uring_queue_init_params(ring_entries, &ring_, &params);
        }
        if (rc < 0) {
            close(wake_fd_);
            fail("io_uring_queue_init", -rc);
        }
        setup_flags_ = params.flags;
        try {
            arm_wake_read();
            submit_and_wait(0);
        } catch (...) {
            io_uring_queue_exit(&ring_);
            close(wake_fd_);
            throw;
        }
    }

    ~UringLoop() override {
        // The armed read writes into wake_buf_, which dies with this object:
        // complete it before the ring goes. A write completes it whatever
        // state it is in; a cancel could find it already running (-EALREADY).
        if (wake_armed_) {
            wake();
            try {
                while (wake_armed_) {
                    submit_and_wait(1);
                    reap([this](Op op, int) {
                        if (op == Op::wake_read) wake_armed_ = false;
                    });
                }
            } catch (const std::exception&) {
                // Nothing sane is left to do; closing the ring cancels the read.
            }
        }
        io_uring_queue_exit(&ring_);
        close(wake_fd_);
    }

    void run() override {
        running_ = true;
        while (running_ && !stop_requested_.load(std::memory_order_acquire)) {
            // One system call per turn: submits the re-armed read and sleeps.
            submit_and_wait(1);
            reap([this](Op op, int res) {
                if (op == Op::wake_read) on_wake(res);
            });
        }
    }

    void stop() override { running_ = false; }

    void request_stop() override {
        stop_requested_.store(true, std::memory_order_release);
        wake();
    }

    void complete(Call& call) override {
        inbox_.push(call);
        wake();  // classic: every result writes, whether or not the loop sleeps
    }

    std::string wake_mechanism() const override {
        if (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) {
            return "eventfd read in ring (SINGLE_ISSUER|DEFER_TASKRUN)";
        }
        return "eventfd read in ring";
    }

private:
    void wake() {
        const std::uint64_t one = 1;
        while (write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
        }
    }

    // Queues the wake read; the next submit_and_wait sends it to the kernel.
    void arm_wake_read() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) {
            submit_and_wait(0);  // full submission queue: flush it, then retry
            sqe = io_uring_get_sqe(&ring_);
            if (sqe == nullptr) throw std::runtime_error("io_uring_get_sqe: submission queue full");
        }
        io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
        io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(Op::wake_read));
        wake_armed_ = true;
    }

    // Submits what is queued and, for wait_nr > 0, blocks until a CQE is ready.
    void submit_and_wait(unsigned wait_nr) {
        const int rc = io_uring_submit_and_wait(&ring_, wait_nr);
        // A signal (EINTR), an expired wait (ETIME) or a full completion queue
        // (EBUSY, EAGAIN) all end the same way: reap what is there, then wait again.
        if (rc >= 0 || rc == -EINTR || rc == -ETIME || rc == -EBUSY || rc == -EAGAIN) return;
        fail("io_uring_submit_and_wait", -rc);
    }

    // Handles every ready CQE. Each is marked seen before it is handled, so a
    // handler that throws (or delivers a call that stops the loop) leaves the
    // completion queue consistent.
    template <typename Handler>
    void reap(Handler&& handle) {
        io_uring_cqe* cqe = nullptr;
        while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
            const auto op = static_cast<Op>(io_uring_cqe_get_data64(cqe));
            const int res = cqe->res;
            io_uring_cqe_seen(&ring_, cqe);
            handle(op, res);
        }
    }

    void on_wake(int res) {
        wake_armed_ = false;
        if (res < 0 && res != -EINTR && res != -EAGAIN) fail("io_uring read of the wake eventfd", -res);
        // Re-arm before draining: the eventfd counter holds any write made
        // after the read consumed it, so the new read completes at once and
        // no result pushed after the drain below is missed.
        arm_wake_read();
        deliver_all(inbox_.take_all(), sink_);
    }

    CallSink& sink_;
    io_uring ring_{};
    unsigned setup_flags_ = 0;
    int wake_fd_ = -1;
    std::uint64_t wake_buf_ = 0;  // the kernel writes the eventfd count here
    bool wake_armed_ = false;
    bool running_ = false;
    std::atomic<bool> stop_requested_{false};
    CompletionInbox inbox_;
};

std::unique_ptr<Loop> make_uring_loop(const LoopOptions& options) {
    return std::make_unique<UringLoop>(options);
}

// The first line of a /proc/sys file as an integer, or nullopt if unreadable.
std::optional<long> read_sysctl(const char* path) {
    std::ifstream in(path);
    long value = 0;
    if (in >> value) return value;
    return std::nullopt;
}

// Whether kernel.io_uring_disabled=1 still lets this process in: it admits
// CAP_SYS_ADMIN and members of kernel.io_uring_group.
bool allowed_when_restricted() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("CapEff:", 0) == 0) {
            const unsigned long long caps = std::strtoull(line.c_str() + 7, nullptr, 16);
            if (caps & (1ULL << 21)) return true;  // CAP_SYS_ADMIN
        }
    }
    const auto group = read_sysctl("/proc/sys/kernel/io_uring_group");
    if (!group || *group < 0) return false;
    if (getegid() == static_cast<gid_t>(*group)) return true;
    const int count = getgroups(0, nullptr);
    if (count <= 0) return false;
    std::vector<gid_t> groups(static_cast<std::size_t>(count));
    const int n = getgroups(count, groups.data());
    groups.resize(static_cast<std::size_t>(std::max(n, 0)));
    return std::find(groups.begin(), groups.end(), static_cast<gid_t>(*group)) != groups.end();
}

std::optional<std::string> uring_unavailable_reason() {
    // Older kernels have no such sysctl: then only the attempt below decides.
    const auto disabled = read_sysctl("/proc/sys/kernel/io_uring_disabled");
    if (disabled == 2) return "io_uring disabled by sysctl kernel.io_uring_disabled=2";
    if (disabled == 1 && !allowed_when_restricted()) {
        return "io_uring disabled by sysctl kernel.io_uring_disabled=1 "
               "(not CAP_SYS_ADMIN, not in kernel.io_uring_group)";
    }
    // Seccomp filters and container runtimes refuse io_uring without any
    // sysctl saying so: the only reliable test is to build a ring.
    io_uring ring{};
    const int rc = io_uring_queue_init(2, &ring, 0);
    if (rc < 0) return fmt::format("io_uring_queue_init: {}", std::strerror(-rc));
    std::optional<std::string> reason;
    io_uring_probe* probe = io_uring_get_probe_ring(&ring);
    if (probe == nullptr) {
        reason = "io_uring_get_probe: the kernel has no opcode probe (older than 5.6)";
    } else if (!io_uring_opcode_supported(probe, IORING_OP_READ)) {
        reason = "io_uring does not support IORING_OP_READ (kernel older than 5.6)";
    }
    if (probe != nullptr) io_uring_free_probe(probe);
    io_uring_queue_exit(&ring);
    return reason;
}

// liburing 2.3 has no version call: the version is in the file name of the
// shared object that holds io_uring_queue_init (liburing.so.2.3).
std::string uring_library_version() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&io_uring_queue_init), &info) != 0 && info.dli_fname != nullptr) {
        if (char* resolved = realpath(info.dli_fname, nullptr)) {
            const std::string path = resolved;
            std::free(resolved);
            const std::string marker = "/liburing.so.";
            const auto at = path.rfind(marker);
            if (at != std::string::npos && at + marker.size() < path.size()) {
                return "liburing " + path.substr(at + marker.size());
            }
        }
    }
    return "liburing (version unknown)";
}

}  // namespace

extern const Backend uring_backend = {
    .name = "uring",
    .description = "the lab's own loop: waits in io_uring, woken by an eventfd read kept in the ring",
    .unavailable_reason = uring_unavailable_reason,
    .library_version = uring_library_version,
    .make_loop = make_uring_loop,
};

}  // namespace handoff
