"""Decode a batch of plans on the GPU: chunk bytes read on the host straight into one pinned buffer
(adjacent chunks of a file in one read), one upload, batched decompression (nvcomp for Deflate/Zstd, our
kernels for LZW/PackBits), byte order and predictors in place, then one scatter of every chunk into its
output array. Per-chunk bookkeeping is done on numpy columns, not Python objects. Outputs have the CPU
backend's layout (tifffile's page shape, or the region).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from ..errors import DecodeError, TiffError, UnsupportedTiffError
from ..plan import TABLE_COLUMNS
from . import GPU_COMPRESSIONS
from .kernels import kernel, launch_per_chunk
from .nvcomp import batched

if TYPE_CHECKING:
    from ..plan import DecodePlan
    from ..source import ByteSource

__all__ = ["GpuJob", "decode_batch", "decode_batch_split"]

_MAX_GAP = 1 << 16  # bytes between chunks that one read may span
_ALIGN = 16
_READ_THREADS = 8  # parallel positioned reads into the staging buffer
_READ_PIECE = 8 << 20


@dataclass
class GpuJob:
    """One image to decode: its plan, where its bytes are, the region, and (after decoding) the output."""

    plan: DecodePlan
    source: ByteSource
    region: tuple[int, int, int, int] | None = None
    out: cp.ndarray | None = None

    @property
    def bounds(self) -> tuple[int, int, int, int]:
        return self.region or (0, 0, self.plan.height, self.plan.width)


def _u64(values: Any) -> cp.ndarray:
    return cp.asarray(np.ascontiguousarray(values, dtype=np.uint64))


def _i64(values: Any) -> cp.ndarray:
    return cp.asarray(np.ascontiguousarray(values, dtype=np.int64))


def _aligned(sizes: np.ndarray) -> tuple[np.ndarray, int]:
    """Start of each block of ``sizes`` in one buffer, each aligned; and the buffer's size."""
    padded = sizes + (-sizes % _ALIGN)
    starts = np.concatenate([[0], np.cumsum(padded)[:-1]]).astype(np.int64) if len(sizes) else np.zeros(0, np.int64)
    return starts, int(padded.sum()) if len(sizes) else 0


def _columns(jobs: list[GpuJob]) -> dict[str, np.ndarray]:
    """Every chunk with data that overlaps its job's region, as int64 columns; allocates the outputs."""
    tables = []
    for number, job in enumerate(jobs):
        plan = job.plan
        table = plan.table_in(*job.bounds)
        present = (table[:, 1] > 0) & (table[:, 2] > 0)
        dtype = np.dtype(plan.dtype)
        shape = plan.output_shape(job.region)
        job.out = cp.empty(shape, dtype) if present.all() else cp.full(shape, plan.fill_value, dtype)
        rows = table[present]
        tables.append(np.concatenate([np.full((len(rows), 1), number, np.int64), rows], axis=1))
    table = np.concatenate(tables) if tables else np.zeros((0, 9), np.int64)
    names = ("job", *TABLE_COLUMNS)
    col = {name: np.ascontiguousarray(table[:, i]) for i, name in enumerate(names)}
    # room for a whole strip even where the last one holds fewer rows (some writers pad it)
    full = np.array([j.plan.chunk_height for j in jobs] or [0], np.int64)
    col["capacity_rows"] = np.maximum(col["height"], full[col["job"]]) if len(table) else col["height"]
    return col


def _stage(jobs: list[GpuJob], col: dict[str, np.ndarray]) -> cp.ndarray:
    """Read every chunk into one pinned buffer (one read per run of nearby chunks of a file); upload it.

    Sets ``col["start"]``: where each chunk's bytes begin in the uploaded buffer.
    """
    count = len(col["job"])
    col["start"] = np.zeros(count, np.int64)
    reads: list[tuple[ByteSource, int, int, int]] = []  # (source, file offset, nbytes, buffer position)
    position = 0
    sources: dict[int, list[int]] = {}
    for number, job in enumerate(jobs):
        sources.setdefault(id(job.source), []).append(number)
    for numbers in sources.values():
        source = jobs[numbers[0]].source
        select = np.flatnonzero(np.isin(col["job"], numbers))
        order = select[np.argsort(col["offset"][select], kind="stable")]
        offsets, ends = col["offset"][order], col["offset"][order] + col["nbytes"][order]
        if not len(order):
            continue
        reach = np.maximum.accumulate(ends)
        breaks = np.flatnonzero(offsets[1:] - reach[:-1] > _MAX_GAP) + 1
        group_first = np.concatenate([[0], breaks])
        group_last = np.concatenate([breaks, [len(order)]])
        for first, last in zip(group_first, group_last):
            begin, stop = int(offsets[first]), int(reach[last - 1])
            stop = min(stop, source.size)
            reads.append((source, begin, stop - begin, position))
            col["start"][order[first:last]] = position + offsets[first:last] - begin
            position += stop - begin + (-(stop - begin) % _ALIGN)
    pinned = cp.cuda.alloc_pinned_memory(max(position, 1))  # from CuPy's pinned pool: reused across calls
    staging = np.frombuffer(pinned, np.uint8, max(position, 1))

    def read(entry: tuple[ByteSource, int, int, int]) -> None:
        source, begin, nbytes, at = entry
        got = source.read_into(begin, staging.data[at : at + nbytes])
        if got < nbytes:
            staging[at + got : at + nbytes] = 0  # chunks cut off by the end of the file: decoded as truncated

    pieces = [piece for entry in reads for piece in _split(entry)]
    if len(pieces) > 1:
        with ThreadPoolExecutor(min(len(pieces), _READ_THREADS), thread_name_prefix="tiffstream-read") as pool:
            list(pool.map(read, pieces))  # positioned reads release the GIL
    else:
        for piece in pieces:
            read(piece)
    col["nbytes"] = np.minimum(col["nbytes"], np.maximum(position - col["start"], 0))
    col["_staging"] = staging  # zlib headers are checked on the host copy
    return cp.asarray(staging)


def _split(entry: tuple[ByteSource, int, int, int]) -> list[tuple[ByteSource, int, int, int]]:
    """One big read as several of at most _READ_PIECE bytes, so that threads can share it."""
    source, begin, nbytes, at = entry
    return [(source, begin + k, min(_READ_PIECE, nbytes - k), at + k) for k in range(0, max(nbytes, 1), _READ_PIECE)]


def _pixel_bytes(jobs: list[GpuJob]) -> np.ndarray:
    """Bytes one pixel of a chunk holds, per job (all samples when interleaved, one when planar-separate)."""
    return np.array([np.dtype(j.plan.dtype).itemsize * j.plan.samples_per_chunk for j in jobs] or [0], np.int64)


def _expected(jobs: list[GpuJob], col: dict[str, np.ndarray]) -> np.ndarray:
    """Bytes each chunk may decode to (a full strip or tile)."""
    item = _pixel_bytes(jobs)
    return col["capacity_rows"] * col["width"] * item[col["job"]]


def _decompress(jobs: list[GpuJob], col: dict[str, np.ndarray], device: cp.ndarray) -> list[cp.ndarray]:
    """Set ``col["decoded"]`` (device pointers) and ``col["decoded_size"]``; returns buffers to keep alive."""
    count = len(col["job"])
    kinds = (
        np.array([GPU_COMPRESSIONS[j.plan.compression] for j in jobs] or ["none"])[col["job"]]
        if count
        else np.array([])
    )
    base = device.data.ptr
    col["decoded"] = np.zeros(count, np.uint64)
    col["decoded_size"] = np.zeros(count, np.int64)
    expected = _expected(jobs, col)
    keep: list[cp.ndarray] = []
    for kind in np.unique(kinds):
        select = np.flatnonzero(kinds == kind)
        start, size = col["start"][select], col["nbytes"][select]
        if kind == "none":
            col["decoded"][select] = (base + start).astype(np.uint64)
            col["decoded_size"][select] = size
            continue
        if kind == "deflate":
            staging = col["_staging"]
            b0, b1 = staging[start].astype(np.int64), staging[start + 1].astype(np.int64)
            zlib = (size >= 6) & ((b0 & 0x0F) == 8) & ((b0 * 256 + b1) % 31 == 0) & ((b1 & 0x20) == 0)
            if not zlib.all():
                bad = select[np.argmin(zlib)]
                raise UnsupportedTiffError(
                    "a Deflate chunk is not a plain zlib stream",
                    path=jobs[col["job"][bad]].plan.source_name,
                    offset=int(col["offset"][bad]),
                )
            start, size = start + 2, size - 6  # raw Deflate for nvcomp: no zlib header, no Adler-32
        capacity = expected[select]
        if kind in ("deflate", "zstd"):
            engine = batched("Deflate" if kind == "deflate" else "Zstd", cp.cuda.Device().id)
            in_ptrs = base + start
            if (in_ptrs % engine.input_alignment).any():  # copy the inputs to aligned places first
                in_starts, in_total = _aligned(size)
                aligned = cp.empty(max(in_total, 1), cp.uint8)
                keep.append(aligned)
                ones = np.ones(len(select), np.int64)
                launch_per_chunk(
                    "scatter",
                    len(select),
                    1,
                    (
                        _u64(in_ptrs),
                        _i64(size),
                        _i64(ones),
                        _i64(np.zeros(len(select))),
                        _u64(aligned.data.ptr + in_starts),
                        _i64(size),
                        _i64(ones),
                        _i64(size),
                        np.int64(len(select)),
                    ),
                    threads=256,
                )
                in_ptrs = aligned.data.ptr + in_starts
            out_starts, total = _aligned(capacity)
            out = cp.empty(max(total, 1), cp.uint8)
            keep.append(out)
            out_ptrs = out.data.ptr + out_starts
            written, status = engine.decompress(in_ptrs, size, out_ptrs, capacity)
            if status.any():
                bad = select[np.flatnonzero(status)[0]]
                raise DecodeError(
                    f"chunk {col['index'][bad]} ({kind}) could not be decompressed on the GPU (nvcomp status "
                    f"{int(status[np.flatnonzero(status)[0]])})",
                    path=jobs[col["job"][bad]].plan.source_name,
                    offset=int(col["offset"][bad]),
                )
            col["decoded"][select] = out_ptrs.astype(np.uint64)
            col["decoded_size"][select] = written
            continue
        out_starts, total = _aligned(capacity)
        out = cp.empty(max(total, 1), cp.uint8)
        keep.append(out)
        result = cp.zeros(len(select), cp.int64)
        args = (_u64(base + start), _i64(size), _u64(out.data.ptr + out_starts), _i64(capacity), result)
        threads = 64
        blocks = -(-len(select) // threads)
        if kind == "lzw":  # one single-thread block per chunk, its table in 24 KiB of shared memory
            kernel("lzw_decode")((len(select),), (1,), (*args, np.int64(len(select))), shared_mem=4096 * 6)
        else:
            kernel("packbits_decode")((blocks,), (threads,), (*args, np.int64(len(select))))
        written = result.get()
        if (written < 0).any():
            bad = select[np.argmin(written)]
            raise DecodeError(
                f"chunk {col['index'][bad]} (LZW) holds an invalid code",
                path=jobs[col["job"][bad]].plan.source_name,
                offset=int(col["offset"][bad]),
            )
        col["decoded"][select] = (out.data.ptr + out_starts).astype(np.uint64)
        col["decoded_size"][select] = written
    return keep


def _decoded_rows(jobs: list[GpuJob], col: dict[str, np.ndarray]) -> np.ndarray:
    item = _pixel_bytes(jobs)
    row_bytes = col["width"] * item[col["job"]]
    return np.minimum(col["height"], col["decoded_size"] // np.maximum(row_bytes, 1))


def _post_process(jobs: list[GpuJob], col: dict[str, np.ndarray]) -> list[cp.ndarray]:
    """Byte order and predictors, in place on the decoded chunks, one launch per image."""
    keep: list[cp.ndarray] = []
    rows = _decoded_rows(jobs, col)
    for number, job in enumerate(jobs):
        plan = job.plan
        select = np.flatnonzero(col["job"] == number)
        if not len(select) or (plan.predictor == 1 and (plan.byteorder != ">" or plan.dtype[-1] == "1")):
            continue
        itemsize = np.dtype(plan.dtype).itemsize
        spc, width, count = plan.samples_per_chunk, plan.chunk_width, np.int64(len(select))
        pointers, sizes, chunk_rows = col["decoded"][select], col["decoded_size"][select], rows[select]
        if itemsize > 1 and (pointers % itemsize).any():  # an unaligned uncompressed chunk: copy it aligned first
            starts, total = _aligned(sizes)
            aligned = cp.empty(max(total, 1), cp.uint8)
            keep.append(aligned)
            targets = aligned.data.ptr + starts
            launch_per_chunk(
                "scatter",
                len(select),
                1,
                (
                    _u64(pointers),
                    _i64(sizes),
                    _i64(np.ones(len(select))),
                    _i64(np.zeros(len(select))),
                    _u64(targets),
                    _i64(sizes),
                    _i64(np.ones(len(select))),
                    _i64(sizes),
                    count,
                ),
                threads=256,
            )
            pointers = targets.astype(np.uint64)
            col["decoded"][select] = pointers
        if plan.predictor == 3:
            starts, total = _aligned(sizes)
            scratch = cp.empty(max(total, 1), cp.uint8)
            keep.append(scratch)
            targets = (scratch.data.ptr + starts).astype(np.uint64)
            launch_per_chunk(
                "undo_float_predictor",
                len(select),
                int(chunk_rows.max()),
                (
                    _u64(pointers),
                    _u64(targets),
                    _i64(chunk_rows),
                    np.int32(width * spc),
                    np.int32(itemsize),
                    np.int32(spc),
                    count,
                ),
                threads=64,
            )
            col["decoded"][select] = targets
            continue
        if plan.byteorder == ">" and itemsize > 1:
            launch_per_chunk(
                "byteswap",
                len(select),
                int(sizes.max()) // itemsize,
                (_u64(pointers), _i64(sizes), np.int32(itemsize), count),
            )
        if plan.predictor == 2:
            launch_per_chunk(
                f"undo_horizontal_{itemsize}",
                len(select),
                int(chunk_rows.max()) * spc,
                (_u64(pointers), _i64(chunk_rows), np.int32(width), np.int32(spc), count),
                threads=64,
            )
    return keep


def _scatter(jobs: list[GpuJob], col: dict[str, np.ndarray]) -> None:
    """Copy every decoded chunk's visible window into its output: one launch for the whole batch."""
    if not len(col["job"]):
        return
    bounds = np.array([j.bounds for j in jobs], np.int64)
    item = _pixel_bytes(jobs)
    out_ptr = np.array([j.out.data.ptr for j in jobs], np.uint64)  # type: ignore[union-attr]
    job = col["job"]
    y0, x0, y1, x1 = (bounds[job, k] for k in range(4))
    size = item[job]
    cy0, cx0 = np.maximum(col["y"], y0), np.maximum(col["x"], x0)
    cy1 = np.minimum(col["y"] + col["height"], y1)
    cx1 = np.minimum(col["x"] + col["width"], x1)
    rows_out, cols_out = y1 - y0, x1 - x0
    got = _decoded_rows(jobs, col) - (cy0 - col["y"])
    skip = ((cy0 - col["y"]) * col["width"] + (cx0 - col["x"])) * size
    dst = out_ptr[job] + (((col["plane"] * rows_out + (cy0 - y0)) * cols_out + (cx0 - x0)) * size).astype(np.uint64)
    copy_rows = cy1 - cy0
    launch_per_chunk(
        "scatter",
        len(job),
        int(min(copy_rows.max(), 65535)),
        (
            _u64(col["decoded"]),
            _i64(col["width"] * size),
            _i64(np.maximum(got, 0)),
            _i64(skip),
            _u64(dst),
            _i64(cols_out * size),
            _i64(copy_rows),
            _i64((cx1 - cx0) * size),
            np.int64(len(job)),
        ),
        threads=128,
    )
    for k in np.flatnonzero(got < copy_rows):  # rows a truncated chunk lacks get the fill value, as on the CPU
        j = jobs[job[k]]
        plan = j.plan
        view = j.out.reshape(plan.num_planes, rows_out[k], cols_out[k], plan.samples_per_chunk)
        view[col["plane"][k], cy0[k] - y0[k] + max(got[k], 0) : cy1[k] - y0[k], cx0[k] - x0[k] : cx1[k] - x0[k]] = (
            plan.fill_value
        )


def decode_batch(jobs: list[GpuJob]) -> list[cp.ndarray]:
    """Decode every job; returns one device array per job (queued on the current stream)."""
    col = _columns(jobs)
    device = _stage(jobs, col)
    # buffers stay referenced until the scatter is queued; CuPy's pool reuses memory in stream order
    keep = _decompress(jobs, col, device)
    keep += _post_process(jobs, col)
    _scatter(jobs, col)
    return [job.out for job in jobs]


def decode_batch_split(jobs: list[GpuJob]) -> list[cp.ndarray]:
    """``decode_batch``, halving the batch and retrying when the GPU runs out of memory."""
    try:
        return decode_batch(jobs)
    except cp.cuda.memory.OutOfMemoryError:
        if len(jobs) == 1:
            raise TiffError(
                f"one image needs more GPU memory than is free ({jobs[0].plan.output_shape(jobs[0].region)} "
                f"{jobs[0].plan.dtype})",
                path=jobs[0].plan.source_name,
                offset=jobs[0].plan.ifd_offset,
            ) from None
        cp.get_default_memory_pool().free_all_blocks()
        half = len(jobs) // 2
        return decode_batch_split(jobs[:half]) + decode_batch_split(jobs[half:])
