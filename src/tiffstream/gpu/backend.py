"""Decode a batch of plans on the GPU: read chunk bytes on the host (coalesced), one upload, batched
decompression (nvcomp for Deflate/Zstd, our kernels for LZW/PackBits), byte order and predictors in
place, then one scatter of every chunk into its output array. Outputs have the CPU backend's layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import cupy as cp
import numpy as np

from ..chunkio import group_chunks, read_group
from ..errors import DecodeError, TiffError
from . import GPU_COMPRESSIONS
from .kernels import kernel, launch_per_chunk
from .nvcomp import decompress, strip_zlib

if TYPE_CHECKING:
    from ..plan import Chunk, DecodePlan
    from ..source import ByteSource

__all__ = ["GpuJob", "decode_batch"]


@dataclass
class GpuJob:
    """One image to decode: its plan, where its bytes are, the region, and (after decoding) the output."""

    plan: DecodePlan
    source: ByteSource
    region: tuple[int, int, int, int] | None = None
    out: cp.ndarray | None = None
    chunks: list[Chunk] = field(default_factory=list)


@dataclass
class _Piece:
    job: int
    chunk: Chunk
    start: int  # offset of its (stripped) bytes in the upload buffer
    size: int
    decoded: object = None  # device pointer (int) of its decoded bytes
    decoded_size: int = 0


def _ptrs(values: list[int]) -> cp.ndarray:
    return cp.asarray(np.asarray(values, dtype=np.uint64))


def _i64(values: list[int]) -> cp.ndarray:
    return cp.asarray(np.asarray(values, dtype=np.int64))


def _expected_size(plan: DecodePlan, chunk: Chunk) -> int:
    return chunk.height * chunk.width * plan.samples_per_chunk * np.dtype(plan.dtype).itemsize


def decode_batch(jobs: list[GpuJob]) -> list[cp.ndarray]:
    """Decode every job; returns one device array per job (tifffile's page layout, or the region)."""
    pieces: list[_Piece] = []
    blobs: list[memoryview] = []
    position = 0
    for number, job in enumerate(jobs):
        plan = job.plan
        y0, x0, y1, x1 = job.region or (0, 0, plan.height, plan.width)
        job.chunks = plan.chunks_in(y0, x0, y1, x1)
        fill = any(c.is_missing for c in job.chunks)
        job.out = (cp.full if fill else cp.empty)(plan.output_shape(job.region), dtype=np.dtype(plan.dtype), **(
            {"fill_value": plan.fill_value} if fill else {}))
        kind = GPU_COMPRESSIONS[plan.compression]
        for group in group_chunks(job.chunks):
            for chunk, data in read_group(job.source, group):
                if kind == "deflate":
                    data = strip_zlib(data, path=plan.source_name, offset=chunk.offset)
                pieces.append(_Piece(number, chunk, position, len(data)))
                blobs.append(data)
                position += len(data) + (-len(data) % 8)  # keep every chunk 8-byte aligned
    host = cp.cuda.alloc_pinned_memory(max(position, 1))
    staging = np.frombuffer(host, np.uint8, max(position, 1))
    for piece, blob in zip(pieces, blobs):
        staging[piece.start : piece.start + piece.size] = np.frombuffer(blob, np.uint8)
    device = cp.asarray(staging)  # one host-to-device copy
    # decoded buffers stay referenced until the scatter is queued; CuPy's pool reuses memory in stream order
    buffers = _decompress(jobs, pieces, device)
    buffers += _post_process(jobs, pieces)
    _scatter(jobs, pieces)
    return [job.out for job in jobs]  # type: ignore[misc]


def _decompress(jobs: list[GpuJob], pieces: list[_Piece], device: cp.ndarray) -> list[cp.ndarray]:
    by_kind: dict[str, list[_Piece]] = {}
    for piece in pieces:
        by_kind.setdefault(GPU_COMPRESSIONS[jobs[piece.job].plan.compression], []).append(piece)
    keep: list[cp.ndarray] = []
    for kind, group in by_kind.items():
        if kind == "none":
            for piece in group:
                piece.decoded = device.data.ptr + piece.start
                piece.decoded_size = piece.size
        elif kind in ("deflate", "zstd"):
            inputs = [device[p.start : p.start + p.size] for p in group]
            try:
                outputs = decompress("Deflate" if kind == "deflate" else "Zstd", inputs)
            except Exception as exc:  # noqa: BLE001  # nvcomp's errors name no chunk: say which batch failed
                first = group[0]
                raise DecodeError(f"GPU {kind} decompression of {len(group)} chunks failed: {exc}",
                                  path=jobs[first.job].plan.source_name, offset=first.chunk.offset) from exc
            for piece, output in zip(group, outputs):
                piece.decoded, piece.decoded_size = output.data.ptr, output.size
            keep += outputs
        else:
            capacities = [_expected_size(jobs[p.job].plan, p.chunk) for p in group]
            starts = np.concatenate([[0], np.cumsum([c + (-c % 8) for c in capacities])]).astype(np.int64)
            out = cp.empty(int(starts[-1]) or 1, cp.uint8)
            written = cp.zeros(len(group), cp.int64)
            args_common = (_ptrs([device.data.ptr + p.start for p in group]), _i64([p.size for p in group]),
                           _ptrs([out.data.ptr + int(s) for s in starts[:-1]]), _i64(capacities), written)
            threads = 64
            blocks = -(-len(group) // threads)
            if kind == "lzw":
                tables = cp.empty(len(group) * 4096 * 6, cp.uint8)
                kernel("lzw_decode")((blocks,), (threads,), (*args_common, tables, np.int64(len(group))))
            else:
                kernel("packbits_decode")((blocks,), (threads,), (*args_common, np.int64(len(group))))
            sizes = written.get()
            for piece, start, size in zip(group, starts, sizes):
                if size < 0:
                    raise DecodeError(f"chunk {piece.chunk.index} (LZW) holds an invalid code",
                                      path=jobs[piece.job].plan.source_name, offset=piece.chunk.offset)
                piece.decoded, piece.decoded_size = out.data.ptr + int(start), int(size)
            keep.append(out)
    return keep


def _rows(piece: _Piece, plan: DecodePlan) -> int:
    row_bytes = piece.chunk.width * plan.samples_per_chunk * np.dtype(plan.dtype).itemsize
    return min(piece.chunk.height, piece.decoded_size // row_bytes)


def _post_process(jobs: list[GpuJob], pieces: list[_Piece]) -> list[cp.ndarray]:
    """Byte order and predictors, in place on the decoded chunks, one launch per image."""
    keep: list[cp.ndarray] = []
    by_job: dict[int, list[_Piece]] = {}
    for piece in pieces:
        by_job.setdefault(piece.job, []).append(piece)
    for number, group in by_job.items():
        plan = jobs[number].plan
        itemsize = np.dtype(plan.dtype).itemsize
        spc = plan.samples_per_chunk
        width = plan.chunk_width
        count = np.int64(len(group))
        rows = [_rows(p, plan) for p in group]
        if plan.predictor == 3:
            scratch = cp.empty(sum(p.decoded_size + (-p.decoded_size % 8) for p in group) or 1, cp.uint8)
            offsets = np.concatenate([[0], np.cumsum([p.decoded_size + (-p.decoded_size % 8) for p in group])])
            dst = [scratch.data.ptr + int(o) for o in offsets[:-1]]
            launch_per_chunk("undo_float_predictor", len(group), max(rows),
                             (_ptrs([p.decoded for p in group]), _ptrs(dst), _i64(rows), np.int32(width * spc),
                              np.int32(itemsize), np.int32(spc), count), threads=64)
            for piece, pointer in zip(group, dst):
                piece.decoded = pointer
            keep.append(scratch)
            continue
        if plan.byteorder == ">" and itemsize > 1:
            launch_per_chunk("byteswap", len(group), max(p.decoded_size for p in group) // itemsize,
                             (_ptrs([p.decoded for p in group]), _i64([p.decoded_size for p in group]),
                              np.int32(itemsize), count))
        if plan.predictor == 2:
            launch_per_chunk(f"undo_horizontal_{itemsize}", len(group), max(rows) * spc,
                             (_ptrs([p.decoded for p in group]), _i64(rows), np.int32(width), np.int32(spc), count),
                             threads=64)
    return keep


def _scatter(jobs: list[GpuJob], pieces: list[_Piece]) -> None:
    """Copy every decoded chunk's visible window into its output, one launch for the whole batch."""
    columns: dict[str, list[int]] = {k: [] for k in ("src", "src_pitch", "src_rows", "skip", "dst", "pitch", "rows", "bytes")}
    short: list[tuple[GpuJob, _Piece, int]] = []
    for piece in pieces:
        job = jobs[piece.job]
        plan, chunk, out = job.plan, piece.chunk, job.out
        assert out is not None
        y0, x0, y1, x1 = job.region or (0, 0, plan.height, plan.width)
        item = np.dtype(plan.dtype).itemsize * plan.samples_per_chunk
        cy0, cx0 = max(chunk.y, y0), max(chunk.x, x0)
        cy1, cx1 = min(chunk.y + chunk.height, y1), min(chunk.x + chunk.width, x1)
        rows_out, cols_out = y1 - y0, x1 - x0
        decoded_rows = _rows(piece, plan) - (cy0 - chunk.y)
        columns["src"].append(piece.decoded)  # type: ignore[arg-type]
        columns["src_pitch"].append(chunk.width * item)
        columns["src_rows"].append(max(decoded_rows, 0))
        columns["skip"].append(((cy0 - chunk.y) * chunk.width + (cx0 - chunk.x)) * item)
        columns["dst"].append(out.data.ptr + ((chunk.plane * rows_out + (cy0 - y0)) * cols_out + (cx0 - x0)) * item)
        columns["pitch"].append(cols_out * item)
        columns["rows"].append(cy1 - cy0)
        columns["bytes"].append((cx1 - cx0) * item)
        if decoded_rows < cy1 - cy0:
            short.append((job, piece, max(decoded_rows, 0)))
    if pieces:
        launch_per_chunk(
            "scatter", len(pieces), min(max(columns["rows"]), 65535),
            (_ptrs(columns["src"]), _i64(columns["src_pitch"]), _i64(columns["src_rows"]), _i64(columns["skip"]),
             _ptrs(columns["dst"]), _i64(columns["pitch"]), _i64(columns["rows"]), _i64(columns["bytes"]),
             np.int64(len(pieces))),
            threads=128,
        )
    for job, piece, got in short:  # rows a truncated chunk lacks get the fill value, as on the CPU
        plan, chunk = job.plan, piece.chunk
        y0, x0, y1, x1 = job.region or (0, 0, plan.height, plan.width)
        view = job.out.reshape(plan.num_planes, y1 - y0, x1 - x0, plan.samples_per_chunk)  # type: ignore[union-attr]
        cy0, cx0 = max(chunk.y, y0), max(chunk.x, x0)
        cy1, cx1 = min(chunk.y + chunk.height, y1), min(chunk.x + chunk.width, x1)
        view[chunk.plane, cy0 - y0 + got : cy1 - y0, cx0 - x0 : cx1 - x0] = plan.fill_value


def decode_batch_split(jobs: list[GpuJob]) -> list[cp.ndarray]:
    """``decode_batch``, halving the batch and retrying when the GPU runs out of memory."""
    try:
        return decode_batch(jobs)
    except cp.cuda.memory.OutOfMemoryError:
        if len(jobs) == 1:
            raise TiffError(
                f"one image needs more GPU memory than is free ({jobs[0].plan.output_shape(jobs[0].region)} "
                f"{jobs[0].plan.dtype})", path=jobs[0].plan.source_name, offset=jobs[0].plan.ifd_offset) from None
        cp.get_default_memory_pool().free_all_blocks()
        half = len(jobs) // 2
        return decode_batch_split(jobs[:half]) + decode_batch_split(jobs[half:])
