"""The stages that decode one group of images on one stream, queued without waiting for the GPU.

stage (as images are added: their chunk reads planned together and started into pinned memory, in the
background, while the host plans the next images) -> columns (numpy, one row per chunk, sorted by compression
then image; outputs allocated) -> upload (on the copy stream) -> decompress (nvcomp for Deflate/Zstd, our
kernels for LZW/PackBits, into one buffer; decoded sizes stay on the device) -> post-process (byte order,
predictors) -> scatter (every chunk's visible window into its output, one launch). Per-chunk descriptors go
up through ``Group.up`` and one copy per ``Group.flush``. Failures are recorded as device arrays in
``Group.checks`` and read once the group is done (``backend.GpuBatch.finish``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from ..errors import TiffTruncatedError, UnsupportedTiffError
from ..plan import TABLE_COLUMNS, check_allocation
from . import GPU_COMPRESSIONS
from .kernels import kernel, launch_per_chunk
from .nvcomp import batched
from .transfer import PendingReads, Uploads, pinned_pool

if TYPE_CHECKING:
    from .backend import GpuJob

__all__ = [
    "KINDS",
    "Group",
    "Staged",
    "compressed_bytes",
    "decompress",
    "launch_lzw",
    "make_columns",
    "post_process",
    "scatter",
    "stage",
    "start_group",
    "upload",
    "windows",
]

KINDS = ("none", "deflate", "zstd", "lzw", "packbits")
_MAX_GAP = 1 << 16  # bytes between chunks that one read may span
_LZW_SMALL = 1 << 16  # chunks up to this size decode with 16-bit output positions
_LZW_SLOTS = 3840  # output positions an LZW warp keeps (cuda/lzw.cu)
_LZW_WARPS = 2  # LZW chunks a block
_ALIGN = 16


@dataclass
class Group:
    """Images decoded together on one stream, and every buffer they use until the group is checked."""

    jobs: list[GpuJob]
    stream: cp.cuda.Stream
    col: dict[str, np.ndarray] = field(default_factory=dict)
    keep: list[Any] = field(default_factory=list)
    sizes: cp.ndarray | None = None  # bytes each chunk decoded to (device; -1 where it failed)
    rows: cp.ndarray | None = None  # whole rows each chunk decoded to (device)
    checks: list[tuple[str, int, int, cp.ndarray | None]] = field(default_factory=list)  # kind, first, stop, status
    uploads: Uploads = field(default_factory=Uploads)
    pinned: list[tuple[Any, cp.cuda.Event]] = field(default_factory=list)  # staging blocks and their upload events
    staged: list[Staged] = field(default_factory=list)  # where the jobs' chunks are in ``reading``, in order
    reading: PendingReads | None = None  # chunk reads in the background, until the group is queued

    def read(self) -> bool:
        """Whether the group's reads are done (never blocks)."""
        return self.reading is None or self.reading.done()

    def up(self, values: Any, dtype: Any = np.int64) -> cp.ndarray:
        return self.uploads(values, dtype, self.keep)

    def queued(self) -> None:
        """Everything of the group is queued (or abandoned): its pinned blocks go back to the pool, reusable
        when its stream's work is done; reads still running finish first."""
        if self.reading is not None:
            self.reading.abandon()
            self.reading = None
        done = cp.cuda.Event(disable_timing=True)
        done.record(self.stream)
        self.uploads.release(done)
        for block, event in self.pinned:
            pinned_pool().give(block, event)
        self.pinned.clear()

    def flush(self) -> None:
        """Queue the copies of the arrays ``up`` staged: before any kernel that reads them."""
        self.uploads.flush()

    def hold(self, array: cp.ndarray) -> cp.ndarray:
        self.keep.append(array)
        return array


def _aligned(sizes: np.ndarray) -> tuple[np.ndarray, int]:
    """Start of each block of ``sizes`` in one buffer, each aligned; and the buffer's size."""
    padded = sizes + (-sizes % _ALIGN)
    starts = np.concatenate([[0], np.cumsum(padded)[:-1]]).astype(np.int64) if len(sizes) else np.zeros(0, np.int64)
    return starts, int(padded.sum()) if len(sizes) else 0


def _pixel_bytes(jobs: list[GpuJob]) -> np.ndarray:
    """Bytes one pixel of a chunk holds, per job (all samples when interleaved, one when planar-separate)."""
    return np.array([np.dtype(j.plan.dtype).itemsize * j.plan.samples_per_chunk for j in jobs] or [0], np.int64)


def make_columns(group: Group) -> None:
    """Every chunk with data that overlaps its job's region, as int64 columns; allocates the outputs."""
    jobs = group.jobs
    chunks = [job.chunks for job in jobs]
    table = np.concatenate(chunks) if chunks else np.zeros((0, len(TABLE_COLUMNS)), np.int64)
    job_of = np.repeat(np.arange(len(jobs)), [len(c) for c in chunks])
    none = np.zeros(0, np.int64)
    starts = np.concatenate([part.start for part in group.staged] or [none])
    nbytes = np.concatenate([part.nbytes for part in group.staged] or [none])  # cut off by the file's end
    present = nbytes > 0  # 0 for missing chunks (no offset or no byte count)
    missing = np.bincount(job_of[~present], minlength=len(jobs))
    for number, job in enumerate(jobs):
        plan = job.plan
        dtype = np.dtype(plan.dtype)
        shape = plan.output_shape(job.region)
        check_allocation(plan, job.source, shape, dtype)  # as the CPU backend: before allocating
        job.out = cp.full(shape, plan.fill_value, dtype) if missing[number] else cp.empty(shape, dtype)
    kinds = np.array([KINDS.index(GPU_COMPRESSIONS[job.plan.compression]) for job in jobs], np.int64)
    names = ("kind", "job", *TABLE_COLUMNS, "start")
    table = np.concatenate([kinds[job_of][:, None], job_of[:, None], table, starts[:, None]], axis=1)
    table[:, names.index("nbytes")] = nbytes
    if not present.all():
        table = table[present]
    if len(set(kinds.tolist())) > 1:  # else the rows are in image order already
        table = table[np.lexsort((table[:, 1], table[:, 0]))]  # by kind, then image: each a contiguous run
    col = {name: np.ascontiguousarray(table[:, i]) for i, name in enumerate(names)}
    # room for a whole strip even where the last one holds fewer rows (some writers pad it)
    full = np.array([j.plan.chunk_height for j in jobs] or [0], np.int64)
    col["capacity_rows"] = np.maximum(col["height"], full[col["job"]]) if len(table) else col["height"]
    col["pixel_bytes"] = _pixel_bytes(jobs)[col["job"]]
    col["row_bytes"] = col["width"] * col["pixel_bytes"]  # one row of a chunk as decoded
    group.col = col


def _runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """(value, first, stop) of each run of equal values in a sorted column."""
    if not len(values):
        return []
    edges = np.flatnonzero(np.diff(values)) + 1
    firsts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(values)]])
    return [(int(values[a]), int(a), int(b)) for a, b in zip(firsts, stops)]


@dataclass
class Staged:
    """Where the chunks of some images go in their group's buffer, one entry per row of their chunk tables
    (concatenated in order): ``start`` there (0 for missing chunks) and ``nbytes`` (cut off by the end of the
    file; 0 for missing chunks)."""

    start: np.ndarray
    nbytes: np.ndarray


def compressed_bytes(job: GpuJob) -> int:
    """Bytes of the image's chunks; a chunk that starts past the end of the file is an error, as on the CPU
    (checked as each image comes, so the error names the right one)."""
    table, size = job.chunks, job.source.size
    offsets, nbytes = table[:, 1], table[:, 2]
    if len(offsets) and int(offsets.max()) >= size:
        outside = (offsets >= size) & (nbytes > 0)
        if outside.any():
            row = int(np.argmax(outside))
            raise TiffTruncatedError(
                f"chunk {table[row, 0]} starts at offset {offsets[row]}, past the end of the {size}-byte file",
                path=job.plan.source_name,
                offset=int(offsets[row]),
            )
    return int(nbytes.sum())


def stage(jobs: list[GpuJob], reading: PendingReads) -> Staged:
    """Start reading the chunks of ``jobs`` into ``reading`` (a group being filled): one read per run of
    nearby chunks of a file, across the images (planned together: per image, 1,000 small regions cost more
    to plan than to decode). Returns where each chunk goes."""
    tables = [job.chunks for job in jobs]
    table = np.concatenate(tables) if len(tables) > 1 else tables[0]
    lengths = [len(t) for t in tables]
    offsets, nbytes = table[:, 1], table[:, 2]
    sizes = [job.source.size for job in jobs]
    file_size = sizes[0] if len(set(sizes)) == 1 else np.repeat(np.array(sizes, np.int64), lengths)
    present = (offsets > 0) & (nbytes > 0)
    clipped = np.where(present, np.minimum(nbytes, file_size - offsets), 0)  # cut off by the file's end
    start = np.zeros(len(table), np.int64)
    sources: dict[int, list[int]] = {}
    for number, job in enumerate(jobs):
        sources.setdefault(id(job.source), []).append(number)
    present_rows = np.flatnonzero(present)
    job_of = np.repeat(np.arange(len(jobs)), lengths)[present_rows] if len(sources) > 1 else None
    for numbers in sources.values():
        rows = present_rows if job_of is None else present_rows[np.isin(job_of, numbers)]
        if not len(rows):
            continue
        order = rows[np.argsort(offsets[rows], kind="stable")]
        begins = offsets[order]
        reach = np.maximum.accumulate(begins + clipped[order])
        opens = np.concatenate([[True], begins[1:] - reach[:-1] > _MAX_GAP])  # a chunk that starts a new run
        firsts = np.flatnonzero(opens)
        run_begin = begins[firsts]
        run_size = reach[np.append(firsts[1:], len(order)) - 1] - run_begin
        padded = run_size + (-run_size % _ALIGN)
        run_at = np.cumsum(padded) - padded  # where each run goes in the footprint
        runs = list(zip(run_begin.tolist(), run_size.tolist(), run_at.tolist()))
        base = reading.add(jobs[numbers[0]].source, runs, int(padded.sum()))
        run_of = np.cumsum(opens) - 1
        start[order] = base + run_at[run_of] + begins - run_begin[run_of]
    return Staged(start, clipped)


def start_group(jobs: list[GpuJob], stream: cp.cuda.Stream) -> Group:
    """A group of ``jobs`` whose reads have all been started at once."""
    reading = PendingReads()
    group = Group(jobs, stream, staged=[stage(jobs, reading)] if jobs else [], reading=reading)
    reading.seal()
    return group


def upload(group: Group, copy: cp.cuda.Stream) -> cp.ndarray:
    """Wait for the group's reads, then queue their upload on ``copy``; returns the device buffer, which the
    group's stream may read once the upload is done (it waits on an event)."""
    reading = group.reading
    assert reading is not None
    reading.wait()
    uploaded = cp.cuda.Event(disable_timing=True)
    with group.stream:
        device = group.hold(cp.empty(max(reading.nbytes, 1), cp.uint8))
    blocks = reading.upload(device, copy)
    uploaded.record(copy)
    group.pinned += [(block, uploaded) for block in blocks]  # back to the pool with the group's other blocks
    group.stream.wait_event(uploaded)
    return device


def _check_zlib(group: Group, select: slice) -> None:
    """Every Deflate chunk of ``select`` must be a zlib stream (checked on the host copy of its first bytes):
    nvcomp decodes the raw Deflate inside it."""
    col = group.col
    assert group.reading is not None
    size = col["nbytes"][select]
    lead = group.reading.bytes_at(col["start"][select], 2).astype(np.int64)
    b0, b1 = lead[:, 0], lead[:, 1]
    zlib = (size >= 6) & ((b0 & 0x0F) == 8) & ((b0 * 256 + b1) % 31 == 0) & ((b1 & 0x20) == 0)
    if not zlib.all():
        bad = select.start + int(np.argmin(zlib))
        raise UnsupportedTiffError(
            "a Deflate chunk is not a plain zlib stream",
            path=group.jobs[col["job"][bad]].plan.source_name,
            offset=int(col["offset"][bad]),
        )


def _copy_chunks(group: Group, sources: np.ndarray, sizes: np.ndarray, targets: np.ndarray) -> None:
    """Copy each chunk's ``sizes`` bytes from ``sources`` to ``targets`` (device addresses), one launch."""
    n = len(sizes)
    ones, zeros = np.ones(n, np.int64), np.zeros(n, np.int64)
    up = group.up
    args: tuple[Any, ...] = (up(sources, np.uint64), up(sizes), up(ones), up(zeros), up(zeros))
    args += (up(targets, np.uint64), up(sizes), up(ones), up(sizes), np.int64(n))
    group.flush()
    launch_per_chunk("scatter", n, 1, args, threads=256)


def launch_lzw(args: tuple[Any, ...], written: cp.ndarray, count: int, widest: int) -> str:
    """Queue LZW decoding of ``count`` chunks (``args``: sources, sizes, outputs, capacities; ``widest``: the
    largest capacity): a warp per chunk, 16-bit output positions where chunks allow; each chunk in today's
    or the old (pre-5.0 libtiff) style, as its first bytes say. Returns the kernel's name."""
    name, slot_bytes = ("lzw_decode32", 4) if widest > _LZW_SMALL else ("lzw_decode16", 2)
    shared = _LZW_WARPS * _LZW_SLOTS * slot_bytes
    grid, block = (-(-count // _LZW_WARPS),), (32 * _LZW_WARPS,)
    kernel(name)(grid, block, (*args, written, np.int64(count)), shared_mem=shared)
    return name


def decompress(group: Group, device: cp.ndarray) -> None:
    """Queue decompression of every chunk; sets ``col["decoded"]`` (device addresses) and ``group.sizes``."""
    col = group.col
    count = len(col["job"])
    base = device.data.ptr
    expected = col["capacity_rows"] * col["row_bytes"]
    col["decoded"] = np.zeros(count, np.uint64)
    none = col["kind"] == KINDS.index("none")
    group.sizes = group.up(np.where(none, col["nbytes"], 0))
    for kind_number, first, stop in _runs(col["kind"]):
        kind, select = KINDS[kind_number], slice(first, stop)
        start, size = col["start"][select], col["nbytes"][select]
        if kind == "none":
            col["decoded"][select] = (base + start).astype(np.uint64)
            continue
        if kind == "deflate":
            _check_zlib(group, select)
            start, size = start + 2, size - 6  # raw Deflate for nvcomp: no zlib header, no Adler-32
        capacity = expected[select]
        out_starts, total = _aligned(capacity)
        out = group.hold(cp.empty(max(total, 1), cp.uint8))
        out_ptrs = out.data.ptr + out_starts
        col["decoded"][select] = out_ptrs.astype(np.uint64)
        sizes = group.sizes[select]
        n = stop - first
        if kind in ("deflate", "zstd"):
            engine = batched("Deflate" if kind == "deflate" else "Zstd", cp.cuda.Device().id)
            in_ptrs = base + start
            if (in_ptrs % engine.input_alignment).any():  # copy the inputs to aligned places first
                in_starts, in_total = _aligned(size)
                aligned = group.hold(cp.empty(max(in_total, 1), cp.uint8))
                _copy_chunks(group, in_ptrs, size, aligned.data.ptr + in_starts)
                in_ptrs = aligned.data.ptr + in_starts
            d_in, d_sizes, d_out, d_capacity = (group.up(v, np.uint64) for v in (in_ptrs, size, out_ptrs, capacity))
            group.flush()
            status = engine.decompress(
                d_in,
                d_sizes,
                d_out,
                d_capacity,
                sizes,
                int(capacity.max()),
                int(capacity.sum()),
                group.keep,
            )
            group.checks.append((kind, first, stop, status))
            continue
        args = (group.up(base + start, np.uint64), group.up(size), group.up(out_ptrs, np.uint64), group.up(capacity))
        if kind == "lzw":
            group.flush()
            launch_lzw(args, sizes, n, int(capacity.max()))
        else:
            group.flush()
            kernel("packbits_decode")((-(-n // 64),), (64,), (*args, sizes, np.int64(n)))
        group.checks.append((kind, first, stop, None))
    group.rows = group.hold(cp.empty(count, cp.int64))
    if count:
        row_bytes, heights = group.up(col["row_bytes"]), group.up(col["height"])
        group.flush()
        kernel("decoded_rows")(
            (-(-count // 256),), (256,), (group.sizes, row_bytes, heights, group.rows, np.int64(count))
        )


def _alike(group: Group) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Chunks needing the same post-processing launch: (predictor, itemsize, swap, width, samples) -> chunks."""
    by_key: dict[tuple[int, ...], list[int]] = {}
    for number, job in enumerate(group.jobs):
        plan = job.plan
        itemsize = np.dtype(plan.dtype).itemsize
        swap = int(plan.byteorder == ">" and itemsize > 1)
        if plan.predictor != 1 or swap:
            key = (plan.predictor, itemsize, swap, plan.chunk_width, plan.samples_per_chunk)
            by_key.setdefault(key, []).append(number)
    return [(key, np.flatnonzero(np.isin(group.col["job"], numbers))) for key, numbers in by_key.items()]


def post_process(group: Group) -> None:
    """Byte order and predictors, in place on the decoded chunks: one launch per kind of image."""
    col = group.col
    assert group.sizes is not None and group.rows is not None
    for (predictor, itemsize, swap, width, spc), select in _alike(group):
        if not len(select):
            continue
        n = np.int64(len(select))
        pointers = col["decoded"][select]
        capacity_rows = int(col["capacity_rows"][select].max())
        whole = len(select) == len(col["job"])  # every chunk of the group (the usual case): no gathers
        d_select = None if whole else group.up(select)
        group.flush()
        rows = group.rows if d_select is None else group.hold(group.rows[d_select])
        if itemsize > 1 and (pointers % itemsize).any():  # unaligned uncompressed chunks: copy them aligned first
            sizes = col["nbytes"][select]
            starts, total = _aligned(sizes)
            aligned = group.hold(cp.empty(max(total, 1), cp.uint8))
            targets = (aligned.data.ptr + starts).astype(np.uint64)
            _copy_chunks(group, pointers, sizes, targets)
            pointers = targets
            col["decoded"][select] = pointers
        d_pointers = group.up(pointers, np.uint64)
        group.flush()
        if predictor == 3:
            starts, total = _aligned(col["capacity_rows"][select] * col["row_bytes"][select])
            scratch = group.hold(cp.empty(max(total, 1), cp.uint8))
            targets = (scratch.data.ptr + starts).astype(np.uint64)
            args: tuple[Any, ...] = (d_pointers, group.up(targets, np.uint64), rows, np.int32(width * spc))
            args += (np.int32(itemsize),)
            group.flush()
            launch_per_chunk("undo_float_predictor", len(select), capacity_rows, (*args, np.int32(spc), n), threads=64)
            col["decoded"][select] = targets
            continue
        if swap:
            sizes = group.sizes if d_select is None else group.hold(group.sizes[d_select])
            max_items = int((col["capacity_rows"][select] * col["row_bytes"][select]).max()) // itemsize
            launch_per_chunk("byteswap", len(select), max_items, (d_pointers, sizes, np.int32(itemsize), n))
        if predictor == 2:
            args = (d_pointers, rows, np.int32(width), np.int32(spc), n)
            launch_per_chunk(f"undo_horizontal_{itemsize}", len(select), capacity_rows * 32, args, threads=128)


def windows(group: Group) -> dict[str, np.ndarray]:
    """Per chunk: the part of it inside its job's region, and where that lands in the output."""
    col, jobs = group.col, group.jobs
    bounds = np.array([j.bounds for j in jobs] or [(0, 0, 0, 0)], np.int64)
    job = col["job"]
    y0, x0, y1, x1 = (bounds[job, k] for k in range(4))
    cy0, cx0 = np.maximum(col["y"], y0), np.maximum(col["x"], x0)
    cy1 = np.minimum(col["y"] + col["height"], y1)
    cx1 = np.minimum(col["x"] + col["width"], x1)
    return {
        "y0": y0,
        "x0": x0,
        "rows_out": y1 - y0,
        "cols_out": x1 - x0,
        "cy0": cy0,
        "cx0": cx0,
        "cy1": cy1,
        "cx1": cx1,
    }


def scatter(group: Group) -> None:
    """Copy every decoded chunk's visible window into its output: one launch for the whole group."""
    col, jobs = group.col, group.jobs
    if not len(col["job"]):
        return
    w = windows(group)
    out_ptr = np.array([j.out.data.ptr for j in jobs], np.uint64)  # type: ignore[union-attr]
    size = col["pixel_bytes"]
    first_row = w["cy0"] - col["y"]
    skip = (first_row * col["width"] + (w["cx0"] - col["x"])) * size
    place = ((col["plane"] * w["rows_out"] + (w["cy0"] - w["y0"])) * w["cols_out"] + (w["cx0"] - w["x0"])) * size
    copy_rows = w["cy1"] - w["cy0"]
    up = group.up
    args: tuple[Any, ...] = (up(col["decoded"], np.uint64), up(col["row_bytes"]), group.rows, up(first_row))
    args += (up(skip),)
    args += (up(out_ptr[col["job"]] + place.astype(np.uint64), np.uint64), up(w["cols_out"] * size), up(copy_rows))
    args += (up((w["cx1"] - w["cx0"]) * size), np.int64(len(col["job"])))
    group.flush()
    launch_per_chunk("scatter", len(col["job"]), int(copy_rows.max()), args, threads=128, per_block=1)  # a row a block
