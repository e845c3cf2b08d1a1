"""Recipes: the GPU work of one image decoded alone, captured once as a CUDA graph and replayed.

A viewer, a tile server or a training loader asks for one image at a time, and the same ones again: for such an
image the pipeline's host stages (read planning, columns, per-chunk descriptors, a dozen launches) cost more than
the GPU's work. The second time an image of the same layout (the plan, the region's chunk rows and the file's
size) is decoded alone, its stages run once more into buffers of its own, captured on a stream as a CUDA graph:
decompression, predictors and scatter into its own output. From then on a call reads the chunk bytes into its
pinned block, uploading each part as soon as it is in, launches the graph and copies the output: a few CUDA
calls. The bytes are read from the caller's file each time, and every replay is checked as a group is (failed
chunks, short chunks).

Only images whose decoding is our kernels' (uncompressed, LZW, PackBits) get one: nvcomp's and the image
libraries' calls take decisions on the host per call. Recipes hold device and pinned memory, up to
``GpuSettings.recipe_bytes`` for a backend; the least recently used go first.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import hashlib
import logging
import threading
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from ..plan import DecodePlan
from . import GPU_COMPRESSIONS
from .columns import allocate_outputs, chunk_columns
from .decompress import decompress, upload
from .group import start_group
from .postprocess import post_process, scatter
from .reads import read_now
from .streams import capture_stream

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .group import Group
    from .job import GpuJob
    from .settings import GpuSettings

__all__ = ["Recipes"]

_log = logging.getLogger("tiffstream")
RECIPE_KINDS = ("none", "lzw", "packbits")  # decoded by our kernels alone: nothing decided on the host per call
_SEEN = 256  # layouts remembered as decoded alone once (the next time makes a recipe)
_PLAN_FIELDS = tuple(field.name for field in dataclasses.fields(DecodePlan) if field.compare)


@dataclasses.dataclass(eq=False)
class Recipe:
    """One image's captured work: its group (columns, checks, every buffer the graph uses), the graph, where
    its chunk bytes go in its pinned block (file offset, nbytes, host view), and its output."""

    group: Group
    graph: Any
    runs: list[tuple[int, int, np.ndarray]]
    device: list[int]  # where each run goes on the device
    out: cp.ndarray
    nbytes: int
    busy: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def run(self, job: GpuJob, stream: cp.cuda.Stream, settings: GpuSettings, read: bool) -> Group:
        """Read ``job``'s chunk bytes and upload each part as soon as it is in (unless the capture just did),
        replay on ``stream`` and give ``job`` a copy of the output; returns the group to check once ``stream``
        is done. Uploads from pinned memory just written took twice as long as from memory read earlier: started
        part by part, most of that overlaps the reads."""
        if read:
            device = cp.cuda.Device()  # the read threads queue the uploads: on this device, on ``stream``

            def upload_part(number: int, at: int, nbytes: int) -> None:
                host, kind = self.runs[number][2].ctypes.data + at, cp.cuda.runtime.memcpyHostToDevice
                with device:
                    cp.cuda.runtime.memcpyAsync(self.device[number] + at, host, nbytes, kind, stream.ptr)

            try:
                read_now(job.source, self.runs, settings.read_threads, then=upload_part)
            except BaseException:
                stream.synchronize()  # uploads already queued finish before the block is read into again
                raise
        self.graph.launch(stream=stream)
        with stream:
            out = cp.empty(self.out.shape, self.out.dtype)
            kind = cp.cuda.runtime.memcpyDeviceToDevice
            cp.cuda.runtime.memcpyAsync(out.data.ptr, self.out.data.ptr, self.out.nbytes, kind, stream.ptr)
        job.out = out
        self.group.jobs = [job]  # checks name this call's image and fill its output
        return self.group

    def release(self) -> None:
        """Give the recipe's pinned blocks and buffers back (no replay is running: each one is waited for)."""
        self.group.mark_queued()
        self.group.mark_checked()


class Recipes:
    """The recipes of one backend, by layout, least recently used first; thread-safe (a recipe replays for one
    caller at a time: another decodes the usual way meanwhile)."""

    def __init__(self, max_bytes: int) -> None:
        self._max_bytes = max_bytes
        self._recipes: collections.OrderedDict[tuple[Any, ...], Recipe | None] = collections.OrderedDict()
        self._seen: collections.OrderedDict[tuple[Any, ...], None] = collections.OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._capturing = threading.Lock()  # one capture at a time: they share the device's capture stream

    @contextlib.contextmanager
    def replay(self, job: GpuJob, stream: cp.cuda.Stream, settings: GpuSettings) -> Iterator[Group | None]:
        """Decode ``job`` alone through its recipe (made now if its layout was decoded alone before): yields the
        group to check after ``stream`` is done, or None where the usual pipeline decodes it."""
        key = _key(job) if self._max_bytes else None
        recipe, fresh = self._take(key, job, settings) if key is not None else (None, False)
        if recipe is None:
            yield None
            return
        try:
            yield recipe.run(job, stream, settings, read=not fresh)
        finally:
            if fresh and recipe.nbytes > self._max_bytes:  # used once, never kept: larger than the budget
                recipe.release()
            recipe.busy.release()

    def _take(self, key: tuple[Any, ...], job: GpuJob, settings: GpuSettings) -> tuple[Recipe | None, bool]:
        """The recipe of ``key``, locked for this caller, and whether it was made now (its bytes read)."""
        with self._lock:
            if key in self._recipes:
                self._recipes.move_to_end(key)
                recipe = self._recipes[key]
                return (recipe, False) if recipe is not None and recipe.busy.acquire(blocking=False) else (None, False)
            if key not in self._seen:
                self._seen[key] = None
                if len(self._seen) > _SEEN:
                    self._seen.popitem(last=False)
                return None, False
            if not self._capturing.acquire(blocking=False):
                return None, False
            del self._seen[key]
        try:
            recipe = _capture(job, settings)
        finally:
            self._capturing.release()
        if recipe is not None:
            recipe.busy.acquire()
        name, offset = job.plan.source_name, job.plan.ifd_offset
        if recipe is None:
            _log.debug("%s, IFD at %d: the GPU refused to capture its recipe; decoded the usual way", name, offset)
        else:
            _log.debug("%s, IFD at %d, region %s: recipe captured (%d bytes)", name, offset, job.bounds, recipe.nbytes)
        with self._lock:
            kept = recipe is not None and recipe.nbytes <= self._max_bytes
            self._recipes[key] = recipe if kept else None  # None: not captured here, or too large; never again
            if recipe is not None and kept:
                self._bytes += recipe.nbytes
                self._evict(keep=key)
        return recipe, True

    def _evict(self, keep: tuple[Any, ...]) -> None:
        """Drop the least recently used idle recipes while they hold more than the budget."""
        for key in list(self._recipes):
            if self._bytes <= self._max_bytes:
                return
            recipe = self._recipes[key]
            if key == keep or recipe is None or not recipe.busy.acquire(blocking=False):
                continue
            del self._recipes[key]
            self._bytes -= recipe.nbytes
            recipe.release()


def _key(job: GpuJob) -> tuple[Any, ...] | None:
    """What a recipe depends on: the plan's fields, the region, the file's size and the region's chunk rows
    (their offsets and sizes, as a digest: a key stays small whatever the chunk count); None for an image no
    recipe serves."""
    if GPU_COMPRESSIONS.get(job.plan.compression) not in RECIPE_KINDS:
        return None
    plan = job.plan
    fields = tuple(getattr(plan, name) for name in _PLAN_FIELDS)  # not the plan: its whole table would stay
    rows = hashlib.blake2b(job.chunks.tobytes(), digest_size=32).digest()
    return (fields, job.bounds, job.source.size, rows)


def _capture(job: GpuJob, settings: GpuSettings) -> Recipe | None:
    """Run ``job``'s stages once more, captured as a graph on a stream of their own; None where the GPU refuses
    to capture them (the image then decodes the usual way)."""
    stream = capture_stream(cp.cuda.Device().id)
    group = start_group([job], stream, dataclasses.replace(settings, read_block_bytes=1))  # a block its size
    capturing = False
    try:
        with stream:
            group.columns, group.placements, missing = chunk_columns(group.jobs, group.staged)
            allocate_outputs(group.jobs, missing)  # filled where chunks are missing, once: the graph leaves it
            device = upload(group, stream)  # not in the graph: a replay uploads its reads part by part
            stream.synchronize()
            stream.begin_capture()
            capturing = True
            decompress(group, device, settings)
            post_process(group)
            scatter(group)
            capturing = False
            graph = stream.end_capture()
            group.mark_captured()
    except BaseException as exc:
        if capturing:
            with contextlib.suppress(cp.cuda.runtime.CUDARuntimeError):
                stream.end_capture()
        group.mark_queued()
        group.mark_checked()
        job.out = None
        if isinstance(exc, (cp.cuda.runtime.CUDARuntimeError, cp.cuda.memory.OutOfMemoryError)):
            return None  # refused while capturing (or no memory for a copy of its own): decoded the usual way
        raise
    runs, positions = _runs(group)
    out = job.out
    assert out is not None and device is not None  # uploaded: no image kinds here
    pinned = sum(block.size for block, _ in group.pinned) + group.uploads.nbytes
    device_bytes = sum(int(getattr(array, "nbytes", 0)) for array in group.keep) + out.nbytes
    return Recipe(group, graph, runs, [device.data.ptr + at for at in positions], out, pinned + device_bytes)


def _runs(group: Group) -> tuple[list[tuple[int, int, np.ndarray]], list[int]]:
    """Where the group's one image reads its chunk bytes: (file offset, nbytes, view of the pinned block), and
    each run's position in the group's buffer; chunks that staging read as one run (neighbours in the file, and
    what lies between them) read as one."""
    assert group.reads is not None
    staged = group.staged[0]
    offsets = group.jobs[0].chunks[:, 1]
    rows = np.flatnonzero(staged.nbytes > 0)
    rows = rows[np.argsort(staged.start[rows], kind="stable")]
    runs: list[list[int]] = []  # [file offset, nbytes, position]: a run's bytes lie in the file as in the block
    for offset, nbytes, position in zip(
        offsets[rows].tolist(), staged.nbytes[rows].tolist(), staged.start[rows].tolist()
    ):
        if runs and offset - position == runs[-1][0] - runs[-1][2]:
            runs[-1][1] = max(runs[-1][1], position + nbytes - runs[-1][2])
        else:
            runs.append([offset, nbytes, position])
    views = [(offset, nbytes, group.reads.host_view(position, nbytes)) for offset, nbytes, position in runs]
    return views, [position for _, _, position in runs]
