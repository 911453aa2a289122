#include "measurement/measurement.hpp"

#include <dirent.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include <fmt/format.h>

#include "measurement/allocation_counter.hpp"

namespace handoff {
namespace {

// How far the process CPU clock can lag per thread: the tick that brings a
// thread running on another CPU up to date. CONFIG_HZ is 250 here (4 ms); the
// bound takes the slowest tick Linux allows (100 Hz) so it never cries wolf.
constexpr std::int64_t process_clock_lag_per_thread_ns = 10'000'000;

// Every thread of the process, now.
std::vector<pid_t> list_threads() {
    std::vector<pid_t> tids;
    std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir("/proc/self/task"), closedir);
    if (!dir) throw std::runtime_error("cannot list /proc/self/task: thread CPU is unreadable");
    while (const dirent* entry = readdir(dir.get())) {
        if (const pid_t tid = pid_t(std::atoi(entry->d_name)); tid > 0) tids.push_back(tid);
    }
    return tids;
}

// The CPU clocks are fast (one system call each) and read back to back, so
// every thread's span is the wall clock's within microseconds. A thread
// already read, or one that has exited, is left as it is.
void read_cpu_clocks(IntervalEdge& edge, const std::vector<pid_t>& tids) {
    for (const pid_t tid : tids) {
        if (edge.threads.contains(tid)) continue;
        if (const auto cpu = thread_cpu_ns(tid)) edge.threads[tid].cpu_ns = *cpu;
    }
}

// The switch counters are slow (a /proc file each), so they are read outside
// the clocks' span; a switch or two at the edge is noise, CPU time is not.
// The loop thread's come from getrusage, beside its clock.
void read_switches(IntervalEdge& edge) {
    for (auto& [tid, sample] : edge.threads) {
        if (tid == edge.loop_tid) continue;
        if (const auto switches = thread_switches(tid)) sample.switches = *switches;  // else: exited, no switches
    }
}

std::vector<pid_t> thread_ids(const IntervalEdge& edge) {
    std::vector<pid_t> tids;
    for (const auto& [tid, sample] : edge.threads) tids.push_back(tid);
    return tids;
}

ContextSwitches switches_between(const ContextSwitches& from, const ContextSwitches& to) {
    return {to.voluntary - from.voluntary, to.involuntary - from.involuntary};
}

constexpr double seconds(std::int64_t ns) { return double(ns) / 1e9; }

}  // namespace

// The order of the readings is the point. The wall clock's span encloses
// every CPU clock's: at the start the wall is read first, at the end last, so
// no thread can show more CPU than the wall allows, and a loop thread
// preempted while it reads the edge shows as wall time. The slow readings
// (the thread list, /proc's switch counters, getrusage) stay outside the
// span: before it at the start, after it at the end. The allocation count is
// read innermost of all, so the edges' own allocations (the thread map, the
// thread list) fall outside the interval; reading it allocates nothing.
IntervalEdge open_interval() {
    IntervalEdge edge;
    edge.loop_tid = current_tid();
    for (const pid_t tid : list_threads()) {
        if (tid == edge.loop_tid) continue;
        // A thread that ends before its clock is read is simply not in the interval.
        if (const auto switches = thread_switches(tid)) edge.threads[tid].switches = *switches;
    }
    const ContextSwitches loop_switches = this_thread_switches();
    edge.wall_ns = monotonic_ns();
    for (auto it = edge.threads.begin(); it != edge.threads.end();) {
        if (const auto cpu = thread_cpu_ns(it->first)) {
            it->second.cpu_ns = *cpu;
            ++it;
        } else {
            it = edge.threads.erase(it);
        }
    }
    edge.process_cpu_ns = process_cpu_ns();
    edge.threads[edge.loop_tid] = {this_thread_cpu_ns(), loop_switches};
    // Last: every allocation above (the map's nodes, the thread list) is the edge's own.
    edge.allocations_known = allocation_counting_available();
    edge.allocations = allocations_so_far();
    return edge;
}

IntervalEdge close_interval(const IntervalEdge& start, const std::vector<pid_t>& workers) {
    IntervalEdge edge;
    // First: every allocation below is the edge's own.
    edge.allocations = allocations_so_far();
    edge.allocations_known = allocation_counting_available();
    edge.loop_tid = current_tid();
    edge.threads[edge.loop_tid].cpu_ns = this_thread_cpu_ns();
    // The workers first (their ids are known), then every thread of the start.
    read_cpu_clocks(edge, workers);
    read_cpu_clocks(edge, thread_ids(start));
    edge.process_cpu_ns = process_cpu_ns();
    edge.wall_ns = monotonic_ns();
    edge.threads[edge.loop_tid].switches = this_thread_switches();
    // A thread born inside the interval is found now, just after the edge
    // (listing the threads is slow): its clock counts from zero to here.
    read_cpu_clocks(edge, list_threads());
    read_switches(edge);
    return edge;
}

Measurement measure_interval(const IntervalEdge& start, const IntervalEdge& end,
                             const std::vector<pid_t>& workers, std::uint64_t calls) {
    if (start.loop_tid != end.loop_tid) {
        throw std::logic_error("the interval's edges were taken on two different threads");
    }
    Measurement m;
    m.calls = calls;
    m.wall_s = seconds(end.wall_ns - start.wall_ns);

    // Each thread's CPU and switches inside the interval: from its sample at
    // the start, or from zero for a thread born inside. A smaller reading at
    // the end means the id now names another thread (the first one ended).
    const auto inside = [&](pid_t tid, const IntervalEdge::ThreadSample& last) {
        IntervalEdge::ThreadSample first{};
        if (const auto it = start.threads.find(tid); it != start.threads.end() && it->second.cpu_ns <= last.cpu_ns) {
            first = it->second;
        }
        return IntervalEdge::ThreadSample{last.cpu_ns - first.cpu_ns, switches_between(first.switches, last.switches)};
    };

    std::int64_t total_ns = 0;
    for (const auto& [tid, last] : end.threads) total_ns += inside(tid, last).cpu_ns;
    m.cpu_total_s = seconds(total_ns);

    const IntervalEdge::ThreadSample loop = inside(end.loop_tid, end.threads.at(end.loop_tid));
    m.cpu_loop_s = seconds(loop.cpu_ns);
    m.loop_switches = loop.switches;

    std::int64_t worker_ns = 0;
    for (const pid_t tid : workers) {
        const auto last = end.threads.find(tid);
        if (last == end.threads.end()) {
            throw std::runtime_error(fmt::format(
                "worker thread {} exited inside the measured interval: its CPU cannot be read", tid));
        }
        const IntervalEdge::ThreadSample worker = inside(tid, last->second);
        worker_ns += worker.cpu_ns;
        m.worker_switches.voluntary += worker.switches.voluntary;
        m.worker_switches.involuntary += worker.switches.involuntary;
    }
    m.cpu_worker_s = seconds(worker_ns);
    m.worker_threads = unsigned(workers.size());

    m.allocations_known = start.allocations_known && end.allocations_known;
    m.allocations = m.allocations_known ? end.allocations - start.allocations : 0;

    const auto ended = std::count_if(start.threads.begin(), start.threads.end(),
                                     [&](const auto& entry) { return !end.threads.contains(entry.first); });
    const std::int64_t unexplained = (end.process_cpu_ns - start.process_cpu_ns) - total_ns;
    const std::int64_t lag_allowance = std::int64_t(start.threads.size()) * process_clock_lag_per_thread_ns;
    if (ended != 0) {
        m.cpu_total_caveat = fmt::format(
            "{} thread(s) ended inside the interval: their CPU after its start is missing from CpuTotal", ended);
    } else if (unexplained > lag_allowance) {
        m.cpu_total_caveat = fmt::format(
            "the process clock counts {:.1f} ms more CPU than every thread seen at the edges: a thread that "
            "started and ended inside the interval is missing from CpuTotal",
            double(unexplained) / 1e6);
    }
    return m;
}

}  // namespace handoff
