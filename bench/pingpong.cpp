// pingpong — the minimal round trip between two threads, per wake-up mechanism.
//
// Thread A sends a number to thread B over one channel; B sends it back over
// another; A waits for it. That is all: no queue, no call object, no event
// loop. It is the yardstick for the lab's dedicated-worker designs ("each
// blocking design within 1.1x a minimal standalone ping-pong of the same
// mechanism at the same placement"), so it stays small, standalone (only
// include/handoff/cpu_relax.hpp from the lab) and readable on its own. See README.rst.
//
//   pingpong [--mech NAME|all] [--count N] [--placement same|split|free] [--repeat R]
//            [--loop-side mirror|epoll]
//
// Mechanisms (the same one in both directions):
//   spin           both sides spin on an atomic word (one cache line per direction)
//   futex          FUTEX_WAIT / FUTEX_WAKE, gated: the receiver publishes that it
//                  sleeps, and the sender makes the wake syscall only then
//   futex-always   FUTEX_WAKE on every send, whether anyone sleeps or not
//   condvar        std::mutex + std::condition_variable
//   eventfd        blocking read(2) / write(2) on an eventfd
//   spin-park:DUR  spin for DUR (250ns, 2us, ...), then park as `futex` does
//
// --loop-side epoll: A (the lab's loop) receives replies as the lab's epoll
// loop does instead — spin for the mechanism's budget, then epoll_wait on an
// eventfd that B writes (gated: only while A has published that it sleeps;
// condvar's lab design, classic, writes on every result), then read(2) it.
// The lab's designs on the epoll backend are that mix, so that is their
// yardstick; B keeps the mechanism's own wait.
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "handoff/cpu_relax.hpp"

namespace {

[[noreturn]] void die(const std::string& message, int status = 1) {
    std::fprintf(stderr, "pingpong: %s\n", message.c_str());
    std::exit(status);
}

std::int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

constexpr std::uint32_t quit = 0xffffffff;  // B's signal to stop; values sent are 1, 2, 3, ...

// ---- Channels: one sender, one receiver, one value in flight. -------------
// send(v) publishes v; receive(last) waits for a value other than `last`.

// Spin: the receiver reads the word until it changes.
struct SpinChannel {
    alignas(64) std::atomic<std::uint32_t> word{0};  // alone on its cache line

    void send(std::uint32_t v) { word.store(v, std::memory_order_release); }
    std::uint32_t receive(std::uint32_t last) {
        std::uint32_t v;
        while ((v = word.load(std::memory_order_acquire)) == last) handoff::cpu_relax();
        return v;
    }
};

long futex(std::atomic<std::uint32_t>& word, int op, std::uint32_t value) {
    // std::atomic<uint32_t> is a lock-free uint32_t: the kernel sees the word itself.
    return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), op, value, nullptr, nullptr, 0);
}

// Waits up to `spin_ns` (0: just one look) for `word` to hold something other
// than `last`; true with it in `v`. The clock is read every 64 spins only: a
// read costs about as much as the cache-line transfer being waited for.
bool spin_for_change(const std::atomic<std::uint32_t>& word, std::uint32_t last, std::int64_t spin_ns,
                     std::uint32_t& v) {
    if ((v = word.load(std::memory_order_acquire)) != last) return true;
    if (spin_ns <= 0) return false;
    const std::int64_t deadline = now_ns() + spin_ns;
    do {
        for (int i = 0; i < 64; ++i) {
            if ((v = word.load(std::memory_order_acquire)) != last) return true;
            handoff::cpu_relax();
        }
    } while (now_ns() < deadline);
    return false;
}

// The receiving half of a gated channel: spin for `spin_ns`, then publish
// `sleeping` before a last look at the word and `sleep()` (which may return
// early: the loop looks again). The sender stores the word, then looks at
// `sleeping` (seq_cst both sides), so a wake is never lost.
template <class Sleep>
std::uint32_t gated_receive(const std::atomic<std::uint32_t>& word, std::atomic<std::uint32_t>& sleeping,
                            std::uint32_t last, std::int64_t spin_ns, Sleep&& sleep) {
    std::uint32_t v;
    if (spin_for_change(word, last, spin_ns, v)) return v;
    for (;;) {
        sleeping.store(1, std::memory_order_seq_cst);
        if ((v = word.load(std::memory_order_seq_cst)) != last) break;
        sleep();
        if ((v = word.load(std::memory_order_acquire)) != last) break;
    }
    sleeping.store(0, std::memory_order_relaxed);  // a stale 1 costs one spare wake, no more
    return v;
}

// Futex, gated: the receiver sets `sleeping` before its last look at the word
// and FUTEX_WAIT; the sender stores the word, then looks at `sleeping`. Both
// sides store then load with seq_cst, so at least one sees the other: either
// the receiver sees the new value and does not sleep, or the sender sees it
// sleeping and wakes it (a wake that lands before FUTEX_WAIT makes the wait
// return at once, since the word no longer holds `last`).
struct FutexChannel {
    alignas(64) std::atomic<std::uint32_t> word{0};
    std::atomic<std::uint32_t> sleeping{0};  // same line: the sender reads both
    std::int64_t spin_ns = 0;                // spin-park: spin this long first

    void send(std::uint32_t v) {
        word.store(v, std::memory_order_seq_cst);
        if (sleeping.load(std::memory_order_seq_cst) != 0) futex(word, FUTEX_WAKE_PRIVATE, 1);
    }
    std::uint32_t receive(std::uint32_t last) {
        // FUTEX_WAIT returns at once if the word no longer holds `last`.
        return gated_receive(word, sleeping, last, spin_ns, [&] { futex(word, FUTEX_WAIT_PRIVATE, last); });
    }
};

// Futex, always: a FUTEX_WAKE system call on every send.
struct FutexAlwaysChannel {
    alignas(64) std::atomic<std::uint32_t> word{0};

    void send(std::uint32_t v) {
        word.store(v, std::memory_order_release);
        futex(word, FUTEX_WAKE_PRIVATE, 1);
    }
    std::uint32_t receive(std::uint32_t last) {
        std::uint32_t v;
        while ((v = word.load(std::memory_order_acquire)) == last) futex(word, FUTEX_WAIT_PRIVATE, last);
        return v;
    }
};

// Condition variable: set the value under the mutex, notify after unlocking
// (so the woken receiver does not block at once on the mutex still held).
struct CondvarChannel {
    std::mutex mutex;
    std::condition_variable changed;
    std::uint32_t value = 0;

    void send(std::uint32_t v) {
        {
            std::lock_guard lock(mutex);
            value = v;
        }
        changed.notify_one();
    }
    std::uint32_t receive(std::uint32_t last) {
        std::unique_lock lock(mutex);
        changed.wait(lock, [&] { return value != last; });
        return value;
    }
};

// Eventfd: the value travels in a word beside it; the eventfd counter only
// wakes (read(2) blocks while it is zero and resets it to zero).
struct EventfdChannel {
    int fd = eventfd(0, EFD_CLOEXEC);
    alignas(64) std::atomic<std::uint32_t> value{0};

    EventfdChannel() {
        if (fd < 0) die(std::string("eventfd: ") + std::strerror(errno));
    }
    ~EventfdChannel() { close(fd); }
    EventfdChannel(const EventfdChannel&) = delete;
    EventfdChannel& operator=(const EventfdChannel&) = delete;

    void send(std::uint32_t v) {
        value.store(v, std::memory_order_release);
        const std::uint64_t one = 1;
        if (write(fd, &one, sizeof one) != sizeof one) die(std::string("eventfd write: ") + std::strerror(errno));
    }
    std::uint32_t receive(std::uint32_t last) {
        std::uint64_t count = 0;
        ssize_t n;
        while ((n = read(fd, &count, sizeof count)) < 0 && errno == EINTR) {}
        if (n != sizeof count) die(std::string("eventfd read: ") + std::strerror(errno));
        const std::uint32_t v = value.load(std::memory_order_acquire);
        if (count != 1 || v == last) die("eventfd: woken without exactly one new value");
        return v;
    }
};

// Epoll, the lab's loop side: the value in a word, the wake through an
// eventfd watched by epoll, gated like FutexChannel (or not: `gated`).
struct EpollChannel {
    int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int epfd = epoll_create1(EPOLL_CLOEXEC);
    alignas(64) std::atomic<std::uint32_t> word{0};
    std::atomic<std::uint32_t> sleeping{0};  // same line: the sender reads both
    std::int64_t spin_ns = 0;
    bool gated = true;

    EpollChannel() {
        if (efd < 0 || epfd < 0) die(std::string("eventfd/epoll_create1: ") + std::strerror(errno));
        epoll_event watch{};
        watch.events = EPOLLIN;
        if (epoll_ctl(epfd, EPOLL_CTL_ADD, efd, &watch) != 0) die(std::string("epoll_ctl: ") + std::strerror(errno));
    }
    ~EpollChannel() {
        close(epfd);
        close(efd);
    }
    EpollChannel(const EpollChannel&) = delete;
    EpollChannel& operator=(const EpollChannel&) = delete;

    void send(std::uint32_t v) {
        word.store(v, std::memory_order_seq_cst);
        if (gated && sleeping.load(std::memory_order_seq_cst) == 0) return;
        const std::uint64_t one = 1;
        // EAGAIN: the counter is saturated, a wake is pending anyway.
        if (write(efd, &one, sizeof one) < 0 && errno != EAGAIN) die(std::string("eventfd write: ") + std::strerror(errno));
    }
    std::uint32_t receive(std::uint32_t last) {
        return gated_receive(word, sleeping, last, spin_ns, [&] {
            epoll_event event{};
            if (epoll_wait(epfd, &event, 1, -1) < 0 && errno != EINTR) die(std::string("epoll_wait: ") + std::strerror(errno));
            std::uint64_t count = 0;
            if (read(efd, &count, sizeof count) < 0 && errno != EAGAIN) die(std::string("eventfd read: ") + std::strerror(errno));
        });
    }
};

// ---- One run: two fresh threads, warm-up, measured trips. ----------------

struct Placement {
    const char* name;
    int cpu_a, cpu_b;  // -1: not pinned
};

void pin(int cpu) {
    if (cpu < 0) return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set); rc != 0) {
        die("cannot pin a thread to CPU " + std::to_string(cpu) + ": " + std::strerror(rc), 2);
    }
}

struct Run {
    std::uint64_t trips = 0;  // measured trips done (fewer than asked if the time limit hit)
    double ns_per_trip = 0;
};

constexpr double time_limit_s = 10;  // per run: stops a run that cannot finish (spin, free)

template <typename Request, typename Reply>
Run run_once(Request& request, Reply& reply, const Placement& at, std::uint64_t warmup,
             std::uint64_t count) {
    std::thread b([&] {  // echoes every value back
        pin(at.cpu_b);
        for (std::uint32_t last = 0;;) {
            const std::uint32_t v = request.receive(last);
            if (v == quit) return;
            reply.send(v);
            last = v;
        }
    });
    Run run;
    std::thread a([&] {
        pin(at.cpu_a);
        std::uint32_t k = 0;
        auto trip = [&] {
            ++k;
            request.send(k);
            if (const std::uint32_t got = reply.receive(k - 1); got != k) {
                die("reply " + std::to_string(got) + " to " + std::to_string(k));
            }
        };
        for (std::uint64_t i = 0; i < warmup; ++i) trip();
        const std::int64_t start = now_ns();
        const auto limit = std::int64_t(time_limit_s * 1e9);
        std::uint64_t done = 0;
        while (done < count) {
            trip();
            // One clock read per 256 trips: negligible, and bounds the run.
            if ((++done & 255) == 0 && now_ns() - start > limit) break;
        }
        run.trips = done;
        run.ns_per_trip = double(now_ns() - start) / double(done);
        request.send(quit);
    });
    a.join();
    b.join();
    return run;
}

// `epoll_loop`: replies reach A through an EpollChannel (--loop-side epoll),
// gated unless `always`, spinning first for the mechanism's own budget.
template <typename Channel>
Run run_fresh(const Placement& at, std::uint64_t warmup, std::uint64_t count, std::int64_t spin_ns = 0,
              bool epoll_loop = false, bool always = false) {
    Channel request;
    if constexpr (requires { request.spin_ns; }) request.spin_ns = spin_ns;
    if (epoll_loop) {
        EpollChannel reply;
        reply.spin_ns = spin_ns;
        reply.gated = !always;
        return run_once(request, reply, at, warmup, count);
    }
    Channel reply;
    if constexpr (requires { reply.spin_ns; }) reply.spin_ns = spin_ns;
    return run_once(request, reply, at, warmup, count);
}

// ---- Command line --------------------------------------------------------

std::int64_t parse_duration_ns(const std::string& text) {
    char* end = nullptr;
    const double number = std::strtod(text.c_str(), &end);
    const std::string unit = end;
    double scale = 0;
    if (unit == "ns") scale = 1;
    else if (unit == "us") scale = 1e3;
    else if (unit == "ms") scale = 1e6;
    else if (unit == "s") scale = 1e9;
    if (end == text.c_str() || scale == 0 || !(number >= 0) || number * scale > 1e9) {
        die("'" + text + "' is not a duration: a number and ns, us, ms or s (at most 1 s)", 2);
    }
    return std::int64_t(number * scale);
}

Run run_mechanism(const std::string& mech, const Placement& at, std::uint64_t warmup,
                  std::uint64_t count, bool epoll_loop) {
    // The lab's spin design never blocks its loop: spin both ways, always.
    if (mech == "spin") return run_fresh<SpinChannel>(at, warmup, count);
    if (mech == "futex") return run_fresh<FutexChannel>(at, warmup, count, 0, epoll_loop);
    if (mech == "futex-always") return run_fresh<FutexAlwaysChannel>(at, warmup, count, 0, epoll_loop, true);
    if (mech == "condvar") return run_fresh<CondvarChannel>(at, warmup, count, 0, epoll_loop, true);
    if (mech == "eventfd") return run_fresh<EventfdChannel>(at, warmup, count, 0, epoll_loop);
    if (mech.rfind("spin-park:", 0) == 0) {
        return run_fresh<FutexChannel>(at, warmup, count, parse_duration_ns(mech.substr(10)), epoll_loop);
    }
    die("unknown mechanism '" + mech +
            "': spin, futex, futex-always, condvar, eventfd, spin-park:DUR or all",
        2);
}

void usage(int status) {
    std::printf(
        "usage: pingpong [--mech NAME|all] [--count N] [--placement same|split|free] [--repeat R]\n"
        "                [--loop-side mirror|epoll]\n"
        "  --mech       spin, futex, futex-always, condvar, eventfd, spin-park:DUR, all (default)\n"
        "  --count      measured round trips per run (default 20000; warm-up: a tenth, at most 2000)\n"
        "  --placement  same: both threads on CPU 0; split: CPU 0 and 1 (default); free: unpinned\n"
        "  --repeat     runs per mechanism, each with fresh threads (default 3)\n"
        "  --loop-side  mirror: A waits for replies as B waits for requests (default); epoll: as\n"
        "               the lab's epoll loop does (spin for the budget, epoll_wait on an eventfd)\n"
        "Prints one line per mechanism: ns per round trip, median and min-max of the runs.\n");
    std::exit(status);
}

}  // namespace

int main(int argc, char** argv) {
    std::string mech = "all";
    std::string placement = "split";
    std::uint64_t count = 20000;
    int repeat = 3;
    bool epoll_loop = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "-h" || arg == "--help") usage(0);
        if (i + 1 >= argc) usage(2);
        const std::string value = argv[++i];
        char* end = nullptr;
        if (arg == "--mech") {
            mech = value;
        } else if (arg == "--placement") {
            placement = value;
        } else if (arg == "--loop-side") {
            if (value != "mirror" && value != "epoll") die("--loop-side: mirror or epoll", 2);
            epoll_loop = value == "epoll";
        } else if (arg == "--count") {
            count = std::strtoull(value.c_str(), &end, 10);
            if (*end != '\0' || count == 0 || count > 1'000'000'000) die("--count: 1 to 10^9", 2);
        } else if (arg == "--repeat") {
            repeat = int(std::strtol(value.c_str(), &end, 10));
            if (*end != '\0' || repeat < 1 || repeat > 1000) die("--repeat: 1 to 1000", 2);
        } else {
            usage(2);
        }
    }

    Placement at{};
    if (placement == "same") at = {"same", 0, 0};
    else if (placement == "split") at = {"split", 0, 1};
    else if (placement == "free") at = {"free", -1, -1};
    else die("--placement: same, split or free", 2);

    std::vector<std::string> mechs;
    if (mech == "all") mechs = {"spin", "futex", "futex-always", "condvar", "eventfd", "spin-park:2us"};
    else mechs = {mech};

    for (const std::string& m : mechs) {  // refuse a bad name before any output
        const bool known = m == "spin" || m == "futex" || m == "futex-always" || m == "condvar" ||
                           m == "eventfd" || (m.rfind("spin-park:", 0) == 0 && parse_duration_ns(m.substr(10)) >= 0);
        if (!known) run_mechanism(m, at, 0, 0, false);  // dies with the list of mechanisms
    }

    std::printf("%-16s %-9s %-10s %11s %14s %12s %12s\n", "mechanism", "placement", "loop_side", "round_trips",
                "ns/trip median", "min", "max");
    for (const std::string& m : mechs) {
        // Two spinners on one CPU: each trip waits for the spinner holding the
        // CPU to use up its time slice (milliseconds). A few trips show it.
        const bool capped = m == "spin" && at.cpu_a >= 0 && at.cpu_a == at.cpu_b;
        const std::uint64_t n = capped ? std::min<std::uint64_t>(count, 50) : count;
        const std::uint64_t warmup = capped ? 2 : std::min<std::uint64_t>(n / 10, 2000);

        std::vector<double> ns;
        std::uint64_t trips = n;
        for (int r = 0; r < repeat; ++r) {
            const Run run = run_mechanism(m, at, warmup, n, epoll_loop);
            ns.push_back(run.ns_per_trip);
            trips = std::min(trips, run.trips);
        }
        std::sort(ns.begin(), ns.end());
        const std::size_t mid = ns.size() / 2;
        const double median = ns.size() % 2 == 1 ? ns[mid] : (ns[mid - 1] + ns[mid]) / 2;
        std::printf("%-16s %-9s %-10s %11llu %14.0f %12.0f %12.0f%s\n", m.c_str(), at.name,
                    m == "spin" ? "spin" : epoll_loop ? "epoll" : "mirror",
                    static_cast<unsigned long long>(trips), median, ns.front(), ns.back(),
                    capped           ? "  (capped at 50 trips: two spinners on one CPU)"
                    : trips < n      ? "  (stopped at the 10 s limit)"
                                     : "");
    }
    return 0;
}
