"""Group: images decoded together on one stream, with every buffer they use until the group is checked.

A group moves through explicit states: ``READING`` (closed: columns and outputs made, its chunk reads still
running in the background), ``QUEUED`` (upload and every kernel queued on its stream; its pinned staging is
back in the pool, reusable once the stream gets there), ``CHECKED`` (the GPU finished it, failures raised,
buffers released). Failures are recorded as device arrays in ``checks`` and read only when it is checked.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from .pinned import Uploads, pinned_pool
from .reads import PendingReads
from .staging import stage

if TYPE_CHECKING:
    from ..errors import TiffError
    from .columns import ChunkColumns, Placements
    from .job import GpuJob
    from .settings import GpuSettings
    from .staging import Staged

__all__ = ["Check", "Group", "GroupState", "start_group"]


class GroupState(enum.Enum):
    READING = "reading"
    QUEUED = "queued"
    CHECKED = "checked"


@dataclass
class Check:
    """Chunks ``first:stop`` of the columns were decompressed as ``kind``; ``status``: nvcomp's per-chunk
    statuses on the device (None for our kernels, which report through the decoded sizes)."""

    kind: str
    first: int
    stop: int
    status: cp.ndarray | None


@dataclass
class Group:
    """Images decoded together on ``stream`` (module docstring)."""

    jobs: list[GpuJob]
    stream: cp.cuda.Stream
    staged: list[Staged]  # where the jobs' chunks are in the group's buffer, in order
    reads: PendingReads | None  # chunk reads in the background, until the group is queued
    state: GroupState = GroupState.READING
    columns: ChunkColumns | None = None
    placements: Placements | None = None
    keep: list[Any] = field(default_factory=list)  # device buffers the queued work uses
    sizes: cp.ndarray | None = None  # bytes each chunk decoded to (device; -1 where it failed)
    rows: cp.ndarray | None = None  # whole rows each chunk decoded to (device)
    checks: list[Check] = field(default_factory=list)
    errors: dict[int, TiffError] = field(default_factory=dict)  # column row -> why it failed on the host
    uploads: Uploads = field(default_factory=Uploads)
    # pinned blocks and the event after which they are free: their upload's, or None for blocks the group's
    # own work reads (nvJPEG reads chunk bytes from host memory), free once the group's stream gets there
    pinned: list[tuple[Any, cp.cuda.Event | None]] = field(default_factory=list)

    @property
    def col(self) -> ChunkColumns:
        assert self.columns is not None, "the group's columns are made when it closes"
        return self.columns

    @property
    def placed(self) -> Placements:
        assert self.placements is not None, "the group's placements are made when it closes"
        return self.placements

    def reads_done(self) -> bool:
        """Whether every chunk read of the group has finished (never blocks)."""
        return self.reads is None or self.reads.done()

    def up(self, values: Any, dtype: Any = np.int64) -> cp.ndarray:
        """``values`` as a device array, staged in pinned memory; copied by the next ``flush``."""
        return self.uploads(values, dtype, self.keep)

    def flush(self) -> None:
        """Queue the copies of the arrays ``up`` staged: before any kernel that reads them."""
        self.uploads.flush()

    def hold(self, array: cp.ndarray) -> cp.ndarray:
        """Keep ``array`` alive until the group is checked (queued kernels use it)."""
        self.keep.append(array)
        return array

    def mark_queued(self) -> None:
        """Everything of the group is queued (or abandoned): its pinned blocks go back to the pool, reusable
        once its stream's work is done; reads still running finish first."""
        if self.reads is not None:
            self.reads.abandon()
            self.reads = None
        done = cp.cuda.Event(disable_timing=True)
        done.record(self.stream)
        self.uploads.release(done)
        for block, event in self.pinned:
            pinned_pool().give(block, event or done)
        self.pinned.clear()
        self.state = GroupState.QUEUED

    def mark_captured(self) -> None:
        """Everything of the group is captured in a graph that replays it (``recipes.py``): queued, but its pinned
        blocks stay with it (the graph copies from them) until ``mark_queued`` lets them go."""
        self.state = GroupState.QUEUED

    def mark_checked(self) -> None:
        """The GPU is done with the group: its buffers go."""
        self.keep.clear()
        self.state = GroupState.CHECKED


def start_group(jobs: list[GpuJob], stream: cp.cuda.Stream, settings: GpuSettings) -> Group:
    """A group of ``jobs`` on ``stream`` whose reads have all been started at once."""
    reads = PendingReads(settings)
    group = Group(jobs, stream, staged=[stage(jobs, reads)] if jobs else [], reads=reads)
    reads.seal()
    return group
