"""The series of an ImageJ hyperstack: axes T, Z, C in the order its description names, then the page's.

ImageJ stores a hyperstack either as one page per image or, for "virtual" stacks (and files over 4 GiB),
as one page whose uncompressed data runs on for every image; the latter is read without touching later
pages, as tifffile does.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ._text import text_value
from .model import Images, Level, Series

if TYPE_CHECKING:
    from ..file import TiffFile
    from ..page import TiffPage

__all__ = ["imagej_description", "imagej_series"]

_ORDERS = {
    "czt": "TZC",
    "default": "TZC",
    "ctz": "ZTC",
    "zct": "TCZ",
    "ztc": "CTZ",
    "tcz": "ZCT",
    "tzc": "CZT",
}


def imagej_description(page: TiffPage) -> dict[str, Any] | None:
    """The key=value pairs of an ImageJ (or SCIFIO) description, values as int, float or bool; or None."""
    text = page.description
    if not text or not text.startswith(("ImageJ=", "SCIFIO=")):
        return None
    result: dict[str, Any] = {}
    for line in text.splitlines():
        key, sep, raw = line.partition("=")
        if not sep:
            continue
        result[key.strip()] = text_value(raw.strip())
    return result


def _count(meta: dict[str, Any], key: str) -> int:
    value = meta.get(key, 1)
    return value if isinstance(value, int) else 0


def imagej_series(tiff: TiffFile) -> list[Series] | None:
    """The hyperstack series; None when the description's counts are invalid or exceed the file."""
    first = tiff.pages[0]
    meta = imagej_description(first)
    if meta is None:
        return None
    order = str(meta.get("order", "czt")).lower()
    frames, slices, channels, images = (_count(meta, k) for k in ("frames", "slices", "channels", "images"))
    if min(frames, slices, channels, images) < 1:
        return None
    separate = len(first.shape) == 3 and first.axes == "SYX"
    samples = first.shape[-1] if first.axes == "YXS" else 1
    if channels == 1 or (separate and first.shape[0] == channels):
        images = frames * slices
    elif images == frames * slices and samples == channels:
        channels = 1  # RGB samples declared as channels
    else:
        images = frames * slices * channels
    pages = tiff.pages
    multipage = pages.has(2)
    if images == 1 and multipage:
        images = len(pages)
    nbytes = images * first.nbytes
    virtual = first.is_contiguous
    if virtual:
        start = int(first.plan.table[0, 1]) if len(first.plan.table) else 0
        if start + nbytes > tiff.source.size:
            return None
        if images > 1 and multipage and start + nbytes > pages[1].offset:
            virtual = False
    axes = _ORDERS.get(order, "TZC")
    sizes = {"T": frames, "Z": slices, "C": channels}
    shape: tuple[int, ...] = tuple(sizes[a] for a in axes)
    remain = images // math.prod(shape)
    if remain > 1:
        shape, axes = (remain, *shape), "I" + axes
    if separate:
        shape, axes = (*shape[:-1], *first.shape), axes + first.axes[1:]
    else:
        shape, axes = (*shape, *first.shape), axes + first.axes
    if "S" not in axes:
        shape, axes = (*shape, 1), axes + "S"
    if virtual:
        count = math.prod(shape) // max(math.prod(first.shape), 1)
        found = Images(count, pages.__getitem__, contiguous=True)
    else:
        found = Images(len(pages), pages.__getitem__)
    return [Series(Level(tiff, found, shape, axes, first), "imagej", metadata=meta)]
