"""Whole tiles decoded straight to opaque RGBA where their codec can (8-bit RGB/YCbCr JPEG: most slides' tiles),
for the slide API's tile cache: a few microseconds of Python a tile, so threads decode side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..codecs.jpeg import decode_rgba, rgba_direct

if TYPE_CHECKING:
    from ..plan import DecodePlan
    from ..source import ByteSource

__all__ = ["tile_rgba"]


def tile_rgba(plan: DecodePlan, source: ByteSource, top: int, left: int) -> np.ndarray | None:
    """The tile at (top, left) as ``(rows, cols, 4)`` opaque RGBA, cut to the image; None where it takes the
    general path (another kind of image, a missing or cut tile, a stream that is not the tile's frame or fails)."""
    if not (plan.grid_order and plan.tiled and rgba_direct(plan)):
        return None
    index = top // plan.chunk_height * plan.chunks_across + left // plan.chunk_width
    offset, nbytes = int(plan.table[index, 1]), int(plan.table[index, 2])
    if offset <= 0 or nbytes <= 0:
        return None
    data = source.read_at_most(offset, nbytes)
    if len(data) < nbytes:
        return None
    out = np.empty((plan.chunk_height, plan.chunk_width, 4), np.uint8)
    if not decode_rgba(data, plan, out):
        return None
    return out[: min(plan.chunk_height, plan.height - top), : min(plan.chunk_width, plan.width - left)]
