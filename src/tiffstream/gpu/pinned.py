"""Pinned host memory for the GPU backend: pooled blocks (pinning fresh memory costs more than filling it)
and ``Uploads``, which stages small per-chunk descriptor arrays there and copies them up in one go. An upload
from pageable memory may wait for the stream's earlier work, which would serialise the pipeline."""

from __future__ import annotations

import ctypes
import functools
import threading
from typing import Any

import cupy as cp
import numpy as np

__all__ = ["PinnedPool", "Uploads", "pinned_pool", "to_device"]


class PinnedPool:
    """Pinned host blocks reused across groups and batches: pinning fresh memory costs more than filling it.

    Blocks come in power-of-two sizes; one given back with an event is reused once that event has completed
    (its upload is done), for a request of its size or of half of it, so a pipeline of groups cycles through
    a few blocks whatever its group sizes.
    """

    MIN_BLOCK = 1 << 16

    def __init__(self, keep_bytes: int = 1 << 30) -> None:
        self._free: list[tuple[int, Any, cp.cuda.Event | None]] = []  # (size, PinnedMemory, event)
        self._keep_bytes = keep_bytes
        self._lock = threading.Lock()

    def take(self, nbytes: int) -> tuple[Any, np.ndarray]:
        """(block, uint8 view of its first ``nbytes`` bytes); give the block back when done with it."""
        size = max(self.MIN_BLOCK, 1 << max(0, nbytes - 1).bit_length())
        block, best = None, -1
        with self._lock:
            for number, (free_size, _, event) in enumerate(self._free):
                smaller = best < 0 or free_size < self._free[best][0]
                if size <= free_size <= 2 * size and smaller and (event is None or event.done):
                    best = number
            if best >= 0:
                size, block, _ = self._free.pop(best)
        if block is None:
            block = cp.cuda.PinnedMemory(size)
        view = np.ctypeslib.as_array((ctypes.c_ubyte * size).from_address(block.ptr))
        return block, view[:nbytes]

    def give(self, block: Any, event: cp.cuda.Event | None = None) -> None:
        """Return ``block``: reusable once ``event`` (if any) has completed. Keeps at most ``keep_bytes`` free."""
        with self._lock:
            self._free.append((block.size, block, event))
            total = sum(size for size, _, _ in self._free)
            number = 0
            while total > self._keep_bytes and number < len(self._free) - 1:  # the oldest finished blocks go
                size, _, done = self._free[number]
                if done is None or done.done:
                    del self._free[number]
                    total -= size
                else:
                    number += 1


@functools.cache
def pinned_pool() -> PinnedPool:
    return PinnedPool()


def to_device(device: cp.ndarray, host: np.ndarray, stream: cp.cuda.Stream) -> None:
    """Queue a copy of ``host`` (pinned, contiguous) into ``device`` on ``stream``; the host does not wait."""
    if host.nbytes:
        kind = cp.cuda.runtime.memcpyHostToDevice
        cp.cuda.runtime.memcpyAsync(device.data.ptr, host.ctypes.data, host.nbytes, kind, stream.ptr)


class Uploads:
    """Small host arrays for the device (per-chunk descriptors), staged in pooled pinned blocks; each call
    returns a view of a device block at once, and ``flush`` queues one copy of everything staged since the
    last flush. A copy and an allocation per array cost the host more than the copies themselves take.

    Call ``flush`` on the same stream before any kernel that reads the arrays (each range is copied once, so
    kernels may write into them afterwards). From pinned memory the copies never wait for the stream's
    earlier work, as one from pageable memory may. ``release(event)`` hands the blocks back once done.
    """

    BLOCK = 1 << 18

    def __init__(self) -> None:
        self._blocks: list[Any] = []
        self._view = np.zeros(0, np.uint8)
        self._device: cp.ndarray | None = None
        self._used = 0
        self._flushed = 0

    def __call__(self, values: Any, dtype: Any, keep: list[Any]) -> cp.ndarray:
        host = np.ascontiguousarray(values, dtype=dtype)
        nbytes = host.nbytes
        if self._device is None or self._used + nbytes > len(self._view):
            self.flush()
            block, self._view = pinned_pool().take(max(self.BLOCK, nbytes))
            self._blocks.append(block)
            self._device = cp.empty(len(self._view), cp.uint8)
            keep.append(self._device)
            self._used = self._flushed = 0
        start = self._used
        self._view[start : start + nbytes] = host.reshape(-1).view(np.uint8)
        self._used += nbytes + (-nbytes % 16)
        return self._device[start : start + nbytes].view(host.dtype).reshape(host.shape)

    @property
    def nbytes(self) -> int:
        """Pinned bytes held (as many again on the device)."""
        return sum(block.size for block in self._blocks)

    def flush(self) -> None:
        """Queue the copy of what was staged since the last flush, on the current stream."""
        if self._device is not None and self._used > self._flushed:
            chunk = slice(self._flushed, self._used)
            to_device(self._device[chunk], self._view[chunk], cp.cuda.get_current_stream())
            self._flushed = self._used

    def release(self, event: cp.cuda.Event) -> None:
        for block in self._blocks:
            pinned_pool().give(block, event)
        self._blocks.clear()
        self._view, self._device, self._used, self._flushed = np.zeros(0, np.uint8), None, 0, 0
