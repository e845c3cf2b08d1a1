"""WebP (Compression 50001 and the older 34927), through imagecodecs; RGBA chunks may omit opaque alpha."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    import numpy as np

    from ._base import ChunkContext

CODES = (50001, 34927)
NAME = "webp"
KIND = "image"


def available() -> bool:
    return bool(imagecodecs.WEBP.available)


def decode(data: bytes, /, *, context: ChunkContext) -> np.ndarray:
    if context.plan.samples_per_pixel == 4:
        return imagecodecs.webp_decode(data, hasalpha=True)
    return imagecodecs.webp_decode(data)
