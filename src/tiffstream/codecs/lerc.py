"""LERC (Compression 34887, possibly wrapped in Deflate or Zstd by the writer), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    import numpy as np

    from ._base import BytesLike, ChunkContext

CODES = (34887,)
NAME = "lerc"
KIND = "image"


def available() -> bool:
    return bool(imagecodecs.LERC.available)


def decode(data: BytesLike, /, *, context: ChunkContext) -> np.ndarray:
    return imagecodecs.lerc_decode(data)
