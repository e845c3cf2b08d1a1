"""Lanes: side streams of a group's stream, each driven by a host thread of its own, for image libraries that
decode one call at a time and spend host time inside it (nvJPEG's hardware engines, nvJPEG2000's parse and
decode): calls on different lanes run side by side on the host (ctypes lets go of the GIL) and on the GPU."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import cupy as cp

from .streams import side_streams

__all__ = ["run_on_lanes"]

T = TypeVar("T")


@functools.cache
def _threads(count: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(count, thread_name_prefix="tiffstream-lane")


def run_on_lanes(stream: cp.cuda.Stream, calls: list[Callable[[int, cp.cuda.Stream], T]]) -> list[T]:
    """Run ``calls[k](k, lane_stream)`` for every lane k at once, each on a thread and a side stream of its own
    that starts after the work queued on ``stream`` so far; ``stream`` then waits for every lane. Returns the
    calls' results (a call that raises fails the whole)."""
    device = cp.cuda.Device().id
    side = side_streams(device, stream.ptr, len(calls))
    ready = cp.cuda.Event(disable_timing=True)
    ready.record(stream)

    def lane(number: int) -> T:
        with cp.cuda.Device(device):
            side[number].wait_event(ready)
            return calls[number](number, side[number])

    if len(calls) == 1:
        results = [lane(0)]
    else:
        results = list(_threads(len(calls)).map(lane, range(len(calls))))
    for lane_stream in side:
        done = cp.cuda.Event(disable_timing=True)
        done.record(lane_stream)
        stream.wait_event(done)
    return results
