"""Host-to-device traffic of the GPU backend, none of which blocks the host on the GPU.

Chunk bytes are read with parallel positioned reads into pinned memory, in the background while the host
builds the next plans, and uploaded on a copy stream of their own, so one group's reads and upload overlap
the planning of the next and the decoding of the previous one. Small per-chunk
descriptor columns go up through pinned memory too: an upload from pageable memory may wait for the
stream's earlier work, which would serialise the pipeline.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from . import aio

if TYPE_CHECKING:
    from ..source import ByteSource

__all__ = [
    "PendingReads",
    "PinnedPool",
    "Read",
    "Uploads",
    "copy_stream",
    "pinned_pool",
    "start_reads",
    "to_device",
    "worker_streams",
]

Read = tuple["ByteSource", int, int, int]  # (source, file offset, nbytes, position in the staging buffer)

_READ_THREADS = max(1, min(8, os.cpu_count() or 1))  # 8 kept pace with 16 on an H200 host (16 cores)
_MIN_PIECE = 1 << 20
NATIVE_READS = True  # local files on glibc's AIO threads where available (False: our read threads, to compare)
WORKER_STREAMS = 4  # groups take turns on these, so up to 4 decompress at once (2 kept an H200 half idle on deflate)


@functools.cache
def worker_streams(device: int) -> tuple[cp.cuda.Stream, ...]:
    """The non-blocking streams that decode groups on ``device`` (created once)."""
    with cp.cuda.Device(device):
        return tuple(cp.cuda.Stream(non_blocking=True) for _ in range(WORKER_STREAMS))


@functools.cache
def copy_stream(device: int) -> cp.cuda.Stream:
    """The non-blocking stream that uploads chunk bytes on ``device`` (created once)."""
    with cp.cuda.Device(device):
        return cp.cuda.Stream(non_blocking=True)


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(_READ_THREADS, thread_name_prefix="tiffstream-read")


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
    """Small host arrays copied to the device on one stream, staged in pooled pinned blocks.

    An upload from pageable memory may wait for the stream's earlier work, which would serialise the
    pipeline; these never wait. ``release(event)`` hands the blocks back once the copies are done.
    """

    BLOCK = 1 << 18

    def __init__(self) -> None:
        self._blocks: list[Any] = []
        self._view = np.zeros(0, np.uint8)
        self._used = 0

    def __call__(self, values: Any, dtype: Any, keep: list[Any]) -> cp.ndarray:
        host = np.ascontiguousarray(values, dtype=dtype)
        nbytes = host.nbytes
        if self._used + nbytes > len(self._view):
            block, self._view = pinned_pool().take(max(self.BLOCK, nbytes))
            self._blocks.append(block)
            self._used = 0
        staged = self._view[self._used : self._used + nbytes]
        self._used += nbytes + (-nbytes % 16)
        staged[:] = host.reshape(-1).view(np.uint8)
        device = cp.empty(host.shape, host.dtype)
        to_device(device, staged, cp.cuda.get_current_stream())
        keep.append(device)
        return device

    def release(self, event: cp.cuda.Event) -> None:
        for block in self._blocks:
            pinned_pool().give(block, event)
        self._blocks.clear()
        self._view, self._used = np.zeros(0, np.uint8), 0


class PendingReads:
    """Reads of one group running in the background (glibc's AIO threads, else our read threads) into a
    pooled pinned block.

    ``done()`` never blocks; ``wait()`` blocks until every read has finished, re-raises the first read's
    error, and hands over the block and its bytes (once). ``abandon()`` waits too and gives the block back.
    """

    def __init__(
        self,
        block: Any,
        staging: np.ndarray,
        futures: list[Future[None]] | None = None,
        native: aio.AioReads | None = None,
        pieces: list[Read] | None = None,
    ) -> None:
        self._block: Any = block
        self.staging = staging
        self._futures = futures or []
        self._native = native
        self._pieces = pieces or []  # the native reads, to complete the short ones

    def done(self) -> bool:
        return (self._native is None or self._native.done()) and all(future.done() for future in self._futures)

    def wait(self) -> tuple[Any, np.ndarray]:
        """(block, its bytes) once all reads are done; the caller gives the block back to the pool."""
        try:
            for future in self._futures:
                future.result()
            if self._native is not None:
                for got, (source, begin, nbytes, at) in zip(self._native.wait(), self._pieces):
                    if got < nbytes:  # a short read: the rest the usual way (zeros past the end of the file)
                        _read_piece(self.staging, source, begin + got, nbytes - got, at + got)
        except BaseException:
            self.abandon()
            raise
        block, self._block = self._block, None
        return block, self.staging

    def abandon(self) -> None:
        """Let the reads finish (their errors do not matter any more) and give the block back."""
        wait_all(self._futures)
        if self._native is not None:
            try:
                self._native.wait()
            except OSError:
                pass
        if self._block is not None:
            pinned_pool().give(self._block)
            self._block = None


def _read_piece(staging: np.ndarray, source: ByteSource, begin: int, nbytes: int, at: int) -> None:
    got = source.read_into(begin, staging.data[at : at + nbytes])
    if got < nbytes:
        staging[at + got : at + nbytes] = 0


def start_reads(reads: list[Read], total: int) -> PendingReads:
    """Start ``reads`` in the background into a pooled pinned block of ``total`` bytes; returns at once.

    The bytes are cut into about one piece a thread. Local files are read on glibc's AIO threads, which
    need no GIL; other sources (or other platforms) on our read threads, one run of pieces a thread, so each
    needs the GIL about once per group. Bytes a read could not get (a chunk cut off by the end of the file)
    are zeros: decoded as truncated.
    """
    block, staging = pinned_pool().take(total)
    piece = max(_MIN_PIECE, -(-total // _READ_THREADS))
    pieces = [
        (source, begin + k, min(piece, nbytes - k), at + k)
        for source, begin, nbytes, at in reads
        for k in range(0, max(nbytes, 1), piece)
    ]
    if not pieces:
        return PendingReads(block, staging)
    if NATIVE_READS and aio.available():
        descriptors = {id(source): source.descriptors(_READ_THREADS) for source, _, _, _ in reads}
        if all(fds is not None for fds in descriptors.values()):
            address = staging.ctypes.data
            native = [
                (descriptors[id(source)][number % _READ_THREADS], begin, nbytes, address + at)  # type: ignore[index]
                for number, (source, begin, nbytes, at) in enumerate(pieces)
            ]
            return PendingReads(block, staging, native=aio.AioReads(native), pieces=pieces)

    def read_all(selected: list[Read]) -> None:
        for entry in selected:
            _read_piece(staging, *entry)

    # runs of about equal bytes, one a thread (few futures, few GIL waits); positioned reads release the GIL
    ends = np.cumsum([entry[2] for entry in pieces])
    cuts = np.searchsorted(ends, np.linspace(0, ends[-1], min(_READ_THREADS, len(pieces)) + 1)[1:-1])
    runs = [pieces[a:b] for a, b in zip([0, *cuts], [*cuts, len(pieces)]) if b > a]
    return PendingReads(block, staging, futures=[_pool().submit(read_all, run) for run in runs])
