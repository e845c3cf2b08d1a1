"""JPEG 2000 (Compression 33003, 33004, 33005 Aperio, 34712), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    import numpy as np

    from ._base import BytesLike, ChunkContext

CODES = (33003, 33004, 33005, 34712)
NAME = "jpeg2000"
KIND = "image"


def available() -> bool:
    return bool(imagecodecs.JPEG2K.available)


def decode(data: BytesLike, /, *, context: ChunkContext) -> np.ndarray:
    return imagecodecs.jpeg2k_decode(data)
