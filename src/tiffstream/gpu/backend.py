"""The GPU backend behind the decoder's contract: a batch decoded as a pipeline of groups.

Images are added one by one (the decoder builds each plan as it goes); their chunk reads start in the
background every few MiB of them (``staging`` plans them, ``reads`` runs them), and every few tens of MiB make
a group. A group then goes through named stages, each on its stream without waiting for the GPU: columns and
outputs (``columns``) when it closes; once its reads are done (checked at each ``add``, never waited for while
there are plans to build) upload and decompress (``decompress``), byte order and predictors, scatter into the
outputs (``postprocess``). Groups take turns on a few worker streams, so while the GPU decodes one group the
next is read and the host builds the plans after it. Groups start small (the GPU starts early) and grow; they
never shrink towards the end: nvcomp takes as long for a few chunks as for a thousand. ``finish`` waits once,
checks every group (``ImageFailed`` for a chunk that failed) and fills rows that truncated chunks lack.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from ..backends import ImageFailed
from ..errors import DecodeError, TiffError
from ..plan import check_allocation, check_truncation
from . import GPU_COMPRESSIONS, supports
from .columns import allocate_outputs, chunk_columns
from .decompress import decompress, upload
from .group import Group, GroupState, start_group
from .job import GpuJob
from .postprocess import fill_truncated, post_process, scatter
from .reads import PendingReads
from .recipes import Recipes
from .settings import GpuSettings
from .staging import Staged, compressed_bytes, stage
from .streams import copy_stream, user_stream, worker_streams

if TYPE_CHECKING:
    from ..backends import Bounds, Claims
    from ..plan import DecodePlan
    from ..source import ByteSource

__all__ = ["GpuBackend", "GpuBatch", "decode_batch", "start_group"]


class GpuBackend:
    """Batches on GPU ``device_id`` with ``settings``."""

    name = "gpu"
    on_device = True

    def __init__(self, device_id: int = 0, settings: GpuSettings | None = None) -> None:
        self.device_id = device_id
        self.settings = settings or GpuSettings()
        self.recipes = Recipes(self.settings.recipe_bytes)

    def supports(self, plan: DecodePlan) -> str | None:
        return supports(plan)

    def start(self, claims: Claims[int], stream: Any = None) -> GpuBatch:
        with cp.cuda.Device(self.device_id):
            return GpuBatch(user_stream(stream), self.settings, claims, self.recipes)

    def prefers_host(self, plan: DecodePlan, region: Bounds | None, images: int) -> bool:
        """Whether host threads decode ``plan`` sooner than the GPU: few large Deflate or Zstd chunks in the
        whole call (``images`` images like this one). nvcomp decodes each chunk at ~10 MB/s and wins only by
        decoding thousands at once; libdeflate on the host's cores takes a few large strips in a fraction of that."""
        settings = self.settings
        if GPU_COMPRESSIONS[plan.compression] not in ("deflate", "zstd") or not settings.host_max_chunks:
            return False
        table = plan.table_in(*plan.bounds(region))
        count = int((table[:, 2] > 0).sum())
        if not count or count * images >= settings.host_max_chunks:
            return False
        return int(table[:, 2].sum()) >= count * settings.host_chunk_bytes


@dataclass
class _Filling:
    """The group being filled: its images, their bytes, where their chunks go, and their reads."""

    reads: PendingReads
    jobs: list[GpuJob] = field(default_factory=list)
    nbytes: int = 0
    staged: list[Staged] = field(default_factory=list)
    unstaged: list[GpuJob] = field(default_factory=list)  # images whose reads have not started yet
    unstaged_bytes: int = 0


class GpuBatch:
    """Jobs decoded in groups on the current device; results are ready in the order of ``stream``."""

    array_module = cp

    def __init__(
        self,
        stream: cp.cuda.Stream | None = None,
        settings: GpuSettings | None = None,
        claims: Claims[int] | None = None,
        recipes: Recipes | None = None,
    ) -> None:
        self.settings = settings or GpuSettings()
        self._recipes = recipes
        self.device = cp.cuda.Device()
        self.stream = stream or cp.cuda.get_current_stream()
        self.workers = worker_streams(self.device.id, self.settings.worker_streams)
        self.copy = copy_stream(self.device.id)
        self._used: dict[int, cp.cuda.Stream] = {}  # streams this batch queued work on (the ones to wait for)
        self.jobs: list[GpuJob] = []
        self._claims: Claims[int] = claims if claims is not None else collections.Counter()
        self.failures: dict[int, TiffError] = {}  # handle -> why, for images that failed (keep_going)
        self._keep_going = False
        self._filling: _Filling | None = None
        self._reading: collections.deque[Group] = collections.deque()  # closed, reads running, not yet queued
        self._queued: list[Group] = []  # upload and kernels queued, not yet checked
        self._working: Group | None = None  # the group being closed or queued (the one that failed)
        self._group_bytes = self.settings.first_group_bytes
        # the worker streams start after the caller's earlier work (its freed buffers may be ours now)
        _join(self.stream, (*self.workers, self.copy))

    def add(self, plan: DecodePlan, source: ByteSource, region: Bounds | None = None) -> int:
        """Take one image: checked and its chunks counted now; their reads start once a few MiB of images wait,
        and the group closes once it holds enough bytes. Returns the image's handle."""
        key = id(source)
        shape = plan.output_shape(plan.bounds(region))
        self._claims[key] += check_allocation(plan, source, shape, np.dtype(plan.dtype), claimed=self._claims[key])
        job = GpuJob(plan, source, region)
        check_truncation(plan, source, region, chunks=job.chunks)
        return self.add_job(job)

    def add_job(self, job: GpuJob) -> int:
        """``add`` for a job already checked."""
        nbytes = compressed_bytes(job)
        self.jobs.append(job)
        filling = self._filling = self._filling or _Filling(PendingReads(self.settings))
        filling.jobs.append(job)
        filling.unstaged.append(job)
        filling.nbytes += nbytes
        filling.unstaged_bytes += nbytes
        if filling.unstaged_bytes >= self.settings.stage_bytes:
            self._start_reads(filling)
        if filling.nbytes >= self._group_bytes:
            self._close_group()
            self._group_bytes = min(2 * self._group_bytes, self.settings.max_group_bytes)
        elif self._reading and self._reading[0].reads_done():
            self._queue_ready_groups(wait=False)
        return len(self.jobs) - 1

    @staticmethod
    def _start_reads(filling: _Filling) -> None:
        """Start reading the chunks of the images added since the last time, into the group being filled."""
        if filling.unstaged:
            filling.staged.append(stage(filling.unstaged, filling.reads))
            filling.unstaged, filling.unstaged_bytes = [], 0

    def finish(self, keep_going: bool = False) -> list[cp.ndarray | None]:
        """Queue what is left, wait for every group, check them; one device array per job, in order.
        ``keep_going``: an image whose chunks failed is None (its error in ``failures``), not an ``ImageFailed``."""
        self._keep_going = keep_going
        try:
            if not self._decode_alone():
                self._close_group(wait=True)
                self._check_queued()
        finally:
            self.close()
        for stream in self._used.values():
            _join(stream, (self.stream,))
        return [job.out for job in self.jobs]

    def _decode_alone(self) -> bool:
        """Decode the batch's one image through its recipe (``recipes.py``) and check it; False where the
        pipeline decodes it (more images, reads already started, no recipe for it)."""
        filling = self._filling
        if self._recipes is None or len(self.jobs) != 1 or filling is None or filling.staged:
            return False
        with self.device, self._recipes.replay(self.jobs[0], self.stream, self.settings) as group:
            if group is None:
                return False
            self._check_and_fill(group, self.stream)  # its output is the caller's, on the caller's stream
        return True

    def close(self) -> None:
        """Wait for reads and queued work and let their buffers go (also after an error)."""
        if self._filling is not None:
            self._filling.reads.abandon()
            self._filling = None
        for group in self._reading:
            group.mark_queued()  # its reads finish first
        self._reading.clear()
        self._sync()
        self._queued.clear()

    def ordered(self) -> cp.cuda.Stream:
        return self.stream

    def _sync(self) -> None:
        for stream in self._used.values():
            stream.synchronize()

    def _close_group(self, wait: bool = False) -> None:
        """Close the group being filled (its reads are under way) and queue what is ready (all when ``wait``)."""
        filling, self._filling = self._filling, None
        group = None
        if filling is not None and filling.jobs:
            self._start_reads(filling)
            filling.reads.seal()
            group = Group(filling.jobs, self._next_stream(), staged=filling.staged, reads=filling.reads)
        try:
            if group is not None:
                self._make_columns(group)
            self._queue_ready_groups(wait or not self.settings.read_ahead)
            return
        except cp.cuda.memory.OutOfMemoryError:
            pass  # handled below, once the exception (and the buffers its frames hold) is gone
        failed = self._working
        for dropped in self._abandon():
            if dropped is failed:
                self._split(dropped.jobs)
            else:
                self._decode_now(dropped.jobs)

    def _next_stream(self) -> cp.cuda.Stream:
        stream = self.workers[(len(self._queued) + len(self._reading)) % len(self.workers)]
        self._used.setdefault(id(stream), stream)
        self._used.setdefault(id(self.copy), self.copy)
        return stream

    def _decode_now(self, jobs: list[GpuJob]) -> None:
        """Decode ``jobs`` as one group, waiting for its reads; in halves when the GPU runs out of memory."""
        try:
            self._make_columns(start_group(jobs, self._next_stream(), self.settings))
            self._queue_ready_groups(wait=True)
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
        self._decode_now(jobs[:half])
        self._decode_now(jobs[half:])

    def _make_columns(self, group: Group) -> None:
        """First stage of a closed group (its reads under way): chunk columns and outputs."""
        self._reading.append(group)
        self._working = group
        with self.device, group.stream:
            group.columns, group.placements, missing = chunk_columns(group.jobs, group.staged)
            allocate_outputs(group.jobs, missing)

    def _queue_ready_groups(self, wait: bool) -> None:
        """Queue upload and kernels of the oldest groups whose reads are done (of every group when ``wait``)."""
        while self._reading and (wait or self._reading[0].reads_done()):
            group = self._working = self._reading[0]
            self._queued.append(group)
            with self.device, group.stream:
                device = upload(group, self.copy)
                decompress(group, device, self.settings)
                post_process(group)
                scatter(group)
                group.mark_queued()
            self._reading.popleft()

    def _abandon(self) -> list[Group]:
        """After running out of GPU memory: drop every group not yet wholly queued (its reads finish, its
        buffers and outputs go), check the queued ones, free the pool's cached blocks. Returns the dropped."""
        dropped = list(self._reading)
        self._reading.clear()
        for group in dropped:
            group.mark_queued()
            for job in group.jobs:
                job.out = None
        self._sync()
        self._queued = [group for group in self._queued if all(group is not other for other in dropped)]
        self._check_queued()
        cp.get_default_memory_pool().free_all_blocks()
        return dropped

    def _check_queued(self) -> None:
        """Wait for every queued group, raise what failed, fill what truncated chunks lack; free their buffers."""
        self._sync()
        groups, self._queued = self._queued, []
        for group in groups:
            self._check_and_fill(group, group.stream)
            group.mark_checked()
        self._sync()

    def _check_and_fill(self, group: Group, stream: cp.cuda.Stream) -> None:
        """Read back ``group``'s decoded sizes on ``stream`` (waiting for it), raise what failed and fill, on
        ``stream``, the rows that truncated chunks lack."""
        with self.device, stream:
            sizes = group.sizes.get() if group.sizes is not None else np.zeros(0, np.int64)
            self._check(group, sizes)
            fill_truncated(group, sizes)

    def _check(self, group: Group, sizes: np.ndarray) -> None:
        """``ImageFailed`` for the first chunk of ``group`` that failed to decompress (``sizes``: decoded bytes);
        with ``keep_going`` every image with a failed chunk is recorded in ``failures`` and loses its output."""
        col, placed = group.col, group.placed
        for check in group.checks:
            count = check.stop - check.first
            codes = check.status.get() if check.status is not None else np.zeros(count, np.int32)
            failed = (codes != 0) | (sizes[check.first : check.stop] < 0)
            for bad in check.first + np.flatnonzero(failed):
                code = int(codes[bad - check.first])
                why = (
                    f"could not be decompressed on the GPU (nvcomp status {code})" if code else "holds an invalid code"
                )
                for number in np.unique(placed.job[placed.row == bad]) if placed.shared else [col.job[bad]]:
                    job = group.jobs[number]
                    error = group.errors.get(int(bad)) or DecodeError(
                        f"chunk {col.index[bad]} ({check.kind}) {why}",
                        path=job.plan.source_name,
                        offset=int(col.offset[bad]),
                    )
                    handle = self._handle(job)
                    if not self._keep_going:
                        raise ImageFailed(handle, error)
                    self.failures.setdefault(handle, error)
                    job.out = None
        assert group.state == GroupState.QUEUED

    def _handle(self, job: GpuJob) -> int:
        return next(number for number, other in enumerate(self.jobs) if other is job)


def _join(after: cp.cuda.Stream, waiting: tuple[cp.cuda.Stream, ...]) -> None:
    """Every stream of ``waiting`` waits for the work queued on ``after`` so far."""
    event = cp.cuda.Event(disable_timing=True)
    event.record(after)
    for stream in waiting:
        stream.wait_event(event)


def decode_batch(
    jobs: list[GpuJob], stream: cp.cuda.Stream | None = None, settings: GpuSettings | None = None
) -> list[cp.ndarray]:
    """Decode every job; returns one device array per job, ready on ``stream`` (default: the current one)."""
    batch = GpuBatch(stream, settings)
    try:
        for job in jobs:
            batch.add_job(job)
    except BaseException:
        batch.close()  # queued groups finish before their buffers can be freed
        raise
    try:
        return batch.finish()
    except ImageFailed as failed:
        raise failed.error from failed
