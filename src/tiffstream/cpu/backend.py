"""Decode plans on the CPU: read chunk bytes (adjacent chunks in one read), decode them in a thread pool,
and place them into the output array. Only chunks that overlap the requested region are read.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from ..chunkio import group_chunks, read_group
from ..codecs import codec_for
from ..errors import DecodeError, UnsupportedTiffError
from ..plan import Chunk, check_allocation, check_chunk_size, check_truncation
from .chunks import can_decode_into, decode_chunk, decode_chunk_into, decode_chunk_window

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..codecs import BytesLike
    from ..plan import DecodePlan
    from ..source import ByteSource

__all__ = ["decode_plan", "prepare", "run_tasks"]


def prepare(
    plan: DecodePlan,
    source: ByteSource,
    *,
    region: tuple[int, int, int, int] | None = None,
    out: np.ndarray | None = None,
    workers: int = 1,
    claimed: int = 0,
    strict: bool = False,
) -> tuple[np.ndarray, list[Callable[[], None]]]:
    """Allocate (or check) the output and return it with the tasks that fill it (each one read + decodes).

    Nothing is allocated before the plan is known to be decodable here and its sizes are justified by the
    file (``claimed``: bytes already allocated for other images of the same call from ``source``). Chunks
    cut by the end of the file give a ``TruncatedDataWarning`` here, in the caller's thread (``strict``: a
    ``TiffTruncatedError``); their tasks decode what is there and fill the rest.
    """
    y0, x0, y1, x1 = plan.bounds(region)
    shape = plan.output_shape((y0, x0, y1, x1))
    dtype = np.dtype(plan.dtype)
    codec = codec_for(plan)
    check_chunk_size(plan, source.size)
    table = plan.table_in(y0, x0, y1, x1)
    check_truncation(plan, source, (y0, x0, y1, x1), strict=strict, chunks=table)
    if out is None:
        check_allocation(plan, source, shape, dtype, claimed=claimed)
        out = np.empty(shape, dtype)
    elif out.shape != shape or out.dtype != dtype:
        raise ValueError(f"out must be a {shape} {dtype} array, got {out.shape} {out.dtype}")
    if out.size == 0:
        return out, []
    if not out.flags.c_contiguous:
        raise ValueError("out must be C-contiguous")
    if plan.photometric == 6 and plan.ycbcr_subsampling != (1, 1) and plan.compression not in (6, 7, 33007, 34892):
        raise UnsupportedTiffError(
            f"YCbCr subsampled {plan.ycbcr_subsampling} without JPEG is not supported",
            path=plan.source_name,
            offset=plan.ifd_offset,
        )
    planes, spc = plan.num_planes, plan.samples_per_chunk
    target = out.reshape(planes, y1 - y0, x1 - x0, spc)  # a view of out
    chunks = [Chunk(*row) for row in table.tolist()]
    fill = plan.fill_value
    # whole rows of the output, a chunk at a time: decode straight into place (strips, full-width reads)
    simple = can_decode_into(plan)
    direct = x0 == 0 and x1 == plan.width and not plan.tiled and simple
    # a chunk cut by the end of the file: a byte stream keeps the rows it decodes to, less those the last,
    # cut LZW code may have written wrongly (an LZW string is at most 4096 bytes); an image codec's stream
    # (JPEG, WebP, ...) is not decoded at all (libjpeg would fill its missing blocks with grey)
    decode_cut = codec.KIND == "bytes"
    unreliable_tail = 4096 if plan.compression == 5 else 0

    def place(chunk: Chunk, data: BytesLike | None) -> None:
        cy0, cx0 = max(chunk.y, y0), max(chunk.x, x0)
        cy1, cx1 = min(chunk.y + chunk.height, y1), min(chunk.x + chunk.width, x1)
        view = target[chunk.plane, cy0 - y0 : cy1 - y0, cx0 - x0 : cx1 - x0]
        cut = data is not None and len(data) < chunk.nbytes
        if data is None or (cut and not decode_cut):
            view[...] = fill
            return
        if cut:
            try:
                decoded = decode_chunk(plan, chunk, data)
            except DecodeError:  # the codec refuses the cut stream (Deflate, Zstd): nothing of it is kept
                view[...] = fill
                return
            row_bytes = max(decoded.shape[1] * decoded.shape[2] * decoded.itemsize, 1)
            trusted = max(0, decoded.shape[0] - -(-unreliable_tail // row_bytes))
            part = decoded[cy0 - chunk.y : min(trusted, cy1 - chunk.y), cx0 - chunk.x : cx1 - chunk.x, :spc]
            view[...] = fill
            view[: part.shape[0], : part.shape[1]] = part
            return
        if direct and cy0 == chunk.y and cy1 == chunk.y + chunk.height:
            rows = decode_chunk_into(plan, chunk, data, view)
            if rows < view.shape[0]:
                view[rows:] = fill
            return
        at_origin = cy0 == chunk.y and cx0 == chunk.x
        if simple and at_origin:
            rows = decode_chunk_window(plan, chunk, data, view)
            if rows < view.shape[0]:
                view[rows:] = fill
            return
        pixels = decode_chunk(plan, chunk, data, window=view if at_origin else None, scratch=True)
        if np.may_share_memory(pixels, view):
            got_rows, got_cols = pixels.shape[0], pixels.shape[1]  # already in place
        else:
            part = pixels[cy0 - chunk.y : cy1 - chunk.y, cx0 - chunk.x : cx1 - chunk.x, :spc]
            got_rows, got_cols = part.shape[0], part.shape[1]
            view[:got_rows, :got_cols] = part
        if got_rows < view.shape[0]:
            view[got_rows:] = fill
        if got_cols < view.shape[1]:
            view[:got_rows, got_cols:] = fill

    def task(group: list[Chunk]) -> Callable[[], None]:
        def run() -> None:
            for chunk, data in read_group(source, group):
                place(chunk, data)

        return run

    tasks: list[Callable[[], None]] = [partial(place, chunk, None) for chunk in chunks if chunk.is_missing]
    for group in group_chunks(chunks):
        step = max(1, -(-len(group) // max(workers, 1)))  # split big reads so every worker has work
        if source.min_read:  # but not below what one read of this source should fetch
            average = max(1, sum(chunk.nbytes for chunk in group) // len(group))
            step = max(step, -(-source.min_read // average))
        tasks += [task(group[i : i + step]) for i in range(0, len(group), step)]
    return out, tasks


def run_tasks(tasks: Sequence[Callable[[], None]], pool: ThreadPoolExecutor | None) -> None:
    """Run ``tasks`` on ``pool`` (in this thread without one); the first error is raised."""
    if pool is None or len(tasks) <= 1:
        for run in tasks:
            run()
        return
    futures = [pool.submit(run) for run in tasks]
    try:
        for future in futures:
            future.result()
    finally:
        for future in futures:
            future.cancel()


def decode_plan(
    plan: DecodePlan,
    source: ByteSource,
    *,
    region: tuple[int, int, int, int] | None = None,
    out: np.ndarray | None = None,
    max_workers: int | None = None,
    pool: ThreadPoolExecutor | None = None,
    strict: bool = False,
) -> np.ndarray:
    """Decode the image (or ``region`` = (y0, x0, y1, x1)) that ``plan`` describes, reading from ``source``.

    ``strict``: a file cut inside the chunks needed is a ``TiffTruncatedError`` (else a warning; see prepare).
    """
    workers = max_workers or os.cpu_count() or 1
    out, tasks = prepare(plan, source, region=region, out=out, workers=workers, strict=strict)
    if pool is not None or workers == 1 or len(tasks) <= 1:
        run_tasks(tasks, pool)
        return out
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tiffstream") as own:
        run_tasks(tasks, own)
    return out
