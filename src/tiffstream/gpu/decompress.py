"""Upload and decompression, the GPU pipeline's middle stages: a group's chunk bytes go up on the copy stream,
then every chunk is decompressed into one buffer: Deflate and Zstd by nvcomp's batched C API, LZW and PackBits by
our kernels (``cuda/*.cu``), JPEG and JPEG 2000 by nvJPEG and nvJPEG2000; uncompressed chunks are used where they lie. Decoded sizes stay on the device."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from ..errors import UnsupportedTiffError
from .columns import IMAGE_KINDS, KINDS
from .group import Check
from .jpeg import decode_jpeg
from .jpeg2000 import decode_jpeg2000
from .kernels import kernel, launch_per_chunk
from .nvcomp import batched
from .staging import ALIGN

if TYPE_CHECKING:
    from .group import Group
    from .settings import GpuSettings

__all__ = ["aligned_starts", "copy_chunks", "decompress", "launch_lzw", "upload"]

_LZW_SMALL = 1 << 16  # chunks up to this size decode with 16-bit output positions
_LZW_SLOTS = 3840  # output positions an LZW warp keeps (cuda/lzw.cu)
_LZW_WARPS = 2  # LZW chunks a block
_LZW_GROUP = 128  # threads of lzw_decode16_segments decoding one segment (cuda/lzw.cu; a 64 KiB tile has about 12)
_LZW_GROUP_BYTES = 4096 * 6  # a group's shared memory
_LZW_STATIC_BYTES = 4096  # the kernel's own shared arrays, rounded up


def aligned_starts(sizes: np.ndarray) -> tuple[np.ndarray, int]:
    """Start of each block of ``sizes`` in one buffer, each aligned; and the buffer's size."""
    padded = sizes + (-sizes % ALIGN)
    starts = np.concatenate([[0], np.cumsum(padded)[:-1]]).astype(np.int64) if len(sizes) else np.zeros(0, np.int64)
    return starts, int(padded.sum()) if len(sizes) else 0


def _runs(values: np.ndarray) -> list[tuple[int, int, int]]:
    """(value, first, stop) of each run of equal values in a sorted column."""
    if not len(values):
        return []
    edges = np.flatnonzero(np.diff(values)) + 1
    firsts = np.concatenate([[0], edges])
    stops = np.concatenate([edges, [len(values)]])
    return [(int(values[a]), int(a), int(b)) for a, b in zip(firsts, stops)]


def upload(group: Group, copy: cp.cuda.Stream) -> cp.ndarray | None:
    """Wait for the group's reads, then queue their upload on ``copy``; returns the device buffer, which the
    group's stream may read once the upload is done (it waits on an event, unless ``copy`` is that stream). JPEG
    and JPEG 2000 chunks are read from the host blocks by nvJPEG and nvJPEG2000: a group of only those uploads
    nothing, and its blocks stay until its stream is done."""
    reading = group.reads
    assert reading is not None
    reading.wait()
    from_host = np.isin(group.col.kind, [KINDS.index(kind) for kind in IMAGE_KINDS])
    if from_host.all():
        group.pinned += [(block, None) for block in reading.hand_over()]
        return None
    with group.stream:
        device = group.hold(cp.empty(max(reading.nbytes, 1), cp.uint8))
    blocks = reading.upload(device, copy)
    if copy is group.stream:  # in order on one stream (a recipe's): the blocks stay with the group
        group.pinned += [(block, None) for block in blocks]
        return device
    uploaded = cp.cuda.Event(disable_timing=True)
    uploaded.record(copy)
    group.pinned += [(block, None if from_host.any() else uploaded) for block in blocks]
    group.stream.wait_event(uploaded)
    return device


def _check_zlib(group: Group, select: slice) -> None:
    """Every Deflate chunk of ``select`` must be a zlib stream (checked on the host copy of its first bytes):
    nvcomp decodes the raw Deflate inside it."""
    col = group.col
    assert group.reads is not None
    size = col.nbytes[select]
    lead = group.reads.bytes_at(col.start[select], 2).astype(np.int64)
    b0, b1 = lead[:, 0], lead[:, 1]
    zlib = (size >= 6) & ((b0 & 0x0F) == 8) & ((b0 * 256 + b1) % 31 == 0) & ((b1 & 0x20) == 0)
    if not zlib.all():
        bad = select.start + int(np.argmin(zlib))
        raise UnsupportedTiffError(
            "a Deflate chunk is not a plain zlib stream",
            path=group.jobs[col.job[bad]].plan.source_name,
            offset=int(col.offset[bad]),
        )


def copy_chunks(group: Group, sources: np.ndarray, sizes: np.ndarray, targets: np.ndarray) -> None:
    """Copy each chunk's ``sizes`` bytes from ``sources`` to ``targets`` (device addresses), one launch."""
    n = len(sizes)
    ones, zeros = np.ones(n, np.int64), np.zeros(n, np.int64)
    up = group.up
    args: tuple[Any, ...] = (up(sources, np.uint64), up(sizes), up(ones), up(zeros), up(zeros))
    args += (up(targets, np.uint64), up(sizes), up(ones), up(sizes), np.int64(n))
    group.flush()
    launch_per_chunk("scatter", n, 1, args, threads=256)


@functools.cache
def _few_chunks(device: int) -> tuple[int, int]:
    """Up to how many LZW chunks each decodes in a block of its own, and how many segments of a chunk that block
    decodes at once (as many as the device's shared memory holds, at most 8; 0: never a block a chunk)."""
    attributes = cp.cuda.Device(device).attributes
    groups = min(8, (int(attributes["MaxSharedMemoryPerBlockOptin"]) - _LZW_STATIC_BYTES) // _LZW_GROUP_BYTES)
    return 2 * int(attributes["MultiProcessorCount"]), max(groups, 0)


def launch_lzw(args: tuple[Any, ...], written: cp.ndarray, count: int, widest: int) -> str:
    """Queue LZW decoding of ``count`` chunks (``args``: sources, sizes, outputs, capacities; ``widest``: the
    largest capacity): a warp per chunk, 16-bit output positions where chunks allow; where chunks are few, a
    block per chunk, its segments decoded side by side; each chunk in today's or the old (pre-5.0 libtiff)
    style, as its first bytes say. Returns the kernel's name."""
    few, groups = _few_chunks(cp.cuda.Device().id)
    if widest <= _LZW_SMALL and count <= few and groups:
        name, grid, block = "lzw_decode16_segments", (count,), (_LZW_GROUP * groups,)
        shared = _LZW_GROUP_BYTES * groups
        function = kernel(name)
        function.max_dynamic_shared_size_bytes = shared
    else:
        name, slot_bytes = ("lzw_decode32", 4) if widest > _LZW_SMALL else ("lzw_decode16", 2)
        shared = _LZW_WARPS * _LZW_SLOTS * slot_bytes
        grid, block = (-(-count // _LZW_WARPS),), (32 * _LZW_WARPS,)
        function = kernel(name)
    function(grid, block, (*args, written, np.int64(count)), shared_mem=shared)
    return name


def decompress(group: Group, device: cp.ndarray | None, settings: GpuSettings) -> None:
    """Queue decompression of every chunk; sets ``col.decoded`` (device addresses) and ``group.sizes``."""
    col = group.col
    count = len(col.job)
    base = 0 if device is None else device.data.ptr
    expected = col.capacity_rows * col.row_bytes
    col.decoded = np.zeros(count, np.uint64)
    none = col.kind == KINDS.index("none")
    group.sizes = group.up(np.where(none, col.nbytes, 0))
    for kind_number, first, stop in _runs(col.kind):
        kind, select = KINDS[kind_number], slice(first, stop)
        start, size = col.start[select], col.nbytes[select]
        if kind == "none":
            col.decoded[select] = (base + start).astype(np.uint64)
            continue
        if kind == "deflate":
            _check_zlib(group, select)
            start, size = start + 2, size - 6  # raw Deflate for nvcomp: no zlib header, no Adler-32
        capacity = expected[select]
        out_starts, total = aligned_starts(capacity)
        out = group.hold(cp.empty(max(total, 1), cp.uint8))
        out_ptrs = out.data.ptr + out_starts
        col.decoded[select] = out_ptrs.astype(np.uint64)
        sizes = group.sizes[select]
        n = stop - first
        if kind in IMAGE_KINDS:
            if kind == "jpeg":
                found = decode_jpeg(group, first, stop, out_ptrs, capacity, settings)
            else:
                found = decode_jpeg2000(group, first, stop, out_ptrs, capacity, settings.jpeg2000_lanes)
            decoded = group.up(found)
            group.flush()  # before the copy below reads the staged sizes
            sizes[...] = decoded
            group.checks.append(Check(kind, first, stop, None))
            continue
        if kind in ("deflate", "zstd"):
            engine = batched("Deflate" if kind == "deflate" else "Zstd", cp.cuda.Device().id)
            in_ptrs = base + start
            if (in_ptrs % engine.input_alignment).any():  # copy the inputs to aligned places first
                in_starts, in_total = aligned_starts(size)
                aligned = group.hold(cp.empty(max(in_total, 1), cp.uint8))
                copy_chunks(group, in_ptrs, size, aligned.data.ptr + in_starts)
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
            group.checks.append(Check(kind, first, stop, status))
            continue
        args = (group.up(base + start, np.uint64), group.up(size), group.up(out_ptrs, np.uint64), group.up(capacity))
        if kind == "lzw":
            group.flush()
            launch_lzw(args, sizes, n, int(capacity.max()))
        else:
            group.flush()
            kernel("packbits_decode")((-(-n // 64),), (64,), (*args, sizes, np.int64(n)))
        group.checks.append(Check(kind, first, stop, None))
    group.rows = group.hold(cp.empty(count, cp.int64))
    if count:
        row_bytes, heights = group.up(col.row_bytes), group.up(col.height)
        group.flush()
        kernel("decoded_rows")(
            (-(-count // 256),), (256,), (group.sizes, row_bytes, heights, group.rows, np.int64(count))
        )
