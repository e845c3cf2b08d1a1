"""WebP (Compression 50001 and the older 34927), through imagecodecs; RGBA chunks may omit opaque alpha."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    import numpy as np

    from ._base import BytesLike, ChunkContext

CODES = (50001, 34927)
NAME = "webp"
KIND = "image"
ACCEPTS_OUT = True


def available() -> bool:
    return bool(imagecodecs.WEBP.available)


def decode(data: BytesLike, /, *, context: ChunkContext, out: np.ndarray | None = None) -> np.ndarray:
    """Decode one WebP chunk; ``out`` (a full-chunk buffer) is used when the stream fills it exactly."""
    alpha = True if context.plan.samples_per_pixel == 4 else None
    if out is not None:
        try:
            return imagecodecs.webp_decode(data, hasalpha=alpha, out=out)
        except ValueError:  # not the full chunk size
            pass
    return imagecodecs.webp_decode(data, hasalpha=alpha)
