"""CCITT bilevel codes (Compression 2 RLE, 3 Group 3 fax, 4 Group 4 fax), through imagecodecs.

They return one byte per pixel already, so this codec is of the "image" kind.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    import numpy as np

    from ._base import BytesLike, ChunkContext

CODES = (2, 3, 4)
NAME = "ccitt"
KIND = "image"


def available() -> bool:
    return bool(imagecodecs.CCITT.available) if hasattr(imagecodecs, "CCITT") else True


def decode(data: BytesLike, /, *, context: ChunkContext) -> np.ndarray:
    plan = context.plan
    if plan.fill_order == 2:
        data = bytes(imagecodecs.bitorder_decode(data))
    if plan.compression == 2:
        return imagecodecs.ccittrle_decode(data, context.rows, context.width)
    if plan.compression == 3:
        return imagecodecs.ccittfax3_decode(data, context.rows, context.width, t4options=plan.t4_options)
    return imagecodecs.ccittfax4_decode(data, context.rows, context.width)
