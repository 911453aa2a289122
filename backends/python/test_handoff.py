"""The Python side's own tests: python3 -B -m unittest discover -s backends/python

`make test` runs each class below as one GoogleTest case (tests/test_python.cpp
lists them, and checks that the list matches what unittest discovers), so
they count in the suite's closing line. Small counts: the whole file runs in
a few seconds.
"""

import importlib.util
import json
import os
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import handoff_bench  # noqa: E402
import handoff_measure  # noqa: E402
from handoff_frameworks import FRAMEWORKS, MODULES, Design, RequestQueue, ResultGate  # noqa: E402
from handoff_work import (Work, WorkFailure, argument_for, arrival_offsets, expected_result, failure_message, mix64,  # noqa: E402
                          picked, FAIL_SALT)


def available(framework):
    return all(importlib.util.find_spec(module) is not None for module in MODULES[framework])


def request(framework, target="dedicated", design=None, work=None, calls=200, warmup=20, inflight=1):
    return {"framework": framework, "target": target, "design": design or {}, "work": work or {"kind": "none"},
            "calls": calls, "warmup": warmup, "inflight": inflight, "threads": 4, "loop_cpu": -1,
            "worker_cpu": -1, "pool_cpus": [], "stall_timeout_ms": 10000}


class WorkArithmetic(unittest.TestCase):
    """The C++ side's arguments, results and picks, bit for bit."""

    # From src/base/mix.hpp and src/base/work.cpp, computed by the C++ side.
    VECTORS = [  # seq, arg, result, mix64(arg ^ fail salt)
        (0, 0xE220A8397B1DCDAF, 0x0C7ADD33C17300D9, 0x04EAF0597B76FE91),
        (1, 0x910A2DEC89025CC1, 0xEEACDCEC18B534A0, 0x5C9EBF6E30871443),
        (1000, 0x3C1EBA8B4DCCC148, 0x02FF8388C68AFF3D, 0xD16F500C0448ABE4),
    ]

    def test_vectors_match_the_cpp_side(self):
        for seq, arg, result, fail_hash in self.VECTORS:
            self.assertEqual(argument_for(seq), arg)
            self.assertEqual(expected_result(arg), result)
            self.assertEqual(mix64(arg ^ FAIL_SALT), fail_hash)

    def test_mix64_stays_64_bits(self):
        for x in (0, 1, (1 << 64) - 1, 0x8000000000000000):
            self.assertLess(mix64(x), 1 << 64)
        self.assertEqual(mix64(0), 0)

    def test_picked_shares(self):
        arg = argument_for(5)
        self.assertFalse(picked(arg, 0, FAIL_SALT))
        self.assertTrue(picked(arg, 1, FAIL_SALT))
        hits = sum(picked(argument_for(seq), 0.1, FAIL_SALT) for seq in range(20000))
        self.assertAlmostEqual(hits / 20000, 0.1, delta=0.01)
        # The C++ comparison: the hash as a double below share * 2^64.
        seq0 = self.VECTORS[0]
        self.assertEqual(picked(seq0[1], 0.5, FAIL_SALT), float(seq0[3]) < 0.5 * 2.0 ** 64)

    def test_failure_message_is_the_cpp_spelling(self):
        self.assertEqual(failure_message(0xAB), "fail:P picked the call with arg 0xab")

    def test_check_vectors_refuse_a_disagreement(self):
        work = Work()
        good = [[0, argument_for(0), expected_result(argument_for(0)), False]]
        self.assertEqual(handoff_bench.check_vectors(good, work), "")
        bad = [[0, argument_for(0), expected_result(argument_for(0)) ^ 1, False]]
        self.assertIn("disagrees", handoff_bench.check_vectors(bad, work))
        result = handoff_bench.run_request(dict(request("asyncio"), check=bad))
        self.assertFalse(result["ok"])
        self.assertIn("disagrees", result["error"])

    def test_arrival_schedules(self):
        # Fixed: the k-th at k gaps exactly (1/3 s gaps: a sum would drift).
        self.assertEqual(arrival_offsets(4, 3.0), [0, 333333333, 666666666, 1000000000])
        fixed = arrival_offsets(300000, 3.0)
        self.assertEqual(fixed[-1], int(299999 * (1e9 / 3.0)))
        # Poisson: exponential gaps of the mean, the same for a seed, another for another.
        offsets = arrival_offsets(20001, 1000.0, "poisson", 3)
        gaps = [b - a for a, b in zip(offsets, offsets[1:])]
        mean = sum(gaps) / len(gaps)
        self.assertAlmostEqual(mean, 1e6, delta=3e4)  # 20,000 gaps: within 3%
        self.assertAlmostEqual((sum((g - mean) ** 2 for g in gaps) / len(gaps)) ** 0.5, mean, delta=0.05 * mean)
        self.assertEqual(offsets, arrival_offsets(20001, 1000.0, "poisson", 3))
        self.assertNotEqual(offsets, arrival_offsets(20001, 1000.0, "poisson", 4))
        # A run refuses a schedule that is not the C++ side's.
        req = dict(request("asyncio"), rate=1000.0, arrival="poisson", seed=3, arrival_check=offsets[:4])
        self.assertEqual(handoff_bench.check_vectors([], Work(), req), "")
        req["arrival_check"] = [0, 1, 2, 3]
        result = handoff_bench.run_request(req)
        self.assertFalse(result["ok"])
        self.assertIn("arrival schedule disagrees", result["error"])


class WorkPerform(unittest.TestCase):
    def test_each_kind_returns_the_expected_result(self):
        for kind in ("none", "sleep0", "yield", "syscall"):
            perform = Work(kind).performer()
            for seq in range(5):
                arg = argument_for(seq)
                self.assertEqual(perform(arg), expected_result(arg), kind)

    def test_fail_raises_exactly_for_the_picked_calls(self):
        work = Work("none", fail_share=0.3)
        perform = work.performer()
        raised = 0
        for seq in range(300):
            arg = argument_for(seq)
            if work.must_fail(arg):
                with self.assertRaises(WorkFailure) as caught:
                    perform(arg)
                self.assertEqual(str(caught.exception), failure_message(arg))
                raised += 1
            else:
                self.assertEqual(perform(arg), expected_result(arg))
        self.assertGreater(raised, 50)

    def test_slow_sleeps_for_the_picked_calls(self):
        work = Work("none", slow_share=1.0, slow_ns=2_000_000)
        start = time.monotonic()
        work.performer()(argument_for(1))
        self.assertGreaterEqual(time.monotonic() - start, 0.002)

    def test_spin_uses_the_threads_cpu(self):
        start = time.clock_gettime_ns(time.CLOCK_THREAD_CPUTIME_ID)
        Work("spin", duration_ns=3_000_000).performer()(argument_for(1))
        used = time.clock_gettime_ns(time.CLOCK_THREAD_CPUTIME_ID) - start
        self.assertGreaterEqual(used, 3_000_000)
        self.assertLess(used, 30_000_000)

    def test_sleep_sleeps(self):
        start = time.monotonic()
        Work("sleep", duration_ns=2_000_000).performer()(argument_for(1))
        self.assertGreaterEqual(time.monotonic() - start, 0.002)


class Interval(unittest.TestCase):
    def test_another_threads_clock_is_read_by_its_id(self):
        tid = threading.get_native_id()
        before = time.clock_gettime_ns(time.CLOCK_THREAD_CPUTIME_ID)
        mine = handoff_measure.thread_cpu_ns(tid)
        self.assertGreaterEqual(mine, before)
        self.assertIsNone(handoff_measure.thread_cpu_ns(2 ** 22 + 12345))

    def test_a_spinning_worker_is_counted_in_total_and_worker(self):
        ready, go, done = threading.Event(), threading.Event(), threading.Event()
        tids = []

        def spin():
            tids.append(threading.get_native_id())
            ready.set()
            go.wait()
            Work("spin", duration_ns=20_000_000).performer()(1)
            done.set()
            time.sleep(0.05)  # alive at the interval's end

        thread = threading.Thread(target=spin)
        thread.start()
        ready.wait()
        loop_tid = threading.get_native_id()
        start = handoff_measure.open_interval(loop_tid)
        go.set()
        done.wait()
        end = handoff_measure.close_interval(start, tids)
        figures = handoff_measure.measure(start, end, tids, 1)
        thread.join()
        self.assertGreaterEqual(figures["cpu_worker_ns"], 20_000_000)
        self.assertGreaterEqual(figures["cpu_total_ns"], figures["cpu_loop_ns"] + figures["cpu_worker_ns"])
        self.assertGreaterEqual(figures["wall_ns"], figures["cpu_loop_ns"])
        self.assertEqual(figures["worker_threads"], 1)
        self.assertEqual(figures["cpu_total_caveat"], "")

    def test_a_thread_born_inside_counts_from_zero(self):
        loop_tid = threading.get_native_id()
        start = handoff_measure.open_interval(loop_tid)
        tids, go_on = [], threading.Event()

        def born():
            tids.append(threading.get_native_id())
            Work("spin", duration_ns=5_000_000).performer()(1)
            go_on.wait()

        thread = threading.Thread(target=born)
        thread.start()
        while not tids:
            time.sleep(0.001)
        time.sleep(0.02)
        end = handoff_measure.close_interval(start, tids)
        go_on.set()
        thread.join()
        figures = handoff_measure.measure(start, end, tids, 1)
        self.assertGreaterEqual(figures["cpu_worker_ns"], 5_000_000)

    def test_a_thread_that_ended_inside_is_a_caveat(self):
        gone = threading.Thread(target=lambda: time.sleep(0.02))
        gone.start()
        time.sleep(0.005)
        start = handoff_measure.open_interval(threading.get_native_id())
        gone.join()
        end = handoff_measure.close_interval(start, [])
        figures = handoff_measure.measure(start, end, [], 1)
        self.assertIn("ended inside the interval", figures["cpu_total_caveat"])

    def test_switches_are_read(self):
        self.assertIsNotNone(handoff_measure.thread_switches(threading.get_native_id()))
        self.assertEqual(len(handoff_measure.this_thread_switches()), 2)


class Queues(unittest.TestCase):
    """The gated waits lose no request and no result, whatever the timing."""

    def _pump(self, design_spec, count=3000):
        design = Design(design_spec)
        requests = RequestQueue(design)
        delivered = []
        gate = ResultGate(delivered.append)
        taken = []

        def worker():
            while True:
                for item in requests.take():
                    if item is None:
                        return
                    taken.append(item)
                    gate.push(item)

        thread = threading.Thread(target=worker)
        thread.start()
        for i in range(count):
            requests.put(i)
            if i % 7 == 0:
                time.sleep(0)
            # The loop's side of the gate: drain whenever the eventfd says so.
            try:
                os.eventfd_read(gate.efd)
                gate.on_readable()
            except BlockingIOError:
                pass
        requests.put(None)
        thread.join()
        deadline = time.monotonic() + 5
        while len(delivered) < count and time.monotonic() < deadline:
            gate.on_readable()
        requests.close()
        gate.close()
        self.assertEqual(taken, list(range(count)))
        self.assertEqual(delivered, list(range(count)))

    def test_simple_queue(self):
        self._pump({"wait": "condvar", "batch": True})

    def test_eventfd(self):
        self._pump({"wait": "eventfd"})

    def test_spin_park(self):
        self._pump({"wait": "spin-park", "worker_spin_ns": 20000})

    def test_designs_outside_python_are_refused(self):
        with self.assertRaises(ValueError):
            Design({"wait": "futex"})


class Watchdog(unittest.TestCase):
    def test_a_stall_is_reported_with_the_outstanding_calls(self):
        class Stuck:
            delivered = 3

            def outstanding(self):
                return [7, 9]

        emitted, exited = [], threading.Event()
        watchdog = handoff_bench.Watchdog(Stuck(), 150, emitted.append, exit=lambda status: exited.set())
        watchdog.start()
        self.assertTrue(exited.wait(5))
        watchdog.stop()
        self.assertFalse(emitted[0]["ok"])
        self.assertIn("lost wake-up", emitted[0]["error"])
        self.assertIn("seq 7, 9", emitted[0]["error"])

    def test_progress_lines(self):
        read, write = os.pipe()

        class Moving:
            delivered = 0

            def outstanding(self):
                return []

        watchdog = handoff_bench.Watchdog(Moving(), 10000, lambda result: None, progress_fd=write)
        watchdog.start()
        time.sleep(0.25)
        watchdog.stop()
        watchdog.progress.close()
        lines = os.read(read, 1000).decode().split()
        os.close(read)
        self.assertGreaterEqual(len(lines), 1)
        self.assertEqual(lines[0], "0")


class Probe(unittest.TestCase):
    def test_a_missing_module_is_named(self):
        saved = sys.modules.get("trio")
        sys.modules["trio"] = None  # import trio now raises ImportError
        try:
            found = handoff_bench.probe()
        finally:
            if saved is None:
                del sys.modules["trio"]
            else:
                sys.modules["trio"] = saved
        self.assertIn("trio", found["missing"])
        self.assertNotIn("trio", found["modules"])
        self.assertEqual(found["python"], sys.version.split()[0])


class FrameworkRuns:
    """Every target and design of one framework: N calls, each exactly once,
    every result checked (run_request fails the row otherwise)."""

    framework = None

    def setUp(self):
        if not available(self.framework):
            self.skipTest(f"{self.framework}: {', '.join(MODULES[self.framework])} not importable")

    def check(self, req):
        result = handoff_bench.run_request(req)
        self.assertTrue(result["ok"], result.get("error"))
        self.assertEqual(result["errors"], 0)
        self.assertEqual(result["calls"], req["calls"])
        self.assertEqual(len(result["latencies_ns"]), req["calls"])
        self.assertGreaterEqual(result["cpu_total_ns"], result["cpu_loop_ns"] + result["cpu_worker_ns"])
        self.assertGreaterEqual(result["wall_ns"], result["cpu_loop_ns"])
        json.dumps(result)  # what the C++ side reads
        return result

    def test_dedicated_classic(self):
        result = self.check(request(self.framework))
        self.assertEqual(result["worker_threads"], 1)
        self.assertEqual(result["cpu_known_calls"], 200)

    def test_pool(self):
        self.check(request(self.framework, "pool"))
        # worker_threads is not checked here: trio's thread cache is
        # process-wide, so a pool thread an earlier test made is reused and is
        # not this row's (in handoff every row has a process of its own:
        # tests/test_python.cpp checks it there).

    def test_inline(self):
        result = self.check(request(self.framework, "inline"))
        self.assertEqual(result["worker_threads"], 0)
        self.assertEqual(result["cpu_worker_ns"], 0)

    def test_open_loop_at_a_rate(self):
        work = {"kind": "none", "fail_share": 0.1}
        for inflight, arrival in ((1, "fixed"), (4, "poisson")):
            req = request(self.framework, work=work, inflight=inflight)
            req.update({"rate": 20000, "arrival": arrival, "seed": 7})
            result = self.check(req)
            # The measured calls' last intended time is inside the interval.
            self.assertGreaterEqual(result["wall_ns"], arrival_offsets(200, 20000, arrival, 7)[-1])

    def test_designs_at_inflight_16_with_failures(self):
        work = {"kind": "none", "fail_share": 0.1}
        expected_failures = sum(Work(**{"fail_share": 0.1}).must_fail(argument_for(seq)) for seq in range(20, 220))
        for design in ({}, {"wake": "gated", "batch": True}, {"wait": "eventfd", "wake": "gated"},
                       {"wait": "spin-park", "worker_spin_ns": 10000, "wake": "gated"}):
            result = self.check(request(self.framework, design=design, work=work, inflight=16))
            self.assertEqual(result["failed_calls"], expected_failures, design)
        for target in ("pool", "inline"):
            result = self.check(request(self.framework, target, work=work, inflight=16))
            self.assertEqual(result["failed_calls"], expected_failures, target)


def _framework_case(name):
    class_name = "Runs" + "".join(part.capitalize() for part in name.split("-"))
    return type(class_name, (FrameworkRuns, unittest.TestCase), {"framework": name})


for _name in FRAMEWORKS:
    _case = _framework_case(_name)
    globals()[_case.__name__] = _case
del _name, _case


if __name__ == "__main__":
    unittest.main()
