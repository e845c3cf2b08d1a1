"""Shared timing helpers for the benchmarks: warm-up, budget-sized repeats, median, a printed table."""

from __future__ import annotations

import platform
import statistics
import time
from collections.abc import Callable


def measure(func: Callable[[], object], *, budget: float = 1.0, min_repeats: int = 5, max_repeats: int = 2000) -> float:
    """Median seconds of ``func()`` after one warm-up call, repeated to fill about ``budget`` seconds."""
    func()
    start = time.perf_counter()
    func()
    first = time.perf_counter() - start
    repeats = max(min_repeats, min(max_repeats, int(budget / max(first, 1e-7))))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def best(func: Callable[[], object], repeats: int) -> float:
    """Fewest seconds of ``repeats`` calls of ``func()`` (no warm-up: call it first where one is wanted)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def fmt_seconds(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.2f} s "


def print_table(rows: list[tuple[str, float, float]], peer: str) -> None:
    """Rows of (case, peer seconds, our seconds); ratio = peer / ours (> 1: we are faster)."""
    width = max(len(r[0]) for r in rows)
    print(f"{'case':<{width}}  {peer:>11}  {'tiffstream':>11}  ratio")
    for case, theirs, ours in rows:
        print(f"{case:<{width}}  {fmt_seconds(theirs)}  {fmt_seconds(ours)}  {theirs / ours:6.1f}x")


def machine() -> str:
    import os

    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
