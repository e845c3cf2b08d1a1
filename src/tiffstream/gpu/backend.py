"""Decode a batch of plans on the GPU as a pipeline of groups.

Images are added one by one (the decoder builds each plan as it goes); their chunk reads start in the
background every few MiB of them, and every few tens of MiB make a group; once its reads are done (checked at
each ``add``, never waited for while there are plans to build), its upload and kernels are queued on one of
four worker streams (``stages``). Nothing waits for the GPU until ``finish``: while the GPU decodes a group, the
next one is read and the host builds the plans after it. Groups start small (the GPU starts early) and
grow; they never shrink again towards the end of the batch: nvcomp takes as long for a few chunks as for a
thousand (each chunk is decoded by one small team of threads, ~10 MB/s), so small last groups only made the
tail longer (1.5x against 2.2x nvImageCodec's speed on 16-bit deflate tiles, H200). ``finish`` waits once,
turns recorded failures into ``DecodeError`` and fills rows that truncated chunks lack."""

from __future__ import annotations

import collections
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from ..errors import DecodeError, TiffError
from . import stages
from .transfer import PendingReads, copy_stream, worker_streams

if TYPE_CHECKING:
    from ..plan import DecodePlan
    from ..source import ByteSource

__all__ = ["GpuBatch", "GpuJob", "decode_batch"]

FIRST_GROUP_BYTES = 8 << 20  # compressed bytes that close the first group; each next one may hold twice as many
MAX_GROUP_BYTES = 128 << 20  # (8 and 128 MiB were best of 4/64, 8/128, 16/256 on an H100)
# the reads of the images added start once this many compressed bytes of them wait (and when the group
# closes): planned and started image by image, 1,000 small regions ran at half the speed (the planning,
# and a wake-up of a glibc AIO thread each); started only when a group closes, its last reads lengthen the
# batch's tail ((f): 11 -> 5 ms after the last image, H200); 8 MiB was ahead of 4 MiB in 8 of 12 and 11 of
# 18 interleaved rounds in two A/Bs (benchmarks/gpu_tune.py, H200; docs/performance.md), with half its calls
STAGE_BYTES = 8 << 20


@dataclass
class GpuJob:
    """One image to decode: its plan, where its bytes are, the region, and (after decoding) the output."""

    plan: DecodePlan
    source: ByteSource
    region: tuple[int, int, int, int] | None = None
    out: cp.ndarray | None = None

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return self.plan.bounds(self.region)

    @functools.cached_property
    def chunks(self) -> np.ndarray:
        """The plan's chunk table rows that overlap the region."""
        return self.plan.table_in(*self.bounds)


class GpuBatch:
    """Jobs decoded in groups on the current device; results are ready in the order of ``stream``.

    A group is filled as images come (``_stage`` starts their reads a few MiB at a time), then moves through
    two steps: ``_launch`` (columns, outputs) when enough compressed bytes are in it, then ``_queue_read``
    (upload and kernels) once its reads are done, checked at every ``add``; so the host never waits for reads
    while there are plans to build.
    """

    read_ahead = True  # False: wait for each group's reads as soon as they start (for comparison)

    def __init__(
        self,
        stream: cp.cuda.Stream | None = None,
        first_group_bytes: int | None = None,
        max_group_bytes: int | None = None,
    ) -> None:
        self.device = cp.cuda.Device()
        self.stream = stream or cp.cuda.get_current_stream()
        self.workers = worker_streams(self.device.id)
        self.copy = copy_stream(self.device.id)
        self.jobs: list[GpuJob] = []
        self.groups: list[stages.Group] = []  # queued on the GPU, checked by ``_drain``
        self._reading: collections.deque[stages.Group] = collections.deque()  # reads running, not yet queued
        self._pending: list[GpuJob] = []  # the group being filled: its images, where their chunks go, its reads
        self._pending_bytes = 0
        self._staged: list[stages.Staged] = []
        self._filling: PendingReads | None = None
        self._unstaged: list[GpuJob] = []  # its images whose reads have not started yet
        self._unstaged_bytes = 0
        self._working: stages.Group | None = None  # the group being launched or queued (the one that failed)
        self._group_bytes = first_group_bytes or FIRST_GROUP_BYTES
        self._max_group_bytes = max_group_bytes or MAX_GROUP_BYTES
        # the worker streams start after the caller's earlier work (its freed buffers may be ours now)
        self._join(self.stream, (*self.workers, self.copy))

    @staticmethod
    def _join(after: cp.cuda.Stream, waiting: tuple[cp.cuda.Stream, ...]) -> None:
        event = cp.cuda.Event(disable_timing=True)
        event.record(after)
        for stream in waiting:
            stream.wait_event(event)

    def add(self, job: GpuJob) -> None:
        """Take one more image; its chunk reads start once a few MiB of images wait, and the group closes
        once it holds enough bytes."""
        nbytes = stages.compressed_bytes(job)
        self.jobs.append(job)
        self._pending.append(job)
        self._unstaged.append(job)
        self._pending_bytes += nbytes
        self._unstaged_bytes += nbytes
        if self._unstaged_bytes >= STAGE_BYTES:
            self._stage()
        if self._pending_bytes >= self._group_bytes:
            self._flush()
            self._group_bytes = min(2 * self._group_bytes, self._max_group_bytes)
        elif self._reading and self._reading[0].read():
            self._advance(None, wait=False)

    def _stage(self) -> None:
        """Start reading the chunks of the images added since the last time, into the group being filled."""
        if not self._unstaged:
            return
        if self._filling is None:
            self._filling = PendingReads()
        self._staged.append(stages.stage(self._unstaged, self._filling))
        self._unstaged, self._unstaged_bytes = [], 0

    def finish(self) -> list[cp.ndarray]:
        """Queue what is left, wait for every group, check them; one device array per job, in order."""
        try:
            self._flush(wait=True)
            self._drain()
        finally:
            self.close()
        for worker in self.workers:
            self._join(worker, (self.stream,))
        return [job.out for job in self.jobs]

    def close(self) -> None:
        """Wait for reads and queued work and let their buffers go (also after an error)."""
        if self._filling is not None:
            self._filling.abandon()
            self._filling = None
        for group in self._reading:
            group.queued()  # its reads finish first
        self._reading.clear()
        self._sync()
        self.groups.clear()

    def _sync(self) -> None:
        for stream in (*self.workers, self.copy):
            stream.synchronize()

    def _flush(self, wait: bool = False) -> None:
        """Close the group being filled (its reads are under way) and queue what is ready."""
        group = None
        self._stage()
        if self._pending:
            assert self._filling is not None
            self._filling.seal()
            group = stages.Group(self._pending, self._next_stream(), staged=self._staged, reading=self._filling)
        self._pending, self._pending_bytes, self._staged, self._filling = [], 0, [], None
        self._advance(group, wait)

    def _next_stream(self) -> cp.cuda.Stream:
        return self.workers[(len(self.groups) + len(self._reading)) % len(self.workers)]

    def _advance(self, group: stages.Group | None, wait: bool) -> None:
        """Start ``group`` (if any), then queue the groups whose reads are done (all when ``wait``).
        When the GPU runs out of memory, the group that failed is done again in halves, and every other group
        not yet queued whole, one by one."""
        try:
            if group is not None:
                self._launch(group)
            self._queue_read(wait or not self.read_ahead)
            return
        except cp.cuda.memory.OutOfMemoryError:
            pass  # handled below, once the exception (and the buffers its frames hold) is gone
        failed = self._working
        for dropped in self._abandon():
            if dropped is failed:
                self._split(dropped.jobs)
            else:
                self._launch_split(dropped.jobs)

    def _launch_split(self, jobs: list[GpuJob]) -> None:
        """Decode ``jobs`` as one group, waiting for its reads; in halves when the GPU runs out of memory."""
        try:
            self._launch(stages.start_group(jobs, self._next_stream()))
            self._queue_read(wait=True)
            return
        except cp.cuda.memory.OutOfMemoryError:
            pass
        self._abandon()
        self._split(jobs)

    def _split(self, jobs: list[GpuJob]) -> None:
        if len(jobs) == 1:
            job = jobs[0]
            raise TiffError(
                f"one image needs more GPU memory than is free ({job.plan.output_shape(job.region)} {job.plan.dtype})",
                path=job.plan.source_name,
                offset=job.plan.ifd_offset,
            )
        half = len(jobs) // 2
        self._launch_split(jobs[:half])
        self._launch_split(jobs[half:])

    def _launch(self, group: stages.Group) -> None:
        """Start a group whose reads are under way: its chunk columns and outputs."""
        self._reading.append(group)
        self._working = group
        with self.device, group.stream:
            stages.make_columns(group)

    def _queue_read(self, wait: bool) -> None:
        """Queue upload and kernels of the oldest groups whose reads are done (of every group when ``wait``)."""
        while self._reading and (wait or self._reading[0].read()):
            group = self._working = self._reading[0]
            self.groups.append(group)
            with self.device, group.stream:
                device = stages.upload(group, self.copy)
                stages.decompress(group, device)
                stages.post_process(group)
                stages.scatter(group)
                group.queued()
            self._reading.popleft()

    def _abandon(self) -> list[stages.Group]:
        """After running out of GPU memory: drop every group not yet wholly queued (its reads finish, its
        buffers and outputs go), check the queued ones, free the pool's cached blocks. Returns the dropped."""
        dropped = list(self._reading)
        self._reading.clear()
        for group in dropped:
            group.queued()
            for job in group.jobs:
                job.out = None
        self._sync()
        self.groups = [group for group in self.groups if all(group is not other for other in dropped)]
        self._drain()
        cp.get_default_memory_pool().free_all_blocks()
        return dropped

    def _drain(self) -> None:
        """Wait for every queued group, raise what failed, fill what truncated chunks lack; free their buffers."""
        self._sync()
        groups, self.groups = self.groups, []
        for group in groups:
            sizes = group.sizes.get() if group.sizes is not None else np.zeros(0, np.int64)
            _check(group, sizes)
            with self.device, group.stream:
                _fill_truncated(group, sizes)
            group.keep.clear()
        self._sync()


def _check(group: stages.Group, sizes: np.ndarray) -> None:
    """Raise a DecodeError for the first chunk of ``group`` that failed to decompress (``sizes``: decoded bytes)."""
    col = group.col
    for kind, first, stop, status in group.checks:
        codes = status.get() if status is not None else np.zeros(stop - first, np.int32)
        failed = (codes != 0) | (sizes[first:stop] < 0)
        if failed.any():
            bad = first + int(np.argmax(failed))
            why = (
                f"could not be decompressed on the GPU (nvcomp status {int(codes[bad - first])})"
                if codes[bad - first]
                else "holds an invalid code"
            )
            raise DecodeError(
                f"chunk {col['index'][bad]} ({kind}) {why}",
                path=group.jobs[col["job"][bad]].plan.source_name,
                offset=int(col["offset"][bad]),
            )


def _fill_truncated(group: stages.Group, sizes: np.ndarray) -> None:
    """Rows a truncated chunk lacks get the fill value, as on the CPU (``sizes``: decoded bytes)."""
    col = group.col
    if not len(col.get("job", ())) or (sizes >= col["height"] * col["row_bytes"]).all():
        return  # every chunk decoded all its rows
    w = stages.windows(group)
    decoded_rows = np.minimum(col["height"], sizes // np.maximum(col["row_bytes"], 1))  # as kernel decoded_rows
    got = decoded_rows - (w["cy0"] - col["y"])
    copy_rows = w["cy1"] - w["cy0"]
    for k in np.flatnonzero(got < copy_rows):
        job = group.jobs[col["job"][k]]
        plan = job.plan
        view = job.out.reshape(plan.num_planes, w["rows_out"][k], w["cols_out"][k], plan.samples_per_chunk)
        top, left = w["cy0"][k] - w["y0"][k], w["cx0"][k] - w["x0"][k]
        view[col["plane"][k], top + max(got[k], 0) : w["cy1"][k] - w["y0"][k], left : w["cx1"][k] - w["x0"][k]] = (
            plan.fill_value
        )


def decode_batch(jobs: list[GpuJob], stream: cp.cuda.Stream | None = None, **group_sizes: Any) -> list[cp.ndarray]:
    """Decode every job; returns one device array per job, ready on ``stream`` (default: the current one)."""
    batch = GpuBatch(stream, **group_sizes)
    try:
        for job in jobs:
            batch.add(job)
    except BaseException:
        batch.close()  # queued groups finish before their buffers can be freed
        raise
    return batch.finish()
