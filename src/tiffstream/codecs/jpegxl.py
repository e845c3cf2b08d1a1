"""JPEG XL (Compression 50002, 52546 DNG), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    import numpy as np

    from ._base import BytesLike, ChunkContext

CODES = (50002, 52546)
NAME = "jpegxl"
KIND = "image"


def available() -> bool:
    return bool(imagecodecs.JPEGXL.available)


def decode(data: BytesLike, /, *, context: ChunkContext) -> np.ndarray:
    return imagecodecs.jpegxl_decode(data)
