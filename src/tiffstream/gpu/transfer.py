"""Host-to-device traffic of the GPU backend, none of which blocks the host on the GPU.

Chunk bytes are read with parallel positioned reads into pooled pinned blocks, in the background while the
host builds the next plans (a group's reads start a few MiB at a time as its images come, so they are mostly
done when it closes), and uploaded on a copy stream of their own, so one group's reads and upload overlap the
planning of the next and the decoding of the previous one. Small per-chunk descriptor columns go up through
pinned memory too, staged and copied once before the kernels that read them: an upload from pageable memory
may wait for the stream's earlier work, which would serialise the pipeline.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from . import aio

if TYPE_CHECKING:
    from ..source import ByteSource

__all__ = [
    "PendingReads",
    "PinnedPool",
    "Uploads",
    "copy_stream",
    "pinned_pool",
    "to_device",
    "worker_streams",
]

_READ_THREADS = max(1, min(8, os.cpu_count() or 1))  # 8 kept pace with 16 on an H200 host (16 cores)
_PIECE = 4 << 20  # reads are cut into pieces of at most this many bytes, spread over the descriptors
NATIVE_READS = True  # local files on glibc's AIO threads where available (False: our read threads, to compare)
SPREAD_BYTES = 2 << 20  # consecutive reads of one ``add`` share a descriptor (so a thread) up to this many bytes
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


_Piece = tuple["ByteSource", int, int, np.ndarray, int]  # (source, file offset, nbytes, block bytes, position)


@dataclass
class _Block:
    """A pinned block of a group's chunk bytes: ``used`` of them, at ``position`` in the group's buffer."""

    pinned: Any
    view: np.ndarray
    position: int
    used: int = 0


class PendingReads:
    """One group's chunk bytes, read in the background into pooled pinned blocks as its images are added.

    ``add`` reserves room for some images' read runs and starts them at once: local files on glibc's AIO
    threads (no GIL), so by the time the group closes most of its bytes are in; other sources are read on our
    read threads once the group is ``seal``-ed (each thread takes the GIL after every read, which would slow
    the host while it plans). ``done()`` never blocks; ``wait()`` blocks until every read has finished and
    re-raises the first read's error; ``upload`` then queues the copies to the device. Positions are offsets
    into the group's device buffer: the blocks lie there one after another.
    """

    BLOCK = 32 << 20  # a pinned block holds this many bytes of chunks (or one ``add``'s, when larger): a few
    # of the backend's 8 MiB (and up) additions, so blocks are mostly full and a group uploads in few copies

    def __init__(self) -> None:
        self._blocks: list[_Block] = []
        self._native: aio.AioReads | None = None
        self._pieces: list[_Piece] = []  # native reads started, to complete short ones
        self._deferred: list[_Piece] = []  # for the read threads
        self._futures: list[Future[None]] = []
        self._turn = 0  # which duplicate descriptor the next native read uses
        self._handed = False  # the blocks went to ``upload``'s caller

    @property
    def nbytes(self) -> int:
        """Bytes reserved so far (the size of the group's device buffer)."""
        return self._blocks[-1].position + self._blocks[-1].used if self._blocks else 0

    def add(self, source: ByteSource, runs: list[tuple[int, int, int]], footprint: int) -> int:
        """Reserve ``footprint`` bytes for some images' chunks and start their ``runs`` (file offset, nbytes,
        position in the footprint); returns where the footprint starts in the group's buffer."""
        if not self._blocks or len(self._blocks[-1].view) - self._blocks[-1].used < footprint:
            self._blocks.append(_Block(*pinned_pool().take(max(self.BLOCK, footprint)), self.nbytes))
        last = self._blocks[-1]
        view, offset = last.view, last.used
        last.used += footprint
        base = last.position + offset
        pieces = [
            (source, begin + k, min(_PIECE, nbytes - k), view, offset + at + k)
            for begin, nbytes, at in runs
            for k in range(0, nbytes, _PIECE)
        ]
        fds = source.descriptors(_READ_THREADS) if NATIVE_READS and aio.available() else None
        if fds is None:
            self._deferred += pieces
            return base
        self._start(fds, pieces)
        return base

    def _start(self, fds: list[int], pieces: list[_Piece]) -> None:
        """Start native reads, spread over the descriptors ``SPREAD_BYTES`` at a time: glibc runs one
        descriptor's reads one after another on one of its threads, so a few MiB wake one thread."""
        native, spread = [], 0
        for _, begin, nbytes, view, at in pieces:
            native.append((fds[self._turn % len(fds)], begin, nbytes, view.ctypes.data + at))
            spread += nbytes
            if spread >= SPREAD_BYTES:
                self._turn, spread = self._turn + 1, 0
        self._turn += spread > 0
        if self._native is None:
            self._native = aio.AioReads()
        self._pieces += pieces
        self._native.submit(native)

    def seal(self) -> None:
        """No more images: start the reads that wait for the read threads (one run of pieces a thread)."""
        pieces, self._deferred = self._deferred, []
        if not pieces:
            return

        def read_all(selected: list[_Piece]) -> None:
            for entry in selected:
                _read_piece(*entry)

        ends = np.cumsum([entry[2] for entry in pieces])
        cuts = np.searchsorted(ends, np.linspace(0, ends[-1], min(_READ_THREADS, len(pieces)) + 1)[1:-1])
        runs = [pieces[a:b] for a, b in zip([0, *cuts], [*cuts, len(pieces)]) if b > a]
        self._futures += [_pool().submit(read_all, run) for run in runs]

    def done(self) -> bool:
        return (
            not self._deferred
            and (self._native is None or self._native.done())
            and all(future.done() for future in self._futures)
        )

    def wait(self) -> None:
        """Block until every read is done; re-raises the first failure (the blocks are then given back)."""
        self.seal()
        try:
            for future in self._futures:
                future.result()
            if self._native is not None:
                for got, (source, begin, nbytes, view, at) in zip(self._native.wait(), self._pieces):
                    if got < nbytes:  # a short read: the rest the usual way (zeros past the end of the file)
                        _read_piece(source, begin + got, nbytes - got, view, at + got)
        except BaseException:
            self.abandon()
            raise

    def bytes_at(self, positions: np.ndarray, count: int) -> np.ndarray:
        """The ``count`` bytes at each position of the group's buffer (after ``wait``), uint8 (n, count);
        zeros past the end."""
        out = np.zeros((len(positions), count), np.uint8)
        if not self._blocks or not len(positions):
            return out
        starts = np.array([block.position for block in self._blocks], np.int64)
        which = np.searchsorted(starts, positions, side="right") - 1
        for number, block in enumerate(self._blocks):
            mine = np.flatnonzero(which == number)
            for k in range(count):
                at = positions[mine] - block.position + k
                inside = at < block.used
                out[mine[inside], k] = block.view[at[inside]]
        return out

    def upload(self, device: cp.ndarray, stream: cp.cuda.Stream) -> list[Any]:
        """Queue the copies of every block into ``device`` on ``stream`` (after ``wait``); returns the
        blocks, which the caller gives back to the pool with an event recorded after the copies."""
        for block in self._blocks:
            to_device(device[block.position : block.position + block.used], block.view[: block.used], stream)
        handed, self._handed = [block.pinned for block in self._blocks], True
        return handed

    def abandon(self) -> None:
        """Let the reads finish (their errors do not matter any more) and give the blocks back."""
        self._deferred = []
        wait_all(self._futures)
        if self._native is not None:
            try:
                self._native.wait()
            except OSError:
                pass
        if not self._handed:
            for block in self._blocks:
                pinned_pool().give(block.pinned)
        self._blocks = []


def _read_piece(source: ByteSource, begin: int, nbytes: int, view: np.ndarray, at: int) -> None:
    got = source.read_into(begin, view.data[at : at + nbytes])
    if got < nbytes:
        view[at + got : at + nbytes] = 0
