"""Chunk bytes read for the GPU, in the background, into pooled pinned blocks, then uploaded.

A group's reads start a few MiB at a time as its images come, so they are mostly done when it closes; local
files are read on glibc's AIO threads (``aio.py``: no GIL), other sources on Python threads once the group is
sealed. The blocks are uploaded on the copy stream, so one group's reads and upload overlap the planning of
the next and the decoding of the previous one.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from . import aio
from .pinned import pinned_pool, to_device

if TYPE_CHECKING:
    from ..source import ByteSource
    from .settings import GpuSettings

__all__ = ["PendingReads", "read_now"]

_PIECE = 4 << 20  # reads are cut into pieces of at most this many bytes, spread over the descriptors
_MIN_PIECE = 256 << 10  # a small addition (a batch of one image) is cut into pieces down to this size
_NOW_PIECE = 1 << 20  # reads waited for at once: 3 MB took 0.19 ms on one thread, 0.16 on 4, 0.25 on 8 (H100 host)


@functools.cache
def _read_pool(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(threads, thread_name_prefix="tiffstream-read")


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

    def __init__(self, settings: GpuSettings) -> None:
        self._settings = settings
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
            self._blocks.append(
                _Block(*pinned_pool().take(max(self._settings.read_block_bytes, footprint)), self.nbytes)
            )
        last = self._blocks[-1]
        view, offset = last.view, last.used
        last.used += footprint
        base = last.position + offset
        threads = self._settings.read_threads
        # a few MiB read by one thread take longer than the GPU needs for them: an addition smaller than a
        # stage (one image, the last images of a batch) is shared out over every read thread
        small = footprint < self._settings.stage_bytes
        piece = min(_PIECE, max(_MIN_PIECE, -(-footprint // threads))) if small else _PIECE
        pieces = [
            (source, begin + k, min(piece, nbytes - k), view, offset + at + k)
            for begin, nbytes, at in runs
            for k in range(0, nbytes, piece)
        ]
        fds = source.descriptors(threads) if self._settings.native_reads and aio.available() else None
        if fds is None:
            self._deferred += pieces
            return base
        self._start(fds, pieces, piece if small else self._settings.spread_bytes)
        return base

    def _start(self, fds: list[int], pieces: list[_Piece], spread_bytes: int) -> None:
        """Start native reads, spread over the descriptors ``spread_bytes`` at a time: glibc runs one
        descriptor's reads one after another on one of its threads, so a few MiB wake one thread."""
        native, spread = [], 0
        for _, begin, nbytes, view, at in pieces:
            native.append((fds[self._turn % len(fds)], begin, nbytes, view.ctypes.data + at))
            spread += nbytes
            if spread >= spread_bytes:
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

        ends = np.cumsum([entry[2] for entry in pieces])
        cuts = np.searchsorted(ends, np.linspace(0, ends[-1], min(self._settings.read_threads, len(pieces)) + 1)[1:-1])
        runs = [pieces[a:b] for a, b in zip([0, *cuts], [*cuts, len(pieces)]) if b > a]
        pool = _read_pool(self._settings.read_threads)
        self._futures += [pool.submit(_read_all, run) for run in runs]

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
        zeros past the end of the block that holds the position."""
        out = np.zeros((len(positions), count), np.uint8)
        if not self._blocks or not len(positions):
            return out
        which = self._block_of(positions)
        steps = np.arange(count, dtype=np.int64)
        for number, block in enumerate(self._blocks):
            mine = np.flatnonzero(which == number)
            if not len(mine):
                continue
            at = (positions[mine] - block.position)[:, None] + steps
            inside = at < block.used
            out[mine] = np.where(inside, block.view[np.minimum(at, max(block.used - 1, 0))], 0)
        return out

    def host_addresses(self, positions: np.ndarray) -> np.ndarray:
        """Host address of each position of the group's buffer (after ``wait``; valid until the blocks are
        given back): for libraries that read chunk bytes from host memory themselves (nvJPEG)."""
        starts = np.array([block.position for block in self._blocks], np.int64)
        bases = np.array([block.view.ctypes.data for block in self._blocks], np.int64)
        which = self._block_of(positions)
        return (bases[which] + positions - starts[which]).astype(np.uint64)

    def host_view(self, position: int, nbytes: int) -> np.ndarray:
        """The ``nbytes`` at ``position`` of the group's buffer (after ``wait``), as a view of its block."""
        block = self._blocks[int(self._block_of(np.array([position]))[0])]
        return block.view[position - block.position : position - block.position + nbytes]

    def _block_of(self, positions: np.ndarray) -> np.ndarray:
        """Which block holds each position of the group's buffer (the blocks lie one after another)."""
        starts = np.array([block.position for block in self._blocks], np.int64)
        return np.searchsorted(starts, positions, side="right") - 1

    def upload(self, device: cp.ndarray, stream: cp.cuda.Stream) -> list[Any]:
        """Queue the copies of every block into ``device`` on ``stream`` (after ``wait``); returns the
        blocks, which the caller gives back to the pool with an event recorded after the copies."""
        for block in self._blocks:
            to_device(device[block.position : block.position + block.used], block.view[: block.used], stream)
        return self.hand_over()

    def hand_over(self) -> list[Any]:
        """The blocks (after ``wait``), for a caller that reads them on the host and gives them back itself."""
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


def read_now(
    source: ByteSource,
    runs: list[tuple[int, int, np.ndarray]],
    threads: int,
    then: Callable[[int, int, int], None] | None = None,
) -> None:
    """Read each run (file offset, nbytes, host buffer) of ``source`` now, shared out over ``threads`` threads
    in parts of at least ``_NOW_PIECE`` bytes (this thread reads the first part); zeros past the end of the file.
    ``then(run, at, nbytes)``, on the thread that read them, once bytes ``at:at + nbytes`` of run ``run`` are in
    (to start their upload while the rest is read)."""
    total = sum(nbytes for _, nbytes, _ in runs)
    step = max(_NOW_PIECE, -(-total // threads))
    parts: list[list[tuple[int, int, int]]] = [[]]  # (run, at, nbytes)
    filled = 0
    for number, (_, nbytes, _) in enumerate(runs):
        for at in range(0, nbytes, step):
            size = min(step, nbytes - at)
            if filled >= step:
                parts.append([])
                filled = 0
            parts[-1].append((number, at, size))
            filled += size

    def read_part(part: list[tuple[int, int, int]]) -> None:
        for number, at, size in part:
            begin, _, view = runs[number]
            _read_piece(source, begin + at, size, view, at)
            if then is not None:
                then(number, at, size)

    futures = [_read_pool(threads).submit(read_part, part) for part in parts[1:]]
    read_part(parts[0])
    for future in futures:
        future.result()


def _read_all(pieces: list[_Piece]) -> None:
    for piece in pieces:
        _read_piece(*piece)


def _read_piece(source: ByteSource, begin: int, nbytes: int, view: np.ndarray, at: int) -> None:
    got = source.read_into(begin, view.data[at : at + nbytes])
    if got < nbytes:
        view[at + got : at + nbytes] = 0
