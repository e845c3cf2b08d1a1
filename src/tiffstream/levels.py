"""Decoding series levels on the CPU: every image of a level (or those a key selects), or a region of each.

All chunks of all images go to one thread pool; missing images and the parts of a level's page shape
that its pages lack (Philips pads levels to whole tiles, and may claim more rows than stored) are zeros.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from .cpu.backend import decode_plan, prepare, run_tasks
from .errors import ImageIndexError, UnsupportedTiffError
from .plan import check_allocation
from .tiff.series.model import with_yx

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .tiff.series import Level

__all__ = ["read_images", "selected"]

Region = tuple[int, int, int, int]


def selected(level: Level, key: int | slice | Sequence[int] | None) -> list[int]:
    """Image indices ``key`` selects from ``level`` (all for None); ``ImageIndexError`` names the range."""
    count = len(level)
    if key is None:
        return list(range(count))
    if isinstance(key, slice):
        return list(range(count))[key]
    keys = [key] if isinstance(key, (int, np.integer)) else list(key)
    indices = []
    for k in keys:
        i = int(k) + count if int(k) < 0 else int(k)
        if not 0 <= i < count:
            raise ImageIndexError(
                f"image {k} is out of range: the level has images 0-{count - 1}", path=level.keyframe.ifd.source.name
            )
        indices.append(i)
    return indices


def _page_region(level: Level, region: Region | None) -> Region:
    height, width = level.image_size
    if region is None:
        return (0, 0, height, width)
    y0, x0, y1, x1 = region
    if not (0 <= y0 <= y1 <= height and 0 <= x0 <= x1 <= width):
        raise ValueError(f"region {region} is outside the {height}x{width} images of this level")
    return region


def read_images(
    level: Level,
    *,
    key: int | slice | Sequence[int] | None = None,
    region: Region | None = None,
    out: np.ndarray | None = None,
    max_workers: int | None = None,
    strict: bool = False,
) -> np.ndarray:
    """The images of ``level`` as one array: the level's shape (``key`` None), else ``(n, *page_shape)``
    (one image: its page shape), as tifffile's ``asarray(series=..., key=...)``; Y and X cut to ``region``."""
    indices = selected(level, key)
    if not indices:
        raise ValueError("no images selected")
    y0, x0, y1, x1 = _page_region(level, region)
    page_axes = level.keyframe.axes
    image_shape = with_yx(level.page_shape, page_axes, y1 - y0, x1 - x0)
    if key is None:
        shape = level.region_shape((y0, x0, y1, x1))
    elif isinstance(key, (int, np.integer)):
        shape = image_shape
    else:
        shape = (len(indices), *image_shape)
    dtype = level.dtype
    if out is not None and (out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous):
        raise ValueError(f"out must be a C-contiguous {shape} {dtype} array, got {out.shape} {out.dtype}")
    images = [level.images.image(i) for i in indices]
    keyframe_plan = level.keyframe.plan
    if out is None:
        claimed: dict[int, int] = {}
        for image in images:  # each image against its own data, all of them against their files' sizes
            if image is not None:
                plan, source = image
                nbytes = check_allocation(plan, source, image_shape, dtype, claimed=claimed.get(id(source), 0))
                claimed[id(source)] = claimed.get(id(source), 0) + nbytes
        out = np.empty(shape, dtype)
    stack = out.reshape(len(indices), *image_shape)
    workers = max_workers or os.cpu_count() or 1
    tasks: list[Callable[[], None]] = []
    for target, image in zip(stack, images, strict=True):
        if image is None:
            target[...] = 0
            continue
        plan, source = image
        if np.dtype(plan.dtype) != dtype or plan.samples_per_pixel != keyframe_plan.samples_per_pixel:
            raise UnsupportedTiffError(
                f"an image of this {level.shape} level has {plan.samples_per_pixel} {np.dtype(plan.dtype)} samples "
                f"per pixel, its first image {keyframe_plan.samples_per_pixel} {dtype}: not one array",
                path=plan.source_name,
                offset=plan.ifd_offset,
            )
        window = (y0, x0, min(y1, plan.height), min(x1, plan.width))
        if window[2] < y1 or window[3] < x1:  # the level says its pages are larger than stored: zeros beyond
            target[...] = 0
            if window[2] > y0 and window[3] > x0:
                part = decode_plan(plan, source, region=window, max_workers=workers, strict=strict)
                target[_yx_slices(page_axes, window[2] - y0, window[3] - x0)] = part
            continue
        tasks += prepare(plan, source, region=window, out=target, workers=workers, strict=strict)[1]
    if workers == 1 or len(tasks) <= 1:
        run_tasks(tasks, None)
    else:
        with ThreadPoolExecutor(workers, thread_name_prefix="tiffstream") as pool:
            run_tasks(tasks, pool)
    return out


def _yx_slices(axes: str, rows: int, cols: int) -> tuple[slice, ...]:
    return tuple(slice(0, rows) if a == "Y" else slice(0, cols) if a == "X" else slice(None) for a in axes)
