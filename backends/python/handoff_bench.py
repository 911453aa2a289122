"""The Python side of handoff's Python backends (backends/python.cpp).

    python3 handoff_bench.py [--progress-fd N] < request.json
                                      one repetition: one JSON line on stdout
    python3 handoff_bench.py --probe  the interpreter and the modules it can import

One process runs one repetition of one row, the way the C++ runner runs one:
build the loop and the target (a dedicated worker, the framework's pool, or
nothing for inline), warm up, open the measured interval, send `calls`
calls with `inflight` tasks awaiting, verify every result on the loop thread,
close the interval, tear down, and print the figures. Start-up, imports and
the warm-up are outside the interval. The loop runs on the main thread.

Progress: with --progress-fd N, a watchdog thread writes the number of calls
delivered (warm-up included) to fd N as a line about every 100 ms; when
nothing is delivered for `stall_timeout_ms` it prints a failed result naming
the outstanding calls and ends the process (a lost wake-up, as the C++
runner's watchdog reports it). Its CPU is in Other.
"""

import json
import os
import sys
import threading
import time
import warnings

sys.dont_write_bytecode = True  # a clean clone stays clean
# stderr carries the reason a run failed, nothing else (anyio 3.6 on trio
# 0.22 warns that trio.MultiError is deprecated when imported).
warnings.simplefilter("ignore", DeprecationWarning)
warnings.simplefilter("ignore", FutureWarning)

from handoff_frameworks import FRAMEWORKS, MODULES, Design, make_framework  # noqa: E402
from handoff_measure import close_interval, measure, open_interval, pin_current_thread, sched_getcpu  # noqa: E402
from handoff_work import (Work, WorkFailure, argument_for, arrival_offsets, expected_result,  # noqa: E402
                          failure_message, mix64)


class Call:
    """One call: what the loop sends, what the thread that runs it fills in."""

    __slots__ = ("seq", "arg", "result", "error", "executions", "worker_cpu")

    def __init__(self, seq, arg):
        self.seq = seq
        self.arg = arg
        self.result = None
        self.error = None
        self.executions = 0
        self.worker_cpu = -1


def make_runner(perform, pool_cpus=()):
    """run(call) on the thread that runs calls: counts the execution, notes
    the CPU, performs the work. A pool thread pins itself on its first call."""
    getcpu = sched_getcpu
    if not pool_cpus:
        def run(call):
            call.executions += 1
            call.worker_cpu = getcpu()
            return perform(call.arg)
        return run
    local = threading.local()
    cpus = list(pool_cpus)

    def run_pinned(call):
        if not getattr(local, "pinned", False):
            pin_current_thread(cpus)
            local.pinned = True
        call.executions += 1
        call.worker_cpu = getcpu()
        return perform(call.arg)
    return run_pinned


class Harness:
    """The awaiting side: sends calls, awaits them, checks every result."""

    def __init__(self, request):
        self.request = request
        self.work = Work.from_json(request["work"])
        self.calls = int(request["calls"])
        self.warmup = int(request["warmup"])
        self.inflight = max(1, int(request["inflight"]))
        total = self.warmup + self.calls
        # Outside the interval: every argument, expected result and whether
        # fail:P picks the call, so the loop only compares.
        self.args = [argument_for(seq) for seq in range(total)]
        self.expected = [expected_result(arg) for arg in self.args]
        self.must_fail = [self.work.must_fail(arg) for arg in self.args] if self.work.fail_share > 0 else None
        self.next_seq = 0
        self.delivered = 0
        self.failed = 0
        self.errors = 0
        self.first_error = ""
        self.latencies = []
        self.same_cpu = 0
        self.cpu_known = 0
        self.awaiting = [None] * self.inflight  # the seq each task awaits, for the watchdog
        self.count_cpu = request.get("target") != "inline"
        # Open loop (--rate): each phase's intended send times, as offsets
        # from its start (made here, outside the interval).
        self.rate = float(request.get("rate", 0) or 0)
        self.offsets = {}
        if self.rate > 0:
            kind, seed = request.get("arrival", "fixed"), int(request.get("seed", 1))
            self.offsets = {False: arrival_offsets(self.warmup, self.rate, kind, seed),
                            True: arrival_offsets(self.calls, self.rate, kind, seed)}
        self.schedule = None  # (phase start ns, its first seq, its offsets) while a rated phase runs

    def error(self, message):
        self.errors += 1
        if not self.first_error:
            self.first_error = message

    def outstanding(self):
        return sorted(seq for seq in self.awaiting if seq is not None)

    async def drive(self, handoff, slot, end, measured, sleep):
        """Calls until seq `end` is sent, one at a time, on task `slot`.
        Open loop: each call waits for its intended time (the framework's own
        timer) and its round trip runs from that time, so a call held back by
        the cap (every task busy) or by a late loop counts its wait."""
        args, expected, must_fail = self.args, self.expected, self.must_fail
        awaiting, latencies = self.awaiting, self.latencies
        mono, getcpu = time.monotonic_ns, sched_getcpu
        count_cpu = measured and self.count_cpu
        schedule = self.schedule
        while self.next_seq < end:
            seq = self.next_seq
            self.next_seq = seq + 1
            call = Call(seq, args[seq])
            awaiting[slot] = seq
            if schedule is not None:
                start, first, offsets = schedule
                sent = start + offsets[seq - first]
                # Never before its time: a timer may fire early (uvloop rounds
                # a delay to whole milliseconds, so a wait under 0.5 ms returns
                # at once and its loop polls until then).
                early = sent - mono()
                while early > 0:
                    await sleep(early / 1e9)
                    early = sent - mono()
                loop_cpu = getcpu() if count_cpu else -1
            else:
                loop_cpu = getcpu() if count_cpu else -1
                sent = mono()
            try:
                result = await handoff(call)
            except WorkFailure as e:
                back = mono()
                if measured:
                    self.failed += 1
                if must_fail is None or not must_fail[seq] or str(e) != failure_message(call.arg):
                    self.error(f"call {seq} threw: {e}")
            except Exception as e:  # noqa: BLE001 - any other exception is the row's error
                back = mono()
                self.error(f"call {seq} threw: {type(e).__name__}: {e}")
            else:
                back = mono()
                if result != expected[seq]:
                    self.error(f"call {seq} returned {result!r}, expected {expected[seq]:#x}")
                elif must_fail is not None and must_fail[seq]:
                    self.error(f"call {seq} returned a value, but fail:P picked it to throw")
            if call.executions != 1:
                self.error(f"call {seq} came back with a result, but its work never ran" if call.executions == 0
                           else f"call {seq} ran {call.executions} times")
            awaiting[slot] = None
            self.delivered += 1
            if measured:
                latencies.append(back - sent)
                if count_cpu and call.worker_cpu >= 0:
                    self.cpu_known += 1
                    self.same_cpu += call.worker_cpu == loop_cpu

    async def phase(self, framework, handoff, end, measured):
        if self.rate > 0:
            self.schedule = (time.monotonic_ns(), self.next_seq, self.offsets[measured])
        sleep = framework.sleep
        if self.inflight == 1:
            await self.drive(handoff, 0, end, measured, sleep)
        else:
            await framework.gather(self.inflight, lambda slot: self.drive(handoff, slot, end, measured, sleep))


class Watchdog:
    """Progress on a file descriptor, and the stall check. Its own thread: in Other."""

    def __init__(self, harness, stall_ms, emit, progress_fd=None, exit=os._exit):
        self.harness = harness
        self.stall_ns = int(stall_ms) * 1_000_000
        self.emit = emit
        self.exit = exit
        self.done = threading.Event()
        self.progress = os.fdopen(progress_fd, "w", buffering=1) if progress_fd is not None else None
        self.thread = threading.Thread(target=self._main, name="handoff-watchdog", daemon=True)

    def start(self):
        self.thread.start()

    def stop(self):
        self.done.set()
        self.thread.join()

    def _main(self):
        seen, last = -1, time.monotonic_ns()
        while not self.done.wait(0.1):
            delivered = self.harness.delivered
            now = time.monotonic_ns()
            if self.progress is not None:
                try:
                    self.progress.write(f"{delivered}\n")
                except OSError:
                    self.progress = None
            if delivered != seen:
                seen, last = delivered, now
            elif now - last >= self.stall_ns:
                outstanding = self.harness.outstanding()
                self.emit({"ok": False, "error": (
                    f"no result for {self.stall_ns // 1_000_000} ms, a lost wake-up or call: "
                    f"stopped with {len(outstanding)} calls outstanding (seq "
                    f"{', '.join(str(s) for s in outstanding[:8])})")})
                self.exit(0)
                return


_emit_lock = threading.Lock()
_emitted = False


def emit(result):
    """Prints the one result object (once, whoever comes first)."""
    global _emitted
    with _emit_lock:
        if _emitted:
            return
        _emitted = True
        sys.stdout.write(json.dumps(result, separators=(",", ":")) + "\n")
        sys.stdout.flush()


def check_vectors(vectors, work, request=None):
    """The C++ side's arguments and results for a few calls, and the first
    intended send times of an open loop: this module must agree."""
    for seq, arg, expected, must_fail in vectors:
        if argument_for(seq) != arg or expected_result(arg) != expected or work.must_fail(arg) != must_fail:
            return (f"the Python side's mix64 disagrees with the C++ side's for seq {seq}: arg {argument_for(seq):#x} "
                    f"vs {arg:#x}, result {expected_result(arg):#x} vs {expected:#x}")
    arrivals = (request or {}).get("arrival_check", [])
    if arrivals:
        ours = arrival_offsets(len(arrivals), float(request["rate"]), request.get("arrival", "fixed"),
                               int(request.get("seed", 1)))
        if ours != arrivals:
            return f"the Python side's arrival schedule disagrees with the C++ side's: {ours} vs {arrivals}"
    return ""


def set_timer_slack_ns(ns):
    """PR_SET_TIMERSLACK on this thread, as the C++ loop thread sets it in
    rate mode (Linux's default 50 us is half a gap at 10,000 calls a second)."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(29, ns, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def run_request(request, progress_fd=None):
    """One repetition; returns the result dict."""
    work = Work.from_json(request["work"])
    mismatch = check_vectors(request.get("check", []), work, request)
    if mismatch:
        return {"ok": False, "error": mismatch}
    target = request["target"]
    design = Design(request.get("design", {}))
    framework = make_framework(request["framework"], request)
    harness = Harness(request)
    cpus = {"loop": int(request.get("loop_cpu", -1)), "worker": int(request.get("worker_cpu", -1))}
    pool_cpus = request.get("pool_cpus", []) if target == "pool" else []
    run = make_runner(work.performer(), pool_cpus)

    watchdog = Watchdog(harness, request.get("stall_timeout_ms", 10000), emit, progress_fd)
    watchdog.start()  # before the pinning: it runs wherever the scheduler puts it
    pin_current_thread([cpus["loop"]] if cpus["loop"] >= 0 else [])
    if harness.rate > 0:
        set_timer_slack_ns(1)
    loop_tid = threading.get_native_id()
    out = {}

    async def main():
        # The workers: every thread the target brings (the dedicated worker,
        # the pool's threads, made in the warm-up or inside the interval),
        # idle ones included; threads that were here before are not its own.
        before = {t.native_id for t in threading.enumerate()}
        async with framework.session(target, design, run, cpus["worker"]) as (handoff, mechanism):
            await harness.phase(framework, handoff, harness.warmup, False)
            if harness.errors:
                return
            harness.failed = 0
            start = open_interval(loop_tid)
            await harness.phase(framework, handoff, harness.warmup + harness.calls, True)
            workers = [t.native_id for t in threading.enumerate()
                       if t.native_id is not None and t.native_id not in before]
            end = close_interval(start, workers)
            out.update(measure(start, end, workers, harness.calls))
            out["mechanism"] = mechanism

    try:
        framework.run(main)
    finally:
        watchdog.stop()
    if harness.errors:
        return {"ok": False, "errors": harness.errors, "error": harness.first_error}
    out.update({
        "ok": True,
        "errors": 0,
        "failed_calls": harness.failed,
        "same_cpu_calls": harness.same_cpu,
        "cpu_known_calls": harness.cpu_known,
        "latencies_ns": harness.latencies,
        "framework_version": framework.version(),
    })
    return out


def probe():
    """What this interpreter can run: its version and each module's."""
    from importlib import metadata
    found, missing = {}, {}
    for module in ("uvloop", "trio", "anyio"):
        try:
            imported = __import__(module)
            found[module] = getattr(imported, "__version__", None) or metadata.version(module)
        except Exception as e:  # noqa: BLE001 - any failure to import is the reason
            missing[module] = f"{type(e).__name__}: {e}"
    return {"python": sys.version.split()[0], "executable": sys.executable, "modules": found,
            "missing": missing, "frameworks": {f: list(MODULES[f]) for f in FRAMEWORKS}}


def set_parent_death_signal():
    """The process ends with handoff, even if handoff is killed (prctl PR_SET_PDEATHSIG)."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main(argv):
    if argv[1:] == ["--probe"]:
        print(json.dumps(probe()))
        return 0
    progress_fd = None
    if len(argv) == 3 and argv[1] == "--progress-fd" and argv[2].isdigit():
        progress_fd = int(argv[2])
    elif len(argv) != 1:
        print("usage: handoff_bench.py [--progress-fd N] < request.json | handoff_bench.py --probe", file=sys.stderr)
        return 2
    set_parent_death_signal()
    request = json.load(sys.stdin)
    emit(run_request(request, progress_fd))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
