"""JPEG XR (Compression 34934, 22610 NDPI), through imagecodecs."""

from __future__ import annotations

from typing import TYPE_CHECKING

import imagecodecs

if TYPE_CHECKING:
    import numpy as np

    from ._base import BytesLike, ChunkContext

CODES = (34934, 22610)
NAME = "jpegxr"
KIND = "image"


def available() -> bool:
    return bool(imagecodecs.JPEGXR.available)


def decode(data: BytesLike, /, *, context: ChunkContext) -> np.ndarray:
    return imagecodecs.jpegxr_decode(data)
