#include "handoff/measurement.hpp"

#include <dirent.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

namespace handoff {
namespace {

// Every thread of the process with its CPU clock and switch counters. Taken
// at both edges so a pool thread that first runs a call inside the interval
// still has a starting value.
std::map<pid_t, IntervalEdge::ThreadSample> sample_threads() {
    std::map<pid_t, IntervalEdge::ThreadSample> threads;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/task"), closedir);
    if (!dir) throw std::runtime_error("cannot list /proc/self/task: thread CPU is unreadable");
    while (const dirent* entry = readdir(dir.get())) {
        const pid_t tid = pid_t(std::atoi(entry->d_name));
        if (tid <= 0) continue;
        const auto cpu = thread_cpu_ns(tid);
        const auto switches = thread_switches(tid);
        if (!cpu || !switches) continue;  // exited while we looked
        threads[tid] = {*cpu, *switches};
    }
    return threads;
}

constexpr double seconds(std::int64_t ns) { return double(ns) / 1e9; }

}  // namespace

IntervalEdge open_interval() {
    IntervalEdge edge;
    // Slowest readings first, the wall clock last, so the interval is tight.
    edge.threads = sample_threads();
    edge.process_cpu_ns = process_cpu_ns();
    edge.loop_switches = this_thread_switches();
    edge.loop_cpu_ns = this_thread_cpu_ns();
    edge.wall_ns = monotonic_ns();
    return edge;
}

IntervalEdge close_interval() {
    IntervalEdge edge;
    edge.wall_ns = monotonic_ns();
    edge.loop_cpu_ns = this_thread_cpu_ns();
    edge.loop_switches = this_thread_switches();
    edge.process_cpu_ns = process_cpu_ns();
    edge.threads = sample_threads();
    return edge;
}

Measurement measure_interval(const IntervalEdge& start, const IntervalEdge& end,
                             const std::vector<pid_t>& workers, std::uint64_t calls,
                             std::uint64_t same_cpu_calls) {
    Measurement m;
    m.calls = calls;
    m.same_cpu_calls = same_cpu_calls;
    m.wall_s = seconds(end.wall_ns - start.wall_ns);
    m.cpu_total_s = seconds(end.process_cpu_ns - start.process_cpu_ns);
    m.cpu_loop_s = seconds(end.loop_cpu_ns - start.loop_cpu_ns);
    m.loop_switches = {end.loop_switches.voluntary - start.loop_switches.voluntary,
                       end.loop_switches.involuntary - start.loop_switches.involuntary};
    std::int64_t worker_ns = 0;
    for (const pid_t tid : workers) {
        const auto last = end.threads.find(tid);
        if (last == end.threads.end()) {
            throw std::runtime_error(fmt::format(
                "worker thread {} exited inside the measured interval: its CPU cannot be read", tid));
        }
        IntervalEdge::ThreadSample first{};  // created inside the interval: counts from zero
        if (const auto it = start.threads.find(tid); it != start.threads.end()) first = it->second;
        worker_ns += last->second.cpu_ns - first.cpu_ns;
        m.worker_switches.voluntary += last->second.switches.voluntary - first.switches.voluntary;
        m.worker_switches.involuntary += last->second.switches.involuntary - first.switches.involuntary;
    }
    m.cpu_worker_s = seconds(worker_ns);
    m.worker_threads = unsigned(workers.size());
    return m;
}

}  // namespace handoff
