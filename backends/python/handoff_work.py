"""What a call does (--work), and how its result is checked: the C++ side's
include/handoff/work.hpp and src/base/work.cpp, bit for bit.

Arguments, expected results and the calls that fail:P and slow:P:DUR pick
all come from mix64 (src/base/mix.hpp), so a result the loop thread checks
here is the value the C++ side would have checked. The C++ side sends a few
(seq, arg, expected) triples with every request and the run refuses to start
if this module disagrees with them (handoff_bench.check_vectors).
"""

import math
import os
import time

MASK = (1 << 64) - 1
FAIL_SALT = 0xFA11FA11FA11FA11
SLOW_SALT = 0x510E510E510E510E
RESULT_SALT = 0x5CA1AB1E
SEQ_SALT = 0x9E3779B97F4A7C15
TWO_TO_64 = 18446744073709551616.0


def mix64(x):
    """splitmix64's finaliser, on Python ints kept to 64 bits."""
    x ^= x >> 30
    x = (x * 0xBF58476D1CE4E5B9) & MASK
    x ^= x >> 27
    x = (x * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def expected_result(arg):
    return mix64(arg ^ RESULT_SALT)


def argument_for(seq):
    return mix64((seq + SEQ_SALT) & MASK)


def arrival_offsets(count, rate, kind="fixed", seed=1):
    """The intended send times of `count` calls, in ns after the phase's
    start, as the C++ side's ArrivalSchedule (run/arrival.cpp) draws them:
    fixed, the k-th at k/rate exactly (one product, no drift); poisson,
    exponential gaps of mean 1/rate from the same seeded counter."""
    mean = 1e9 / rate
    seeded = mix64(seed ^ 0x5EED5EED5EED5EED)
    offsets = [0] * count
    since = 0.0
    for k in range(count):
        offsets[k] = int(since)
        if kind == "fixed":
            since = (k + 1) * mean
        else:
            u = ((mix64((seeded + k) & MASK) >> 11) + 1) * 2.0 ** -53  # in (0, 1]: never log(0)
            since += -math.log(u) * mean
    return offsets


def picked(arg, share, salt):
    """Whether a modifier with `share` picks the call with `arg`: its salted
    hash below share * 2^64, compared as doubles exactly as C++ does
    (float() of an int rounds to nearest, as the uint64 -> double conversion)."""
    if share <= 0:
        return False
    if share >= 1:
        return True
    return float(mix64(arg ^ salt)) < share * TWO_TO_64


def failure_message(arg):
    # fmt's {:#x}: 0x and lower-case hex digits.
    return f"fail:P picked the call with arg {arg:#x}"


class WorkFailure(Exception):
    """What a call picked by fail:P raises on the thread that runs it."""

    def __init__(self, arg):
        super().__init__(failure_message(arg))
        self.arg = arg


def _thread_cpu_ns():
    return time.clock_gettime_ns(time.CLOCK_THREAD_CPUTIME_ID)


def spin_for_thread_cpu(budget_ns):
    """Busy-waits until the calling thread has used budget_ns of its own CPU
    (holding the GIL, as a CPU-bound Python function does)."""
    until = _thread_cpu_ns() + budget_ns
    while _thread_cpu_ns() < until:
        pass


class Work:
    """The parsed --work, as the C++ side sends it (Work's fields)."""

    KINDS = ("none", "sleep0", "yield", "spin", "sleep", "syscall")

    def __init__(self, kind="none", duration_ns=0, fail_share=0.0, slow_share=0.0, slow_ns=0):
        if kind not in self.KINDS:
            raise ValueError(f"unknown work kind {kind!r}")
        self.kind = kind
        self.duration_ns = int(duration_ns)
        self.fail_share = float(fail_share)
        self.slow_share = float(slow_share)
        self.slow_ns = int(slow_ns)

    @classmethod
    def from_json(cls, spec):
        return cls(spec.get("kind", "none"), spec.get("duration_ns", 0), spec.get("fail_share", 0.0),
                   spec.get("slow_share", 0.0), spec.get("slow_ns", 0))

    def must_fail(self, arg):
        return picked(arg, self.fail_share, FAIL_SALT)

    def is_slow(self, arg):
        return picked(arg, self.slow_share, SLOW_SALT)

    def longest_ns(self):
        base = self.duration_ns if self.kind in ("spin", "sleep") else 0
        return base + (self.slow_ns if self.slow_share > 0 else 0)

    def performer(self):
        """perform(arg) -> result for this work: a closure with no branch on
        the kind left in it (the call's own cost is the work's, not ours).
        Raises WorkFailure for the calls fail:P picks."""
        kind, seconds = self.kind, self.duration_ns / 1e9
        if kind == "none":
            def base(arg):
                pass
        elif kind == "sleep0":
            sleep = time.sleep

            def base(arg):
                sleep(0)  # releases the GIL and makes a real clock_nanosleep system call
        elif kind == "yield":
            sched_yield = os.sched_yield

            def base(arg):
                sched_yield()
        elif kind == "syscall":
            getppid = os.getppid

            def base(arg):
                getppid()  # one cheap system call glibc does not cache, as the C++ side's
        elif kind == "spin":
            budget = self.duration_ns

            def base(arg):
                spin_for_thread_cpu(budget)
        else:  # sleep
            sleep = time.sleep

            def base(arg):
                sleep(seconds)

        result_salt = RESULT_SALT
        plain = self.fail_share <= 0 and self.slow_share <= 0
        if plain and kind == "none":
            def perform(arg):
                return mix64(arg ^ result_salt)
            return perform
        if plain:
            def perform(arg):
                base(arg)
                return mix64(arg ^ result_salt)
            return perform

        fail_share, slow_share, slow_seconds = self.fail_share, self.slow_share, self.slow_ns / 1e9

        def perform(arg):
            if slow_share > 0 and picked(arg, slow_share, SLOW_SALT):
                time.sleep(slow_seconds)
            base(arg)
            if fail_share > 0 and picked(arg, fail_share, FAIL_SALT):
                raise WorkFailure(arg)
            return mix64(arg ^ result_salt)
        return perform
