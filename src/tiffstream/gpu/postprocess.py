"""Post-processing and scatter, the GPU pipeline's last stages: byte order and predictors undone in place on
the decoded chunks (one launch per kind of image), then every chunk's visible window copied into its output
(one launch per group), and rows that truncated chunks lack filled once the group is checked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cupy as cp
import numpy as np

from . import GPU_COMPRESSIONS
from .columns import IMAGE_KINDS, windows
from .decompress import aligned_starts, copy_chunks
from .kernels import launch_per_chunk

if TYPE_CHECKING:
    from .group import Group

__all__ = ["fill_truncated", "post_process", "scatter"]


def _alike(group: Group) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Chunks needing the same post-processing launch: (predictor, itemsize, swap, width, samples) -> chunks."""
    by_key: dict[tuple[int, ...], list[int]] = {}
    for number, job in enumerate(group.jobs):
        plan = job.plan
        if GPU_COMPRESSIONS[plan.compression] in IMAGE_KINDS:  # whole samples in native byte order
            continue
        itemsize = np.dtype(plan.dtype).itemsize
        swap = int(plan.byteorder == ">" and itemsize > 1)
        if plan.predictor != 1 or swap:
            key = (plan.predictor, itemsize, swap, plan.chunk_width, plan.samples_per_chunk)
            by_key.setdefault(key, []).append(number)
    return [(key, np.flatnonzero(np.isin(group.col.job, numbers))) for key, numbers in by_key.items()]


def post_process(group: Group) -> None:
    """Byte order and predictors, in place on the decoded chunks: one launch per kind of image."""
    col = group.col
    assert group.sizes is not None and group.rows is not None
    for (predictor, itemsize, swap, width, spc), select in _alike(group):
        if not len(select):
            continue
        n = np.int64(len(select))
        pointers = col.decoded[select]
        capacity_rows = int(col.capacity_rows[select].max())
        whole = len(select) == len(col.job)  # every chunk of the group (the usual case): no gathers
        d_select = None if whole else group.up(select)
        group.flush()
        rows = group.rows if d_select is None else group.hold(group.rows[d_select])
        if itemsize > 1 and (pointers % itemsize).any():  # unaligned uncompressed chunks: copy them aligned first
            sizes = col.nbytes[select]
            starts, total = aligned_starts(sizes)
            aligned = group.hold(cp.empty(max(total, 1), cp.uint8))
            targets = (aligned.data.ptr + starts).astype(np.uint64)
            copy_chunks(group, pointers, sizes, targets)
            pointers = targets
            col.decoded[select] = pointers
        d_pointers = group.up(pointers, np.uint64)
        group.flush()
        if predictor == 3:
            starts, total = aligned_starts(col.capacity_rows[select] * col.row_bytes[select])
            scratch = group.hold(cp.empty(max(total, 1), cp.uint8))
            targets = (scratch.data.ptr + starts).astype(np.uint64)
            args: tuple[Any, ...] = (d_pointers, group.up(targets, np.uint64), rows, np.int32(width * spc))
            args += (np.int32(itemsize),)
            group.flush()
            launch_per_chunk("undo_float_predictor", len(select), capacity_rows, (*args, np.int32(spc), n), threads=64)
            col.decoded[select] = targets
            continue
        if swap:
            sizes = group.sizes if d_select is None else group.hold(group.sizes[d_select])
            max_items = int((col.capacity_rows[select] * col.row_bytes[select]).max()) // itemsize
            launch_per_chunk("byteswap", len(select), max_items, (d_pointers, sizes, np.int32(itemsize), n))
        if predictor == 2:
            args = (d_pointers, rows, np.int32(width), np.int32(spc), n)
            launch_per_chunk(f"undo_horizontal_{itemsize}", len(select), capacity_rows * 32, args, threads=128)


def scatter(group: Group) -> None:
    """Copy every placed chunk's visible window into its output: one launch for the whole group."""
    col, placed, jobs = group.col, group.placed, group.jobs
    if not len(placed):
        return
    w = windows(col, placed, jobs)
    out_ptr = np.array([j.out.data.ptr for j in jobs], np.uint64)  # type: ignore[union-attr]
    row = placed.row
    size, width = col.pixel_bytes[row], col.width[row]
    first_row = w.cy0 - col.y[row]
    skip = (first_row * width + (w.cx0 - col.x[row])) * size
    place = ((col.plane[row] * w.rows_out + (w.cy0 - w.y0)) * w.cols_out + (w.cx0 - w.x0)) * size
    copy_rows = w.cy1 - w.cy0
    up = group.up
    rows = group.rows
    assert rows is not None
    if placed.shared:
        d_row = up(row)
        group.flush()
        rows = group.hold(rows[d_row])
    args: tuple[Any, ...] = (up(col.decoded[row], np.uint64), up(col.row_bytes[row]), rows, up(first_row))
    args += (up(skip),)
    args += (up(out_ptr[placed.job] + place.astype(np.uint64), np.uint64), up(w.cols_out * size), up(copy_rows))
    args += (up((w.cx1 - w.cx0) * size), np.int64(len(placed)))
    group.flush()
    launch_per_chunk("scatter", len(placed), int(copy_rows.max()), args, threads=128, per_block=1)  # a row a block


def fill_truncated(group: Group, sizes: np.ndarray) -> None:
    """Rows a truncated chunk lacks get the fill value, as on the CPU (``sizes``: decoded bytes per row)."""
    col, placed = group.col, group.placed
    if not len(col) or (sizes >= col.height * col.row_bytes).all():
        return  # every chunk decoded all its rows
    w = windows(col, placed, group.jobs)
    row = placed.row
    decoded_rows = np.minimum(col.height, sizes // np.maximum(col.row_bytes, 1))[row]  # as kernel decoded_rows
    got = decoded_rows - (w.cy0 - col.y[row])
    copy_rows = w.cy1 - w.cy0
    for k in np.flatnonzero(got < copy_rows):
        job = group.jobs[placed.job[k]]
        if job.out is None:  # the image failed (keep_going): nothing to fill
            continue
        plan = job.plan
        view = job.out.reshape(plan.num_planes, w.rows_out[k], w.cols_out[k], plan.samples_per_chunk)
        top, left = w.cy0[k] - w.y0[k], w.cx0[k] - w.x0[k]
        view[col.plane[row[k]], top + max(got[k], 0) : w.cy1[k] - w.y0[k], left : w.cx1[k] - w.x0[k]] = plan.fill_value
