// The lab's own loop on io_uring (liburing). The loop thread sleeps inside
// io_uring_enter, and a finished call reaches it as an ordinary CQE, the way
// every other I/O completion of such a loop would. How a worker makes that
// CQE is the design's `ring` axis:
//
//   eventfd   the worker writes an eventfd whose read is kept armed in the ring
//   msg-ring  the worker sends IORING_OP_MSG_RING from a small ring of its own
//   futex     the worker bumps a futex word and FUTEX_WAKEs it; the ring keeps
//             an IORING_OP_FUTEX_WAIT armed on that word (Linux 6.7+)
//
// and the rest of the loop's side of a design works as in epoll.cpp (LoopGate):
// wake=gated makes that wake only while the loop has published that it
// sleeps, and loop-spin polls for results before the loop enters the kernel.
#include <dlfcn.h>
#include <liburing.h>
#include <linux/futex.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
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

#include "handoff/completion_inbox.hpp"
#include "handoff/backend.hpp"
#include "handoff/clocks.hpp"
#include "uring_kernel_compat.hpp"
#include "handoff/loop_gate.hpp"

namespace handoff {
namespace {

// At most two operations are ever in flight (the wake read, the futex wait);
// the room is for what later work adds (timeouts, cancellation).
constexpr unsigned ring_entries = 64;

// What a CQE's user_data names: one tag per kind of operation this loop issues
// (or, for messages, receives).
enum class Op : std::uint64_t { wake_read = 1, message = 2, futex_wait = 3 };

[[noreturn]] void fail(const char* what, int error) {
    throw std::runtime_error(fmt::format("{}: {}", what, std::strerror(error)));
}

// A small ring owned by one completing thread, for ring=msg-ring: a message
// is sent from a ring, and giving every completing thread its own keeps the
// send free of locks (and lets the ring promise SINGLE_ISSUER). It is made on
// the thread's first message — the runner's warm-up calls make that happen
// outside the measured interval — and closed when the thread exits.
//
// It names no loop: each send takes the target ring's fd from the live loop
// whose complete() is running. A loop's complete() is never called after the
// loop is destroyed, so a send never names a closed ring; if a new loop's
// ring reuses the fd number, the message goes to that loop, which is the one
// calling. The kernel takes its own reference to the target when the message
// is submitted, so even a message still in flight while the loop closes its
// ring touches no freed memory.
class MessageSender {
public:
    MessageSender() {
        io_uring_params params{};
        params.flags = IORING_SETUP_SINGLE_ISSUER;  // only this thread submits (6.0+)
        int rc = io_uring_queue_init_params(entries, &ring_, &params);
        if (rc == -EINVAL) {
            params = io_uring_params{};
            rc = io_uring_queue_init_params(entries, &ring_, &params);
        }
        if (rc < 0) fail("io_uring_queue_init (the completing thread's ring for ring=msg-ring)", -rc);
        // Best effort: a registered ring fd spares io_uring_enter a file
        // lookup on every send. Valid for this thread only, which is the point.
        (void)io_uring_register_ring_fd(&ring_);
    }

    ~MessageSender() { io_uring_queue_exit(&ring_); }

    MessageSender(const MessageSender&) = delete;
    MessageSender& operator=(const MessageSender&) = delete;

    // One io_uring_enter: posts a CQE tagged `tag` (res 0) in the ring `target_fd`.
    void send(int target_fd, Op tag) {
        // Never null: every send is submitted before the next one is queued.
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        io_uring_prep_msg_ring(sqe, target_fd, 0, static_cast<std::uint64_t>(tag), 0);
        // No CQE here when it succeeds, so there is nothing to reap per send;
        // a failure still posts one, checked below.
        sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
        int rc;
        while ((rc = io_uring_submit(&ring_)) == -EINTR) {
        }
        if (rc < 0) fail("io_uring_submit (IORING_OP_MSG_RING to the loop's ring)", -rc);
        // Reads shared memory only: no system call unless the kernel flagged work.
        io_uring_cqe* cqe = nullptr;
        if (io_uring_peek_cqe(&ring_, &cqe) == 0) {
            const int res = cqe->res;
            io_uring_cqe_seen(&ring_, cqe);
            if (res < 0) fail("IORING_OP_MSG_RING to the loop's ring", -res);
        }
    }

private:
    static constexpr unsigned entries = 4;
    io_uring ring_{};
};

MessageSender& this_threads_sender() {
    // Made on first use (a throw leaves it unmade: the next send retries);
    // destroyed at thread exit, on this thread.
    thread_local MessageSender sender;
    return sender;
}

class UringLoop final : public Loop {
public:
    explicit UringLoop(const LoopOptions& options)
        : sink_(*options.sink),
          ring_kind_(options.design != nullptr ? options.design->ring : Design::Ring::eventfd),
          gate_(options.design) {
        // Blocking on purpose: io_uring completes a read of an O_NONBLOCK fd
        // with -EAGAIN instead of arming a poll and waiting for the write.
        // Kept in every variant: request_stop() writes it (from any thread,
        // with no ring of its own), whatever wakes the loop for results.
        wake_fd_ = eventfd(0, EFD_CLOEXEC);
        if (wake_fd_ < 0) fail("eventfd", errno);
        try {
            init_ring(options.window);
        } catch (...) {
            close(wake_fd_);
            throw;
        }
        try {
            require_ring_op();
            arm_wake_read();
            if (ring_kind_ == Design::Ring::futex) arm_futex_wait();
            submit_and_wait(0);
        } catch (...) {
            io_uring_queue_exit(&ring_);
            close(wake_fd_);
            throw;
        }
    }

    ~UringLoop() override {
        // The armed read writes into wake_buf_ and the futex wait is queued on
        // word_, both of which die with this object: complete them before the
        // ring goes. A write (a bump of the word) completes each whatever
        // state it is in; a cancel could find it already running (-EALREADY).
        // Shutdown first: results that arrived after the last turn still
        // reach the sink.
        drain();
        closing_ = true;
        if (read_armed_) write_wake_fd();
        if (futex_armed_) wake_futex();
        try {
            while (read_armed_ || futex_armed_) {
                submit_and_wait(1);
                reap();
            }
        } catch (const std::exception&) {
            // Nothing sane is left to do; closing the ring cancels the rest.
        }
        io_uring_queue_exit(&ring_);
        close(wake_fd_);
    }

    void run() override {
        running_ = true;
        // The stop flag is part of `ready`: request_stop() must end a spin too.
        const auto ready = [this] { return !inbox_.empty() || stop_requested_.load(std::memory_order_relaxed); };
        while (running_ && !stop_requested_.load(std::memory_order_acquire)) {
            // The timer: one clock read per turn, only while a deadline is set.
            if (deadline_ns_ != 0 && monotonic_ns() >= deadline_ns_) {
                deadline_ns_ = 0;  // before the call: the sink may set the next one
                sink_.on_deadline();
                continue;
            }
            if (gate_.before_block(ready, peer_cpu_, deadline_ns_)) {
                inbox_.before_sleep(deadline_ns_);
                // One system call per sleep: submits the re-armed wake and
                // waits (with a deadline: for at most what is left of it).
                if (deadline_ns_ != 0) {
                    submit_and_wait_until(deadline_ns_);
                } else {
                    submit_and_wait(1);
                }
                gate_.after_block();
            }
            // Reap before draining: a wake consumed here is for results the
            // drain below takes, and the wake re-armed here (submitted when the
            // loop next sleeps, after the gate's last look at the inbox) fires
            // for any result pushed later. When the loop did not block, this
            // reads shared memory only, unless the kernel flagged completions
            // to flush (IORING_SQ_TASKRUN): then one io_uring_enter collects
            // them (msg-ring's messages, which would otherwise pile up in the
            // kernel while the loop spins).
            reap();
            drain();
        }
    }

    void stop() override { running_ = false; }

    void request_stop() override {
        stop_requested_.store(true, std::memory_order_release);
        write_wake_fd();
    }

    void complete(Call& call) override {
        inbox_.push(call);
        wake_for_poller();
    }

    void wake_for_poller() override {
        // Always: every result wakes. Gated: only while the loop sleeps.
        if (!gate_.should_wake()) return;
        switch (ring_kind_) {
            case Design::Ring::eventfd: write_wake_fd(); break;
            case Design::Ring::msg_ring: this_threads_sender().send(ring_fd_, Op::message); break;
            case Design::Ring::futex: wake_futex(); break;
        }
    }

    void set_deadline(std::int64_t deadline_ns) override { deadline_ns_ = deadline_ns; }

    void set_poller(CompletionPoller* poller) override { inbox_.attach(poller); }

    std::string wake_mechanism() const override {
        std::string text;
        switch (ring_kind_) {
            case Design::Ring::eventfd: text = "eventfd read in ring"; break;
            case Design::Ring::msg_ring: text = "msg-ring"; break;
            case Design::Ring::futex: text = "futex wait in ring"; break;
        }
        if (gate_.gated()) text += ", gated";
        if (setup_flags_ & IORING_SETUP_DEFER_TASKRUN) text += " (SINGLE_ISSUER|DEFER_TASKRUN)";
        return text;
    }

private:
    void init_ring(std::uint32_t window) {
        // Only the loop thread ever enters this ring (workers write an eventfd,
        // bump a futex word or message it from their own rings), which is what
        // SINGLE_ISSUER promises; with DEFER_TASKRUN the kernel finishes the
        // wake only when the loop thread waits for completions, instead of
        // interrupting it (a signal-like task-work notification) while it runs
        // callbacks. TASKRUN_FLAG makes the kernel say in shared memory when
        // such work waits, so a loop that polls without blocking learns it
        // cheaply (liburing's peek then enters the kernel to flush it).
        // Kernels before 6.1 reject the flags with EINVAL: fall back.
        const unsigned preferred[] = {
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_TASKRUN_FLAG,
            IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
            0,
        };
        int rc = -EINVAL;
        io_uring_params params{};
        for (const unsigned flags : preferred) {
            params = io_uring_params{};
            params.flags = flags;
            if (ring_kind_ == Design::Ring::msg_ring) {
                // Every result may send a message (wake=always): room for a
                // whole window of them, so a busy loop does not overflow its
                // completion queue (the kernel would cope, by allocating).
                params.flags |= IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP;
                params.cq_entries = std::max<unsigned>(2 * ring_entries, std::min<std::uint32_t>(window, 1u << 16) + 16);
            }
            rc = io_uring_queue_init_params(ring_entries, &ring_, &params);
            if (rc != -EINVAL) break;
        }
        if (rc < 0) fail("io_uring_queue_init", -rc);
        setup_flags_ = params.flags;
        ring_fd_ = ring_.ring_fd;
    }

    // A ring variant the kernel cannot do is a configuration that cannot be
    // built, not an error: its row says why.
    void require_ring_op() {
        if (ring_kind_ == Design::Ring::eventfd) return;
        const bool futex = ring_kind_ == Design::Ring::futex;
        const int op = futex ? kernel::ioring_op_futex_wait : IORING_OP_MSG_RING;
        io_uring_probe* probe = io_uring_get_probe_ring(&ring_);
        // io_uring_opcode_supported also answers "no" for an opcode beyond the
        // kernel's last (probe->last_op), which is how an old kernel says it.
        const bool supported = probe != nullptr && io_uring_opcode_supported(probe, op);
        if (probe != nullptr) io_uring_free_probe(probe);
        if (supported) return;
        throw Unsupported(futex ? "ring=futex needs IORING_OP_FUTEX_WAIT (Linux 6.7+)"
                                : "ring=msg-ring needs IORING_OP_MSG_RING (Linux 5.18+)");
    }

    void write_wake_fd() {
        const std::uint64_t one = 1;
        while (write(wake_fd_, &one, sizeof one) < 0 && errno == EINTR) {
        }
    }

    std::uint32_t* futex_word() noexcept { return reinterpret_cast<std::uint32_t*>(&word_); }

    // Any thread. The bump makes a wait armed with the old value fail at once
    // (-EAGAIN) if it is not queued yet; the wake completes it if it is.
    void wake_futex() {
        // Release pairs with the acquire in arm_futex_wait(): a loop that reads
        // the bumped value also sees the result pushed before it.
        word_.fetch_add(1, std::memory_order_release);
        syscall(SYS_futex, futex_word(), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
    }

    io_uring_sqe* next_sqe() {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        if (sqe == nullptr) {
            submit_and_wait(0);  // full submission queue: flush it, then retry
            sqe = io_uring_get_sqe(&ring_);
            if (sqe == nullptr) throw std::runtime_error("io_uring_get_sqe: submission queue full");
        }
        return sqe;
    }

    // Queues the wake read; the next submit_and_wait sends it to the kernel.
    void arm_wake_read() {
        io_uring_sqe* sqe = next_sqe();
        io_uring_prep_read(sqe, wake_fd_, &wake_buf_, sizeof wake_buf_, 0);
        io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(Op::wake_read));
        read_armed_ = true;
    }

    // Queues a futex wait on word_ for the value it has now. liburing 2.3 has
    // no io_uring_prep_futex_wait: the SQE is filled as io_uring/futex.c reads
    // it (see kernel_compat.hpp); prep_rw zeroes every other field.
    void arm_futex_wait() {
        const std::uint32_t expected = word_.load(std::memory_order_acquire);
        io_uring_sqe* sqe = next_sqe();
        io_uring_prep_rw(kernel::ioring_op_futex_wait, sqe, static_cast<int>(kernel::futex_wait_flags),
                         futex_word(), 0, expected);
        sqe->addr3 = FUTEX_BITSET_MATCH_ANY;
        io_uring_sqe_set_data64(sqe, static_cast<std::uint64_t>(Op::futex_wait));
        futex_armed_ = true;
    }

    // Submits what is queued and, for wait_nr > 0, blocks until a CQE is ready.
    void submit_and_wait(unsigned wait_nr) {
        const int rc = io_uring_submit_and_wait(&ring_, wait_nr);
        // A signal (EINTR), an expired wait (ETIME) or a full completion queue
        // (EBUSY, EAGAIN) all end the same way: reap what is there, then wait again.
        if (rc >= 0 || rc == -EINTR || rc == -ETIME || rc == -EBUSY || rc == -EAGAIN) return;
        fail("io_uring_submit_and_wait", -rc);
    }

    // The same, waiting at most until `deadline_ns` (CLOCK_MONOTONIC): one
    // io_uring_enter with a timeout argument (IORING_FEAT_EXT_ARG, 5.11+;
    // older kernels get liburing's internal timeout SQE instead).
    void submit_and_wait_until(std::int64_t deadline_ns) {
        const std::int64_t ns = std::max<std::int64_t>(0, deadline_ns - monotonic_ns());
        __kernel_timespec left{ns / 1'000'000'000, ns % 1'000'000'000};
        io_uring_cqe* cqe = nullptr;
        const int rc = io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &left, nullptr);
        if (rc >= 0 || rc == -EINTR || rc == -ETIME || rc == -EBUSY || rc == -EAGAIN) return;
        fail("io_uring_submit_and_wait_timeout", -rc);
    }

    // Handles every ready CQE. Each is marked seen before it is handled, so a
    // handler that throws leaves the completion queue consistent.
    void reap() {
        io_uring_cqe* cqe = nullptr;
        while (io_uring_peek_cqe(&ring_, &cqe) == 0) {
            const auto op = static_cast<Op>(io_uring_cqe_get_data64(cqe));
            const int res = cqe->res;
            io_uring_cqe_seen(&ring_, cqe);
            on_cqe(op, res);
        }
    }

    // Re-arms a wake that fired (unless closing). The new read finds any
    // write made after the old one consumed the counter; the new futex wait
    // expects the word's current value, so any later bump completes it.
    void on_cqe(Op op, int res) {
        switch (op) {
            case Op::wake_read:
                read_armed_ = false;
                if (res < 0 && res != -EINTR && res != -EAGAIN && res != -ECANCELED) {
                    fail("io_uring read of the wake eventfd", -res);
                }
                if (!closing_) arm_wake_read();
                break;
            case Op::futex_wait:
                futex_armed_ = false;
                // 0: woken; -EAGAIN: the word moved before the wait was queued.
                if (res < 0 && res != -EAGAIN && res != -EINTR && res != -ECANCELED) {
                    fail("io_uring futex wait", -res);
                }
                if (!closing_) arm_futex_wait();
                break;
            case Op::message:  // res is the 0 the sender put there: nothing to re-arm
                break;
        }
    }

    void drain() {
        if (const int cpu = deliver_all(inbox_.take_all(), sink_); cpu >= 0) peer_cpu_ = cpu;
    }

    CallSink& sink_;
    const Design::Ring ring_kind_;
    io_uring ring_{};  // the loop thread's alone
    int ring_fd_ = -1;  // what msg-ring senders target: set once, before any worker runs
    unsigned setup_flags_ = 0;
    int wake_fd_ = -1;
    std::uint64_t wake_buf_ = 0;  // the kernel writes the eventfd count here
    bool read_armed_ = false;
    bool futex_armed_ = false;
    bool closing_ = false;
    bool running_ = false;
    int peer_cpu_ = -1;  // where the worker last ran: adaptive spinning needs it
    std::int64_t deadline_ns_ = 0;  // set_deadline's, 0 for none (loop thread only)
    std::atomic<bool> stop_requested_{false};
    CompletionInbox inbox_;
    LoopGate gate_;
    // ring=futex: bumped by a worker for each wake; its own cache line, as
    // workers write it while the loop reads its neighbours.
    alignas(64) std::atomic<std::uint32_t> word_{0};
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t) &&
                      std::atomic<std::uint32_t>::is_always_lock_free,
                  "a futex word must be a plain 32-bit word");
};

std::unique_ptr<Loop> make_uring_loop(const LoopOptions& options) { return std::make_unique<UringLoop>(options); }

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
    .description = "the lab's own loop: waits in io_uring, woken by an eventfd read kept in the ring (or ring=msg-ring, ring=futex)",
    .unavailable_reason = uring_unavailable_reason,
    .library_version = uring_library_version,
    .make_loop = make_uring_loop,
    .capabilities = {.ring_wakes = true, .sleep_hooks = true},
};

}  // namespace handoff
