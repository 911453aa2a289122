"""The measured interval of a Python row, by the C++ side's rules
(src/measurement/measurement.cpp), so the columns mean the same:

- every thread of this process is listed at both edges and read from its
  own thread CPU clock, a Python thread or not: the clock id is made from
  the kernel thread id, ((~tid) << 3) | 6, the id pthread_getcpuclockid
  returns (src/base/clocks.cpp). CpuTotal is their sum; nothing is derived
  (python-async-bench took the worker's CPU as the process's minus the loop
  thread's user time, which put the loop's system time in the worker's column);
- the wall clock's span encloses every CPU clock's: read first at the start,
  last at the end; the slow readings (thread list, /proc switch counters)
  stay outside it;
- a thread born inside counts from zero; a thread that ended inside leaves
  CpuTotal short and says so in a caveat.
"""

import ctypes
import os
import resource
import time

CLOCK_THREAD = time.CLOCK_THREAD_CPUTIME_ID
CLOCK_PROCESS = time.CLOCK_PROCESS_CPUTIME_ID
_monotonic_ns = time.monotonic_ns
_clock_ns = time.clock_gettime_ns

# The tick that brings a thread on another CPU up to date in the process
# clock, at the slowest Linux allows (100 Hz): as measurement.cpp.
PROCESS_CLOCK_LAG_PER_THREAD_NS = 10_000_000

# sched_getcpu through ctypes.PyDLL: called with the GIL held, so reading the
# CPU never hands the GIL to another thread (a CDLL call would release it).
# Python 3.11 has no os.sched_getcpu. About 0.2 us a call.
try:
    _libc = ctypes.PyDLL(None)
    sched_getcpu = _libc.sched_getcpu
    sched_getcpu.restype = ctypes.c_int
    sched_getcpu.argtypes = ()
except (OSError, AttributeError):  # pragma: no cover - glibc always has it
    def sched_getcpu():
        return -1


def thread_clock_id(tid):
    """The CPU clock of kernel thread `tid` (user + system), as a clockid_t."""
    # A negative C int, as clockid_t is; time.clock_gettime_ns takes any int.
    return ((~tid) << 3) | 6


def thread_cpu_ns(tid):
    """CPU time of thread `tid` of this process, or None once it has exited."""
    try:
        return _clock_ns(thread_clock_id(tid))
    except OSError:
        return None


def list_threads():
    return [int(name) for name in os.listdir("/proc/self/task") if name.isdigit()]


def thread_switches(tid):
    """(voluntary, involuntary) context switches of thread `tid`, or None."""
    try:
        with open(f"/proc/self/task/{tid}/status") as status:
            text = status.read()
    except OSError:
        return None
    vol = invol = None
    for line in text.splitlines():
        if line.startswith("voluntary_ctxt_switches:"):
            vol = int(line.split()[1])
        elif line.startswith("nonvoluntary_ctxt_switches:"):
            invol = int(line.split()[1])
    if vol is None or invol is None:
        return None
    return (vol, invol)


def this_thread_switches():
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return (usage.ru_nvcsw, usage.ru_nivcsw)


class Edge:
    """Readings at one edge of the interval, taken on the loop thread."""

    __slots__ = ("wall_ns", "process_cpu_ns", "loop_tid", "cpu", "switches")

    def __init__(self, loop_tid):
        self.wall_ns = 0
        self.process_cpu_ns = 0
        self.loop_tid = loop_tid
        self.cpu = {}       # tid -> ns
        self.switches = {}  # tid -> (voluntary, involuntary)


def open_interval(loop_tid):
    edge = Edge(loop_tid)
    for tid in list_threads():
        if tid == loop_tid:
            continue
        switches = thread_switches(tid)
        if switches is not None:  # ended before its clock is read: not in the interval
            edge.switches[tid] = switches
    loop_switches = this_thread_switches()
    edge.wall_ns = _monotonic_ns()
    for tid in list(edge.switches):
        cpu = thread_cpu_ns(tid)
        if cpu is None:
            del edge.switches[tid]
        else:
            edge.cpu[tid] = cpu
    edge.process_cpu_ns = _clock_ns(CLOCK_PROCESS)
    edge.cpu[loop_tid] = _clock_ns(CLOCK_THREAD)
    edge.switches[loop_tid] = loop_switches
    return edge


def _read_clocks(edge, tids):
    for tid in tids:
        if tid in edge.cpu:
            continue
        cpu = thread_cpu_ns(tid)
        if cpu is not None:
            edge.cpu[tid] = cpu


def close_interval(start, workers):
    edge = Edge(start.loop_tid)
    edge.cpu[edge.loop_tid] = _clock_ns(CLOCK_THREAD)
    _read_clocks(edge, workers)
    _read_clocks(edge, list(start.cpu))
    edge.process_cpu_ns = _clock_ns(CLOCK_PROCESS)
    edge.wall_ns = _monotonic_ns()
    edge.switches[edge.loop_tid] = this_thread_switches()
    # A thread born inside is found now, just after the edge: it counts from 0.
    _read_clocks(edge, list_threads())
    for tid in edge.cpu:
        if tid == edge.loop_tid:
            continue
        switches = thread_switches(tid)
        edge.switches[tid] = switches if switches is not None else (0, 0)
    return edge


def measure(start, end, workers, calls):
    """The interval's figures as a dict of plain numbers (nanoseconds and
    counts), the keys the C++ side reads."""
    def inside(tid):
        last_cpu = end.cpu[tid]
        last_sw = end.switches.get(tid, (0, 0))
        first_cpu, first_sw = 0, (0, 0)
        if tid in start.cpu and start.cpu[tid] <= last_cpu:  # smaller: the id names another thread now
            first_cpu, first_sw = start.cpu[tid], start.switches.get(tid, (0, 0))
        return last_cpu - first_cpu, (last_sw[0] - first_sw[0], last_sw[1] - first_sw[1])

    total = 0
    for tid in end.cpu:
        total += inside(tid)[0]
    loop_cpu, loop_sw = inside(end.loop_tid)
    worker_cpu, worker_sw = 0, [0, 0]
    for tid in workers:
        if tid not in end.cpu:
            raise RuntimeError(f"worker thread {tid} exited inside the measured interval: its CPU cannot be read")
        cpu, sw = inside(tid)
        worker_cpu += cpu
        worker_sw[0] += sw[0]
        worker_sw[1] += sw[1]

    caveat = ""
    ended = sum(1 for tid in start.cpu if tid not in end.cpu)
    unexplained = (end.process_cpu_ns - start.process_cpu_ns) - total
    if ended:
        caveat = f"{ended} thread(s) ended inside the interval: their CPU after its start is missing from CpuTotal"
    elif unexplained > len(start.cpu) * PROCESS_CLOCK_LAG_PER_THREAD_NS:
        caveat = (f"the process clock counts {unexplained / 1e6:.1f} ms more CPU than every thread seen at the "
                  "edges: a thread that started and ended inside the interval is missing from CpuTotal")
    return {
        "calls": calls,
        "wall_ns": end.wall_ns - start.wall_ns,
        "cpu_total_ns": total,
        "cpu_loop_ns": loop_cpu,
        "cpu_worker_ns": worker_cpu,
        "loop_switches": list(loop_sw),
        "worker_switches": worker_sw,
        "worker_threads": len(workers),
        "cpu_total_caveat": caveat,
    }


def pin_current_thread(cpus):
    """Pins the calling thread to the CPUs given (empty: left alone)."""
    if cpus:
        os.sched_setaffinity(0, set(cpus))
