"""PNG (Compression 34933), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    import numpy as np

    from ._base import BytesLike, ChunkContext

CODES = (34933,)
NAME = "png"
KIND = "image"


def available() -> bool:
    return bool(imagecodecs.PNG.available)


def decode(data: BytesLike, /, *, context: ChunkContext) -> np.ndarray:
    return imagecodecs.png_decode(data)
