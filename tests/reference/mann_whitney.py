#!/usr/bin/env python3
"""Reference values for tests/test_mann_whitney.cpp, computed independently of
the C++ code: the exact p by brute force over every way of splitting the pooled
ranks (no recurrence), the normal approximation from the textbook formula.
Run: python3 tests/reference/mann_whitney.py"""
import itertools
import math


def u_statistic(a, b):
    """Pairs (x, y) with x > y, ties counting one half: the definition of U."""
    return sum(1.0 if x > y else 0.5 if x == y else 0.0 for x in a for y in b)


def exact_p(a, b):
    n1, n2 = len(a), len(b)
    u = u_statistic(a, b)
    pooled = list(range(n1 + n2))  # no ties: only the order matters
    us = []
    for chosen in itertools.combinations(pooled, n1):
        rest = [v for v in pooled if v not in chosen]
        us.append(u_statistic(chosen, rest))
    mean = n1 * n2 / 2
    extreme = sum(1 for v in us if abs(v - mean) >= abs(u - mean))
    return min(1.0, extreme / len(us))


def normal_p(a, b):
    n1, n2 = len(a), len(b)
    n = n1 + n2
    u = u_statistic(a, b)
    pooled = a + b
    ties = sum(t ** 3 - t for t in (pooled.count(v) for v in set(pooled)))
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    z = max(0.0, abs(u - n1 * n2 / 2) - 0.5) / math.sqrt(var)
    return min(1.0, math.erfc(z / math.sqrt(2)))


cases = {
    "3v3 separated": ([1, 2, 3], [4, 5, 6]),
    "5v5 separated": ([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]),
    "5v6 interleaved": ([1, 3, 5, 7, 9], [2, 4, 6, 8, 10, 12]),
    "4v7 mostly apart": ([10.5, 11.2, 12.9, 30.0], [1.0, 2.5, 3.3, 4.1, 5.2, 11.0, 6.6]),
}
for name, (a, b) in cases.items():
    print(f"{name}: U={u_statistic(a, b)} exact p={exact_p(a, b)!r}")
tied = ([1, 2, 2, 3, 3, 3, 4], [3, 4, 4, 5, 5, 6, 7, 7])
print(f"tied 7v8: U={u_statistic(*tied)} normal p={normal_p(*tied)!r}")
big = ([float(i) for i in range(30)], [i + 10.5 for i in range(30)])
print(f"30v30 shifted: U={u_statistic(*big)} normal p={normal_p(*big)!r}")
