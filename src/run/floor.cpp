// The floor: two threads bouncing one cache line (see src/run/floor.hpp).
//
// One line or two? A could write requests into one line and B its replies
// into another, so each line has one writer. On paper both cost the same per
// trip (two line transfers, two invalidations), but on this machine (AMD EPYC,
// 2 vCPUs) the single shared line measured faster: about 65 ns per round trip
// against 97 ns for two lines, in the same minute. Both are honest floors;
// the lab takes the cheaper, since the floor is the limit designs are held to.
// (bench/pingpong's `spin` keeps one line per direction, like a design does.)
#include "run/floor.hpp"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#include "handoff/cpu_relax.hpp"
#include "handoff/clocks.hpp"

namespace handoff {
namespace {

constexpr std::uint64_t quit_value = ~std::uint64_t{0};
constexpr std::int64_t stall_limit_ns = 5'000'000'000;  // no progress for 5 s: give up
constexpr std::uint32_t spins_per_clock_check = 4096;  // keeps the clock out of the fast path
constexpr std::uint64_t warmup_trips = 20'000;
constexpr std::int64_t warmup_time_limit_ns = 200'000'000;
// A warm-up trip slower than this on average means the two threads are not
// each on a CPU of their own (a cross-CPU trip is well under 1 µs here; a
// trip between threads sharing a CPU waits out a time slice, milliseconds).
constexpr std::int64_t not_on_own_cpus_ns = 20'000;
constexpr std::uint64_t max_latency_samples = 100'000;

// The one word both threads write, alone on its cache line so that nothing
// else the threads touch moves with it.
struct alignas(64) Line {
    std::atomic<std::uint64_t> word{0};
};

struct alignas(64) Shared {
    Line line;
    alignas(64) std::atomic<bool> b_ready{false};
    std::atomic<bool> stop{false};  // read by B only off the fast path
    pid_t b_tid = 0;                // written before b_ready
    std::string b_error;            // written by B before it exits, read after join
    bool busy = false;              // written by A before it exits: no CPU each, not a fault
};

// Pins the calling thread to `cpu` (-1: leaves it alone). Returns the reason on failure.
std::optional<std::string> pin_current_thread(int cpu) {
    if (cpu == -1) return std::nullopt;
    if (cpu < 0 || cpu >= CPU_SETSIZE) return fmt::format("CPU {} is not a CPU number", cpu);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    const int rc = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
    if (rc != 0) {
        return fmt::format("cannot pin a thread to CPU {}: {} (offline, or outside this process's "
                           "CPU set?)",
                           cpu, std::strerror(rc));
    }
    return std::nullopt;
}

// Spins until `word` holds something other than `seen` and returns it.
// `give_up` is asked only every few thousand spins (it may read the clock),
// so the fast path is one load and one pause.
template <typename GiveUp>
std::optional<std::uint64_t> await_change(const std::atomic<std::uint64_t>& word,
                                          std::uint64_t seen, GiveUp&& give_up) {
    std::uint32_t spins = 0;
    for (;;) {
        const std::uint64_t now = word.load(std::memory_order_acquire);
        if (now != seen) return now;
        cpu_relax();
        if (++spins == spins_per_clock_check) {
            spins = 0;
            if (give_up()) return std::nullopt;
        }
    }
}

// Timestamps for the latency pass, one per trip. A CLOCK_MONOTONIC read costs
// about 20 ns here, but the vDSO orders it (it fences the TSC read), and timing
// each trip with it turns a 65 ns trip into a 130 ns median. A bare rdtsc is
// not ordered and costs about 10 ns: median 70 ns. Its reading may slip a few
// ns against the spin, but consecutive differences telescope, so the samples
// still sum to the pass. Ticks become ns at the rate measured against
// CLOCK_MONOTONIC over the same pass (a constant-rate TSC, as Linux requires
// to use it as its clock; elsewhere the ticks are CLOCK_MONOTONIC itself).
std::uint64_t trip_ticks() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    return __rdtsc();
#else
    return std::uint64_t(monotonic_ns());
#endif
}

// Says "give up" once the clock shows `stall_limit_ns` since its first call.
class StallClock {
public:
    bool expired() {
        const std::int64_t now = monotonic_ns();
        if (since_ == 0) since_ = now;
        return now - since_ > stall_limit_ns;
    }

private:
    std::int64_t since_ = 0;
};

// Thread B: echoes every odd number A writes as the next even one.
void run_b(Shared& shared, int cpu) {
    if (auto error = pin_current_thread(cpu)) {
        shared.b_error = *error;
        shared.stop.store(true, std::memory_order_release);  // tells A at once
        shared.b_ready.store(true, std::memory_order_release);
        return;
    }
    shared.b_tid = current_tid();
    shared.b_ready.store(true, std::memory_order_release);

    std::uint64_t last = 0;
    for (;;) {
        StallClock stall;
        const auto seen = await_change(shared.line.word, last, [&] {
            return shared.stop.load(std::memory_order_acquire) || stall.expired();
        });
        if (!seen) {
            if (!shared.stop.load(std::memory_order_acquire)) {
                shared.b_error =
                    fmt::format("thread B saw no request for {} s", stall_limit_ns / 1'000'000'000);
            }
            return;
        }
        if (*seen == quit_value) return;
        last = *seen + 1;
        shared.line.word.store(last, std::memory_order_release);
    }
}

// Thread A: the requester, standing for the loop. Fills `out` or returns the reason.
class Requester {
public:
    explicit Requester(Shared& shared) : shared_(shared) {}

    // One round trip: `false` on a stall or a wrong reply (error() says which).
    bool trip() {
        next_ += 2;
        shared_.line.word.store(next_, std::memory_order_release);
        StallClock stall;
        const auto reply = await_change(shared_.line.word, next_, [&] { return stall.expired(); });
        if (!reply) {
            error_ = fmt::format("no reply from thread B for {} s", stall_limit_ns / 1'000'000'000);
            return false;
        }
        if (*reply != next_ + 1) {
            error_ = fmt::format("thread B replied {} to {}", *reply, next_);
            return false;
        }
        return true;
    }

    const std::string& error() const { return error_; }

private:
    Shared& shared_;
    std::uint64_t next_ = ~std::uint64_t{0};  // +2 makes the first request 1
    std::string error_;
};

std::string run_a(Shared& shared, std::uint64_t round_trips, int cpu_a, int cpu_b, FloorResult& out) {
    if (auto error = pin_current_thread(cpu_a)) return *error;
    {
        StallClock stall;
        while (!shared.b_ready.load(std::memory_order_acquire)) {
            if (stall.expired()) return "thread B did not start within 5 s";
            std::this_thread::yield();  // B may need this CPU to start
        }
    }
    if (!shared.b_error.empty()) return shared.b_error;
    const pid_t b_tid = shared.b_tid;

    Requester requester(shared);

    // Warm-up: caches, branch predictors, CPU frequency; and a check that the
    // two threads really run at once (bounded in time, so it cannot take long).
    const std::int64_t warm_start = monotonic_ns();
    std::uint64_t warm = 0;
    std::int64_t warm_elapsed = 0;
    while (warm < warmup_trips && warm_elapsed < warmup_time_limit_ns) {
        if (!requester.trip()) return requester.error();
        ++warm;
        warm_elapsed = monotonic_ns() - warm_start;
    }
    const std::int64_t warm_mean = warm_elapsed / std::int64_t(warm);
    if (warm_mean > not_on_own_cpus_ns) {
        shared.busy = true;
        return fmt::format(
            "warm-up round trips averaged {:.1f} µs: the two threads are not each running on a CPU "
            "of their own ({}), and spinning only measures time slices there",
            double(warm_mean) / 1e3,
            cpu_a < 0 || cpu_b < 0 ? "the scheduler placed them together; pin them to two CPUs"
                                   : "another busy thread on one of the CPUs?");
    }

    // Measured pass: nothing in the loop but the trips, between the edges
    // every row's interval has. The worker list is made before: its
    // allocation is not the floor's.
    const std::vector<pid_t> workers{b_tid};
    const IntervalEdge start = open_interval();
    for (std::uint64_t i = 0; i < round_trips; ++i) {
        if (!requester.trip()) return requester.error();
    }
    const IntervalEdge end = close_interval(start, workers);
    out.measurement = measure_interval(start, end, workers, round_trips);

    // Latency pass: one timestamp per trip into a buffer (allocated before,
    // converted after), then into the histogram every row's latency uses.
    std::vector<std::uint64_t> ticks(std::min(round_trips, max_latency_samples));
    const std::int64_t lat_wall0 = monotonic_ns();
    const std::uint64_t lat_ticks0 = trip_ticks();
    std::uint64_t previous = lat_ticks0;
    for (std::uint64_t& sample : ticks) {
        if (!requester.trip()) return requester.error();
        const std::uint64_t now = trip_ticks();
        sample = now - previous;
        previous = now;
    }
    const std::int64_t lat_wall1 = monotonic_ns();
    const double ns_per_tick =
        previous > lat_ticks0 ? double(lat_wall1 - lat_wall0) / double(previous - lat_ticks0) : 1.0;
    for (const std::uint64_t sample : ticks) {
        out.measurement.latency.record(std::int64_t(double(sample) * ns_per_tick + 0.5));
    }
    out.cpu_a = cpu_a;
    out.cpu_b = cpu_b;
    return {};
}

}  // namespace

FloorOutcome measure_floor(std::uint64_t round_trips, int cpu_a, int cpu_b) {
    FloorOutcome outcome;
    if (round_trips == 0) {
        outcome.error = "the floor needs at least one round trip";
        return outcome;
    }
    if (cpu_a >= 0 && cpu_a == cpu_b) {
        outcome.error = fmt::format(
            "the floor needs two CPUs: with both threads pinned to CPU {}, each spin lasts a time "
            "slice",
            cpu_a);
        return outcome;
    }

    Shared shared;
    FloorResult result;
    std::string error;
    try {
        std::thread b([&] { run_b(shared, cpu_b); });
        try {
            std::thread a([&] {
                try {
                    error = run_a(shared, round_trips, cpu_a, cpu_b, result);
                } catch (const std::exception& e) {  // the thread list or a clock unreadable
                    error = e.what();
                }
                // Whatever happened, release B: the word for a waiting B, the
                // flag for a B that is between trips or overwrote the word.
                shared.stop.store(true, std::memory_order_release);
                shared.line.word.store(quit_value, std::memory_order_release);
            });
            a.join();
        } catch (const std::system_error&) {
            shared.stop.store(true, std::memory_order_release);
            shared.line.word.store(quit_value, std::memory_order_release);
            b.join();
            throw;
        }
        b.join();
    } catch (const std::system_error& e) {
        outcome.error = fmt::format("cannot start the floor's threads: {}", e.what());
        return outcome;
    }

    if (!error.empty()) {
        // B's own complaint (it gave up waiting), if any, says more.
        const bool more = !shared.b_error.empty() && shared.b_error != error;
        outcome.error = more ? error + "; " + shared.b_error : std::move(error);
        outcome.busy = shared.busy;
    } else {
        outcome.result = result;
    }
    return outcome;
}

std::optional<std::pair<int, int>> default_floor_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return std::nullopt;
    int found[2];
    int n = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && n < 2; ++cpu) {
        if (CPU_ISSET(cpu, &set)) found[n++] = cpu;
    }
    if (n < 2) return std::nullopt;
    return std::pair{found[0], found[1]};
}

// The floor: two threads spinning on one cache line, the cheapest round trip
// between two CPUs. It runs no work and has no loop; thread A plays the loop.
RowResult run_floor_row(const Configuration& config) {
    RowResult row;
    row.config = config;
    row.mechanism = "two threads spinning on one cache line (no queue, no system call)";
    int cpu_a = config.placement.loop_cpu;
    int cpu_b = config.placement.worker_cpu;
    if (cpu_a < 0 || cpu_b < 0 || cpu_a == cpu_b) {
        const auto pair = default_floor_cpus();
        if (!pair) {
            row.status = RowStatus::unavailable;
            row.reason = "the floor needs two CPUs this process may run on";
            return row;
        }
        std::tie(cpu_a, cpu_b) = *pair;
    }
    const FloorOutcome outcome = measure_floor(config.calls, cpu_a, cpu_b);
    if (!outcome) {
        // A busy machine leaves the reference unmeasured, not the run broken.
        row.status = outcome.busy ? RowStatus::unavailable : RowStatus::failed;
        row.reason = outcome.busy ? "machine busy: " + outcome.error : outcome.error;
        return row;
    }
    Measurement m = outcome.result->measurement;
    row.config.placement.name = "split";
    row.config.placement.loop_cpu = cpu_a;
    row.config.placement.worker_cpu = cpu_b;
    row.runs.push_back(std::move(m));
    return row;
}

}  // namespace handoff
