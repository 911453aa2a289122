#include "handoff/measurement.hpp"

#include <dirent.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

namespace handoff {
namespace {

// Every thread of the process (at the start a pool thread that first runs a
// call inside the interval must already have a starting value).
std::vector<pid_t> list_threads() {
    std::vector<pid_t> tids;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/task"), closedir);
    if (!dir) throw std::runtime_error("cannot list /proc/self/task: thread CPU is unreadable");
    while (const dirent* entry = readdir(dir.get())) {
        if (const pid_t tid = pid_t(std::atoi(entry->d_name)); tid > 0) tids.push_back(tid);
    }
    return tids;
}

// The CPU clocks: fast (one system call each), so they are read back to back
// with the process and loop clocks, and the interval each covers is the same.
void read_cpu_clocks(IntervalEdge& edge, const std::vector<pid_t>& tids) {
    for (const pid_t tid : tids) {
        if (const auto cpu = thread_cpu_ns(tid)) edge.threads[tid].cpu_ns = *cpu;  // else: exited
    }
}

// The switch counters: slow (a /proc file each), so they are read outside
// the clocks' span; a switch or two at the edge is noise, CPU time is not.
void read_switches(IntervalEdge& edge) {
    for (auto it = edge.threads.begin(); it != edge.threads.end();) {
        if (const auto switches = thread_switches(it->first)) {
            it->second.switches = *switches;
            ++it;
        } else {
            it = edge.threads.erase(it);  // exited while we looked
        }
    }
}

constexpr double seconds(std::int64_t ns) { return double(ns) / 1e9; }

}  // namespace

IntervalEdge open_interval() {
    IntervalEdge edge;
    const std::vector<pid_t> tids = list_threads();
    for (const pid_t tid : tids) edge.threads[tid];
    read_switches(edge);
    // The clocks last and together, the wall clock very last.
    read_cpu_clocks(edge, tids);
    edge.process_cpu_ns = process_cpu_ns();
    edge.loop_switches = this_thread_switches();
    edge.loop_cpu_ns = this_thread_cpu_ns();
    edge.wall_ns = monotonic_ns();
    return edge;
}

IntervalEdge close_interval(const IntervalEdge& start, const std::vector<pid_t>& workers) {
    IntervalEdge edge;
    edge.wall_ns = monotonic_ns();
    edge.loop_cpu_ns = this_thread_cpu_ns();
    edge.loop_switches = this_thread_switches();
    edge.process_cpu_ns = process_cpu_ns();
    // Every thread known at the start, and every worker (one may be new).
    std::vector<pid_t> tids = workers;
    for (const auto& [tid, sample] : start.threads) tids.push_back(tid);
    read_cpu_clocks(edge, tids);
    read_switches(edge);
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
